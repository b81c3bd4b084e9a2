package staffauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"mottagning/app"
)

// accessPrefix names the token format; a new format gets a new prefix.
const accessPrefix = "v1."

// maxTokenLen bounds what the parser looks at: a staff member with roles
// in a few dozen clinics fits with room to spare.
const maxTokenLen = 8 << 10

var b64 = base64.RawURLEncoding.Strict()

// accessPayload is the signed content of an access token.
type accessPayload struct {
	Staff    app.ID                `json:"sid"`
	Device   app.ID                `json:"did"`
	Username string                `json:"usr"`
	Roles    map[app.ID][]app.Role `json:"rol,omitempty"`
	Region   []app.Role            `json:"reg,omitempty"`
	Epoch    uint64                `json:"ep"`
	Issued   int64                 `json:"iat"`
	Expires  int64                 `json:"exp"`
	// Auth is when the password (or other Authenticator) was checked: the
	// session's start, kept by Refresh. The device escrow is handed out
	// only shortly after it (ReleaseDeviceEscrow).
	Auth int64 `json:"aut,omitempty"`
	// Session is the session the token belongs to: signing out (or any
	// end of the session) stops the token at once.
	Session app.ID `json:"ses,omitempty"`
}

func mac(key []byte, signed string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// signAccess encodes and signs p.
func signAccess(key []byte, p *accessPayload) string {
	data, err := json.Marshal(p)
	if err != nil {
		panic("staffauth: marshal access payload: " + err.Error()) // plain types only
	}
	signed := accessPrefix + b64.EncodeToString(data)
	return signed + "." + b64.EncodeToString(mac(key, signed))
}

// parseAccess checks the signature of tok under key and returns its
// payload; expiry is the caller's. Every failure is ErrTokenInvalid, with
// nothing of the token in it.
func parseAccess(key []byte, tok string) (*accessPayload, error) {
	if len(tok) > maxTokenLen || !strings.HasPrefix(tok, accessPrefix) {
		return nil, ErrTokenInvalid
	}
	dot := strings.LastIndexByte(tok, '.')
	if dot < len(accessPrefix) {
		return nil, ErrTokenInvalid
	}
	signed, sigText := tok[:dot], tok[dot+1:]
	sig, err := b64.DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return nil, ErrTokenInvalid
	}
	if !hmac.Equal(sig, mac(key, signed)) {
		return nil, ErrTokenInvalid
	}
	// Only a payload the server signed gets this far.
	data, err := b64.DecodeString(signed[len(accessPrefix):])
	if err != nil {
		return nil, ErrTokenInvalid
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p accessPayload
	if err := dec.Decode(&p); err != nil || dec.More() {
		return nil, ErrTokenInvalid
	}
	if p.Staff == "" || p.Device == "" || p.Expires <= 0 {
		return nil, ErrTokenInvalid
	}
	return &p, nil
}

// Claims are what a verified access token says: who, on which device, with
// which roles at issue time (Authenticate also checks that the account has
// not changed since).
type Claims struct {
	StaffID     app.ID
	DeviceID    app.ID
	Username    string
	Roles       map[app.ID][]app.Role
	RegionRoles []app.Role
	Expires     time.Time
	// AuthTime is when the staff member signed in with their password on
	// this device (refreshed tokens keep it); zero in tokens made before
	// it was recorded.
	AuthTime time.Time
	// NeedsTOTP: the account must enrol a second factor before anything
	// else (Options.TOTPRequired); set by Authenticate, not in the token.
	NeedsTOTP bool
}

// Has reports whether the claims hold role r in clinic c.
func (c *Claims) Has(clinic app.ID, r app.Role) bool {
	if c == nil {
		return false
	}
	for _, x := range c.Roles[clinic] {
		if x == r {
			return true
		}
	}
	return false
}

// HasRegion reports whether the claims hold the region role r.
func (c *Claims) HasRegion(r app.Role) bool {
	if c == nil {
		return false
	}
	for _, x := range c.RegionRoles {
		if x == r {
			return true
		}
	}
	return false
}

// Staff returns the claims as the app.Staff the app services take in a
// Session (name and title are not in the token).
func (c *Claims) Staff() *app.Staff {
	return &app.Staff{ID: c.StaffID, Username: c.Username, Roles: c.Roles, RegionRoles: c.RegionRoles}
}

func (p *accessPayload) claims() *Claims {
	c := &Claims{StaffID: p.Staff, DeviceID: p.Device, Username: p.Username, Roles: p.Roles,
		RegionRoles: p.Region, Expires: time.Unix(p.Expires, 0)}
	if p.Auth > 0 {
		c.AuthTime = time.Unix(p.Auth, 0)
	}
	return c
}

// Tokens are what SignIn and Refresh hand the client.
type Tokens struct {
	Access         string
	Refresh        string
	AccessExpires  time.Time
	RefreshExpires time.Time
	// DeviceID is the device the tokens are bound to; a new one after a
	// device's first sign-in. The desktop keeps it for the next sign-in.
	DeviceID app.ID
	// KeyBound: the device holds the key this request presented or proved
	// (a device registered with DeviceKey, a sign-in with its proof, an
	// adoption): the desktop may name the device at its next sign-in.
	KeyBound bool
}

// refreshSecretLen is the number of random bytes in a refresh token.
const refreshSecretLen = 32

func makeRefresh(sessionID app.ID) (token string, hash []byte) {
	secret := randomBytes(refreshSecretLen)
	h := sha256.Sum256(secret)
	return string(sessionID) + "." + b64.EncodeToString(secret), h[:]
}

// parseRefresh splits a refresh token into its session id and the hash
// of its secret.
func parseRefresh(tok string) (app.ID, []byte, error) {
	if len(tok) > 200 {
		return "", nil, ErrTokenInvalid
	}
	id, secretText, ok := strings.Cut(tok, ".")
	if !ok || !validID(id) {
		return "", nil, ErrTokenInvalid
	}
	secret, err := b64.DecodeString(secretText)
	if err != nil || len(secret) != refreshSecretLen {
		return "", nil, ErrTokenInvalid
	}
	h := sha256.Sum256(secret)
	return app.ID(id), h[:], nil
}

// validID accepts what app.NewID makes.
func validID(s string) bool {
	if len(s) != 26 {
		return false
	}
	_, err := app.IDTime(app.ID(s))
	return err == nil
}
