// Package staffauth owns the central server's staff accounts: who may sign
// in, with which roles in which clinics, on which devices (issue 5, item 3;
// shared/DOMAIN.md, role table). It is a library: the HTTP server calls it,
// it knows nothing of HTTP, and it imports no Fyne (CGO_ENABLED=0 builds).
//
// # Design note
//
// Sign-in. SignIn asks an Authenticator (password + TOTP by default; a
// SITHS/HSA-id login can replace it through Options.Authenticator), then
// picks the device and issues a pair of tokens. A device is bound to an
// Ed25519 key, not to its id (devicebind.go): a request that names no
// device, or one without a key, registers a new device with the request's
// key; one that names a device with a key must carry that key's signature
// over a fresh Challenge, or it is refused (ErrDeviceProof). Passwords are argon2id (app.HashPassword); a
// wrong password or a wrong second factor counts as a failure of the
// account: app.FreeAttempts in a row are free, then the account is locked
// for app.LockBase doubled per further failure (at most app.LockMax). The
// counter is stored, so a restart does not reset it, and attempts on one
// account are serialised in memory so that parallel guesses cannot slip
// past the lock. An unknown username verifies against a dummy hash so it
// costs as long as a wrong password. The per-source limiter (Service.Allow,
// a token bucket per key in memory) is for the HTTP layer to call with the
// client address before SignIn and Refresh.
//
// TOTP (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits, ±1 step) is enrolled
// in two steps (EnrollTOTP keeps the secret pending until ConfirmTOTP sees
// a right code) and is then required at every sign-in. A code is accepted
// only for a later step than the last one used, so a code seen over a
// shoulder cannot be replayed. Confirmation returns ten single-use recovery
// codes (80 random bits each), stored as SHA-256 hashes. A confirmed TOTP
// cannot be re-enrolled with an access token alone (a stolen token must not
// replace the second factor): a behörighetsadministratör clears it with
// ResetTOTP.
//
// Access token: "v1." + base64url(JSON payload) + "." +
// base64url(HMAC-SHA256(key, "v1." + base64url(payload))). The payload
// holds staff id, device id, username, the roles snapshot, the account's
// epoch, issue and expiry times (AccessTTL, default 10 min). The key is 32
// random bytes made when auth.db is created and kept in its meta bucket; no
// JWT library, no algorithm field to confuse.
//
// Refresh token: "<sessionID>.<base64url(32 random bytes)>". auth.db keeps
// per session (one per staff member and device) only the SHA-256 of the
// secret, the device and the expiry. Every Refresh rotates the secret; the
// expiry stays where sign-in put it (RefreshTTL, a working day), so a
// session ends at the latest a working day after the password was typed.
// A well-formed refresh token that names a live session but does not match
// its current secret is an old one, used again: somebody holds a copy
// (token theft). The device is revoked at once. An access token names its
// session: signing out (EndSession, SignOut) ends the session, and its
// access tokens stop at once too; it never revokes the device.
//
// Revocation. Authenticate checks the token's signature and expiry, and
// then on every call the device (not revoked), the account (not disabled,
// same epoch) and the session (not ended) against a small in-memory cache
// that every write invalidates after its commit, so RevokeDevice, Disable
// and a sign-out take effect before they return, without a bbolt read per
// request. Revoking a device is an administrator's act (devices.go: a
// region administrator, or a behörighetsadministratör of a clinic where
// someone who used the device has a role), with a reason the device is
// told (RevokedError) at its next call. The epoch rises
// when roles change, the password is reset or the account is disabled: an
// access token with an older epoch is ErrTokenExpired, the client refreshes
// and gets the new roles (or, after a reset or disable, no token at all).
// Refresh tokens of the account (reset, disable) are deleted in the same
// transaction; those of a revoked device are kept, refused with the
// reason once and then deleted.
//
// Administration follows the role table: a behörighetsadministratör
// (app.RolePermissionAdmin) gives and takes roles in their own clinics and
// nowhere else, never on their own account. Changing what concerns the
// whole account (name, username, password, disabling, clearing TOTP) needs
// administration of every clinic the account has roles in. The region
// role kontaktcenter, and RoleRegionPermissionAdmin itself, are given only
// by a region administrator (RoleRegionPermissionAdmin), which Bootstrap
// makes the first account. A region administrator administers every clinic
// but, like every behörighetsadministratör, sees no cases: the role gives
// no clinic role. The authority of the caller is read from auth.db in the
// transaction, not from the roles snapshot in the caller's token.
//
// # Storage, and why its own file
//
// auth.db is a bbolt file of its own (schema.go has the bucket diagram):
// it holds secrets (the token key, password hashes, TOTP seeds) and no
// patient data, while the case database holds patient data and no
// secrets. Apart, neither a leaked case backup gives anyone a way in nor a
// leaked auth backup any patient data, and each gets the backup story it
// needs: auth.db is small, changes rarely, and its backups must be kept
// encrypted and with fewer people than case backups (Backup writes one).
// Losing it loses no care data: staff get new passwords and enrol TOTP
// again. Restoring an old copy brings back devices revoked since: call
// ResetSessions after a restore (new token key, every session ends) and
// revoke those devices again.
//
// # Device keys
//
// A device record also holds what the desktop registers about itself
// (devicekeys.go): the escrow of its data key (a random device-wrap key,
// never the data key, handed back only right after a password sign-in of
// staff of a clinic the device serves, deleted when the device is revoked)
// and the Ed25519 key of its access-log checkpoints, against which the
// checkpoints it sends are verified and kept. The escrow keys are secrets
// like the password hashes: one more reason auth.db's backups are kept
// encrypted, and to revoke again, after a restore, the devices revoked
// since the backup (revoking deletes their escrow).
//
// # Offline unlock
//
// A desktop's first sign-in is online; after that it unlocks offline
// against a verifier it cached (shared/STYLE.md). Verifier returns it: an
// argon2id PHC string of the password with its own salt, made when the
// password is set, so that the server's hash never leaves the server and a
// stolen laptop's copy does not match it. A laptop's verifier can be
// attacked offline at argon2id's cost; that is the price of offline unlock.
package staffauth
