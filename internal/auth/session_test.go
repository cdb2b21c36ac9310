package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// clock is a test clock the auth service reads instead of the wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: store.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const pw = "long enough password"

func user(t *testing.T, svc *auth.Service, email string, ws int64) model.User {
	t.Helper()
	u, err := svc.CreateUser(context.Background(), email, "", pw, ws, "admin")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func login(t *testing.T, svc *auth.Service, email string) string {
	t.Helper()
	tok, _, err := svc.Login(context.Background(), email, pw, "10.0.0.1")
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tok
}

func alive(svc *auth.Service, tok string) bool {
	_, err := svc.Session(context.Background(), tok)
	return err == nil
}

// Idle and absolute timeouts on an injected clock: a session used within the
// idle timeout lives on until the absolute timeout, one left alone past the
// idle timeout ends.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc, a, _ := setup(t, st)
		c := newClock()
		svc.Now = c.Now
		user(t, svc, "ann@x.io", a)
		start := c.Now()
		busy, idle := login(t, svc, "ann@x.io"), login(t, svc, "ann@x.io")

		c.Add(auth.IdleTimeout - time.Minute)
		if !alive(svc, busy) {
			t.Fatal("session ended before the idle timeout")
		}
		c.Add(2 * time.Minute) // idle: IdleTimeout+1m since login; busy: 2m since its last request
		if alive(svc, idle) {
			t.Fatal("session idle past IdleTimeout still works")
		}
		if !alive(svc, busy) {
			t.Fatal("a session used two minutes ago ended")
		}
		// Used every half idle timeout, it lives until the absolute timeout and no longer.
		for c.Now().Before(start.Add(auth.AbsoluteTimeout - auth.IdleTimeout/2)) {
			c.Add(auth.IdleTimeout / 2)
			if !alive(svc, busy) {
				t.Fatalf("an active session ended after %s (absolute timeout %s)", c.Now().Sub(start), auth.AbsoluteTimeout)
			}
		}
		c.Add(auth.IdleTimeout/2 + time.Minute)
		if alive(svc, busy) {
			t.Fatalf("an active session outlived the absolute timeout (%s after login)", c.Now().Sub(start))
		}
		// Ended sessions are gone for good, even if the clock went back.
		c.Add(-auth.AbsoluteTimeout)
		if alive(svc, busy) || alive(svc, idle) {
			t.Fatal("an expired session came back")
		}
		// The sweep removes what requests already refuse.
		stale := login(t, svc, "ann@x.io")
		if !alive(svc, stale) {
			t.Fatal("a new session does not work")
		}
		c.Add(auth.IdleTimeout + time.Hour)
		u, _ := st.Read().UserByEmail(context.Background(), "ann@x.io")
		if n, _ := st.Read().CountUserSessions(context.Background(), u.ID); n != 1 {
			t.Fatalf("%d sessions before the sweep, want the idle one", n)
		}
		if err := svc.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, err := st.Read().CountUserSessions(context.Background(), u.ID); err != nil || n != 0 {
			t.Fatalf("sessions after sweep: %d %v", n, err)
		}
	})
}

