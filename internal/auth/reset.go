package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// ResetTTL is how long an emailed reset link works (once).
const ResetTTL = time.Hour

// ErrResetInvalid is the one answer for a reset token that is unknown, used,
// expired, or whose user was disabled.
var ErrResetInvalid = errors.New("this password reset link has expired or was already used; ask for a new one")

// ResetMailer sends a password reset link. It plans the message in q's
// transaction, so the token and its email commit together; delivery happens
// after the commit.
type ResetMailer interface {
	SendPasswordReset(ctx context.Context, q store.Q, to, token string, expires time.Time) error
}

// RequestPasswordReset emails a single-use reset link to email when it is an
// enabled user. It answers nil whether or not the user exists (the form must
// not tell), and *ThrottledError for too many requests per address or client
// IP — again the same for known and unknown addresses. Both paths write in one
// transaction (the throttle count; a known user's token and email besides), so
// they take about the same time.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	email = NormalizeEmail(email)
	keys := []string{"reset:acct:" + email, "reset:ip:" + ip}
	if err := s.throttled(ctx, keys...); err != nil {
		return err
	}
	u, err := s.St.Read().UserByEmail(ctx, email)
	known := err == nil && !u.Disabled && u.PasswordHash != ""
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("auth: reset request: %w", err)
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := s.hit(ctx, q, keys...); err != nil {
			return err
		}
		if !known || s.Mailer == nil {
			return q.Audit(ctx, model.AuditEntry{Action: "password_reset_requested", Detail: []byte(fmt.Sprintf(`{"email":%q,"sent":false}`, email)), IP: ip})
		}
		tok := randomToken(32)
		now := s.now()
		exp := now.Add(ResetTTL)
		if err := q.CreatePasswordReset(ctx, hashToken(tok), u.ID, now, exp); err != nil {
			return err
		}
		if err := s.Mailer.SendPasswordReset(ctx, q, u.Email, tok, exp); err != nil {
			return err
		}
		uid := u.ID
		return q.Audit(ctx, model.AuditEntry{UserID: &uid, Action: "password_reset_requested", TargetType: "user", TargetID: &uid, Detail: []byte(`{"sent":true}`), IP: ip})
	})
	if err != nil {
		return fmt.Errorf("auth: reset request: %w", err)
	}
	return nil
}

// CheckResetToken reports whether a reset link still works (the reset page
// shows the form or says why not), without using it.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	if token == "" || len(token) > 200 {
		return ErrResetInvalid
	}
	uid, err := s.St.Read().PasswordResetUser(ctx, hashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrResetInvalid
	}
	if err != nil {
		return fmt.Errorf("auth: reset: %w", err)
	}
	u, err := s.St.Read().GetUser(ctx, uid)
	if err != nil || u.Disabled {
		return ErrResetInvalid
	}
	return nil
}

// ResetWithToken sets a new password with an emailed token, uses the token up,
// drops the user's other reset tokens and ends every session of the user.
// Failed tokens count against the client IP's throttle.
func (s *Service) ResetWithToken(ctx context.Context, token, password, ip string) error {
	keys := []string{"reset:ip:" + ip}
	if err := s.throttled(ctx, keys...); err != nil {
		return err
	}
	bad := func() error {
		if err := s.St.InTx(ctx, func(q store.Q) error { return s.hit(ctx, q, keys...) }); err != nil {
			return fmt.Errorf("auth: reset: %w", err)
		}
		return ErrResetInvalid
	}
	// Cheap check first: a wrong token must not cost an argon2 hash.
	if err := s.CheckResetToken(ctx, token); errors.Is(err, ErrResetInvalid) {
		return bad()
	} else if err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		uid, err := q.UsePasswordReset(ctx, hashToken(token), s.now())
		if err != nil {
			return err
		}
		u, err := q.GetUser(ctx, uid)
		if err != nil {
			return err
		}
		if u.Disabled {
			return store.ErrNotFound
		}
		if err := q.SetPassword(ctx, uid, hash); err != nil {
			return err
		}
		if err := q.DeletePasswordResets(ctx, uid); err != nil {
			return err
		}
		return q.Audit(ctx, model.AuditEntry{UserID: &uid, Action: "password_reset", TargetType: "user", TargetID: &uid, Detail: []byte(`{"via":"email link"}`), IP: ip})
	})
	if errors.Is(err, store.ErrNotFound) {
		// Used up by a concurrent request between the check and here.
		return bad()
	}
	if err != nil {
		return fmt.Errorf("auth: reset: %w", err)
	}
	return nil
}
