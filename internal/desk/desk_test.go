package desk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

// fx is a workspace with two LDRs and two AEs and the desk on top.
type fx struct {
	t         *testing.T
	st        *store.Store
	ws        int64
	ldr, ldr2 int64
	ae1, ae2  int64
	crm       *crm.Service
	scoring   *scoring.Service
	desk      *desk.Service
	act       model.Actor // the LDR
	ctx       context.Context
}

func setup(t *testing.T, st *store.Store) *fx {
	t.Helper()
	ctx := context.Background()
	f := &fx{t: t, st: st, ctx: ctx}
	users := map[string]*int64{"ldr": &f.ldr, "ldr2": &f.ldr2, "ae1": &f.ae1, "ae2": &f.ae2}
	err := st.InTx(ctx, func(q store.Q) error {
		k := seq.Add(1)
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("desk-%d", k), Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		f.ws = w.ID
		for _, name := range []string{"ldr", "ldr2", "ae1", "ae2"} {
			u := model.User{Email: fmt.Sprintf("%s-%d@example.com", name, k)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			role := model.RoleLDR
			if strings.HasPrefix(name, "ae") {
				role = model.RoleAE
			}
			if err := q.SetMembership(ctx, w.ID, u.ID, role); err != nil {
				return err
			}
			*users[name] = u.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.crm = &crm.Service{St: st, Router: &routing.Service{St: st}}
	f.scoring = &scoring.Service{St: st}
	f.desk = &desk.Service{St: st, CRM: f.crm, Scoring: f.scoring, Assignment: &assignment.Service{St: st}}
	f.act = model.Actor{UserID: &f.ldr, Label: "user:ldr", Workspace: f.ws, Role: model.RoleLDR}
	return f
}

func (f *fx) admin() model.Actor {
	return model.Actor{Label: "test", Workspace: f.ws, Role: model.RoleAdmin}
}

func (f *fx) account(name string, employees int) int64 {
	f.t.Helper()
	a, err := f.crm.CreateAccount(f.ctx, f.admin(), crm.Fields{"name": name, "employees": fmt.Sprint(employees)})
	if err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func (f *fx) contact(email, stage string, owner *int64, account int64) model.Contact {
	f.t.Helper()
	fs := crm.Fields{"email": email, "lifecycle_stage": stage, "first_name": strings.Split(email, "@")[0]}
	if owner != nil {
		fs["owner_id"] = fmt.Sprint(*owner)
	}
	if account != 0 {
		fs["account_id"] = fmt.Sprint(account)
	}
	c, err := f.crm.CreateContact(f.ctx, f.admin(), fs)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// views adds n pricing page views to c's score.
func (f *fx) views(c model.Contact, n int) {
	f.t.Helper()
	var evs []scoring.Event
	for range n {
		evs = append(evs, scoring.Event{ContactID: c.ID, Kind: "pricing_page_view", URL: "/pricing"})
	}
	if _, err := f.scoring.Ingest(f.ctx, f.ws, evs); err != nil {
		f.t.Fatal(err)
	}
}

// sla starts an SLA clock on c due at due.
func (f *fx) sla(c model.Contact, due time.Time) {
	f.t.Helper()
	err := f.st.InTx(f.ctx, func(q store.Q) error {
		return q.InsertAssignment(f.ctx, f.ws, &model.Assignment{PoolID: 1, UserID: f.ldr, ObjectType: "contact", ObjectID: c.ID, Motion: "digital", Reason: "test", AssignedAt: due.Add(-time.Hour), SLADueAt: due})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) aePool(name string, members ...int64) {
	f.t.Helper()
	err := f.st.InTx(f.ctx, func(q store.Q) error {
		p := model.Pool{Name: name, Role: model.RoleAE, Capacity: 10}
		if err := q.CreatePool(f.ctx, f.ws, &p); err != nil {
			return err
		}
		for _, u := range members {
			if err := q.SetPoolMember(f.ctx, f.ws, model.PoolMember{PoolID: p.ID, UserID: u, Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func ids(items []desk.Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Contact.ID)
	}
	return out
}

func fieldOf(err error) string {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestQueueOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		now := time.Now()
		acct := f.account("Bluth Co", 20)
		low := f.contact("low@x.example", "mql", &f.ldr, acct) // overdue, barely scored
		f.views(low, 1)
		f.sla(low, now.Add(-time.Hour))
		lower := f.contact("lower@x.example", "mql", &f.ldr, 0) // less overdue
		f.sla(lower, now.Add(-time.Minute))
		high := f.contact("high@x.example", "mql", &f.ldr, acct)
		f.views(high, 3)
		f.sla(high, now.Add(time.Hour))
		mid := f.contact("mid@x.example", "mql", &f.ldr, 0) // no clock
		f.views(mid, 2)
		f.contact("other@x.example", "mql", &f.ldr2, 0)
		f.contact("lead@x.example", "lead", &f.ldr, 0)
		free := f.contact("free@x.example", "mql", nil, 0)
		g := setup(t, st)
		g.contact("foreign@x.example", "mql", nil, 0)

		q, err := f.desk.Queue(f.ctx, f.ws, f.ldr, now)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{low.ID, lower.ID, high.ID, mid.ID}
		if got := ids(q.Mine); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("mine = %v, want %v (low, lower overdue; then high, mid by score)", got, want)
		}
		if got := ids(q.Unassigned); fmt.Sprint(got) != fmt.Sprint([]int64{free.ID}) {
			t.Fatalf("unassigned = %v, want [%d]", got, free.ID)
		}
		first, third := q.Mine[0], q.Mine[2]
		if !first.Overdue || third.Overdue {
			t.Errorf("overdue flags: %v %v", first.Overdue, third.Overdue)
		}
		if third.AccountName != "Bluth Co" || third.Employees == nil || *third.Employees != 20 || third.Segment == "" {
			t.Errorf("firmographics: %+v", third.QueueRow)
		}
		if third.Score <= q.Mine[3].Score || len(third.Lines) == 0 || !strings.Contains(strings.Join(third.Lines, " "), "pricing") {
			t.Errorf("score %v lines %q", third.Score, third.Lines)
		}
		// The other workspace's LDR sees nothing of this one.
		q2, err := g.desk.Queue(g.ctx, g.ws, f.ldr, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(q2.Mine) != 0 || len(q2.Unassigned) != 1 {
			t.Fatalf("other workspace queue: %+v", q2)
		}
	})
}

func TestQualify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.aePool("AEs", f.ae1, f.ae2)
		smb := f.contact("ann@smb.example", "mql", &f.ldr, f.account("Small Co", 20))
		f.sla(smb, time.Now().Add(time.Hour))
		ent := f.contact("bob@big.example", "mql", &f.ldr, f.account("Big Co", 5000))
		bant := model.BANT{Budget: "20k", Authority: "VP signs", Need: "forecasting", Timeline: "Q3"}

		if _, err := f.desk.Qualify(f.ctx, f.act, smb.ID, model.BANT{Budget: "x", Authority: "y", Timeline: "z"}, ""); fieldOf(err) != "need" {
			t.Fatalf("missing need: %v", err)
		}
		r, err := f.desk.Qualify(f.ctx, f.act, smb.ID, bant, "Wants a demo Tuesday")
		if err != nil {
			t.Fatal(err)
		}
		q := st.Read()
		c, _ := q.GetContact(f.ctx, f.ws, smb.ID)
		if c.LifecycleStage != "sql" {
			t.Errorf("stage %q", c.LifecycleStage)
		}
		d, err := q.GetDeal(f.ctx, f.ws, r.Deal.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Pipeline != "digital" || d.Stage != "qualified" || d.OwnerID == nil || *d.OwnerID != f.ae1 || d.AccountID == nil || *d.AccountID != *smb.AccountID {
			t.Errorf("deal %+v", d)
		}
		hs, err := q.DealHandoffs(f.ctx, f.ws, d.ID)
		if err != nil || len(hs) != 1 {
			t.Fatalf("handoffs %v %v", hs, err)
		}
		if h := hs[0]; h.Kind != "ldr_to_ae" || h.Note != "Wants a demo Tuesday" || h.BANT != bant || *h.FromUserID != f.ldr || *h.ToUserID != f.ae1 || h.ContactID != smb.ID {
			t.Errorf("handoff %+v", h)
		}
		as, _ := q.Assignments(f.ctx, f.ws, "contact", smb.ID)
		if len(as) != 1 || as[0].FirstTouchAt == nil {
			t.Errorf("SLA not touched: %+v", as)
		}
		hist, _ := q.History(f.ctx, f.ws, "deal", d.ID)
		var actions []string
		for _, h := range hist {
			actions = append(actions, h.Action)
		}
		for _, a := range []string{"created", "assigned", "handoff"} {
			if !strings.Contains(strings.Join(actions, ","), a) {
				t.Errorf("deal history %v lacks %s", actions, a)
			}
		}
		hist, _ = q.History(f.ctx, f.ws, "contact", smb.ID)
		if last := hist[len(hist)-1]; last.Action != "qualified" && hist[0].Action != "qualified" {
			t.Errorf("contact history %+v", hist)
		}
		// The next one goes to the other AE, in the high_touch pipeline.
		r2, err := f.desk.Qualify(f.ctx, f.act, ent.ID, bant, "")
		if err != nil {
			t.Fatal(err)
		}
		if r2.Deal.Pipeline != "high_touch" || r2.Deal.Stage != "suspect" || r2.AE != f.ae2 {
			t.Errorf("second deal %+v to %d", r2.Deal, r2.AE)
		}
		// Qualified already.
		if _, err := f.desk.Qualify(f.ctx, f.act, ent.ID, bant, ""); fieldOf(err) != "lifecycle_stage" {
			t.Errorf("requalify: %v", err)
		}
	})
}

func TestQualifyNoAE(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		c := f.contact("ann@smb.example", "mql", &f.ldr, f.account("Small Co", 20))
		f.sla(c, time.Now().Add(time.Hour))
		bant := model.BANT{Budget: "20k", Authority: "VP signs", Need: "forecasting", Timeline: "Q3"}
		check := func(wantWhy string) {
			t.Helper()
			_, err := f.desk.Qualify(f.ctx, f.act, c.ID, bant, "")
			if !errors.Is(err, desk.ErrNoAE) || fieldOf(err) != "ae" || !strings.Contains(err.Error(), wantWhy) {
				t.Fatalf("err = %v, want no AE (%s)", err, wantWhy)
			}
			q := st.Read()
			got, _ := q.GetContact(f.ctx, f.ws, c.ID)
			deals, _ := q.ListDeals(f.ctx, f.ws, store.ListParams{Limit: 10}, nil)
			as, _ := q.Assignments(f.ctx, f.ws, "contact", c.ID)
			if got.LifecycleStage != "mql" || len(deals.Items) != 0 || as[0].FirstTouchAt != nil {
				t.Fatalf("something changed: stage %q, %d deals, touch %v", got.LifecycleStage, len(deals.Items), as[0].FirstTouchAt)
			}
		}
		check("no pool for role")
		f.aePool("Empty AEs")
		check("has no members")
	})
}

func TestDisqualifyAndNurture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		a := f.contact("a@x.example", "mql", &f.ldr, 0)
		b := f.contact("b@x.example", "mql", &f.ldr, 0)
		c := f.contact("c@x.example", "lead", &f.ldr, 0)
		n := f.contact("n@x.example", "mql", &f.ldr, 0)
		f.sla(n, time.Now().Add(time.Hour))
		if _, err := f.desk.Disqualify(f.ctx, f.act, a.ID, "too_expensive", ""); fieldOf(err) != "reason" {
			t.Fatalf("bad reason: %v", err)
		}
		for _, x := range []struct {
			c      model.Contact
			reason string
		}{{a, "no_budget"}, {b, "no_budget"}, {c, "competitor"}} {
			got, err := f.desk.Disqualify(f.ctx, f.act, x.c.ID, x.reason, "said so")
			if err != nil || got.LifecycleStage != "disqualified" {
				t.Fatalf("disqualify %s: %v %q", x.c.Email, err, got.LifecycleStage)
			}
		}
		if _, err := f.desk.Disqualify(f.ctx, f.act, a.ID, "other", ""); fieldOf(err) != "lifecycle_stage" {
			t.Errorf("disqualify twice: %v", err)
		}
		q := st.Read()
		now := time.Now()
		counts, err := q.DisqualificationCounts(f.ctx, f.ws, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(counts) != "[{no_budget 2} {competitor 1}]" {
			t.Errorf("counts %v", counts)
		}
		if counts, _ := q.DisqualificationCounts(f.ctx, f.ws, now.Add(time.Hour), now.Add(2*time.Hour)); len(counts) != 0 {
			t.Errorf("next period counts %v", counts)
		}
		g := setup(t, st)
		if counts, _ := q.DisqualificationCounts(f.ctx, g.ws, now.Add(-time.Hour), now.Add(time.Hour)); len(counts) != 0 {
			t.Errorf("other workspace counts %v", counts)
		}
		hist, _ := q.History(f.ctx, f.ws, "contact", a.ID)
		found := false
		for _, h := range hist {
			found = found || (h.Action == "disqualified" && strings.Contains(string(h.Detail), "no_budget"))
		}
		if !found {
			t.Errorf("no disqualified history with the reason: %+v", hist)
		}

		got, err := f.desk.Nurture(f.ctx, f.act, n.ID, "not this quarter")
		if err != nil || got.LifecycleStage != "nurture" {
			t.Fatalf("nurture: %v %q", err, got.LifecycleStage)
		}
		if as, _ := q.Assignments(f.ctx, f.ws, "contact", n.ID); as[0].FirstTouchAt == nil {
			t.Error("nurture did not stop the SLA clock")
		}
		if _, err := f.desk.Nurture(f.ctx, f.act, n.ID, ""); fieldOf(err) != "lifecycle_stage" {
			t.Errorf("nurture twice: %v", err)
		}
	})
}

func TestLogCall(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		c := f.contact("a@x.example", "mql", &f.ldr, f.account("Small Co", 20))
		f.sla(c, time.Now().Add(time.Hour))
		a, err := f.desk.LogCall(f.ctx, f.act, c.ID, desk.Call{Body: "Left a voicemail", Minutes: "3"})
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != "call" || a.ContactID == nil || *a.ContactID != c.ID || a.AccountID == nil || a.DurationMinutes != 3 || !strings.Contains(a.Subject, "Call with") {
			t.Errorf("activity %+v", a)
		}
		if as, _ := st.Read().Assignments(f.ctx, f.ws, "contact", c.ID); as[0].FirstTouchAt == nil {
			t.Error("call did not stop the SLA clock")
		}
		q, _ := f.desk.Queue(f.ctx, f.ws, f.ldr, time.Now())
		if len(q.Mine) != 1 || q.Mine[0].LastActivity == nil || q.Mine[0].SLADueAt != nil {
			t.Errorf("queue after call: %+v", q.Mine)
		}
	})
}

func TestForeign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		g := setup(t, st)
		g.aePool("AEs", g.ae1)
		c := f.contact("a@x.example", "mql", &f.ldr, 0)
		bant := model.BANT{Budget: "1", Authority: "2", Need: "3", Timeline: "4"}
		for name, err := range map[string]error{
			"qualify":    func() error { _, err := g.desk.Qualify(g.ctx, g.act, c.ID, bant, ""); return err }(),
			"disqualify": func() error { _, err := g.desk.Disqualify(g.ctx, g.act, c.ID, "other", ""); return err }(),
			"nurture":    func() error { _, err := g.desk.Nurture(g.ctx, g.act, c.ID, ""); return err }(),
			"call":       func() error { _, err := g.desk.LogCall(g.ctx, g.act, c.ID, desk.Call{}); return err }(),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s on a foreign contact: %v", name, err)
			}
		}
		if got, _ := st.Read().GetContact(f.ctx, f.ws, c.ID); got.LifecycleStage != "mql" {
			t.Errorf("foreign contact changed: %q", got.LifecycleStage)
		}
		// Handoffs are read per workspace.
		f.aePool("AEs", f.ae1)
		r, err := f.desk.Qualify(f.ctx, f.act, c.ID, bant, "note")
		if err != nil {
			t.Fatal(err)
		}
		if hs, err := st.Read().DealHandoffs(g.ctx, g.ws, r.Deal.ID); err != nil || len(hs) != 0 {
			t.Errorf("handoffs of a foreign deal: %v %v", hs, err)
		}
	})
}
