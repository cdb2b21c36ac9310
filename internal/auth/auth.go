// Package auth owns who may do what: password hashing (argon2id), server-side login
// sessions, workspace API keys and the role each grants. It decides identity and
// role; it never decides what a record looks like.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Timeouts for UI sessions: a session ends after IdleTimeout without a request, and
// after AbsoluteTimeout whatever happens.
const (
	IdleTimeout     = 12 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
)

// SessionCookie names the UI session cookie (read by the API too).
const SessionCookie = "rs_session"

// ErrBadCredentials is the one answer for an unknown email, a wrong password and a
// disabled user, so a login form cannot be used to find accounts.
var ErrBadCredentials = errors.New("wrong email or password")

// ErrUnauthenticated means no valid session or key was presented.
var ErrUnauthenticated = errors.New("not signed in")

// params are argon2id's RFC 9106 second recommended settings scaled to a 2-core
// server: 64 MiB, 1 pass, parallelism 2 (~40 ms a hash here).
var params = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// HashPassword returns an argon2id PHC string.
func HashPassword(pw string) (string, error) {
	if len(pw) < 10 {
		return "", &store.FieldError{Field: "password", Message: "must be at least 10 characters"}
	}
	if len(pw) > 1024 {
		return "", &store.FieldError{Field: "password", Message: "must be at most 1024 characters"}
	}
	return argon2id.CreateHash(pw, params)
}

// dummyHash is compared against when the user does not exist, so both paths cost
// the same time. It is made on first use: hashing takes 64 MiB, which every CLI
// command would otherwise pay at start-up.
var dummyHash = sync.OnceValue(func() string {
	h, _ := argon2id.CreateHash("not-a-real-password", params)
	return h
})

