package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mottagning/app"
	"mottagning/app/form"
	"mottagning/app/personnummer"
	"mottagning/assets"
	"mottagning/export"
)

// langChildEnv marks the child process of the English tests: TestMain then
// leaves the language to MOTTAGNING_LANG.
const langChildEnv = "MOTTAGNING_LANG_TEST_CHILD"

// shotsEnv names a directory for PNGs of the English screens (to look at
// them); unset, none are written.
const shotsEnv = "MOTTAGNING_LANG_SHOTS"

// uiKeys collects the message ids of the ui sources: the constant first
// argument of every call to L, Lf and K. A call whose argument is not a
// constant (L(st.Label()), L(c.title)) is covered by appKeys or by the K
// that marked the id.
func uiKeys(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	consts := map[string]ast.Expr{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) && name.Obj != nil && name.Obj.Kind == ast.Con {
						consts[name.Name] = vs.Values[i]
					}
				}
			}
			return true
		})
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch x := e.(type) {
		case *ast.BasicLit:
			if x.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(x.Value)
			return s, err == nil
		case *ast.Ident:
			if v, ok := consts[x.Name]; ok {
				return eval(v)
			}
		case *ast.BinaryExpr:
			if x.Op == token.ADD {
				a, ok1 := eval(x.X)
				b, ok2 := eval(x.Y)
				return a + b, ok1 && ok2
			}
		case *ast.ParenExpr:
			return eval(x.X)
		}
		return "", false
	}
	keys := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			id, ok := call.Fun.(*ast.Ident)
			if !ok || (id.Name != "L" && id.Name != "Lf" && id.Name != "K") {
				return true
			}
			if s, ok := eval(call.Args[0]); ok {
				keys[s] = fset.Position(call.Pos()).String()
			} else if id.Name != "L" {
				t.Errorf("%s: %s with a text that is not a constant; the key test cannot see it",
					fset.Position(call.Pos()), id.Name)
			}
			return true
		})
	}
	return keys
}

// appKeys collects the Swedish texts that packages app, personnummer and
// export hand to the UI, which translates them at the boundary by their
// text (their ids are app.*).
func appKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	add := func(from string, ss ...string) {
		for _, s := range ss {
			if s != "" {
				keys[s] = from
			}
		}
	}
	// Every literal that the labels and messages the UI shows can return,
	// read from app's sources so that a new value needs a translation too.
	receivers := map[string]bool{"Role": true, "Status": true, "CaseKind": true, "StartedBy": true,
		"AccessAction": true, "BlockReason": true, "ProxyReason": true, "NotificationState": true,
		"IdentityCheck": true, "LockReason": true}
	funcs := map[string]bool{"SignInMessage": true, "AttachmentMessage": true, "TemplateKindLabel": true}
	fset := token.NewFileSet()
	paths, err := filepath.Glob("../app/*.go")
	if err != nil {
		t.Fatal(err)
	}
	lint := 0
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				want := funcs[d.Name.Name] && d.Recv == nil
				if d.Recv != nil && len(d.Recv.List) == 1 && (d.Name.Name == "Label" || d.Name.Name == "Message") {
					if id, ok := d.Recv.List[0].Type.(*ast.Ident); ok && receivers[id.Name] {
						want = true
					}
				}
				if !want {
					continue
				}
				ast.Inspect(d.Body, func(n ast.Node) bool {
					r, ok := n.(*ast.ReturnStmt)
					if !ok {
						return true
					}
					for _, e := range r.Results {
						if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
							s, _ := strconv.Unquote(bl.Value)
							add(fset.Position(bl.Pos()).String(), s)
						}
					}
					return true
				})
			case *ast.GenDecl:
				// The Swedish texts of app.FieldError values (third field).
				ast.Inspect(d, func(n ast.Node) bool {
					cl, ok := n.(*ast.CompositeLit)
					if !ok {
						return true
					}
					if id, ok := cl.Type.(*ast.Ident); ok && id.Name == "FieldError" && len(cl.Elts) == 3 {
						if bl, ok := cl.Elts[2].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							s, _ := strconv.Unquote(bl.Value)
							add(fset.Position(bl.Pos()).String(), s)
						}
					}
					return true
				})
				// The linter's messages.
				for _, sp := range d.Specs {
					vs, ok := sp.(*ast.ValueSpec)
					if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "lintMessages" {
						continue
					}
					ast.Inspect(vs, func(n ast.Node) bool {
						if kv, ok := n.(*ast.KeyValueExpr); ok {
							if bl, ok := kv.Value.(*ast.BasicLit); ok && bl.Kind == token.STRING {
								s, _ := strconv.Unquote(bl.Value)
								add(fset.Position(bl.Pos()).String(), s)
								lint++
							}
						}
						return true
					})
				}
			}
		}
	}
	if lint == 0 {
		t.Error("found no lint messages in app/templatelint.go (lintMessages)")
	}
	// The texts made with numbers in them.
	for _, err := range []error{app.ErrAttachmentTooLarge, app.ErrAttachmentType, app.ErrAttachmentEmpty, app.ErrTooManyAttachments, errors.New("other")} {
		add("app.AttachmentMessage", app.AttachmentMessage(err))
	}
	add("app.TextMessage", app.TextMessage)
	// The personnummer errors, and the format error with its detail.
	for _, err := range []error{personnummer.ErrEmpty, personnummer.ErrFormat, personnummer.ErrReserve,
		personnummer.ErrDate, personnummer.ErrChecksum, personnummer.ErrFuture, personnummer.ErrSerial, personnummer.ErrSerialZero} {
		add("personnummer", err.Error())
	}
	_, plus := personnummer.ParseAt("20000101+0008", now)
	if !errors.Is(plus, personnummer.ErrFormat) || plus.Error() == personnummer.ErrFormat.Error() {
		t.Errorf("personnummer.ParseAt(12 digits with +) = %v, want the format error with its detail", plus)
	} else {
		add("personnummer", plus.Error())
	}
	// The national e-service catalogue's names.
	for _, e := range app.StandardCatalogue {
		add("app.StandardCatalogue", e.Name)
	}
	// The texts of package export the case view shows.
	add("export", export.TextNote, export.TextUnread, export.TextCanAnswer, export.TextNoAnswer,
		export.Author(&app.Message{Author: app.AuthorResident}, nil),
		export.Author(&app.Message{Author: app.AuthorGuardian}, nil))
	title, _ := app.ReplyAlertText("X")
	add("app.ReplyAlertText", title)
	return keys
}