// Five failures per account in 15 minutes: the sixth attempt is refused
// with Retry-After, even with the right password, and the answer for an
// unknown email is the same. The window passes on the clock.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		c := newClock()
		svc.Now = c.Now
		user(t, svc, "ann@x.io", a)
		lim := auth.DefaultThrottle.Account
		for _, email := range []string{"ann@x.io", "nobody@x.io"} {
			for i := 0; i < lim.Max; i++ {
				if _, _, err := svc.Login(ctx, email, "wrong password!!", "10.0.0.1"); !errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("%s failure %d: %v", email, i+1, err)
				}
			}
		}
		var te1, te2 *auth.ThrottledError
		_, _, e1 := svc.Login(ctx, "ann@x.io", pw, "10.0.0.2") // the right password, from elsewhere
		_, _, e2 := svc.Login(ctx, "nobody@x.io", pw, "10.0.0.2")
		if !errors.As(e1, &te1) || !errors.As(e2, &te2) || e1.Error() != e2.Error() {
			t.Fatalf("past the limit: %v / %v", e1, e2)
		}
		if te1.RetryAfterSeconds() != int(lim.Window/time.Second) {
			t.Fatalf("Retry-After %d s, want %d", te1.RetryAfterSeconds(), int(lim.Window/time.Second))
		}
		c.Add(lim.Window - time.Minute)
		if _, _, err := svc.Login(ctx, "ann@x.io", pw, "10.0.0.2"); !errors.As(err, &te1) || te1.RetryAfterSeconds() != 60 {
			t.Fatalf("a minute before the window ends: %v", err)
		}
		c.Add(time.Minute)
		tok := login(t, svc, "ann@x.io")
		if !alive(svc, tok) {
			t.Fatal("login after the window does not work")
		}
		// A success clears the account's count: five more failures are allowed.
		for i := 0; i < lim.Max; i++ {
			if _, _, err := svc.Login(ctx, "ann@x.io", "wrong password!!", "10.0.0.3"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("after success, failure %d: %v", i+1, err)
			}
		}
	})
}

// The per-IP limit stops one client walking through many accounts, and the
// count lives in the database: a second store opened on the same database (a
// second serve process) sees it.
func TestThrottlePerIPSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		svc.Throttle = auth.Throttle{Account: auth.Limit{Max: 3, Window: time.Hour}, IP: auth.Limit{Max: 4, Window: time.Hour}}
		user(t, svc, "ann@x.io", a)
		st2, err := store.Open(ctx, st.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Close()
		other := &auth.Service{St: st2, Throttle: svc.Throttle}
		for i, email := range []string{"a@x.io", "b@x.io"} {
			s := []*auth.Service{svc, other}[i]
			for j := 0; j < 2; j++ {
				if _, _, err := s.Login(ctx, email, "wrong password!!", "10.9.9.9"); !errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("failure: %v", err)
				}
			}
		}
		var te *auth.ThrottledError
		for _, s := range []*auth.Service{svc, other} {
			if _, _, err := s.Login(ctx, "ann@x.io", pw, "10.9.9.9"); !errors.As(err, &te) {
				t.Fatalf("fifth attempt from one IP over four accounts: %v", err)
			}
		}
		if _, _, err := other.Login(ctx, "ann@x.io", pw, "10.9.9.8"); err != nil {
			t.Fatalf("another IP is throttled too: %v", err)
		}
	})
}

type sentReset struct{ to, token string }

type fakeMailer struct {
	mu   sync.Mutex
	sent []sentReset
}

func (f *fakeMailer) SendPasswordReset(_ context.Context, _ store.Q, to, token string, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentReset{to, token})
	return nil
}

func (f *fakeMailer) last(t *testing.T) sentReset {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sent) == 0 {
		t.Fatal("no reset mail")
	}
	return f.sent[len(f.sent)-1]
}

