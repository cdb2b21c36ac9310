package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// slugN numbers the workspaces of tests that run in parallel.
var slugN atomic.Int64

func ptr[T any](v T) *T { return &v }

// twoWorkspaces makes workspaces A and B in st.
func twoWorkspaces(t *testing.T, st *store.Store) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	var a, b model.Workspace
	err := st.InTx(ctx, func(q store.Q) error {
		n := slugN.Add(1)
		a = model.Workspace{Name: "A", Slug: fmt.Sprintf("a-%d", n)}
		b = model.Workspace{Name: "B", Slug: fmt.Sprintf("b-%d", n)}
		if err := q.CreateWorkspace(ctx, &a); err != nil {
			return err
		}
		return q.CreateWorkspace(ctx, &b)
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, b.ID
}

// The conformance suite: every case runs against every dialect.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Run("scoping", func(t *testing.T) { testScoping(t, st) })
		t.Run("contacts", func(t *testing.T) { testContacts(t, st) })
		t.Run("listing", func(t *testing.T) { testListing(t, st) })
		t.Run("merge", func(t *testing.T) { testMerge(t, st) })
		t.Run("auth", func(t *testing.T) { testAuthRecords(t, st) })
		t.Run("imports", func(t *testing.T) { testImportChunks(t, st) })
	})
}