// mainKeys are the message ids of the program around the window (package main
// in the repository's root): the start-up failures and the demo seeding's
// messages (ui.L, ui.Lf) and the flags' help (the third argument of
// fs.String, fs.Bool, fs.Int), which main translates (issue 17, item 6).
func mainKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range []string{"main.go", "startup.go", "sync_main.go"} {
		f, err := parser.ParseFile(fset, filepath.Join("..", name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, _ := sel.X.(*ast.Ident)
			arg := -1
			switch {
			case x != nil && x.Name == "ui" && (sel.Sel.Name == "L" || sel.Sel.Name == "Lf"):
				arg = 0
			case x != nil && x.Name == "fs" && (sel.Sel.Name == "String" || sel.Sel.Name == "Bool" || sel.Sel.Name == "Int"):
				arg = 2
			}
			if arg < 0 || arg >= len(call.Args) {
				return true
			}
			text, ok := stringLit(call.Args[arg])
			if !ok {
				return true // a text translated where it was written (the flags' help)
			}
			keys[text] = fset.Position(call.Pos()).String()
			return true
		})
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d texts in package main; the scan is broken", len(keys))
	}
	return keys
}

// stringLit is the value of a string literal or a + of them.
func stringLit(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(x.Value)
		return v, err == nil
	case *ast.ParenExpr:
		return stringLit(x.X)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringLit(x.X)
		b, ok2 := stringLit(x.Y)
		return a + b, ok1 && ok2
	}
	return "", false
}

// table is one of the embedded message tables.
func table(t *testing.T, name string, data []byte) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("assets/translations/%s: %v", name, err)
	}
	return m
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs are a format's verbs without their explicit indexes, sorted.
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		out = append(out, regexp.MustCompile(`\[\d+\]`).ReplaceAllString(v, ""))
	}
	sort.Strings(out)
	return out
}

// idRE is the shape of a message id: the owner, a dot, lower-case words.
var idRE = regexp.MustCompile(`^[a-z0-9]+\.[a-z0-9_]+$`)