func sha(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		c := newClock()
		svc.Now = c.Now
		m := &fakeMailer{}
		svc.Mailer = m
		user(t, svc, "ann@x.io", a)
		old := login(t, svc, "ann@x.io")

		// Known and unknown addresses get the same answer; only the known one gets mail.
		if err := svc.RequestPasswordReset(ctx, "nobody@x.io", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if len(m.sent) != 0 {
			t.Fatal("mail to an unknown address")
		}
		if err := svc.RequestPasswordReset(ctx, " Ann@X.io ", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		sent := m.last(t)
		if sent.to != "ann@x.io" || len(sent.token) < 40 {
			t.Fatalf("sent %+v", sent)
		}
		// Hashed at rest: the token itself finds nothing, its SHA-256 finds the user.
		if _, err := st.Read().PasswordResetUser(ctx, sent.token, c.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("token stored in plain text: %v", err)
		}
		if _, err := st.Read().PasswordResetUser(ctx, sha(sent.token), c.Now()); err != nil {
			t.Fatalf("token hash not stored: %v", err)
		}
		// A weak password is refused without using the token.
		var fe *store.FieldError
		if err := svc.ResetWithToken(ctx, sent.token, "short", "10.0.0.1"); !errors.As(err, &fe) {
			t.Fatalf("short password: %v", err)
		}
		if err := svc.ResetWithToken(ctx, sent.token, "brand new password", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if alive(svc, old) {
			t.Fatal("session survived the reset")
		}
		if _, _, err := svc.Login(ctx, "ann@x.io", "brand new password", "10.0.0.1"); err != nil {
			t.Fatalf("login with the new password: %v", err)
		}
		// Single use.
		if err := svc.ResetWithToken(ctx, sent.token, "another new password", "10.0.0.1"); !errors.Is(err, auth.ErrResetInvalid) {
			t.Fatalf("token used twice: %v", err)
		}
		// One hour.
		if err := svc.RequestPasswordReset(ctx, "ann@x.io", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		late := m.last(t)
		c.Add(auth.ResetTTL + time.Second)
		if err := svc.CheckResetToken(ctx, late.token); !errors.Is(err, auth.ErrResetInvalid) {
			t.Fatalf("token after an hour: %v", err)
		}
		if err := svc.ResetWithToken(ctx, late.token, "another new password", "10.0.0.1"); !errors.Is(err, auth.ErrResetInvalid) {
			t.Fatalf("expired token used: %v", err)
		}
		// A disabled user gets no link, with the same answer.
		if err := svc.RequestPasswordReset(ctx, "ann@x.io", "10.0.0.4"); err != nil {
			t.Fatal(err)
		}
		pending := m.last(t)
		if _, err := svc.SetDisabled(ctx, model.Actor{Label: "test"}, "ann@x.io", true); err != nil {
			t.Fatal(err)
		}
		if err := svc.CheckResetToken(ctx, pending.token); !errors.Is(err, auth.ErrResetInvalid) {
			t.Fatalf("a disabled user's link still works: %v", err)
		}
		n := len(m.sent)
		if err := svc.RequestPasswordReset(ctx, "ann@x.io", "10.0.0.4"); err != nil || len(m.sent) != n {
			t.Fatalf("reset for a disabled user: %v, mails %d → %d", err, n, len(m.sent))
		}
	})
}

// Reset requests are throttled per address (known or not) and per IP, with
// the same answer for both; bad tokens count against the IP.
func TestPasswordResetThrottle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		svc.Mailer = &fakeMailer{}
		svc.Throttle = auth.Throttle{Account: auth.Limit{Max: 2, Window: time.Hour}, IP: auth.Limit{Max: 3, Window: time.Hour}}
		user(t, svc, "ann@x.io", a)
		var errs []error
		for _, email := range []string{"ann@x.io", "nobody@x.io"} {
			for i := 0; i < 3; i++ {
				errs = append(errs, svc.RequestPasswordReset(ctx, email, "10.0.0."+string(rune('1'+i))))
			}
		}
		var te *auth.ThrottledError
		for i, err := range errs {
			want := i%3 == 2
			if errors.As(err, &te) != want || (!want && err != nil) {
				t.Fatalf("request %d: %v (throttled expected: %v)", i, err, want)
			}
		}
		if errs[2].Error() != errs[5].Error() {
			t.Fatalf("known %q, unknown %q", errs[2], errs[5])
		}
		for i := 0; i < 3; i++ {
			if err := svc.ResetWithToken(ctx, "not-a-token", "brand new password", "10.7.7.7"); !errors.Is(err, auth.ErrResetInvalid) {
				t.Fatalf("bad token %d: %v", i, err)
			}
		}
		if err := svc.ResetWithToken(ctx, "not-a-token", "brand new password", "10.7.7.7"); !errors.As(err, &te) {
			t.Fatalf("fourth bad token: %v", err)
		}
	})
}