// Service authenticates users and keys.
type Service struct {
	St *store.Store
	// Now is the clock (nil: store.Now); tests move it to cross the session
	// timeouts and throttle windows without sleeping.
	Now func() time.Time
	// Throttle limits failed logins and reset requests (zero: DefaultThrottle).
	Throttle Throttle
	// Mailer sends password reset links; nil: RequestPasswordReset records the
	// request but nothing can be sent (the form still answers the same).
	Mailer ResetMailer
	// Hash hashes a new user's password (nil: HashPassword). Test fixtures that
	// create dozens of users with one password set a memoised HashPassword: each
	// real hash costs 64 MiB and ~40 ms, which dominated the test suite.
	Hash func(password string) (string, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// Principal is an authenticated caller acting in one workspace (WorkspaceID 0 until
// one is chosen).
type Principal struct {
	UserID      int64
	Email       string
	APIKeyID    int64
	KeyPrefix   string
	WorkspaceID int64
	Role        string
	SessionHash string
	Memberships []model.Membership
	// KeyUserID is the member an API key acts for (0: none; docs/security.md).
	KeyUserID int64
}

// Actor turns p into the actor recorded in audit and history.
func (p *Principal) Actor(ip string) model.Actor {
	a := model.Actor{IP: ip, Role: p.Role, Workspace: p.WorkspaceID}
	if p.APIKeyID != 0 {
		id := p.APIKeyID
		a.APIKeyID = &id
		a.Label = "key:" + p.KeyPrefix
		// A partner key works as its partner: what it books and qualifies is
		// theirs, and it sees their records only (store.ScopeOf).
		if p.Role == model.RolePartner && p.KeyUserID != 0 {
			uid := p.KeyUserID
			a.UserID = &uid
		}
	} else {
		id := p.UserID
		a.UserID = &id
		a.Label = "user:" + p.Email
	}
	return a
}

// Scope is the part of the workspace p reads and writes: its own records for a
// partner, everything otherwise (store.Scope).
func (p *Principal) Scope() store.Scope { return store.ScopeOf(p.Actor("")) }

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NormalizeEmail lower-cases and trims a login email.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Login checks a password and opens a new session (a fresh id every login, so a
// planted cookie is never promoted). It returns the raw token for the cookie.
//
// Failed logins are throttled per account (the email as typed, whether or not
// it exists) and per client IP: past the limit every attempt answers
// *ThrottledError without checking the password, for known and unknown emails
// alike.
func (s *Service) Login(ctx context.Context, email, password, ip string) (string, *Principal, error) {
	email = NormalizeEmail(email)
	keys := []string{"login:acct:" + email, "login:ip:" + ip}
	if err := s.throttled(ctx, keys...); err != nil {
		return "", nil, err
	}
	u, err := s.St.Read().UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		// The same work as a wrong password, so timing does not tell.
		_, _ = argon2id.ComparePasswordAndHash(password, dummyHash())
		return "", nil, s.loginFailed(ctx, email, ip, keys)
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	ok, err := argon2id.ComparePasswordAndHash(password, u.PasswordHash)
	if err != nil || !ok || u.Disabled {
		return "", nil, s.loginFailed(ctx, email, ip, keys)
	}
	ms, err := s.St.Read().UserMemberships(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	tok, p, err := s.openSession(ctx, u, ms, 0, ip, "login", keys[0])
	if err != nil {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	return tok, p, nil
}

// openSession stores a fresh session for u (a new random token every time, so
// a cookie planted before login is never the session after it), in workspace
// ws when u belongs to it (else their first), audits action and clears the
// account's failure count.
func (s *Service) openSession(ctx context.Context, u model.User, ms []model.Membership, ws int64, ip, action, clearKey string) (string, *Principal, error) {
	tok := randomToken(32)
	now := s.now()
	sess := store.Session{IDHash: hashToken(tok), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(AbsoluteTimeout)}
	p := &Principal{UserID: u.ID, Email: u.Email, SessionHash: sess.IDHash, Memberships: ms}
	for i, m := range ms {
		if i == 0 || m.WorkspaceID == ws {
			w := m.WorkspaceID
			sess.WorkspaceID = &w
			p.WorkspaceID, p.Role = w, m.Role
		}
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateSession(ctx, sess); err != nil {
			return err
		}
		if clearKey != "" {
			if err := q.ThrottleClear(ctx, clearKey); err != nil {
				return err
			}
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: sess.WorkspaceID, UserID: &uid, Action: action, IP: ip})
	})
	if err != nil {
		return "", nil, err
	}
	return tok, p, nil
}

// loginFailed counts a failure on the account and IP keys and audits it, in
// one transaction; it returns ErrBadCredentials (or the error that kept the
// failure from being counted: a failure that is not counted must not pass as
// a plain wrong password).
func (s *Service) loginFailed(ctx context.Context, email, ip string, keys []string) error {
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := s.hit(ctx, q, keys...); err != nil {
			return err
		}
		return q.Audit(ctx, model.AuditEntry{Action: "login_failed", Detail: []byte(fmt.Sprintf(`{"email":%q}`, email)), IP: ip})
	})
	if err != nil {
		return fmt.Errorf("auth: login: %w", err)
	}
	return ErrBadCredentials
}

// Session resolves a cookie token to a principal, enforcing the idle and absolute
// timeouts and the user's current memberships (a removed member loses access on
// the next request).
func (s *Service) Session(ctx context.Context, tok string) (*Principal, error) {
	if tok == "" {
		return nil, ErrUnauthenticated
	}
	r := s.St.Read()
	sess, err := r.GetSession(ctx, hashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("auth: session: %w", err)
	}
	now := s.now()
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > IdleTimeout {
		_ = s.St.InTx(ctx, func(q store.Q) error { return q.DeleteSession(ctx, sess.IDHash) })
		return nil, ErrUnauthenticated
	}
	u, err := r.GetUser(ctx, sess.UserID)
	if err != nil || u.Disabled {
		return nil, ErrUnauthenticated
	}
	ms, err := r.UserMemberships(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: session: %w", err)
	}
	p := &Principal{UserID: u.ID, Email: u.Email, SessionHash: sess.IDHash, Memberships: ms}
	if sess.WorkspaceID != nil {
		for _, m := range ms {
			if m.WorkspaceID == *sess.WorkspaceID {
				p.WorkspaceID, p.Role = m.WorkspaceID, m.Role
			}
		}
	}
	if p.WorkspaceID == 0 && len(ms) > 0 {
		p.WorkspaceID, p.Role = ms[0].WorkspaceID, ms[0].Role
	}
	// Touch at most once a minute: sessions are read on every request.
	if now.Sub(sess.LastSeenAt) > time.Minute || (sess.WorkspaceID == nil) != (p.WorkspaceID == 0) {
		ws := p.WorkspaceID
		_ = s.St.InTx(ctx, func(q store.Q) error { return q.TouchSession(ctx, sess.IDHash, &ws, now) })
	}
	return p, nil
}

// SwitchWorkspace selects another workspace for a session; the user must belong to it.
func (s *Service) SwitchWorkspace(ctx context.Context, p *Principal, ws int64) error {
	for _, m := range p.Memberships {
		if m.WorkspaceID == ws {
			return s.St.InTx(ctx, func(q store.Q) error { return q.TouchSession(ctx, p.SessionHash, &ws, s.now()) })
		}
	}
	return store.ErrNotFound
}

// Logout ends the session server-side.
func (s *Service) Logout(ctx context.Context, tok string) error {
	return s.St.InTx(ctx, func(q store.Q) error { return q.DeleteSession(ctx, hashToken(tok)) })
}

// KeyPrefix starts every API key so leaked keys are easy to scan for.
const KeyPrefix = "rsk_"

// CreateAPIKey makes a key with 256 random bits; the secret is returned once and only
// its SHA-256 is stored (a fast hash is right for a high-entropy secret). The key
// acts for the member who makes it (act.UserID), for a key made with a key that
// key's member, and for no one when made from the CLI.
func (s *Service) CreateAPIKey(ctx context.Context, act model.Actor, name, role string) (model.APIKey, string, error) {
	return s.CreateAPIKeyFor(ctx, act, name, role, 0)
}

// CreateAPIKeyFor is CreateAPIKey for a key that acts for member forUser
// (0: the actor), its owner in api_keys.created_by_user_id. A key that acts
// for a member works only while they belong to the workspace, are not
// disabled and hold a role covering the key's (APIKey). A partner key must act for a member who
// holds the partner role: it sees and works only that member's records.
func (s *Service) CreateAPIKeyFor(ctx context.Context, act model.Actor, name, role string, forUser int64) (model.APIKey, string, error) {
	if !model.Contains(model.Roles, role) {
		return model.APIKey{}, "", &store.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of %s", role, strings.Join(model.Roles, ", "))}
	}
	// A key never outranks the person who makes it: only an admin mints admin keys.
	if role == model.RoleAdmin && act.Role != "" && act.Role != model.RoleAdmin {
		return model.APIKey{}, "", &store.FieldError{Field: "role", Message: "only an admin can create an admin key"}
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return model.APIKey{}, "", &store.FieldError{Field: "name", Message: "is required (at most 100 characters)"}
	}
	secret := KeyPrefix + randomToken(32)
	k := model.APIKey{WorkspaceID: act.Workspace, Name: name, Role: role, Prefix: secret[:len(KeyPrefix)+6]}
	if forUser != 0 {
		k.UserID = &forUser
	} else if act.UserID != nil {
		uid := *act.UserID
		k.UserID = &uid
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		// A key made with a key acts for that key's member: disabling or
		// removing the person stops every key their keys minted too.
		if k.UserID == nil && act.APIKeyID != nil {
			by, err := q.APIKeyOwner(ctx, act.Workspace, *act.APIKeyID)
			if err != nil {
				return err
			}
			k.UserID = by
		}
		if role == model.RolePartner && k.UserID == nil {
			return &store.FieldError{Field: "user_id", Message: "a partner key acts for one partner member: name them"}
		}
		if k.UserID != nil {
			m, err := q.Membership(ctx, act.Workspace, *k.UserID)
			if errors.Is(err, store.ErrNotFound) {
				return &store.FieldError{Field: "user_id", Message: "is not a member of this workspace"}
			}
			if err != nil {
				return err
			}
			if role == model.RolePartner && m.Role != model.RolePartner {
				return &store.FieldError{Field: "user_id", Message: fmt.Sprintf("holds the %s role, not partner: a partner key acts for a partner member", m.Role)}
			}
			if !Covers(m.Role, role) {
				return &store.FieldError{Field: "role", Message: fmt.Sprintf("a key may not do more than the member it acts for (a %s)", m.Role)}
			}
		}
		if err := q.CreateAPIKey(ctx, &k, hashToken(secret)); err != nil {
			return err
		}
		id := k.ID
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: &k.WorkspaceID, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "api_key_create", TargetType: "api_key", TargetID: &id, IP: act.IP, Detail: []byte(fmt.Sprintf(`{"role":%q,"name":%q}`, role, name))})
	})
	return k, secret, err
}