// Issue 17, item 6: every text the window can show has a stable message id
// with a Swedish and an English text of the same fmt verbs; the two files
// hold the same ids and nothing else; the code uses no Swedish text where an
// id belongs; every Swedish text of packages app, sync, export and
// personnummer that the window shows has its app.* or sync.* id.
func TestLang_EveryTextHasEnglish(t *testing.T) {
	used := uiKeys(t)
	for k, v := range mainKeys(t) {
		used[k] = v
	}
	sv := table(t, "sv.json", assets.TranslationsSV)
	en := table(t, "en.json", assets.TranslationsEN)
	if len(sv) < 800 {
		t.Fatalf("sv.json has only %d texts", len(sv))
	}
	for id, s := range sv {
		e, ok := en[id]
		switch {
		case !idRE.MatchString(id):
			t.Errorf("sv.json: %q is not a message id (owner.words)", id)
		case !ok:
			t.Errorf("en.json has no %q (sv.json: %q)", id, s)
		case strings.TrimSpace(s) == "" || strings.TrimSpace(e) == "":
			t.Errorf("%q has an empty text", id)
		case !slices.Equal(verbs(s), verbs(e)):
			t.Errorf("%q: the fmt verbs differ: %q → %q", id, s, e)
		case strings.Contains(s, "{{") || strings.Contains(e, "{{"):
			t.Errorf("%q: {{ in a text", id)
		}
	}
	for id := range en {
		if _, ok := sv[id]; !ok {
			t.Errorf("en.json: %q is not in sv.json", id)
		}
	}
	var missing []string
	for id, from := range used {
		if _, ok := sv[id]; !ok {
			missing = append(missing, fmt.Sprintf("%s: %q", from, id))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s is not a message id of assets/translations/sv.json (a Swedish text where an id belongs, or a new text without an entry)", m)
	}
	// app.* and sync.*: the Swedish texts of other packages, looked up by text.
	foreign := map[string]string{} // Swedish → id
	for id, s := range sv {
		if strings.HasPrefix(id, "app.") || strings.HasPrefix(id, "sync.") {
			if other, ok := foreign[s]; ok {
				t.Errorf("%q and %q have the same Swedish text %q", id, other, s)
			}
			foreign[s] = id
		}
	}
	appTexts := appKeys(t)
	for _, id := range syncErrorTexts {
		appTexts[sv[id]] = "syncErrorTexts"
	}
	for _, id := range rejectTexts {
		appTexts[sv[id]] = "rejectTexts"
	}
	for s, from := range appTexts {
		if _, ok := foreign[s]; !ok {
			t.Errorf("%s: the text %q has no app.* id in assets/translations/sv.json", from, s)
		}
	}
	var stale []string
	for id, s := range sv {
		_, isUsed := used[id]
		_, isApp := appTexts[s]
		if !isUsed && !(isApp && (strings.HasPrefix(id, "app.") || strings.HasPrefix(id, "sync."))) {
			stale = append(stale, id)
		}
	}
	sort.Strings(stale)
	for _, id := range stale {
		t.Errorf("sv.json: %q (%q) is not a text of the UI any more; remove it from both files", id, sv[id])
	}
}

// The texts the UI builds from app's and export's with a format of its own
// still match them, so that the Swedish stays as app writes it.
func TestLang_FormatsMatchAppTexts(t *testing.T) {
	if _, body := app.ReplyAlertText("Vårdcentralen X"); body != fmt.Sprintf(L(replyAlertFormat), "Vårdcentralen X") {
		t.Errorf("replyAlertFormat does not make app.ReplyAlertText's body %q", body)
	}
	m := &app.Message{At: now, ReadByResident: now.Add(time.Hour)}
	if got, want := readText(m), export.ReadText(m); got != want {
		t.Errorf("readText = %q, want export.ReadText %q", got, want)
	}
	if got, want := dateTime(now), export.DateTime(now); got != want {
		t.Errorf("dateTime = %q, want export.DateTime %q", got, want)
	}
}

// In Swedish, L gives an id's Swedish text, an app text itself and any
// other text unchanged.
func TestLang_SwedishTexts(t *testing.T) {
	if English() {
		t.Fatal("the tests run in Swedish (TestMain)")
	}
	for in, want := range map[string]string{
		"start.sign_in":          "Logga in",
		app.StatusClosed.Label(): app.StatusClosed.Label(),
		"Vårdcentralen Centrum":  "Vårdcentralen Centrum",
		"no.such_id":             "no.such_id",
		"":                       "",
	} {
		if got := L(in); got != want {
			t.Errorf("L(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Lf("caselist.of_cases", 3, 7); got != "3 av 7 ärenden" {
		t.Errorf("Lf = %q", got)
	}
	if got := thousands(12345); got != "12\u00a0345" {
		t.Errorf("thousands = %q", got)
	}
}

func TestLang_SystemLanguage(t *testing.T) {
	for _, c := range []struct {
		lcAll, lang, language string
		want                  string
	}{
		{"", "", "", ""},
		{"", "C", "en", ""},
		{"", "POSIX", "", ""},
		{"", "C.UTF-8", "", ""},
		{"", "en_US.UTF-8", "", "en"},
		{"", "en_GB.UTF-8", "sv", "sv"},
		{"", "sv_SE.UTF-8", "", "sv"},
		{"", "sv_SE.UTF-8", "en:sv", "en"},
		{"C", "en_US.UTF-8", "en", ""},
		{"de_DE.UTF-8", "en_US.UTF-8", "", "de"},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		if got := systemLanguage(); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: system language %q, want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
	}
}

// runChild runs one test of this file in a child process with
// MOTTAGNING_LANG set, so that the language is chosen as in the program
// (from the environment, once) and the parent stays Swedish.
func runChild(t *testing.T, name, lang string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), langChildEnv+"=1", LangEnv+"="+lang)
	// A Swedish system locale must not stop English (Linux: LANGUAGE is
	// set by the program itself).
	cmd.Env = append(cmd.Env, "LC_ALL=", "LANG=sv_SE.UTF-8", "LANGUAGE=sv")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child %s (%s=%s): %v\n%s", name, LangEnv, lang, err, out)
	}
	t.Logf("child %s:\n%s", name, out)
}

