package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/alexedwards/argon2id"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// SetDisabled disables (or enables) the user with email. A disabled user cannot
// log in or use a reset link; disabling ends all their sessions and unused reset
// links at once, and the API keys they created are refused from the next
// request while they stay disabled (enabling them again brings those keys
// back; revoke a key to end it for good).
func (s *Service) SetDisabled(ctx context.Context, act model.Actor, email string, disabled bool) (model.User, error) {
	var u model.User
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if u, err = q.UserByEmail(ctx, NormalizeEmail(email)); err != nil {
			return err
		}
		if err := q.SetUserDisabled(ctx, u.ID, disabled); err != nil {
			return err
		}
		if disabled {
			if err := q.DeletePasswordResets(ctx, u.ID); err != nil {
				return err
			}
		}
		u.Disabled = disabled
		action := "user_enable"
		if disabled {
			action = "user_disable"
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{UserID: act.UserID, APIKeyID: act.APIKeyID, Action: action, TargetType: "user", TargetID: &uid, IP: act.IP,
			Detail: []byte(fmt.Sprintf(`{"email":%q,"by":%q}`, u.Email, act.Label))})
	})
	return u, err
}

// ErrWrongPassword answers a password change whose current password is wrong.
var ErrWrongPassword = &store.FieldError{Field: "current_password", Message: "is not the password you sign in with"}

// ChangePassword sets a signed-in user's new password after checking the
// current one. Every session of the user ends, this one included; the caller
// gets a fresh session token for the browser that made the change. Wrong
// current passwords count as failed logins (the same throttle), since they are
// guesses at the same secret.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next, ip string) (string, error) {
	if p == nil || p.UserID == 0 {
		return "", ErrUnauthenticated
	}
	keys := []string{"login:acct:" + NormalizeEmail(p.Email), "login:ip:" + ip}
	if err := s.throttled(ctx, keys...); err != nil {
		return "", err
	}
	u, err := s.St.Read().GetUser(ctx, p.UserID)
	if err != nil {
		return "", fmt.Errorf("auth: change password: %w", err)
	}
	ok, err := argon2id.ComparePasswordAndHash(current, u.PasswordHash)
	if err != nil || !ok {
		if err := s.St.InTx(ctx, func(q store.Q) error { return s.hit(ctx, q, keys...) }); err != nil {
			return "", fmt.Errorf("auth: change password: %w", err)
		}
		return "", ErrWrongPassword
	}
	if next == current {
		return "", &store.FieldError{Field: "new_password", Message: "must differ from the current password"}
	}
	hash, err := HashPassword(next)
	if err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			return "", &store.FieldError{Field: "new_password", Message: fe.Message}
		}
		return "", err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SetPassword(ctx, u.ID, hash); err != nil { // ends every session
			return err
		}
		if err := q.DeletePasswordResets(ctx, u.ID); err != nil {
			return err
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{UserID: &uid, Action: "password_change", TargetType: "user", TargetID: &uid, IP: ip})
	})
	if err != nil {
		return "", fmt.Errorf("auth: change password: %w", err)
	}
	ms, err := s.St.Read().UserMemberships(ctx, u.ID)
	if err != nil {
		return "", fmt.Errorf("auth: change password: %w", err)
	}
	tok, _, err := s.openSession(ctx, u, ms, p.WorkspaceID, ip, "login", keys[0])
	if err != nil {
		return "", fmt.Errorf("auth: change password: %w", err)
	}
	return tok, nil
}
