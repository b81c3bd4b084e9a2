package staffauth

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"mottagning/app/textcheck"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"
	"unicode"

	"mottagning/app"
)

// RoleRegionPermissionAdmin is the region's behörighetsadministratör, a
// region role (held in app.Staff.RegionRoles): administers staff roles in
// every clinic and gives the region roles (kontaktcenter and this one).
// Like the clinic role it gives no access to cases. Bootstrap gives it to
// the first account.
const RoleRegionPermissionAdmin app.Role = "region-behorighetsadministrator"

// regionRoles are the roles held region-wide rather than per clinic.
var regionRoles = []app.Role{app.RoleContactCenter, RoleRegionPermissionAdmin}

// Options tune a Service. Zero values take the defaults.
type Options struct {
	// AccessTTL is the lifetime of an access token (default 10 min).
	AccessTTL time.Duration
	// RefreshTTL is how long a sign-in lasts (default 12 h, a working
	// day). Refresh rotates the token but does not extend this.
	RefreshTTL time.Duration
	// Params is the argon2id cost of password hashes (default
	// app.DefaultPasswordParams).
	Params app.PasswordParams
	// Issuer is the TOTP issuer name authenticator apps show (default "Mottagning").
	Issuer string
	// Authenticator replaces the password + TOTP check of SignIn (a
	// SITHS/HSA-id login, for example). Nil: password + TOTP.
	Authenticator Authenticator
	// SourcePerMinute and SourceBurst set the per-source limit of failed
	// sign-ins and refreshes behind Blocked and Failed (defaults 10 per
	// minute, burst 10).
	SourcePerMinute float64
	SourceBurst     int
	// Failures keeps those counts; nil: a Limiter in memory.
	Failures FailureLimit
	// EscrowWindow is how long after a password sign-in the device escrow
	// is handed out (ReleaseDeviceEscrow) or deposited (default 5 min).
	EscrowWindow time.Duration
	// ChallengeTTL is how long a device challenge can be used
	// (Challenge; default 2 min).
	ChallengeTTL time.Duration
	// TOTPRequired, when set, says which accounts must have a second
	// factor (by their roles, typically): until such an account has
	// confirmed one, its tokens carry Claims.NeedsTOTP, and the server
	// lets them do nothing but enrol it (and sign out).
	TOTPRequired func(st app.Staff) bool
	// OnChange, when set, is told of an account after a change to its
	// name, roles or disabled state is committed (the server mirrors staff
	// names and roles into the case database, where assignees are looked
	// up). It gets no secret.
	OnChange func(ctx context.Context, st app.Staff)
}

func (o Options) withDefaults() Options {
	if o.AccessTTL <= 0 {
		o.AccessTTL = 10 * time.Minute
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 12 * time.Hour
	}
	if o.Params == (app.PasswordParams{}) {
		o.Params = app.DefaultPasswordParams
	}
	if o.Issuer == "" {
		o.Issuer = "Mottagning"
	}
	if o.SourcePerMinute <= 0 {
		o.SourcePerMinute = 10
	}
	if o.SourceBurst <= 0 {
		o.SourceBurst = 10
	}
	if o.EscrowWindow <= 0 {
		o.EscrowWindow = 5 * time.Minute
	}
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = 2 * time.Minute
	}
	return o
}

// Service is the staff account service over auth.db. It is safe for
// concurrent use.
type Service struct {
	db      KV
	clock   app.Clock
	opts    Options
	auth    Authenticator
	limiter FailureLimit

	signKey atomic.Pointer[[]byte] // replaced by ResetSessions
	keyAt   atomic.Pointer[time.Time]
	idxKey  []byte

	dummyOnce stdsync.Once
	dummy     string

	// accountLocks serialise sign-in attempts per account (striped by
	// staff id), so that parallel guesses cannot run past the lock.
	accountLocks [64]stdsync.Mutex

	// The cache of what Authenticate checks on every call. A miss reads
	// auth.db while holding cacheMu, and writers drop entries after their
	// commit under cacheMu: a read that began before a commit stores its
	// (old) value before the writer's drop, never after.
	cacheMu  stdsync.Mutex
	accounts map[app.ID]accountState
	devices  map[app.ID]deviceState
	sessions map[app.ID]bool // session id → it exists

	// challenges are the device challenges (devicebind.go).
	challenges challenges
}

