package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"mottagning/app/form"
)

// fhirImport is `mottagning-server fhir-import FILE`: it reads a FHIR R4
// Questionnaire and prints the e-service form it would create and every
// warning of the import, each with the linkId of its item: what the form
// cannot represent and what was left out or changed (a value of the wrong
// JSON type, options it cannot know). Exit status 0 when the file was read
// (even with warnings), non-zero for a file that is refused. It writes
// nothing.
func fhirImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fhir-import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mottagning-server fhir-import FILE")
		fmt.Fprintln(stderr, "Reads a FHIR R4 Questionnaire (JSON) and prints the e-service form it would create and what it cannot represent.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: fhir-import needs one file", errUsage)
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("fhir-import: %w", err)
	}
	f, unsupported, err := form.ImportQuestionnaire(data)
	if err != nil {
		if errors.Is(err, form.ErrFHIR) || errors.Is(err, form.ErrDefinition) {
			return fmt.Errorf("fhir-import %s: the file is not a Questionnaire we can read: %w", fs.Arg(0), err)
		}
		return fmt.Errorf("fhir-import %s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "Formulär: %s\n", f.Title)
	n := 0
	var walk func(items []form.Item, depth int)
	walk = func(items []form.Item, depth int) {
		for i := range items {
			it := &items[i]
			n++
			flags := ""
			if it.Required {
				flags += " obligatorisk"
			}
			if it.Repeats {
				flags += " upprepas"
			}
			if len(it.EnableWhen) > 0 {
				flags += " villkorad"
			}
			fmt.Fprintf(stdout, "%s- %s [%s] %s%s\n", strings.Repeat("  ", depth), it.ID, it.Type.Label(), it.Label, flags)
			walk(it.Items, depth+1)
		}
	}
	walk(f.Items, 1)
	fmt.Fprintf(stdout, "%d frågor och grupper.\n", n)
	if len(unsupported) == 0 {
		fmt.Fprintln(stdout, "Allt i filen kan representeras.")
		return nil
	}
	fmt.Fprintf(stdout, "Varningar (%d): det som inte kan representeras eller har tagits bort eller ändrats, per linkId:\n", len(unsupported))
	for _, u := range unsupported {
		fmt.Fprintf(stdout, "  - %s\n", u.String())
	}
	return nil
}