func testScoping(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b := twoWorkspaces(t, st)
	acct := model.Account{Name: "Acme", Domain: "acme.com", Currency: "USD", Employees: ptr[int64](50)}
	deal := model.Deal{Name: "Acme deal", Amount: 120000, Currency: "USD", Pipeline: "digital", Stage: "trial"}
	con := model.Contact{Email: "ann@acme.com", LifecycleStage: "lead"}
	act := model.Activity{Kind: "call", Subject: "intro", OccurredAt: time.Now(), DurationMinutes: 30}
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateAccount(ctx, a, &acct); err != nil {
			return err
		}
		deal.AccountID = &acct.ID
		if err := q.CreateDeal(ctx, a, &deal); err != nil {
			return err
		}
		if err := q.CreateContact(ctx, a, &con); err != nil {
			return err
		}
		return q.CreateActivity(ctx, a, &act)
	})
	if err != nil {
		t.Fatal(err)
	}
	r := st.Read()
	// Workspace B sees none of A's records, exactly as if they did not exist.
	if _, err := r.GetAccount(ctx, b, acct.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get account from B: %v", err)
	}
	if _, err := r.GetDeal(ctx, b, deal.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get deal from B: %v", err)
	}
	if _, err := r.GetContact(ctx, b, con.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get contact from B: %v", err)
	}
	if _, err := r.GetActivity(ctx, b, act.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get activity from B: %v", err)
	}
	err = st.InTx(ctx, func(q store.Q) error {
		if err := q.DeleteAccount(ctx, b, acct.ID); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete from B: %v", err)
		}
		c2 := con
		c2.FirstName = "hijack"
		if err := q.UpdateContact(ctx, b, &c2); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("update from B: %v", err)
		}
		if _, err := q.MergeContacts(ctx, b, con.ID, con.ID+1000, "x"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("merge from B: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetContact(ctx, a, con.ID)
	if err != nil || got.FirstName != "" {
		t.Fatalf("contact changed through B: %+v %v", got, err)
	}
	page, err := r.ListAccounts(ctx, b, store.ListParams{Count: true}, nil)
	if err != nil || len(page.Items) != 0 || *page.Total != 0 {
		t.Fatalf("B lists A's accounts: %+v %v", page, err)
	}
	// Same email in another workspace is fine; twice in one is a conflict naming email.
	err = st.InTx(ctx, func(q store.Q) error {
		c := model.Contact{Email: "ann@acme.com", LifecycleStage: "lead"}
		if err := q.CreateContact(ctx, b, &c); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// On PostgreSQL a failed statement aborts its transaction, so the conflict gets its own.
	err = st.InTx(ctx, func(q store.Q) error {
		c2 := model.Contact{Email: "ann@acme.com", LifecycleStage: "lead"}
		return q.CreateContact(ctx, b, &c2)
	})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Field != "email" {
		t.Fatalf("duplicate email: got %v", err)
	}
}

func testContacts(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, _ := twoWorkspaces(t, st)
	consent := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	c := model.Contact{Email: "bo@x.io", FirstName: "Bo", LifecycleStage: "mql", ConsentBasis: "consent", ConsentAt: &consent, Custom: model.Custom{"tier": "gold", "seats": 12.0}}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateContact(ctx, a, &c) }); err != nil {
		t.Fatal(err)
	}
	got, err := st.Read().GetContact(ctx, a, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "bo@x.io" || got.LifecycleStage != "mql" || got.ConsentAt == nil || !got.ConsentAt.Equal(consent) || got.Custom["tier"] != "gold" || got.Custom["seats"] != 12.0 {
		t.Fatalf("round trip: %+v", got)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("created_at %v != %v", got.CreatedAt, c.CreatedAt)
	}
}

func testListing(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, _ := twoWorkspaces(t, st)
	err := st.InTx(ctx, func(q store.Q) error {
		for i := 0; i < 25; i++ {
			ind := "Software"
			if i%5 == 0 {
				ind = "Retail"
			}
			ac := model.Account{Name: fmt.Sprintf("Co %02d", i), Domain: fmt.Sprintf("co%d.com", i), Currency: "USD", Industry: ind, Employees: ptr(int64(i * 100)), Custom: model.Custom{"tier": []string{"gold", "silver"}[i%2], "score": float64(i)}}
			if i == 3 {
				ac.Employees = nil
			}
			if err := q.CreateAccount(ctx, a, &ac); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := st.Read()
	custom := map[string]string{"tier": "text", "score": "number"}
	// Walk all pages sorted by employees descending; every row exactly once, in order.
	seen := map[int64]bool{}
	var prev *int64
	cur := ""
	pages := 0
	for {
		p, err := r.ListAccounts(ctx, a, store.ListParams{Sort: "-employees", Limit: 7, Cursor: cur}, custom)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range p.Items {
			if seen[it.ID] {
				t.Fatalf("row %d twice", it.ID)
			}
			seen[it.ID] = true
			e := int64(-1)
			if it.Employees != nil {
				e = *it.Employees
			}
			if prev != nil && e > *prev {
				t.Fatalf("not descending: %d after %d", e, *prev)
			}
			prev = &e
		}
		if p.NextCursor == "" {
			break
		}
		cur = p.NextCursor
	}
	if len(seen) != 25 || pages != 4 {
		t.Fatalf("paged %d rows in %d pages", len(seen), pages)
	}
	cases := []struct {
		f    []store.Filter
		want int64
	}{
		{[]store.Filter{{Field: "industry", Value: "retail"}}, 5},
		{[]store.Filter{{Field: "employees", Op: "gte", Value: "1000"}}, 15},
		{[]store.Filter{{Field: "employees", Op: "empty", Value: "true"}}, 1},
		{[]store.Filter{{Field: "custom.tier", Value: "gold"}}, 13},
		{[]store.Filter{{Field: "custom.score", Op: "gt", Value: "19.5"}}, 5},
		{[]store.Filter{{Field: "name", Op: "contains", Value: "co 1"}}, 10},
		{[]store.Filter{{Field: "industry", Op: "in", Value: "Retail,Software"}}, 25},
	}
	for _, c := range cases {
		p, err := r.ListAccounts(ctx, a, store.ListParams{Filters: c.f, Count: true, Limit: 200}, custom)
		if err != nil {
			t.Fatalf("%v: %v", c.f, err)
		}
		if *p.Total != c.want || int64(len(p.Items)) != c.want {
			t.Errorf("%v: total %d items %d, want %d", c.f, *p.Total, len(p.Items), c.want)
		}
	}
	// Bad input names the field.
	for _, bad := range []store.ListParams{
		{Filters: []store.Filter{{Field: "password", Value: "x"}}},
		{Filters: []store.Filter{{Field: "employees", Op: "gt", Value: "lots"}}},
		{Filters: []store.Filter{{Field: "custom.nope", Value: "x"}}},
		{Sort: "custom"},
		{Limit: 10000},
		{Cursor: "!!"},
	} {
		_, err := r.ListAccounts(ctx, a, bad, custom)
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%+v: want FieldError, got %v", bad, err)
		}
	}
}

func testMerge(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, _ := twoWorkspaces(t, st)
	w := model.Contact{Email: "w@x.io", LifecycleStage: "lead"}
	l := model.Contact{Email: "l@x.io", Title: "CFO", Phone: "+1 555", LifecycleStage: "lead"}
	var act model.Activity
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateContact(ctx, a, &w); err != nil {
			return err
		}
		if err := q.CreateContact(ctx, a, &l); err != nil {
			return err
		}
		act = model.Activity{Kind: "meeting", Subject: "demo", OccurredAt: time.Now(), ContactID: &l.ID}
		if err := q.CreateActivity(ctx, a, &act); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, a, "contact", l.ID, "created", nil, "test"); err != nil {
			return err
		}
		_, err := q.MergeContacts(ctx, a, w.ID, l.ID, "tester")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := st.Read()
	got, err := r.GetContact(ctx, a, w.ID)
	if err != nil || got.Title != "CFO" || got.Phone != "+1 555" {
		t.Fatalf("winner not filled: %+v %v", got, err)
	}
	if _, err := r.GetContact(ctx, a, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("loser still there: %v", err)
	}
	ga, _ := r.GetActivity(ctx, a, act.ID)
	if ga.ContactID == nil || *ga.ContactID != w.ID {
		t.Fatalf("activity not moved: %+v", ga)
	}
	h, _ := r.History(ctx, a, "contact", w.ID)
	if len(h) != 2 || h[0].Action != "merged" || h[1].Action != "created" {
		t.Fatalf("history: %+v", h)
	}
}

func testAuthRecords(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b := twoWorkspaces(t, st)
	u := model.User{Email: "op@agency.io", PasswordHash: "x"}
	var k model.APIKey
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := q.SetMembership(ctx, a, u.ID, "admin"); err != nil {
			return err
		}
		if err := q.SetMembership(ctx, b, u.ID, "ae"); err != nil {
			return err
		}
		now := store.Now()
		if err := q.CreateSession(ctx, store.Session{IDHash: "h1", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			return err
		}
		k = model.APIKey{WorkspaceID: a, Name: "ci", Role: "manager", Prefix: "rs_abc"}
		return q.CreateAPIKey(ctx, &k, "keyhash")
	})
	if err != nil {
		t.Fatal(err)
	}
	r := st.Read()
	ms, err := r.UserMemberships(ctx, u.ID)
	if err != nil || len(ms) != 2 || ms[0].WorkspaceName != "A" || ms[1].Role != "ae" {
		t.Fatalf("memberships: %+v %v", ms, err)
	}
	if got, err := r.APIKeyByHash(ctx, "keyhash"); err != nil || got.WorkspaceID != a {
		t.Fatalf("key: %+v %v", got, err)
	}
	err = st.InTx(ctx, func(q store.Q) error {
		if err := q.RevokeAPIKey(ctx, b, k.ID); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke from B: %v", err)
		}
		if err := q.RevokeAPIKey(ctx, a, k.ID); err != nil {
			return err
		}
		return q.SetPassword(ctx, u.ID, "y")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.APIKeyByHash(ctx, "keyhash"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key still works: %v", err)
	}
	if _, err := r.GetSession(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("password change kept session: %v", err)
	}
}

func testImportChunks(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b := twoWorkspaces(t, st)
	im := model.Import{ObjectType: "contact", Filename: "x.csv"}
	want := strings.Repeat("email\nx@y.io\n", 200000) // ~2.6 MB → 3 chunks
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateImport(ctx, a, &im); err != nil {
			return err
		}
		data := []byte(want)
		for seq := 0; len(data) > 0; seq++ {
			n := min(store.ChunkSize, len(data))
			if err := q.AddImportChunk(ctx, im.ID, seq, data[:n]); err != nil {
				return err
			}
			data = data[n:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(st.ImportReader(ctx, a, im.ID))
	if err != nil || string(got) != want {
		t.Fatalf("read back %d bytes, want %d: %v", len(got), len(want), err)
	}
	other, err := io.ReadAll(st.ImportReader(ctx, b, im.ID))
	if err != nil || len(other) != 0 {
		t.Fatalf("workspace B read A's file: %d bytes %v", len(other), err)
	}
	gi, err := st.Read().GetImport(ctx, a, im.ID)
	if err != nil || gi.Bytes != int64(len(want)) {
		t.Fatalf("import bytes: %+v %v", gi, err)
	}
}