// RevokeAPIKey revokes a key of the actor's workspace.
func (s *Service) RevokeAPIKey(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		if err := q.RevokeAPIKey(ctx, act.Workspace, id); err != nil {
			return err
		}
		ws := act.Workspace
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "api_key_revoke", TargetType: "api_key", TargetID: &id, IP: act.IP})
	})
}

// APIKey resolves a bearer secret to a principal.
func (s *Service) APIKey(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) < len(KeyPrefix)+40 {
		return nil, ErrUnauthenticated
	}
	h := hashToken(secret)
	k, err := s.St.Read().APIKeyByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("auth: api key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(k.Prefix), []byte(secret[:len(k.Prefix)])) != 1 {
		return nil, ErrUnauthenticated
	}
	// A key that acts for a member never does more than the member may now: a
	// demotion below the key's role stops the key, like a removal.
	if k.UserID != nil && !Covers(k.MemberRole, k.Role) {
		return nil, ErrUnauthenticated
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		_ = s.St.InTx(ctx, func(q store.Q) error { return q.TouchAPIKey(ctx, k.ID, now) })
	}
	p := &Principal{APIKeyID: k.ID, KeyPrefix: k.Prefix, WorkspaceID: k.WorkspaceID, Role: k.Role}
	if k.UserID != nil {
		p.KeyUserID = *k.UserID
	}
	return p, nil
}