// labelTexts are the texts of every label and button in o.
func labelTexts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		case *widget.Entry:
			out = append(out, w.PlaceHolder)
		case *widget.Check:
			out = append(out, w.Text)
		case *widget.Select:
			out = append(out, w.Selected)
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *widget.Form:
			for _, it := range w.Items {
				out = append(out, it.Text)
				walk(it.Widget)
			}
		}
	}
	walk(o)
	return out
}

// shoot writes the window to dir/name as a PNG, with Fyne's real theme,
// when MOTTAGNING_LANG_SHOTS names a directory.
func shoot(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	dir := os.Getenv(shotsEnv)
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

func TestLang_EnglishSignInAndCaseList(t *testing.T) {
	if os.Getenv(langChildEnv) == "" {
		runChild(t, t.Name(), "en")
		return
	}
	if !English() {
		t.Fatalf("%s=en: the window is not English", LangEnv)
	}
	if got := L(textClinicCases); got != "Clinic cases" {
		t.Fatalf("L(%s) = %q", textClinicCases, got)
	}
	// A yes/no answer in a case's form answers (app/form writes Ja/Nej).
	rows := answerRows([]form.Item{{ID: "feber", Label: "Fever?", Type: form.TypeBoolean}},
		form.Answers{"feber": {{Bool: true}}})
	if got := labelTexts(container.NewVBox(rows...)); !slices.Contains(got, "Fever?: Yes") {
		t.Errorf("a yes/no answer reads %q, want Fever?: Yes", got)
	}
	// Fyne's own texts (dialog buttons, file dialogs) follow the window, not
	// the system's language (the child runs with LANG=sv_SE.UTF-8).
	if got := lang.L("Cancel"); got != "Cancel" {
		t.Errorf("Fyne's Cancel shows as %q in an English window", got)
	}
	// A text of package app, given in Swedish, is English too.
	if got := L(app.StatusClosed.Label()); got != "Closed" {
		t.Fatalf("L(%q) = %q", app.StatusClosed.Label(), got)
	}
	f := newFixture(t, false, nil)
	fyne.CurrentApp().Settings().SetTheme(theme.DefaultTheme())
	s := f.ui.start
	texts := labelTexts(s.content)
	for _, want := range []string{"Sign in to Mottagning", "Sign in", "Username", "Password", "Demo accounts"} {
		if !slices.Contains(texts, want) {
			t.Errorf("the sign-in screen has no %q; it shows %q", want, texts)
		}
	}
	for _, sv := range []string{"Logga in", "Användarnamn", "Lösenord", "Demokonton"} {
		if slices.Contains(texts, sv) {
			t.Errorf("the English sign-in screen still shows %q", sv)
		}
	}
	shoot(t, f.win, "signin-en.png")

	// A wrong password: app's message, in English.
	test.Type(s.username, "anna")
	test.Type(s.password, "wrong password")
	test.Tap(s.signIn)
	f.wait()
	if got := s.errText.Text; got != "Wrong username or password." {
		t.Errorf("wrong password: %q", got)
	}
	s.username.SetText("")

	w := f.open(t, "Anna Lindqvist", "Vårdcentralen Centrum")
	if got := w.tabs.Items[0].Text; got != "Clinic cases" {
		t.Errorf("first tab %q, want Clinic cases", got)
	}
	l := w.clinicCases
	if got := L(columns[0].title); got != "Status" {
		t.Errorf("first column %q", got)
	}
	if !strings.HasSuffix(l.count.Text, " cases") {
		t.Errorf("case count %q, want … cases", l.count.Text)
	}
	if got := l.status.Selected; got != "All statuses" {
		t.Errorf("status filter %q, want All statuses", got)
	}
	// Filtering by a translated status still filters.
	l.status.SetSelected(L(app.StatusClosed.Label()))
	f.wait()
	if l.len() == 0 {
		t.Error("the Closed filter shows no case")
	}
	for i := 0; i < l.len(); i++ {
		if r := l.row(i); r.Status != app.StatusClosed {
			t.Fatalf("the Closed filter shows a case with status %s", r.Status)
		}
	}
	l.status.SetSelected(L(textAll))
	f.wait()
	shoot(t, f.win, "caselist-en.png")

	// The case view and Skicka ärende, to look at.
	l.onOpen(l.row(0))
	f.wait()
	if got := w.open.back.Text; got != "Back" {
		t.Errorf("case view: back button %q", got)
	}
	shoot(t, f.win, "caseview-en.png")
	w.closeScreen()
	w.showSend()
	f.wait()
	if got := w.sendScr.send.Text; got != "Send" {
		t.Errorf("Send case: send button %q", got)
	}
	w.sendScr.template.SetSelectedIndex(0)
	test.Type(w.sendScr.pnr, f.ds.Residents[0].PNR.String())
	f.wait()
	shoot(t, f.win, "send-en.png")
}

// Issue 18, item 5: in a Swedish window Fyne's own texts are Swedish too
// (file dialogs, dialog buttons), whatever the system's language; the
// tests run with LANG=C or an English locale.
func TestLang_FyneOwnTextsAreSwedish(t *testing.T) {
	if English() {
		t.Skip("an English window")
	}
	for key, want := range map[string]string{"Cancel": "Avbryt", "Open": "Öppna", "Save": "Spara", "Folder": "Mapp", "Yes": "Ja"} {
		if got := lang.L(key); got != want {
			t.Errorf("Fyne's %q shows as %q, want %q", key, got, want)
		}
	}
}

// Every text Fyne itself can show (its base.en.json, in the module cache
// for the Fyne version in go.mod) has a Swedish entry in
// assets/translations/fyne-sv.json, so that an upgrade of Fyne that adds
// texts is noticed (Fyne 2.8 added the weekdays).
func TestLang_FyneTextsHaveSwedish(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "fyne.io/fyne/v2").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lang", "translations", "base.en.json"))
	if err != nil {
		t.Fatal(err)
	}
	// A value is a text or, for plurals, an object of texts.
	var en, sv map[string]any
	if err := json.Unmarshal(raw, &en); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(assets.FyneSV, &sv); err != nil {
		t.Fatal(err)
	}
	for k := range en {
		if v, ok := sv[k]; !ok || v == "" {
			t.Errorf("fyne-sv.json has no Swedish for Fyne's %q", k)
		}
	}
}

// The tests, too, pass ids to L and Lf: a Swedish text there would pass in
// a Swedish run and fail in an English one.
func TestLang_TestsUseIDs(t *testing.T) {
	sv := table(t, "sv.json", assets.TranslationsSV)
	paths, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || (id.Name != "L" && id.Name != "Lf") {
				return true
			}
			if s, ok := stringLit(call.Args[0]); ok {
				if _, known := sv[s]; !known && !slices.Contains([]string{"no.such_id", ""}, s) {
					t.Errorf("%s: %q is not a message id", fset.Position(call.Pos()), s)
				}
			}
			return true
		})
	}
}