type accountState struct {
	exists   bool
	disabled bool
	epoch    uint64
	// needsTOTP: a role of the account requires a second factor
	// (Options.TOTPRequired) and none is confirmed yet.
	needsTOTP bool
}

type deviceState struct {
	exists  bool
	revoked *RevokedError
}

func newService(db KV, clock app.Clock, opts Options) *Service {
	s := &Service{db: db, clock: clock, opts: opts,
		limiter:  opts.Failures,
		accounts: map[app.ID]accountState{}, devices: map[app.ID]deviceState{}, sessions: map[app.ID]bool{},
		challenges: newChallenges(clock, opts.ChallengeTTL)}
	if s.limiter == nil {
		s.limiter = NewLimiter(clock, opts.SourcePerMinute, opts.SourceBurst)
	}
	s.auth = opts.Authenticator
	if s.auth == nil {
		s.auth = passwordTOTP{s}
	}
	return s
}

// Blocked reports whether key (the client address) has used up its
// failed sign-ins for now. The HTTP layer asks before SignIn and answers
// 429 when it is true.
func (s *Service) Blocked(key string) bool { return s.limiter.Blocked(key) }

// Failed counts a failed sign-in or refresh from key. Successful sign-ins
// and valid refreshes are never counted: a hundred desktops behind one
// NAT refreshing all day do not lock each other out.
func (s *Service) Failed(key string) { s.limiter.Take(key) }

func (s *Service) key() []byte {
	if s.db.Shared() {
		// Another node may have reset the sessions (ResetSessions): the
		// key is read again at most every keyRecheck. Tokens stop at once
		// all the same, since every session is gone.
		if at := s.keyAt.Load(); at == nil || s.clock.Now().Sub(*at) > keyRecheck {
			var key []byte
			if err := s.db.View(func(tx Tx) error { key = clone(tx.Bucket(bMeta).Get(kSignKey)); return nil }); err == nil && len(key) > 0 {
				s.signKey.Store(&key)
				now := s.clock.Now()
				s.keyAt.Store(&now)
			}
		}
	}
	return *s.signKey.Load()
}

// keyRecheck is how long a node on a shared database keeps the token key
// before it reads it again.
const keyRecheck = 5 * time.Second

func (s *Service) accountLock(id app.ID) *stdsync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &s.accountLocks[h.Sum32()%uint32(len(s.accountLocks))]
}

func (s *Service) forget(staff []app.ID, devices []app.ID) {
	s.cacheMu.Lock()
	for _, id := range staff {
		delete(s.accounts, id)
	}
	for _, id := range devices {
		delete(s.devices, id)
	}
	s.cacheMu.Unlock()
}

func (s *Service) accountState(id app.ID) (accountState, error) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if st, ok := s.accounts[id]; ok {
		return st, nil
	}
	var st accountState
	err := s.db.View(func(tx Tx) error {
		a, err := getAccount(tx, id)
		if errors.Is(err, app.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		st = accountState{exists: true, disabled: a.Staff.Disabled, epoch: a.Epoch,
			needsTOTP: a.TOTPSecret == "" && s.opts.TOTPRequired != nil && s.opts.TOTPRequired(a.Staff)}
		return nil
	})
	if err != nil {
		return st, err
	}
	if !s.db.Shared() {
		s.accounts[id] = st
	}
	return st, nil
}

// forgetSession drops a deleted session from the cache (after its commit).
func (s *Service) forgetSession(id app.ID) {
	s.cacheMu.Lock()
	delete(s.sessions, id)
	s.cacheMu.Unlock()
}

// sessionLive reports whether session id still exists (not signed out,
// not ended by a revocation, reset or refresh-token reuse).
func (s *Service) sessionLive(id app.ID) (bool, error) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if ok, hit := s.sessions[id]; hit {
		return ok, nil
	}
	var ok bool
	err := s.db.View(func(tx Tx) error {
		ok = tx.Bucket(bSessions).Get([]byte(id)) != nil
		return nil
	})
	if err != nil {
		return false, err
	}
	if !s.db.Shared() {
		s.sessions[id] = ok
	}
	return ok, nil
}

