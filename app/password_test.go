package app_test

import (
	"errors"
	"strings"
	"testing"

	"mottagning/app"
)

var cheap = app.PasswordParams{Time: 1, MemKiB: 64, Threads: 1}

func TestPasswordHashVerifies(t *testing.T) {
	h, err := app.HashPassword("rätt lösenord", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "rätt") {
		t.Fatalf("hash = %q", h)
	}
	if ok, err := app.VerifyPassword(h, "rätt lösenord"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := app.VerifyPassword(h, "fel lösenord"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := app.HashPassword("rätt lösenord", cheap)
	if h2 == h {
		t.Fatal("same salt twice")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=0,p=1$AAAA$AAAA", "$argon2id$v=19$m=64,t=1,p=1$!!$AAAA"} {
		if _, err := app.VerifyPassword(bad, "x"); !errors.Is(err, app.ErrBadHash) {
			t.Errorf("VerifyPassword(%q): err = %v", bad, err)
		}
	}
}