// CreateUser makes a user with a password, optionally adding them to a workspace.
func (s *Service) CreateUser(ctx context.Context, email, name, password string, ws int64, role string) (model.User, error) {
	email = NormalizeEmail(email)
	if !strings.Contains(email, "@") {
		return model.User{}, &store.FieldError{Field: "email", Message: "is not an email address"}
	}
	if ws != 0 && !model.Contains(model.Roles, role) {
		return model.User{}, &store.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of %s", role, strings.Join(model.Roles, ", "))}
	}
	hasher := s.Hash
	if hasher == nil {
		hasher = HashPassword
	}
	hash, err := hasher(password)
	if err != nil {
		return model.User{}, err
	}
	u := model.User{Email: email, Name: name, PasswordHash: hash}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateUser(ctx, &u); err != nil {
			return err
		}
		if ws != 0 {
			if err := q.SetMembership(ctx, ws, u.ID, role); err != nil {
				return err
			}
			uid := u.ID
			return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: &uid, Action: "role_change", TargetType: "user", TargetID: &uid, Detail: []byte(fmt.Sprintf(`{"role":%q}`, role))})
		}
		return nil
	})
	return u, err
}

// SetRole grants the user with email a role in the actor's workspace, changes it,
// or (role "") removes the membership; the change is audited and takes effect on
// the user's next request.
func (s *Service) SetRole(ctx context.Context, act model.Actor, email, role string) error {
	if role != "" && !model.Contains(model.Roles, role) {
		return &store.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of %s", role, strings.Join(model.Roles, ", "))}
	}
	ws := act.Workspace
	return s.St.InTx(ctx, func(q store.Q) error {
		u, err := q.UserByEmail(ctx, NormalizeEmail(email))
		if err != nil {
			return err
		}
		if role == "" {
			err = q.RemoveMembership(ctx, ws, u.ID)
		} else {
			err = q.SetMembership(ctx, ws, u.ID, role)
		}
		if err != nil {
			return err
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "role_change", TargetType: "user", TargetID: &uid, IP: act.IP, Detail: []byte(fmt.Sprintf(`{"role":%q}`, role))})
	})
}