func (s *Service) deviceState(id app.ID) (deviceState, error) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if st, ok := s.devices[id]; ok {
		return st, nil
	}
	var st deviceState
	err := s.db.View(func(tx Tx) error {
		d, err := getDevice(tx, id)
		if errors.Is(err, app.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		st = deviceState{exists: true}
		if d.Revoked {
			st.revoked = revokedErr(d)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if !s.db.Shared() {
		s.devices[id] = st
	}
	return st, nil
}

// hashes returns the server hash and the offline verifier of password.
func (s *Service) hashes(password string) (hash, verifier string, err error) {
	if err := app.CheckNewPassword(password); err != nil {
		return "", "", err
	}
	if hash, err = app.HashPassword(password, s.opts.Params); err != nil {
		return "", "", err
	}
	if verifier, err = app.HashPassword(password, s.opts.Params); err != nil {
		return "", "", err
	}
	return hash, verifier, nil
}

// MaxUsernameLen and MaxNameLen bound the text fields of an account.
const (
	MaxUsernameLen = 64
	MaxNameLen     = 200
)

// cleanStaff validates st and returns it normalised: trimmed texts, roles
// de-duplicated in the order of app.AllClinicRoles, clinics without roles
// dropped. Errors name the field, never its value.
func cleanStaff(st app.Staff) (app.Staff, error) {
	st.Username = strings.TrimSpace(st.Username)
	st.Name = strings.TrimSpace(st.Name)
	st.Title = strings.TrimSpace(st.Title)
	switch {
	case st.Username == "" || len(st.Username) > MaxUsernameLen:
		return st, fmt.Errorf("username empty or longer than %d bytes: %w", MaxUsernameLen, app.ErrInvalid)
	case strings.IndexFunc(st.Username, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return st, fmt.Errorf("username with spaces or control characters: %w", app.ErrInvalid)
	case st.Name == "" || len(st.Name) > MaxNameLen || len(st.Title) > MaxNameLen:
		return st, fmt.Errorf("name empty or name or title longer than %d bytes: %w", MaxNameLen, app.ErrInvalid)
	case !textcheck.Line(st.Name) || !textcheck.Line(st.Title):
		return st, fmt.Errorf("control characters in name or title: %w", app.ErrInvalid)
	}
	if st.ID != "" && (len(st.ID) > 64 || strings.ContainsRune(string(st.ID), 0)) {
		return st, fmt.Errorf("malformed staff id: %w", app.ErrInvalid)
	}
	roles := map[app.ID][]app.Role{}
	for c, rs := range st.Roles {
		if c == "" || len(c) > 64 {
			return st, fmt.Errorf("malformed clinic id: %w", app.ErrInvalid)
		}
		set := map[app.Role]bool{}
		for _, r := range rs {
			if !slices.Contains(app.AllClinicRoles, r) {
				return st, fmt.Errorf("roles in clinic %s: not a clinic role: %w", c, app.ErrInvalid)
			}
			set[r] = true
		}
		var clean []app.Role
		for _, r := range app.AllClinicRoles {
			if set[r] {
				clean = append(clean, r)
			}
		}
		if len(clean) > 0 {
			roles[c] = clean
		}
	}
	st.Roles = roles
	set := map[app.Role]bool{}
	for _, r := range st.RegionRoles {
		if !slices.Contains(regionRoles, r) {
			return st, fmt.Errorf("region roles: not a region role: %w", app.ErrInvalid)
		}
		set[r] = true
	}
	st.RegionRoles = nil
	for _, r := range regionRoles {
		if set[r] {
			st.RegionRoles = append(st.RegionRoles, r)
		}
	}
	return st, nil
}

// actingAdmin returns the caller as auth.db knows them now: authority comes
// from the stored account, not from the roles snapshot in the token.
func actingAdmin(tx Tx, by *Claims, op string) (*app.Staff, error) {
	if by == nil || by.StaffID == "" {
		return nil, forbidden(op + ": not signed in")
	}
	a, err := getAccount(tx, by.StaffID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, fmt.Errorf("%s by staff %s: %w", op, by.StaffID, forbidden("unknown account"))
	} else if err != nil {
		return nil, err
	}
	if a.Staff.Disabled {
		return nil, fmt.Errorf("%s by staff %s: %w", op, by.StaffID, forbidden("account disabled"))
	}
	return &a.Staff, nil
}

func isRegionAdmin(admin *app.Staff) bool { return admin.HasRegion(RoleRegionPermissionAdmin) }

// administers reports whether admin may change what concerns the whole of
// target's account (name, username, password, disabling, TOTP): a region
// administrator may; a clinic behörighetsadministratör only when target
// has no region role and every clinic target has roles in is one of the
// admin's. (An account with no role anywhere gives access to nothing, so
// any behörighetsadministratör may take it over.)
func administers(admin, target *app.Staff) bool {
	if isRegionAdmin(admin) {
		return true
	}
	if len(target.RegionRoles) > 0 {
		return false
	}
	for c := range target.Roles {
		if !admin.Has(c, app.RolePermissionAdmin) {
			return false
		}
	}
	return true
}

func ownAccount(op string, id app.ID) error {
	return fmt.Errorf("%s: staff %s: %w", op, id, forbidden("own account"))
}

// Bootstrap creates the first account on an empty auth.db (first run of
// the server, from its command line) with password, and makes it region
// administrator (RoleRegionPermissionAdmin) so it can create the others.
// Once any account exists it returns ErrAlreadyBootstrapped.
// changed runs the OnChange hook for staff id, after a commit.
func (s *Service) changed(ctx context.Context, id app.ID) {
	if s.opts.OnChange == nil {
		return
	}
	if st, err := s.Staff(ctx, id); err == nil {
		s.opts.OnChange(ctx, *st)
	}
}

func (s *Service) Bootstrap(ctx context.Context, st app.Staff, password string) error {
	st, err := cleanStaff(st)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	hash, verifier, err := s.hashes(password)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if st.ID == "" {
		st.ID = app.NewID(s.clock.Now())
	}
	if !slices.Contains(st.RegionRoles, RoleRegionPermissionAdmin) {
		st.RegionRoles = append(st.RegionRoles, RoleRegionPermissionAdmin)
	}
	st.Disabled = false
	now := s.clock.Now()
	err = s.db.Update(func(tx Tx) error {
		if k, _ := tx.Bucket(bAccounts).Cursor().First(); k != nil {
			return ErrAlreadyBootstrapped
		}
		if err := tx.Bucket(bIdxUsername).Put(s.usernameKey(st.Username), []byte(st.ID)); err != nil {
			return err
		}
		return putAccount(tx, &account{Staff: st, Hash: hash, Verifier: verifier, PasswordChangedAt: now,
			Epoch: 1, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return fmt.Errorf("bootstrap staff %s: %w", st.ID, err)
	}
	s.forget([]app.ID{st.ID}, nil)
	s.changed(ctx, st.ID)
	return nil
}

// PutStaff creates an account (st.ID empty or unknown; no password yet,
// see SetPassword) or changes one's name, title, username and roles. by
// may set roles only in clinics where they are behörighetsadministratör
// (roles elsewhere must stay as they are), region roles only as region
// administrator, the other fields only where they administer the whole
// account (see administers), and never on their own account. st.Disabled
// is ignored: see Disable. A username taken by another account is
// app.ErrConflict. A change of roles ends the account's access tokens (the
// client refreshes and gets the new roles).
func (s *Service) PutStaff(ctx context.Context, by *Claims, st app.Staff) error {
	st, err := cleanStaff(st)
	if err != nil {
		return fmt.Errorf("put staff: %w", err)
	}
	if by != nil && st.ID == by.StaffID {
		return ownAccount("put staff", st.ID)
	}
	now := s.clock.Now()
	if st.ID == "" {
		st.ID = app.NewID(now)
	}
	err = s.db.Update(func(tx Tx) error {
		admin, err := actingAdmin(tx, by, "put staff")
		if err != nil {
			return err
		}
		old, err := getAccount(tx, st.ID)
		if errors.Is(err, app.ErrNotFound) {
			old = &account{Staff: app.Staff{ID: st.ID}, CreatedAt: now, Epoch: 1}
		} else if err != nil {
			return err
		}
		isNew := old.Staff.Username == ""
		region := isRegionAdmin(admin)
		// Clinic roles: every clinic whose roles change must be the admin's.
		for _, c := range unionKeys(old.Staff.Roles, st.Roles) {
			if !slices.Equal(old.Staff.Roles[c], st.Roles[c]) && !region && !admin.Has(c, app.RolePermissionAdmin) {
				return forbidden("roles in clinic " + string(c) + " not administered by the caller")
			}
		}
		if !slices.Equal(old.Staff.RegionRoles, st.RegionRoles) && !region {
			return forbidden("region roles given only by a region administrator")
		}
		if !isNew && (old.Staff.Name != st.Name || old.Staff.Title != st.Title || old.Staff.Username != st.Username) &&
			!administers(admin, &old.Staff) {
			return forbidden("account has roles in clinics not administered by the caller")
		}
		idx := tx.Bucket(bIdxUsername)
		newKey := s.usernameKey(st.Username)
		if holder := idx.Get(newKey); holder != nil && app.ID(holder) != st.ID {
			return fmt.Errorf("username taken: %w", app.ErrConflict)
		}
		if !isNew && !strings.EqualFold(old.Staff.Username, st.Username) {
			if err := idx.Delete(s.usernameKey(old.Staff.Username)); err != nil {
				return err
			}
		}
		if err := idx.Put(newKey, []byte(st.ID)); err != nil {
			return err
		}
		if !isNew && !(rolesEqual(old.Staff.Roles, st.Roles) && slices.Equal(old.Staff.RegionRoles, st.RegionRoles)) {
			old.Epoch++
		}
		st.Disabled = old.Staff.Disabled
		old.Staff, old.UpdatedAt = st, now
		return putAccount(tx, old)
	})
	if err != nil {
		return fmt.Errorf("put staff %s: %w", st.ID, err)
	}
	s.forget([]app.ID{st.ID}, nil)
	s.changed(ctx, st.ID)
	return nil
}

func unionKeys(a, b map[app.ID][]app.Role) []app.ID {
	var out []app.ID
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func rolesEqual(a, b map[app.ID][]app.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// Staff returns one account's staff record, or app.ErrNotFound.
func (s *Service) Staff(ctx context.Context, id app.ID) (*app.Staff, error) {
	var st *app.Staff
	err := s.db.View(func(tx Tx) error {
		a, err := getAccount(tx, id)
		if err != nil {
			return err
		}
		st = &a.Staff
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("staff %s: %w", id, err)
	}
	return st, nil
}

// AllStaff returns every account's staff record, by name.
func (s *Service) AllStaff(ctx context.Context) ([]app.Staff, error) {
	var out []app.Staff
	err := s.db.View(func(tx Tx) error {
		return tx.Bucket(bAccounts).ForEach(func(k, v []byte) error {
			var a account
			if err := getJSON(tx.Bucket(bAccounts), k, &a); err != nil {
				return err
			}
			out = append(out, a.Staff)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("all staff: %w", err)
	}
	slices.SortStableFunc(out, func(a, b app.Staff) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// administer runs fn on staffID's account as an administration by `by`
// (administers, never their own account) and stores it. end: the
// account's tokens stop (epoch up, sessions deleted).
func (s *Service) administer(op string, by *Claims, staffID app.ID, end bool, fn func(a *account) error) error {
	if by != nil && by.StaffID == staffID {
		return ownAccount(op, staffID)
	}
	err := s.db.Update(func(tx Tx) error {
		admin, err := actingAdmin(tx, by, op)
		if err != nil {
			return err
		}
		a, err := getAccount(tx, staffID)
		if err != nil {
			return err
		}
		if !administers(admin, &a.Staff) {
			return forbidden("account has roles in clinics not administered by the caller")
		}
		if err := fn(a); err != nil {
			return err
		}
		a.UpdatedAt = s.clock.Now()
		if end {
			a.Epoch++
			if err := s.deleteSessions(tx, func(se *session) bool { return se.StaffID == staffID }); err != nil {
				return err
			}
		}
		return putAccount(tx, a)
	})
	if err != nil {
		return fmt.Errorf("%s: staff %s: %w", op, staffID, err)
	}
	s.forget([]app.ID{staffID}, nil)
	return nil
}

// SetPassword resets staffID's password (also the first password of an
// account PutStaff made). It clears the failure lock, ends every session
// and access token of the account, and replaces the offline verifier, so
// desktops must sign in online once. Rights as for PutStaff's account
// fields; never the caller's own account (ChangePassword).
func (s *Service) SetPassword(ctx context.Context, by *Claims, staffID app.ID, password string) error {
	hash, verifier, err := s.hashes(password)
	if err != nil {
		return fmt.Errorf("set password: staff %s: %w", staffID, err)
	}
	return s.administer("set password", by, staffID, true, func(a *account) error {
		a.Hash, a.Verifier = hash, verifier
		a.PasswordChangedAt = s.clock.Now()
		a.Failures, a.LockedUntil = 0, time.Time{}
		return nil
	})
}

// Disable disables or enables staffID's account. Disabling ends every
// session and access token at once; an enabled account signs in anew.
func (s *Service) Disable(ctx context.Context, by *Claims, staffID app.ID, disabled bool) error {
	err := s.administer("disable", by, staffID, disabled, func(a *account) error {
		a.Staff.Disabled = disabled
		return nil
	})
	if err == nil {
		s.changed(ctx, staffID)
	}
	return err
}

// UnlockAccount clears every sign-in lock of staffID (a colleague locked
// out, or a lock an attacker keeps renewing from elsewhere). Rights as for
// ResetTOTP: a behörighetsadministratör of the account's clinics or a
// region administrator; never the caller's own account.
func (s *Service) UnlockAccount(ctx context.Context, by *Claims, staffID app.ID) error {
	return s.administer("unlock account", by, staffID, false, func(a *account) error {
		a.Failures, a.LockedUntil, a.DeviceLocks = 0, time.Time{}, nil
		return nil
	})
}

// ResetTOTP removes staffID's TOTP and recovery codes (a lost phone): the
// next sign-in is by password alone, after which the staff member enrols
// again.
func (s *Service) ResetTOTP(ctx context.Context, by *Claims, staffID app.ID) error {
	return s.administer("reset totp", by, staffID, false, func(a *account) error {
		a.TOTPSecret, a.TOTPPending, a.Recovery = "", "", nil
		return nil
	})
}

// ChangePassword changes the caller's own password after checking the
// old one (a wrong one counts as a failure, like at sign-in). Every
// session and access token of the account ends, this one too: the client
// signs in again with the new password, which also refreshes its offline
// verifier.
func (s *Service) ChangePassword(ctx context.Context, c *Claims, oldPassword, newPassword string) error {
	if c == nil {
		return forbidden("change password: not signed in")
	}
	hash, verifier, err := s.hashes(newPassword)
	if err != nil {
		return fmt.Errorf("change password: staff %s: %w", c.StaffID, err)
	}
	mu := s.accountLock(c.StaffID)
	mu.Lock()
	defer mu.Unlock()
	a, err := s.loadAccount(c.StaffID)
	if err != nil {
		return fmt.Errorf("change password: staff %s: %w", c.StaffID, err)
	}
	if err := s.checkPassword(a, "", oldPassword); err != nil {
		return fmt.Errorf("change password: staff %s: %w", c.StaffID, err)
	}
	err = s.db.Update(func(tx Tx) error {
		a, err := getAccount(tx, c.StaffID)
		if err != nil {
			return err
		}
		a.Hash, a.Verifier, a.PasswordChangedAt = hash, verifier, s.clock.Now()
		a.Epoch++
		if err := s.deleteSessions(tx, func(se *session) bool { return se.StaffID == c.StaffID }); err != nil {
			return err
		}
		return putAccount(tx, a)
	})
	if err != nil {
		return fmt.Errorf("change password: staff %s: %w", c.StaffID, err)
	}
	s.forget([]app.ID{c.StaffID}, nil)
	return nil
}

func (s *Service) loadAccount(id app.ID) (*account, error) {
	var a *account
	err := s.db.View(func(tx Tx) error {
		var err error
		a, err = getAccount(tx, id)
		return err
	})
	return a, err
}

// updateAccount loads, changes and stores one account in one transaction.
func (s *Service) updateAccount(id app.ID, fn func(a *account) error) error {
	return s.db.Update(func(tx Tx) error {
		a, err := getAccount(tx, id)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		return putAccount(tx, a)
	})
}

// EnrollTOTP starts TOTP enrolment for the caller: a new secret (base32)
// and the otpauth:// URL to show as a QR code. It stays pending, and the
// sign-in does not ask for it, until ConfirmTOTP. An account with a
// confirmed TOTP gets app.ErrConflict: an administrator clears it first
// (ResetTOTP).
func (s *Service) EnrollTOTP(ctx context.Context, c *Claims) (secret, otpauth string, err error) {
	if c == nil {
		return "", "", forbidden("enroll totp: not signed in")
	}
	secret = b32.EncodeToString(randomBytes(totpSecretLen))
	var username string
	err = s.updateAccount(c.StaffID, func(a *account) error {
		if a.Staff.Disabled {
			return ErrAccountDisabled
		}
		if a.TOTPSecret != "" {
			return fmt.Errorf("totp already enrolled: %w", app.ErrConflict)
		}
		a.TOTPPending, username = secret, a.Staff.Username
		return nil
	})
	if err != nil {
		return "", "", fmt.Errorf("enroll totp: staff %s: %w", c.StaffID, err)
	}
	return secret, otpauthURL(s.opts.Issuer, username, secret), nil
}

// ConfirmTOTP completes enrolment with a code from the authenticator app
// and returns RecoveryCodes single-use recovery codes, shown once (only
// their hashes are kept). A wrong code is ErrBadCredentials and counts as
// a failure; no pending enrolment is app.ErrInvalid.
func (s *Service) ConfirmTOTP(ctx context.Context, c *Claims, code string) ([]string, error) {
	if c == nil {
		return nil, forbidden("confirm totp: not signed in")
	}
	mu := s.accountLock(c.StaffID)
	mu.Lock()
	defer mu.Unlock()
	var codes []string
	var out error
	now := s.clock.Now()
	err := s.updateAccount(c.StaffID, func(a *account) error {
		if now.Before(a.LockedUntil) {
			out = &TooManyAttemptsError{Until: a.LockedUntil}
			return nil
		}
		if a.TOTPPending == "" {
			return fmt.Errorf("no pending totp enrolment: %w", app.ErrInvalid)
		}
		step, ok := verifyTOTP(a.TOTPPending, code, now, a.TOTPLastStep)
		if !ok {
			out = fail(a, "", now)
			return nil
		}
		a.TOTPSecret, a.TOTPPending, a.TOTPLastStep = a.TOTPPending, "", step
		a.Failures, a.LockedUntil = 0, time.Time{}
		a.Recovery = nil
		for range RecoveryCodes {
			rc := newRecoveryCode()
			codes = append(codes, rc)
			a.Recovery = append(a.Recovery, hashRecovery(rc))
		}
		return nil
	})
	if err == nil {
		err = out
	}
	if err != nil {
		return nil, fmt.Errorf("confirm totp: staff %s: %w", c.StaffID, err)
	}
	s.forget([]app.ID{c.StaffID}, nil) // its tokens need no enrolment any more
	return codes, nil
}

// Verifier returns the caller's offline-unlock verifier (an argon2id PHC
// string of their password with its own salt, see the package doc), for
// the desktop to cache after an online sign-in. It takes the caller's
// claims rather than any staff id: a verifier is handed only to its owner.
// app.ErrNotFound when the account has no password (SITHS-only).
func (s *Service) Verifier(ctx context.Context, c *Claims) (string, error) {
	if c == nil {
		return "", forbidden("verifier: not signed in")
	}
	a, err := s.loadAccount(c.StaffID)
	if err == nil && a.Verifier == "" {
		err = app.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("verifier: staff %s: %w", c.StaffID, err)
	}
	return a.Verifier, nil
}

// ResetSessions makes a new token key and deletes every session: every
// access and refresh token stops and all staff sign in again. For after
// restoring auth.db from a backup, or a suspected leak of the key.
func (s *Service) ResetSessions(ctx context.Context) error {
	key := randomBytes(32)
	err := s.db.Update(func(tx Tx) error {
		if err := tx.Bucket(bMeta).Put(kSignKey, key); err != nil {
			return err
		}
		return tx.ClearBucket(bSessions)
	})
	if err != nil {
		return fmt.Errorf("reset sessions: %w", err)
	}
	s.signKey.Store(&key)
	s.cacheMu.Lock()
	clear(s.sessions)
	s.cacheMu.Unlock()
	return nil
}
