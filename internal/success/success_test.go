package success_test

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
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/success"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

// now is the tests' clock: the service stamps handoffs and scores with it.
var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
}

func wantState(t *testing.T, err error, field string) *success.StateError {
	t.Helper()
	var se *success.StateError
	if !errors.As(err, &se) || se.Field != field {
		t.Fatalf("want a state error on %q, got %v", field, err)
	}
	return se
}

// fx is one workspace with a user per role (and a second CSM), crm with the
// success hook, and the success service on the fixed clock.
type fx struct {
	t     *testing.T
	st    *store.Store
	ws    int64
	users map[string]int64
	crm   *crm.Service
	svc   *success.Service
}

func setup(t *testing.T, st *store.Store) *fx {
	t.Helper()
	ctx := context.Background()
	f := &fx{t: t, st: st, users: map[string]int64{}}
	err := st.InTx(ctx, func(q store.Q) error {
		k := seq.Add(1)
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", k), Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		f.ws = w.ID
		for _, r := range []string{"admin", "ae", "csm", "csm2", "manager", "ldr"} {
			u := model.User{Email: fmt.Sprintf("%s-%d@example.com", r, k)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			role := strings.TrimSuffix(r, "2")
			if err := q.SetMembership(ctx, w.ID, u.ID, role); err != nil {
				return err
			}
			f.users[r] = u.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = &success.Service{St: st, Assign: &assignment.Service{St: st}, Now: func() time.Time { return now }}
	f.crm = &crm.Service{St: st, Won: []crm.WonHook{f.svc}}
	return f
}

func (f *fx) act(who string) model.Actor {
	id := f.users[who]
	return model.Actor{UserID: &id, Label: "user:" + who, Role: strings.TrimSuffix(who, "2"), Workspace: f.ws}
}

func (f *fx) account(name, motion string) model.Account {
	f.t.Helper()
	a, err := f.crm.CreateAccount(context.Background(), f.act("admin"), crm.Fields{"name": name, "motion": motion, "region": "EMEA"})
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fx) deal(acct int64, pipeline string, extra crm.Fields) model.Deal {
	f.t.Helper()
	fs := crm.Fields{"name": "Deal " + fmt.Sprint(seq.Add(1)), "pipeline": pipeline, "owner_id": fmt.Sprint(f.users["ae"])}
	if acct != 0 {
		fs["account_id"] = fmt.Sprint(acct)
	}
	for k, v := range extra {
		fs[k] = v
	}
	d, err := f.crm.CreateDeal(context.Background(), f.act("ae"), fs)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fx) win(d model.Deal) {
	f.t.Helper()
	if _, err := f.crm.UpdateDeal(context.Background(), f.act("ae"), d.ID, crm.Fields{"outcome": "won"}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) csmPool(capacity int, members ...int64) {
	f.t.Helper()
	ctx := context.Background()
	err := f.st.InTx(ctx, func(q store.Q) error {
		p := model.Pool{Name: fmt.Sprintf("CSM %d", seq.Add(1)), Role: model.RoleCSM, Capacity: capacity}
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
}

func keys(items []store.OnboardingItem) string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return strings.Join(out, ",")
}

// TestWonOpensHandoff: winning a deal opens one handoff with the motion's
// checklist and a first health score; the CSM comes from a csm pool; with no
// pool (or nobody with room) the handoff is unassigned and says why; a deal
// won again keeps its handoff; a deal without an account opens none.
func TestWonOpensHandoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		q := st.Read()

		// No csm pool yet: unassigned, visible in the queue.
		a1 := f.account("Acme", "digital")
		d1 := f.deal(a1.ID, "digital", nil)
		if _, err := q.CSHandoffByDeal(ctx, f.ws, d1.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an open deal has a handoff: %v", err)
		}
		f.win(d1)
		h1, err := f.svc.Handoff(ctx, f.ws, a1.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h1.DealID != d1.ID || h1.Motion != "digital" || h1.Status != success.StatusAwaitingNote || h1.CSMUserID != nil ||
			!strings.Contains(h1.AssignmentReason, `no pool for role "csm"`) || h1.AEUserID == nil || *h1.AEUserID != f.users["ae"] {
			t.Fatalf("handoff %+v", h1.CSHandoff)
		}
		if got := keys(h1.Items); got != "kickoff_call,admin_invited,data_imported,first_value,training" {
			t.Fatalf("digital checklist %s", got)
		}
		if strings.Join(h1.Missing, ",") != "goals,stakeholders,risks" {
			t.Fatalf("missing %v", h1.Missing)
		}
		if hr, err := q.GetHealth(ctx, f.ws, a1.ID); err != nil || hr.Cause != success.CauseWon {
			t.Fatalf("first health %+v %v", hr, err)
		}
		queue, err := f.svc.Queue(ctx, f.ws)
		if err != nil || len(queue.AwaitingNote) != 1 || queue.AwaitingNote[0].AccountName != "Acme" || queue.AwaitingNote[0].ItemsTotal != 5 {
			t.Fatalf("queue %+v %v", queue, err)
		}

		// A csm pool: the high_touch deal's CSM comes from it, on the account.
		f.csmPool(1, f.users["csm"])
		a2 := f.account("Globex", "high_touch")
		f.deal(a2.ID, "high_touch", crm.Fields{"stage": "order", "outcome": "won"})
		h2, err := f.svc.Handoff(ctx, f.ws, a2.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if h2.CSMUserID == nil || *h2.CSMUserID != f.users["csm"] || h2.AssignmentID == nil || h2.Motion != "high_touch" ||
			!strings.Contains(h2.AssignmentReason, "round-robin in pool") || h2.CSMEmail == "" {
			t.Fatalf("assigned handoff %+v", h2)
		}
		if got := keys(h2.Items); got != "kickoff_call,exec_sponsor_sync,admin_invited,data_imported,first_value,training,success_plan_signed" {
			t.Fatalf("high_touch checklist %s", got)
		}
		as, err := q.Assignments(ctx, f.ws, "account", a2.ID)
		if err != nil || len(as) != 1 || as[0].UserID != f.users["csm"] || as[0].ID != *h2.AssignmentID || as[0].Motion != "high_touch" {
			t.Fatalf("the CSM assignment was not recorded: %+v %v", as, err)
		}

		// The only CSM is at capacity (1 item in 30 days): unassigned, with why.
		a3 := f.account("Initech", "digital")
		f.win(f.deal(a3.ID, "digital", nil))
		h3, err := f.svc.Handoff(ctx, f.ws, a3.ID, nil)
		if err != nil || h3.CSMUserID != nil || !strings.Contains(h3.AssignmentReason, "at capacity") {
			t.Fatalf("capacity: %+v %v", h3.CSHandoff, err)
		}

		// Won → lost → won keeps the first handoff (one per deal).
		if _, err := f.crm.UpdateDeal(ctx, f.act("ae"), d1.ID, crm.Fields{"outcome": "lost", "loss_reason": "oops"}); err != nil {
			t.Fatal(err)
		}
		f.win(d1)
		all, err := q.CSHandoffsOfAccount(ctx, f.ws, a1.ID)
		if err != nil || len(all) != 1 || all[0].ID != h1.ID {
			t.Fatalf("re-won deal: %+v %v", all, err)
		}

		// No account, no customer: history says so.
		d4 := f.deal(0, "digital", nil)
		f.win(d4)
		if _, err := q.CSHandoffByDeal(ctx, f.ws, d4.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a deal without an account opened a handoff: %v", err)
		}
		hist, err := q.History(ctx, f.ws, "deal", d4.ID)
		if err != nil || !hasAction(hist, "cs_handoff_skipped") {
			t.Fatalf("history %+v %v", hist, err)
		}

		// A template saved later applies to the next handoff; open ones keep theirs.
		if _, err := f.svc.SaveChecklists(ctx, f.act("admin"), success.Checklists{"digital": {{Title: "Welcome email"}}}); err != nil {
			t.Fatal(err)
		}
		a5 := f.account("Hooli", "digital")
		f.win(f.deal(a5.ID, "digital", nil))
		h5, _ := f.svc.Handoff(ctx, f.ws, a5.ID, nil)
		if keys(h5.Items) != "welcome_email" {
			t.Fatalf("custom template: %s", keys(h5.Items))
		}
		if h1b, _ := f.svc.Handoff(ctx, f.ws, a1.ID, nil); len(h1b.Items) != 5 {
			t.Fatalf("an open handoff's checklist changed: %d", len(h1b.Items))
		}
	})
}

func hasAction(hs []model.HistoryEntry, action string) bool {
	for _, h := range hs {
		if h.Action == action {
			return true
		}
	}
	return false
}

// TestWonRollback: the handoff, its checklist, the CSM assignment and the
// first score are written in the deal's transaction: when it rolls back,
// none of them exists.
func TestWonRollback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		f.csmPool(10, f.users["csm"])
		a := f.account("Acme", "digital")
		d := f.deal(a.ID, "digital", nil)
		boom := errors.New("boom")
		var inside store.CSHandoff
		err := st.InTx(ctx, func(q store.Q) error {
			if _, err := f.crm.UpdateDealIn(ctx, q, f.act("ae"), d.ID, crm.Fields{"outcome": "won"}); err != nil {
				return err
			}
			var err error
			if inside, err = q.CSHandoffByDeal(ctx, f.ws, d.ID); err != nil {
				return fmt.Errorf("inside the transaction: %w", err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction: %v", err)
		}
		if inside.ID == 0 || inside.CSMUserID == nil {
			t.Fatalf("the hook did not run inside the transaction: %+v", inside)
		}
		q := st.Read()
		if _, err := q.CSHandoffByDeal(ctx, f.ws, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("handoff survived the rollback: %v", err)
		}
		if items, err := q.OnboardingItems(ctx, f.ws, inside.ID); err != nil || len(items) != 0 {
			t.Fatalf("checklist survived the rollback: %d %v", len(items), err)
		}
		if _, err := q.GetHealth(ctx, f.ws, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("health survived the rollback: %v", err)
		}
		if as, err := q.Assignments(ctx, f.ws, "account", a.ID); err != nil || len(as) != 0 {
			t.Fatalf("assignment survived the rollback: %+v %v", as, err)
		}
		if got, _ := q.GetDeal(ctx, f.ws, d.ID); got.Outcome != "" {
			t.Fatalf("deal outcome %q", got.Outcome)
		}
	})
}

// TestNoteAndAccept: a CSM can accept only a handoff whose note has goals,
// stakeholders and risks; each missing part is named; an AE may not accept;
// a CSM may not accept another CSM's handoff and takes an unassigned one;
// the accepted note is final.
func TestNoteAndAccept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		f.csmPool(10, f.users["csm"])
		a := f.account("Acme", "digital")
		f.win(f.deal(a.ID, "digital", nil))

		se := wantState(t, func() error { _, err := f.svc.Accept(ctx, f.act("csm"), a.ID, nil); return err }(), "goals")
		if strings.Join(se.Missing, ",") != "goals,stakeholders,risks" {
			t.Fatalf("missing %v", se.Missing)
		}
		s := func(v string) *string { return &v }
		v, err := f.svc.UpdateHandoff(ctx, f.act("ae"), a.ID, nil, success.HandoffPatch{Goals: s("Cut onboarding time by half"), Stakeholders: s("Ann (COO), Bob (IT)"), Risks: s("  ")})
		if err != nil || v.Status != success.StatusAwaitingNote || strings.Join(v.Missing, ",") != "risks" || v.NoteBy != "user:ae" {
			t.Fatalf("partial note %+v %v", v.CSHandoff, err)
		}
		wantState(t, func() error { _, err := f.svc.Accept(ctx, f.act("csm"), a.ID, nil); return err }(), "risks")
		v, err = f.svc.UpdateHandoff(ctx, f.act("ae"), a.ID, nil, success.HandoffPatch{Risks: s("Data migration from the old CRM")})
		if err != nil || v.Status != success.StatusAwaitingAcceptance || len(v.Missing) != 0 || v.Goals != "Cut onboarding time by half" {
			t.Fatalf("full note %+v %v", v.CSHandoff, err)
		}
		if _, err := f.svc.Accept(ctx, f.act("ae"), a.ID, nil); !errors.Is(err, success.ErrForbidden) {
			t.Fatalf("AE accepted: %v", err)
		}
		if _, err := f.svc.Accept(ctx, f.act("csm2"), a.ID, nil); !errors.Is(err, success.ErrForbidden) {
			t.Fatalf("another CSM accepted: %v", err)
		}
		v, err = f.svc.Accept(ctx, f.act("csm"), a.ID, nil)
		if err != nil || v.Status != success.StatusAccepted || v.AcceptedBy != "user:csm" || v.AcceptedAt == nil || !v.AcceptedAt.Equal(now) {
			t.Fatalf("accept %+v %v", v.CSHandoff, err)
		}
		wantState(t, func() error { _, err := f.svc.Accept(ctx, f.act("csm"), a.ID, nil); return err }(), "status")
		wantState(t, func() error {
			_, err := f.svc.UpdateHandoff(ctx, f.act("ae"), a.ID, nil, success.HandoffPatch{Risks: s("changed")})
			return err
		}(), "status")

		// Checklist toggles: tick, untick; another handoff's item is not found.
		item := v.Items[0].ID
		v, err = f.svc.SetItem(ctx, f.act("csm"), a.ID, nil, item, true)
		if err != nil || !v.Items[0].Done || v.Items[0].DoneBy != "user:csm" || v.ItemsDone != 1 {
			t.Fatalf("tick %+v %v", v.Items, err)
		}
		v, err = f.svc.SetItem(ctx, f.act("csm"), a.ID, nil, item, false)
		if err != nil || v.Items[0].Done || v.ItemsDone != 0 {
			t.Fatalf("untick %+v %v", v.Items, err)
		}

		// Unassigned (the pool's CSM is at capacity? no: a manager clears it),
		// then a CSM accepting takes it.
		b := f.account("Globex", "digital")
		f.win(f.deal(b.ID, "digital", nil))
		if _, err := f.svc.UpdateHandoff(ctx, f.act("ae"), b.ID, nil, success.HandoffPatch{CSMUserID: success.OptionalID{Set: true}}); !errors.Is(err, success.ErrForbidden) {
			t.Fatalf("AE changed the CSM: %v", err)
		}
		v, err = f.svc.UpdateHandoff(ctx, f.act("manager"), b.ID, nil, success.HandoffPatch{CSMUserID: success.OptionalID{Set: true}, Goals: s("g"), Stakeholders: s("s"), Risks: s("r")})
		if err != nil || v.CSMUserID != nil || v.Status != success.StatusAwaitingAcceptance {
			t.Fatalf("unassign %+v %v", v.CSHandoff, err)
		}
		if _, err := f.svc.SetItem(ctx, f.act("csm"), b.ID, nil, item, true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another handoff's item: %v", err)
		}
		bad := int64(999999)
		wantField(t, func() error {
			_, err := f.svc.UpdateHandoff(ctx, f.act("manager"), b.ID, nil, success.HandoffPatch{CSMUserID: success.OptionalID{Set: true, ID: &bad}})
			return err
		}(), "csm_user_id")
		v, err = f.svc.Accept(ctx, f.act("csm2"), b.ID, nil)
		if err != nil || v.CSMUserID == nil || *v.CSMUserID != f.users["csm2"] || !strings.Contains(v.AssignmentReason, "taken on acceptance") {
			t.Fatalf("take on accept %+v %v", v.CSHandoff, err)
		}
	})
}

// TestHealthInputsAndHistory: the inputs through the service give the
// hand-computed score of TestComputeHandComputed's first case; each change
// writes a history row, a change that moves no points writes none, and the
// daily recompute writes one row per customer per day however often it runs.
func TestHealthInputsAndHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		a := f.account("Acme", "digital")
		// Engagement: 5 events of the account's contacts in the last 30 days,
		// one older (outside the window) and one of another account's contact.
		c1, err := f.crm.CreateContact(ctx, f.act("admin"), crm.Fields{"email": "ann@acme.example", "account_id": fmt.Sprint(a.ID)})
		if err != nil {
			t.Fatal(err)
		}
		other := f.account("Other", "digital")
		c2, err := f.crm.CreateContact(ctx, f.act("admin"), crm.Fields{"email": "bob@other.example", "account_id": fmt.Sprint(other.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var evs []store.EngagementEvent
		for i := range 5 {
			evs = append(evs, store.EngagementEvent{ContactID: c1.ID, Kind: "email_click", Weight: 3, OccurredAt: now.Add(-time.Duration(i+1) * 24 * time.Hour)})
		}
		evs = append(evs, store.EngagementEvent{ContactID: c1.ID, Kind: "page_view", Weight: 1, OccurredAt: now.Add(-40 * 24 * time.Hour)})
		evs = append(evs, store.EngagementEvent{ContactID: c2.ID, Kind: "page_view", Weight: 1, OccurredAt: now.Add(-time.Hour)})
		if err := st.InTx(ctx, func(q store.Q) error { return q.InsertEngagementEvents(ctx, f.ws, evs) }); err != nil {
			t.Fatal(err)
		}

		admin := f.act("admin")
		q1, q2 := int64(1000), int64(240)
		old := now.Add(-45 * 24 * time.Hour)
		res, err := f.svc.RecordUsage(ctx, admin, a.ID, []success.UsageInput{
			{Kind: "login", Quantity: &q1, OccurredAt: ptrTime(now.Add(-2 * time.Hour)), Key: "k1"},
			{Kind: "report_run", Quantity: &q2, Key: "k2"},
			{Kind: "login", Quantity: &q1, OccurredAt: &old}, // outside the 30-day window
		})
		if err != nil || res.Accepted != 3 || res.Duplicates != 0 {
			t.Fatalf("usage %+v %v", res, err)
		}
		// The same keys again count once.
		res, err = f.svc.RecordUsage(ctx, admin, a.ID, []success.UsageInput{{Kind: "login", Quantity: &q1, Key: "k1"}})
		if err != nil || res.Accepted != 0 || res.Duplicates != 1 || res.Health.Points()["usage"] != 25 {
			t.Fatalf("duplicate usage %+v %v", res, err)
		}
		if !strings.HasPrefix(res.Health.Parts[0].Reason, "+25 usage 1,240 events/30d") || res.Health.Points()["engagement"] != -5 {
			t.Fatalf("usage/engagement %v", res.Health.Reasons())
		}
		if _, err := f.svc.SetSupport(ctx, admin, a.ID, i64(2)); err != nil {
			t.Fatal(err)
		}
		four := 4
		if _, err := f.svc.RecordNPS(ctx, admin, a.ID, success.NPSIn{Score: &four, ContactID: &c1.ID, Comment: "slow support", RespondedAt: ptrTime(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetSentiment(ctx, f.act("ae"), a.ID, "negative", "x"); !errors.Is(err, success.ErrForbidden) {
			t.Fatalf("an AE set sentiment: %v", err)
		}
		wantField(t, func() error { _, err := f.svc.SetSentiment(ctx, f.act("csm"), a.ID, "negative", " "); return err }(), "note")
		b, err := f.svc.SetSentiment(ctx, f.act("csm"), a.ID, "negative", "champion left")
		if err != nil {
			t.Fatal(err)
		}
		// 50 + 25 − 5 − 6 − 15 − 10 = 39 → critical.
		if b.Score != 39 || b.Band != success.BandCritical {
			t.Fatalf("score %d %s: %v", b.Score, b.Band, b.Reasons())
		}
		h, err := f.svc.Health(ctx, f.ws, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var causes []string
		for _, p := range h.History {
			causes = append(causes, p.Cause)
		}
		// The duplicate usage moved nothing: no row for it.
		if strings.Join(causes, ",") != "usage,support,nps,sentiment" || !h.Current.Stored || h.Current.Score != 39 {
			t.Fatalf("history %v, current %+v", causes, h.Current)
		}
		if h.Inputs.OpenSupportItems == nil || *h.Inputs.OpenSupportItems != 2 || len(h.Inputs.NPS) != 1 || h.Inputs.Sentiment != "negative" {
			t.Fatalf("inputs %+v", h.Inputs)
		}
		// Same support count again: points unchanged → no row.
		if _, err := f.svc.SetSupport(ctx, admin, a.ID, i64(2)); err != nil {
			t.Fatal(err)
		}
		// Daily: one row per customer per day, however often it runs.
		for range 2 {
			if _, err := f.svc.RecomputeAll(ctx, f.ws, success.CauseDaily, now); err != nil {
				t.Fatal(err)
			}
		}
		hs, err := st.Read().HealthHistory(ctx, f.ws, a.ID, 100)
		if err != nil || len(hs) != 5 || hs[4].Cause != success.CauseDaily || hs[4].Day != "2026-11-27" || hs[4].Score != 39 {
			t.Fatalf("history after daily %+v %v", hs, err)
		}
		// Another account with only engagement is a customer for nothing (no
		// won deal, no input): the daily run leaves it alone.
		if _, err := st.Read().GetHealth(ctx, f.ws, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a non-customer was scored: %v", err)
		}
		// A settings change recomputes every customer (inline without River).
		hset := success.DefaultHealth()
		hset.NPS.Weight = 0
		if _, err := f.svc.SaveHealthSettings(ctx, admin, &hset); err != nil {
			t.Fatal(err)
		}
		cur, err := st.Read().GetHealth(ctx, f.ws, a.ID)
		if err != nil || cur.Score != 54 || cur.Cause != success.CauseSettings || cur.Band != success.BandAtRisk {
			t.Fatalf("after settings (39 + 15 = 54): %+v %v", cur, err)
		}
		bad := success.DefaultHealth()
		bad.HealthyMin = 30
		wantField(t, func() error { _, err := f.svc.SaveHealthSettings(ctx, admin, &bad); return err }(), "critical_below")

		// Input validation names the field.
		zero := int64(0)
		wantField(t, func() error {
			_, err := f.svc.RecordUsage(ctx, admin, a.ID, []success.UsageInput{{}, {Quantity: &zero}})
			return err
		}(), "events[1].quantity")
		wantField(t, func() error {
			_, err := f.svc.RecordUsage(ctx, admin, a.ID, []success.UsageInput{{OccurredAt: ptrTime(now.Add(time.Hour))}})
			return err
		}(), "events[0].occurred_at")
		eleven := 11
		wantField(t, func() error { _, err := f.svc.RecordNPS(ctx, admin, a.ID, success.NPSIn{Score: &eleven}); return err }(), "score")
		wantField(t, func() error { _, err := f.svc.SetSupport(ctx, admin, a.ID, nil); return err }(), "open_items")
	})
}

// TestWorkspaceIsolation: another workspace's customer answers like a missing
// one on every read and write, and nothing of it changes.
func TestWorkspaceIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := setup(t, st), setup(t, st)
		acct := a.account("Acme", "digital")
		a.win(a.deal(acct.ID, "digital", nil))
		ha, err := a.svc.Handoff(ctx, a.ws, acct.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		actB := b.act("admin")
		s := "hijack"
		one := int64(1)
		five := 5
		calls := map[string]func() error{
			"handoff": func() error { _, err := b.svc.Handoff(ctx, b.ws, acct.ID, nil); return err },
			"note": func() error {
				_, err := b.svc.UpdateHandoff(ctx, actB, acct.ID, nil, success.HandoffPatch{Goals: &s})
				return err
			},
			"accept": func() error { _, err := b.svc.Accept(ctx, actB, acct.ID, nil); return err },
			"item":   func() error { _, err := b.svc.SetItem(ctx, actB, acct.ID, nil, ha.Items[0].ID, true); return err },
			"health": func() error { _, err := b.svc.Health(ctx, b.ws, acct.ID); return err },
			"usage": func() error {
				_, err := b.svc.RecordUsage(ctx, actB, acct.ID, []success.UsageInput{{Quantity: &one}})
				return err
			},
			"nps":       func() error { _, err := b.svc.RecordNPS(ctx, actB, acct.ID, success.NPSIn{Score: &five}); return err },
			"support":   func() error { _, err := b.svc.SetSupport(ctx, actB, acct.ID, &one); return err },
			"sentiment": func() error { _, err := b.svc.SetSentiment(ctx, actB, acct.ID, "negative", "x"); return err },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}
		// B's own customer cannot reach A's checklist item either.
		bAcct := b.account("Beta", "digital")
		b.win(b.deal(bAcct.ID, "digital", nil))
		if _, err := b.svc.SetItem(ctx, actB, bAcct.ID, nil, ha.Items[0].ID, true); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("item through B's handoff: %v", err)
		}
		after, err := a.svc.Handoff(ctx, a.ws, acct.ID, nil)
		if err != nil || after.Goals != "" || after.ItemsDone != 0 || after.Status != success.StatusAwaitingNote {
			t.Fatalf("A's handoff changed: %+v %v", after, err)
		}
		hist, err := st.Read().HealthHistory(ctx, a.ws, acct.ID, 10)
		if err != nil || len(hist) != 1 || hist[0].Cause != success.CauseWon {
			t.Fatalf("A's health changed: %+v %v", hist, err)
		}
		qb, err := b.svc.Queue(ctx, b.ws)
		if err != nil || len(qb.AwaitingNote) != 1 || qb.AwaitingNote[0].AccountID != bAcct.ID {
			t.Fatalf("B's queue %+v %v", qb, err)
		}
	})
}