// Disabling a user ends their sessions at once, refuses their logins with the
// ordinary answer, and refuses the API keys they created (and the keys those
// keys minted) until they are enabled again; a key from the CLI is untouched.
func TestDisableUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		u := user(t, svc, "ann@x.io", a)
		tok := login(t, svc, "ann@x.io")
		uid := u.ID
		_, own, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, UserID: &uid, Role: "admin"}, "mine", "manager")
		if err != nil {
			t.Fatal(err)
		}
		parent, _ := svc.APIKey(ctx, own)
		pid := parent.APIKeyID
		_, child, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, APIKeyID: &pid, Role: "manager"}, "minted by a key", "ldr")
		if err != nil {
			t.Fatal(err)
		}
		_, cli, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, Label: "cli"}, "ci", "manager")
		if err != nil {
			t.Fatal(err)
		}
		// One owner column: the key a key mints acts for the minting key's
		// member; a CLI key acts for no one.
		for name, k := range map[string]string{"child": child, "cli": cli} {
			p, err := svc.APIKey(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int64{"child": u.ID}[name]; p.KeyUserID != want {
				t.Fatalf("%s key acts for %d, want %d", name, p.KeyUserID, want)
			}
		}
		if _, err := svc.SetDisabled(ctx, model.Actor{Label: "test"}, "ANN@x.io", true); err != nil {
			t.Fatal(err)
		}
		if alive(svc, tok) {
			t.Fatal("session of a disabled user works")
		}
		if n, _ := st.Read().CountUserSessions(ctx, u.ID); n != 0 {
			t.Fatalf("%d sessions left after disable", n)
		}
		_, _, e1 := svc.Login(ctx, "ann@x.io", pw, "10.0.0.1")
		_, _, e2 := svc.Login(ctx, "nobody@x.io", pw, "10.0.0.1")
		if !errors.Is(e1, auth.ErrBadCredentials) || e1.Error() != e2.Error() {
			t.Fatalf("disabled login: %v / %v", e1, e2)
		}
		for name, k := range map[string]string{"own": own, "child": child} {
			if _, err := svc.APIKey(ctx, k); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("%s key of a disabled user: %v", name, err)
			}
		}
		if _, err := svc.APIKey(ctx, cli); err != nil {
			t.Fatalf("CLI key refused: %v", err)
		}
		if _, err := svc.SetDisabled(ctx, model.Actor{Label: "test"}, "ann@x.io", false); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.APIKey(ctx, own); err != nil {
			t.Fatalf("key after enable: %v", err)
		}
		login(t, svc, "ann@x.io")
		if _, err := svc.SetDisabled(ctx, model.Actor{}, "nobody@x.io", true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("disable unknown: %v", err)
		}
	})
}

// Changing one's password needs the current one (wrong guesses count as
// failed logins), ends every session including the one used, and hands back a
// fresh one.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, _ := setup(t, st)
		user(t, svc, "ann@x.io", a)
		here, elsewhere := login(t, svc, "ann@x.io"), login(t, svc, "ann@x.io")
		p, err := svc.Session(ctx, here)
		if err != nil {
			t.Fatal(err)
		}
		var fe *store.FieldError
		if _, err := svc.ChangePassword(ctx, p, "not my password", "brand new password", "10.0.0.1"); !errors.As(err, &fe) || fe.Field != "current_password" {
			t.Fatalf("wrong current: %v", err)
		}
		if _, err := svc.ChangePassword(ctx, p, pw, "short", "10.0.0.1"); !errors.As(err, &fe) || fe.Field != "new_password" {
			t.Fatalf("short new: %v", err)
		}
		fresh, err := svc.ChangePassword(ctx, p, pw, "brand new password", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if alive(svc, here) || alive(svc, elsewhere) {
			t.Fatal("an old session survived the password change")
		}
		if !alive(svc, fresh) || fresh == here {
			t.Fatal("no fresh session after the change")
		}
		// Wrong current passwords are throttled like failed logins.
		p2, _ := svc.Session(ctx, fresh)
		var te *auth.ThrottledError
		var last error
		for i := 0; i < auth.DefaultThrottle.Account.Max+1; i++ {
			_, last = svc.ChangePassword(ctx, p2, "guess number "+string(rune('a'+i)), "whatever new password", "10.0.0.1")
		}
		if !errors.As(last, &te) {
			t.Fatalf("guessing the current password is not throttled: %v", last)
		}
	})
}
