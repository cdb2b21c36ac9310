package auth_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func setup(t *testing.T, st *store.Store) (*auth.Service, int64, int64) {
	t.Helper()
	ctx := context.Background()
	var a, b model.Workspace
	err := st.InTx(ctx, func(q store.Q) error {
		a, b = model.Workspace{Name: "A", Slug: "a"}, model.Workspace{Name: "B", Slug: "b"}
		if err := q.CreateWorkspace(ctx, &a); err != nil {
			return err
		}
		return q.CreateWorkspace(ctx, &b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Service{St: st}, a.ID, b.ID
}

func TestAuth(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, a, b := setup(t, st)
		u, err := svc.CreateUser(ctx, " Op@Agency.io ", "Op", "long enough password", a, "admin")
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "op@agency.io" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Fatalf("user: %+v", u)
		}
		if _, err := svc.CreateUser(ctx, "x@y.io", "", "short", a, "admin"); err == nil {
			t.Fatal("short password accepted")
		}

		t.Run("login errors are indistinguishable", func(t *testing.T) {
			_, _, e1 := svc.Login(ctx, "op@agency.io", "wrong password!!", "1.2.3.4")
			_, _, e2 := svc.Login(ctx, "nobody@agency.io", "wrong password!!", "1.2.3.4")
			if !errors.Is(e1, auth.ErrBadCredentials) || !errors.Is(e2, auth.ErrBadCredentials) || e1.Error() != e2.Error() {
				t.Fatalf("%v / %v", e1, e2)
			}
		})

		t.Run("sessions rotate, switch, and end", func(t *testing.T) {
			t1, p1, err := svc.Login(ctx, "OP@agency.io", "long enough password", "1.2.3.4")
			if err != nil {
				t.Fatal(err)
			}
			t2, _, err := svc.Login(ctx, "op@agency.io", "long enough password", "1.2.3.4")
			if err != nil {
				t.Fatal(err)
			}
			if t1 == t2 || len(t1) < 40 {
				t.Fatalf("tokens not fresh: %q %q", t1, t2)
			}
			if p1.WorkspaceID != a || p1.Role != "admin" {
				t.Fatalf("principal: %+v", p1)
			}
			// Not a member of B: cannot switch there.
			if err := svc.SwitchWorkspace(ctx, p1, b); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("switch to foreign workspace: %v", err)
			}
			if err := svc.Logout(ctx, t1); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, t1); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("session after logout: %v", err)
			}
			if _, err := svc.Session(ctx, t2); err != nil {
				t.Fatalf("other session ended too: %v", err)
			}
			// Idle timeout: a session not seen for longer than IdleTimeout is gone.
			p2, _ := svc.Session(ctx, t2)
			old := store.Now().Add(-auth.IdleTimeout - time.Minute)
			if err := st.InTx(ctx, func(q store.Q) error { return q.TouchSession(ctx, p2.SessionHash, &a, old) }); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, t2); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("idle session still valid: %v", err)
			}
			// Removal from the workspace takes effect on the next request.
			t3, _, _ := svc.Login(ctx, "op@agency.io", "long enough password", "")
			if err := st.InTx(ctx, func(q store.Q) error { return q.RemoveMembership(ctx, a, u.ID) }); err != nil {
				t.Fatal(err)
			}
			p3, err := svc.Session(ctx, t3)
			if err != nil || p3.WorkspaceID != 0 || p3.Role != "" {
				t.Fatalf("removed member keeps workspace: %+v %v", p3, err)
			}
			if err := st.InTx(ctx, func(q store.Q) error { return q.SetMembership(ctx, a, u.ID, "admin") }); err != nil {
				t.Fatal(err)
			}
			// A password change ends every session.
			if err := svc.ResetPassword(ctx, "op@agency.io", "another long password"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, t3); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("session survived password change: %v", err)
			}
		})

		t.Run("api keys", func(t *testing.T) {
			act := model.Actor{Workspace: a, Label: "test"}
			k, secret, err := svc.CreateAPIKey(ctx, act, "ci", "ldr")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, auth.KeyPrefix) || len(secret)-len(auth.KeyPrefix) < 22 { // ≥128 bits base64url
				t.Fatalf("secret %q too short", secret)
			}
			p, err := svc.APIKey(ctx, secret)
			if err != nil || p.WorkspaceID != a || p.Role != "ldr" {
				t.Fatalf("key principal: %+v %v", p, err)
			}
			if _, err := svc.APIKey(ctx, secret[:len(secret)-1]+"x"); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("tampered key accepted: %v", err)
			}
			if _, _, err := svc.CreateAPIKey(ctx, act, "bad", "root"); err == nil {
				t.Fatal("bad role accepted")
			}
			if _, _, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, Role: "manager"}, "up", "admin"); err == nil {
				t.Fatal("a manager minted an admin key")
			}
			if _, _, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, Role: "manager"}, "peer", "manager"); err != nil {
				t.Fatalf("manager key by a manager: %v", err)
			}
			// Revoking from another workspace answers like a missing key.
			if err := svc.RevokeAPIKey(ctx, model.Actor{Workspace: b}, k.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("cross-workspace revoke: %v", err)
			}
			if err := svc.RevokeAPIKey(ctx, act, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.APIKey(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("revoked key works: %v", err)
			}
			entries, err := st.Read().ListAudit(ctx, a, 50)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, e := range entries {
				seen[e.Action] = true
			}
			for _, want := range []string{"login", "api_key_create", "api_key_revoke", "role_change"} {
				if !seen[want] {
					t.Errorf("audit lacks %s: %v", want, seen)
				}
			}
		})

		t.Run("keys act for a member", func(t *testing.T) {
			rep, err := svc.CreateUser(ctx, "rep@agency.io", "Rep", "long enough password", a, "ae")
			if err != nil {
				t.Fatal(err)
			}
			partner, err := svc.CreateUser(ctx, "sdr@outsourced.io", "SDR", "long enough password", a, model.RolePartner)
			if err != nil {
				t.Fatal(err)
			}
			// The key a member makes acts for them, and dies with their membership.
			uid := rep.ID
			k, secret, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a, UserID: &uid, Role: "ae"}, "mine", "ae")
			if err != nil || k.UserID == nil || *k.UserID != rep.ID {
				t.Fatalf("key %+v: %v", k, err)
			}
			if _, err := svc.APIKey(ctx, secret); err != nil {
				t.Fatalf("member's key: %v", err)
			}
			if err := svc.SetRole(ctx, model.Actor{Workspace: a}, "rep@agency.io", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.APIKey(ctx, secret); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("key of a removed member still works: %v", err)
			}
			// A partner key must act for a partner member, and is confined to them.
			if _, _, err := svc.CreateAPIKey(ctx, model.Actor{Workspace: a}, "p", model.RolePartner); !isField(err, "user_id") {
				t.Fatalf("partner key without a member: %v", err)
			}
			if _, _, err := svc.CreateAPIKeyFor(ctx, model.Actor{Workspace: a}, "p", model.RolePartner, u.ID); !isField(err, "user_id") {
				t.Fatalf("partner key for an admin: %v", err)
			}
			if _, _, err := svc.CreateAPIKeyFor(ctx, model.Actor{Workspace: a}, "p", model.RoleAE, rep.ID); !isField(err, "user_id") {
				t.Fatalf("key for a non-member: %v", err)
			}
			_, psecret, err := svc.CreateAPIKeyFor(ctx, model.Actor{Workspace: a}, "outsourced dialer", model.RolePartner, partner.ID)
			if err != nil {
				t.Fatal(err)
			}
			p, err := svc.APIKey(ctx, psecret)
			if err != nil || p.Role != model.RolePartner || p.KeyUserID != partner.ID {
				t.Fatalf("partner key principal: %+v %v", p, err)
			}
			if sc := p.Scope(); sc.Owner != partner.ID {
				t.Fatalf("partner key scope %+v", sc)
			}
			if act := p.Actor(""); act.UserID == nil || *act.UserID != partner.ID || act.APIKeyID == nil {
				t.Fatalf("partner key acts as %+v", act)
			}
			if sc := (&auth.Principal{UserID: u.ID, Role: "admin", WorkspaceID: a}).Scope(); sc.Confined() {
				t.Fatalf("admin scope confined: %+v", sc)
			}
		})
	})
}

func isField(err error, field string) bool {
	var fe *store.FieldError
	return errors.As(err, &fe) && fe.Field == field
}

func TestCan(t *testing.T) {
	for _, c := range []struct {
		role, class string
		want        bool
	}{
		{"admin", "admin", true}, {"manager", "admin", false}, {"ldr", "admin", false}, {"ae", "admin", false},
		{"admin", "manage", true}, {"manager", "manage", true}, {"ae", "manage", false},
		{"csm", "read", true}, {"", "read", false}, {"ldr", "write", true}, {"admin", "bogus", false},
		{"partner", "member", true}, {"partner", "read", false}, {"partner", "write", false}, {"partner", "revenue", false},
		{"ldr", "revenue", false}, {"ae", "revenue", true}, {"ldr", "member", true},
	} {
		if got := auth.Can(c.role, c.class); got != c.want {
			t.Errorf("Can(%q,%q) = %v", c.role, c.class, got)
		}
	}
}
