package assignment_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

// Monday 23 November 2026, 10:00 UTC.
var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	st    *store.Store
	ws    int64
	users []int64
}

// setup makes a workspace with n reps (members, ids ascending).
func setup(t *testing.T, st *store.Store, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, st: st}
	err := st.InTx(ctx, func(q store.Q) error {
		k := seq.Add(1)
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", k)}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		f.ws = w.ID
		for i := range n {
			u := model.User{Email: fmt.Sprintf("rep%d-%d@example.com", i, k)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, w.ID, u.ID, model.RoleLDR); err != nil {
				return err
			}
			f.users = append(f.users, u.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// pool creates a pool with the given members (all active, no territory).
func (f *fixture) pool(p model.Pool, members ...int64) model.Pool {
	f.t.Helper()
	ctx := context.Background()
	err := f.st.InTx(ctx, func(q store.Q) error {
		if err := q.CreatePool(ctx, f.ws, &p); err != nil {
			return err
		}
		for _, u := range members {
			if err := q.SetPoolMember(ctx, f.ws, model.PoolMember{PoolID: p.ID, UserID: u, Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) member(m model.PoolMember) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(q store.Q) error { return q.SetPoolMember(ctx, f.ws, m) }); err != nil {
		f.t.Fatal(err)
	}
}

var nextObject atomic.Int64

func assign(st *store.Store, ws int64, r assignment.Request) (model.Assignment, error) {
	ctx := context.Background()
	if r.ObjectType == "" {
		r.ObjectType = "contact"
	}
	if r.ObjectID == 0 {
		r.ObjectID = nextObject.Add(1)
	}
	if r.Motion == "" {
		r.Motion = assignment.Digital
	}
	var a model.Assignment
	err := st.InTx(ctx, func(q store.Q) error {
		var err error
		a, err = (&assignment.Service{}).Assign(ctx, q, ws, r)
		return err
	})
	return a, err
}

func (f *fixture) mustAssign(r assignment.Request) model.Assignment {
	f.t.Helper()
	a, err := assign(f.st, f.ws, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func wantUnavailable(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ue *assignment.UnavailableError
	if !errors.Is(err, assignment.ErrNobodyAvailable) || !errors.As(err, &ue) {
		t.Fatalf("want nobody available, got %v", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
}

func TestAssign(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Run("round robin and cursor", func(t *testing.T) { testRoundRobin(t, st) })
		t.Run("capacity over 30 days", func(t *testing.T) { testCapacity(t, st) })
		t.Run("availability", func(t *testing.T) { testAvailability(t, st) })
		t.Run("territories", func(t *testing.T) { testTerritories(t, st) })
		t.Run("validation and isolation", func(t *testing.T) { testIsolation(t, st) })
		t.Run("sla and breaches", func(t *testing.T) { testSLA(t, st) })
		t.Run("concurrent assigns share the cursor", func(t *testing.T) { testConcurrent(t, st) })
	})
}

func testRoundRobin(t *testing.T, st *store.Store) {
	f := setup(t, st, 3)
	u := f.users
	p := f.pool(model.Pool{Name: "ldr", Role: "ldr", Team: "smb", Capacity: 10}, u...)
	var got []int64
	for i := range 4 {
		got = append(got, f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(time.Duration(i) * time.Minute)}).UserID)
	}
	if want := []int64{u[0], u[1], u[2], u[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if pp, err := st.Read().GetPool(context.Background(), f.ws, p.ID); err != nil || pp.CursorUserID == nil || *pp.CursorUserID != u[0] {
		t.Fatalf("cursor: %+v %v", pp.CursorUserID, err)
	}
	// A restart: a second process opens the same database and continues after u0.
	st2, err := store.Open(context.Background(), st.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	a, err := assign(st2, f.ws, assignment.Request{Role: "ldr", Team: "smb", Now: monday.Add(time.Hour)})
	if err != nil || a.UserID != u[1] || a.PoolID != p.ID {
		t.Fatalf("after restart: %+v %v", a, err)
	}
	// A rep removed from the pool is skipped; the cursor names a rep, not a slot.
	if err := st.InTx(context.Background(), func(q store.Q) error { return q.RemovePoolMember(context.Background(), f.ws, p.ID, u[2]) }); err != nil {
		t.Fatal(err)
	}
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(2 * time.Hour)}); a.UserID != u[0] {
		t.Fatalf("after removal: %+v", a)
	}
	if !strings.Contains(a.Reason, `pool "ldr"`) {
		t.Fatalf("reason: %q", a.Reason)
	}
}

func testCapacity(t *testing.T, st *store.Store) {
	ctx := context.Background()
	f := setup(t, st, 2)
	u := f.users
	p := f.pool(model.Pool{Name: "cap", Role: "ldr", Capacity: 2}, u...)
	// u0 is full with two items this month; u1 has two older than 30 days (not
	// counted) and one 29 days old.
	old := []struct {
		user int64
		at   time.Time
	}{
		{u[0], monday.Add(-24 * time.Hour)}, {u[0], monday.Add(-48 * time.Hour)},
		{u[1], monday.Add(-31 * 24 * time.Hour)}, {u[1], monday.Add(-30 * 24 * time.Hour)}, {u[1], monday.Add(-29 * 24 * time.Hour)},
	}
	err := st.InTx(ctx, func(q store.Q) error {
		for i, o := range old {
			a := model.Assignment{PoolID: p.ID, UserID: o.user, ObjectType: "contact", ObjectID: int64(1000 + i), Motion: "digital", Reason: "seed", AssignedAt: o.at, SLADueAt: o.at}
			if err := q.InsertAssignment(ctx, f.ws, &a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday}); a.UserID != u[1] {
		t.Fatalf("want u1 (below capacity), got %+v", a)
	}
	_, err = assign(st, f.ws, assignment.Request{PoolID: p.ID, Now: monday.Add(time.Minute)})
	wantUnavailable(t, err, `pool "cap"`, fmt.Sprintf("user %d is at capacity (2 of 2", u[0]), fmt.Sprintf("user %d is at capacity", u[1]))
	// 29 days and a minute later u0's two items (assigned a day or two before
	// Monday) are older than 30 days: u0 takes work again, next after the cursor.
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(29*24*time.Hour + time.Minute)}); a.UserID != u[0] {
		t.Fatalf("after the window: %+v", a)
	}
}

func testAvailability(t *testing.T, st *store.Store) {
	f := setup(t, st, 3)
	u := f.users
	p := f.pool(model.Pool{Name: "ooo", Role: "ae", Capacity: 10})
	away, back := monday.Add(time.Hour), monday.Add(-time.Hour)
	f.member(model.PoolMember{PoolID: p.ID, UserID: u[0], Active: true, OutOfOfficeUntil: &away})
	f.member(model.PoolMember{PoolID: p.ID, UserID: u[1], Active: true, OutOfOfficeUntil: &back})
	f.member(model.PoolMember{PoolID: p.ID, UserID: u[2], Active: false})
	for i := range 2 {
		if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(time.Duration(i) * time.Minute)}); a.UserID != u[1] {
			t.Fatalf("want the rep back from leave, got %+v", a)
		}
	}
	// u0 is back at 11:00.
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: away}); a.UserID != u[0] {
		t.Fatalf("after leave: %+v", a)
	}
	f.member(model.PoolMember{PoolID: p.ID, UserID: u[1], Active: true, OutOfOfficeUntil: &away})
	_, err := assign(st, f.ws, assignment.Request{PoolID: p.ID, Now: monday})
	wantUnavailable(t, err, fmt.Sprintf("user %d is out of office until 2026-11-23T11:00:00Z", u[0]), fmt.Sprintf("user %d is inactive", u[2]))
	empty := f.pool(model.Pool{Name: "empty", Role: "csm", Capacity: 1})
	_, err = assign(st, f.ws, assignment.Request{PoolID: empty.ID, Now: monday})
	wantUnavailable(t, err, `pool "empty": has no members`)
	_, err = assign(st, f.ws, assignment.Request{Role: "csm", Team: "nope", Now: monday})
	wantUnavailable(t, err, `no pool for role "csm" and team "nope"`)
}

func testTerritories(t *testing.T, st *store.Store) {
	f := setup(t, st, 3)
	u := f.users
	emea := f.pool(model.Pool{Name: "emea", Role: "ae", Team: "ent", Regions: []string{"EMEA"}, Capacity: 10})
	na := f.pool(model.Pool{Name: "na", Role: "ae", Team: "ent", Regions: []string{"NA"}, Capacity: 10}, u[2])
	f.member(model.PoolMember{PoolID: emea.ID, UserID: u[0], Active: true, Industries: []string{"fintech"}})
	f.member(model.PoolMember{PoolID: emea.ID, UserID: u[1], Active: true})
	ht := func(region, industry string) (model.Assignment, error) {
		return assign(st, f.ws, assignment.Request{Role: "ae", Team: "ent", Motion: assignment.HighTouch, ObjectType: "account", Region: region, Industry: industry, Now: monday})
	}
	cases := []struct {
		region, industry string
		pool, user       int64
	}{
		{"NA", "fintech", na.ID, u[2]},
		{"emea", "Fintech", emea.ID, u[0]}, // case-insensitive
		{"EMEA", "fintech", emea.ID, u[1]}, // round-robin within the territory
		{"EMEA", "health", emea.ID, u[1]},  // u0 covers fintech only
		{"EMEA", "health", emea.ID, u[1]},
	}
	for i, c := range cases {
		a, err := ht(c.region, c.industry)
		if err != nil || a.PoolID != c.pool || a.UserID != c.user || a.Motion != assignment.HighTouch {
			t.Fatalf("case %d %+v: got %+v %v", i, c, a, err)
		}
	}
	_, err := ht("APAC", "fintech")
	wantUnavailable(t, err, `pool "emea": outside its territory (region "APAC"`, `pool "na": outside its territory`)
	_, err = ht("", "")
	wantUnavailable(t, err, "outside its territory")
	f.member(model.PoolMember{PoolID: emea.ID, UserID: u[1], Active: true, Industries: []string{"retail"}})
	_, err = ht("EMEA", "health")
	wantUnavailable(t, err, fmt.Sprintf("user %d is outside the territory", u[0]), fmt.Sprintf("user %d is outside the territory", u[1]))
	// Digital work ignores territories.
	if a, err := assign(st, f.ws, assignment.Request{PoolID: emea.ID, Region: "APAC", Now: monday}); err != nil || a.PoolID != emea.ID {
		t.Fatalf("digital: %+v %v", a, err)
	}
}

func testIsolation(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b := setup(t, st, 1), setup(t, st, 0)
	p := a.pool(model.Pool{Name: "p", Role: "ldr", Capacity: 5}, a.users...)
	for _, c := range []struct {
		r     assignment.Request
		field string
	}{
		{assignment.Request{PoolID: p.ID, Motion: "enterprise", Now: monday}, "motion"},
		{assignment.Request{PoolID: p.ID, ObjectType: "lead", Now: monday}, "object_type"},
		{assignment.Request{PoolID: p.ID}, "now"},
		{assignment.Request{Now: monday}, "pool_id"},
	} {
		_, err := assign(st, a.ws, c.r)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Fatalf("%+v: want FieldError on %s, got %v", c.r, c.field, err)
		}
	}
	// B cannot use, see or fill A's pool.
	if _, err := assign(st, b.ws, assignment.Request{PoolID: p.ID, Now: monday}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B assigns through A's pool: %v", err)
	}
	_, err := assign(st, b.ws, assignment.Request{Role: "ldr", Now: monday})
	wantUnavailable(t, err, "no pool")
	err = st.InTx(ctx, func(q store.Q) error {
		return q.SetPoolMember(ctx, b.ws, model.PoolMember{PoolID: p.ID, UserID: a.users[0], Active: true})
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B adds to A's pool: %v", err)
	}
	bp := b.pool(model.Pool{Name: "p", Role: "ldr", Capacity: 5}) // same name, other workspace
	err = st.InTx(ctx, func(q store.Q) error {
		return q.SetPoolMember(ctx, b.ws, model.PoolMember{PoolID: bp.ID, UserID: a.users[0], Active: true})
	})
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "user_id" {
		t.Fatalf("A's rep in B's pool: %v", err)
	}
	x := a.mustAssign(assignment.Request{PoolID: p.ID, ObjectID: 77, Now: monday.Add(-72 * time.Hour)})
	var n int64
	err = st.InTx(ctx, func(q store.Q) error {
		var err error
		n, err = (&assignment.Service{}).MarkTouched(ctx, q, b.ws, "contact", x.ObjectID, monday)
		return err
	})
	if err != nil || n != 0 {
		t.Fatalf("B touches A's item: %d %v", n, err)
	}
	svc := &assignment.Service{St: st}
	if bs, err := svc.Breaches(ctx, b.ws, monday); err != nil || len(bs) != 0 {
		t.Fatalf("B sees A's breaches: %+v %v", bs, err)
	}
	if bs, err := svc.Breaches(ctx, a.ws, monday); err != nil || len(bs) != 1 || bs[0].Overdue != 1 {
		t.Fatalf("A's overdue item: %+v %v", bs, err)
	}
	if as, err := st.Read().Assignments(ctx, b.ws, "contact", x.ObjectID); err != nil || len(as) != 0 {
		t.Fatalf("B reads A's assignments: %+v %v", as, err)
	}
}

func testSLA(t *testing.T, st *store.Store) {
	ctx := context.Background()
	f := setup(t, st, 2)
	u := f.users
	p := f.pool(model.Pool{Name: "sla", Role: "ldr", Capacity: 10}, u...)
	friday := time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC)
	i1 := f.mustAssign(assignment.Request{PoolID: p.ID, Now: friday})                                                       // u0
	i2 := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(7 * 24 * time.Hour)})                               // u1, Mon 30 10:00
	i3 := f.mustAssign(assignment.Request{PoolID: p.ID, Now: monday.Add(7 * 24 * time.Hour)})                               // u0
	i4 := f.mustAssign(assignment.Request{PoolID: p.ID, Motion: assignment.HighTouch, Now: friday.Add(-150 * time.Minute)}) // u1, Fri 14:00
	mon30 := func(h, m int) time.Time { return time.Date(2026, 11, 30, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		a    model.Assignment
		want time.Time
	}{{i1, mon30(9, 30)}, {i2, mon30(11, 0)}, {i3, mon30(11, 0)}, {i4, mon30(14, 0)}} {
		if !c.a.SLADueAt.Equal(c.want) {
			t.Fatalf("assignment %d due %s, want %s", c.a.ID, c.a.SLADueAt, c.want)
		}
	}
	touch := func(a model.Assignment, at time.Time) int64 {
		t.Helper()
		var n int64
		err := st.InTx(ctx, func(q store.Q) error {
			var err error
			n, err = (&assignment.Service{}).MarkTouched(ctx, q, f.ws, a.ObjectType, a.ObjectID, at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := touch(i1, mon30(9, 0)); n != 1 {
		t.Fatalf("first touch stopped %d clocks", n)
	}
	if n := touch(i1, mon30(12, 0)); n != 0 { // a later touch changes nothing
		t.Fatalf("second touch stopped %d clocks", n)
	}
	if n := touch(i2, mon30(11, 30)); n != 1 { // late
		t.Fatalf("late touch stopped %d clocks", n)
	}
	if n := touch(i4, mon30(14, 0)); n != 1 { // exactly on time is not a breach
		t.Fatalf("on-time touch stopped %d clocks", n)
	}
	r := st.Read()
	for _, c := range []struct {
		a        model.Assignment
		touched  time.Time
		breached bool
	}{{i1, mon30(9, 0), false}, {i2, mon30(11, 30), true}, {i4, mon30(14, 0), false}} {
		as, err := r.Assignments(ctx, f.ws, c.a.ObjectType, c.a.ObjectID)
		if err != nil || len(as) != 1 || as[0].FirstTouchAt == nil || !as[0].FirstTouchAt.Equal(c.touched) || as[0].Breached != c.breached || as[0].UserID != c.a.UserID {
			t.Fatalf("stored %+v: %+v %v", c.a, as, err)
		}
	}
	svc := &assignment.Service{St: st}
	// At 11:00 i3 is due, not yet overdue; at 12:00 it is.
	for _, c := range []struct {
		now  time.Time
		want []model.BreachCount
	}{
		{mon30(11, 0), []model.BreachCount{{PoolID: p.ID, UserID: u[1], Breached: 1}}},
		{mon30(12, 0), []model.BreachCount{{PoolID: p.ID, UserID: u[0], Overdue: 1}, {PoolID: p.ID, UserID: u[1], Breached: 1}}},
	} {
		got, err := svc.Breaches(ctx, f.ws, c.now)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Fatalf("breaches at %s: %+v %v, want %+v", c.now, got, err, c.want)
		}
	}
	// Workspace settings: New York hours and a two-hour digital SLA. Friday 16:30
	// EST (21:30Z) + 120 business minutes = Monday 10:30 EST = 15:30Z.
	err := st.InTx(ctx, func(q store.Q) error {
		return q.SetAssignmentSettings(ctx, f.ws, model.AssignmentSettings{Timezone: "America/New_York", SLAMinutes: map[string]int{"digital": 120}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Now: time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)}); !a.SLADueAt.Equal(mon30(15, 30)) {
		t.Fatalf("NY due %s", a.SLADueAt)
	}
	// high_touch keeps its default (one business day): Fri 16:30 EST → Mon 16:30 EST = 21:30Z.
	if a := f.mustAssign(assignment.Request{PoolID: p.ID, Motion: assignment.HighTouch, Now: time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)}); !a.SLADueAt.Equal(mon30(21, 30)) {
		t.Fatalf("NY high_touch due %s", a.SLADueAt)
	}
}

// Several transactions assigning at once advance the one stored cursor in turn:
// the pool row lock (PostgreSQL) or the single writer (SQLite) serialises them,
// so two reps get exactly half each.
func testConcurrent(t *testing.T, st *store.Store) {
	f := setup(t, st, 2)
	p := f.pool(model.Pool{Name: "busy", Role: "ldr", Capacity: 100}, f.users...)
	var mu sync.Mutex
	counts := map[int64]int{}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			a, err := assign(st, f.ws, assignment.Request{PoolID: p.ID, Now: monday.Add(time.Duration(i) * time.Second)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			counts[a.UserID]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[f.users[0]] != 5 || counts[f.users[1]] != 5 {
		t.Fatalf("uneven: %v", counts)
	}
}
