package app

import (
	"context"
	"errors"
	"testing"
)

type fakeAuth struct{ st *Staff }

func (f fakeAuth) SignIn(_ context.Context, username, password string) (*Staff, error) {
	if password != "rätt-lösenord" {
		return nil, ErrBadCredentials
	}
	return f.st, nil
}

type fakeKeys struct {
	unlocked map[ID]string
	err      error
}

func (f *fakeKeys) Unlock(_ context.Context, id ID, password string) error {
	if f.err != nil {
		return f.err
	}
	f.unlocked[id] = password
	return nil
}

func TestUnlockingAuth(t *testing.T) {
	ctx := context.Background()
	st := &Staff{ID: "s1", Username: "anna"}
	keys := &fakeKeys{unlocked: map[ID]string{}}
	a := UnlockingAuth{Auth: fakeAuth{st}, Store: keys}
	if _, err := a.SignIn(ctx, "anna", "fel"); !errors.Is(err, ErrBadCredentials) || len(keys.unlocked) != 0 {
		t.Errorf("wrong password: %v, unlocked %v; want ErrBadCredentials and no unlock", err, keys.unlocked)
	}
	if got, err := a.SignIn(ctx, "anna", "rätt-lösenord"); err != nil || got != st || keys.unlocked["s1"] != "rätt-lösenord" {
		t.Errorf("right password: %v %v, unlocked %v", got, err, keys.unlocked)
	}
	keys.err = ErrLocked
	if _, err := a.SignIn(ctx, "anna", "rätt-lösenord"); !errors.Is(err, ErrLocked) || KeyMessage(err) == "" {
		t.Errorf("no key on the device: %v", err)
	}
	if KeyMessage(ErrBadCredentials) != "" {
		t.Error("KeyMessage speaks for a sign-in error")
	}
}