// ResetPassword sets a new password and ends every session of the user.
func (s *Service) ResetPassword(ctx context.Context, email, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.St.InTx(ctx, func(q store.Q) error {
		u, err := q.UserByEmail(ctx, NormalizeEmail(email))
		if err != nil {
			return err
		}
		if err := q.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := q.DeletePasswordResets(ctx, u.ID); err != nil {
			return err
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{UserID: &uid, Action: "password_reset", TargetType: "user", TargetID: &uid})
	})
}

// GeneratePassword returns a random password for one-time admin logins.
func GeneratePassword() string { return randomToken(15) }

// Access classes: every route of the UI and the API names one, and the route
// table checks it before the handler runs (docs/security.md has the matrix).
const (
	// ClassMember: every role. The lead work a partner does too — the desk,
	// contacts, accounts and activities — where a partner reads through its
	// confined scope (store.ScopeOf), so other records answer 404.
	ClassMember = "member"
	// ClassRead and ClassWrite: the workspace's records, reports and settings
	// pages, for every role but partner.
	ClassRead  = "read"
	ClassWrite = "write"
	// ClassRevenue: what customers pay — subscriptions and renewal outcomes
	// (subscriptions.WriterRoles: not LDRs, not partners).
	ClassRevenue = "revenue"
	// ClassManage: admins and managers — the team and its configuration
	// (routing, scoring, pipelines, pools, forms, tracking, custom fields),
	// economics, exports and the audit log.
	ClassManage = "manage"
	// ClassAdmin: admins only — integration secrets and who gets in: API keys,
	// webhooks, the mail sender (DKIM key) and IMAP mailbox, the sending pause.
	ClassAdmin = "admin"
)

// classRoles are the roles of each class.
var classRoles = map[string][]string{
	ClassMember:  model.Roles,
	ClassRead:    {model.RoleAdmin, model.RoleManager, model.RoleLDR, model.RoleAE, model.RoleCSM},
	ClassWrite:   {model.RoleAdmin, model.RoleManager, model.RoleLDR, model.RoleAE, model.RoleCSM},
	ClassRevenue: {model.RoleAdmin, model.RoleManager, model.RoleAE, model.RoleCSM},
	ClassManage:  {model.RoleAdmin, model.RoleManager},
	ClassAdmin:   {model.RoleAdmin},
}

// Classes lists the access classes, widest first.
var Classes = []string{ClassMember, ClassRead, ClassWrite, ClassRevenue, ClassManage, ClassAdmin}

// ClassRoles lists the roles of class (nil for an unknown class).
func ClassRoles(class string) []string { return classRoles[class] }

// Covers reports whether holder may use every access class role may: a key
// acting for a member is held to this (a key never outranks its member).
func Covers(holder, role string) bool {
	for _, c := range Classes {
		if Can(role, c) && !Can(holder, c) {
			return false
		}
	}
	return true
}

// Can reports whether role may use routes of an access class.
func Can(role, class string) bool {
	return model.Contains(classRoles[class], role)
}
