package scoring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// fixture is a store with workspaces A and B, a scoring service on a clock the
// test moves, and helpers to make records.
type fixture struct {
	st    *store.Store
	svc   *scoring.Service
	a, b  int64
	clock time.Time
}

func (f *fixture) contact(t *testing.T, ws int64, email, title, stage string, acct *int64) int64 {
	t.Helper()
	ctx := context.Background()
	c := model.Contact{Email: email, Title: title, LifecycleStage: stage, AccountID: acct}
	if err := f.st.InTx(ctx, func(q store.Q) error { return q.CreateContact(ctx, ws, &c) }); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) stage(t *testing.T, ws, id int64) string {
	t.Helper()
	c, err := f.st.Read().GetContact(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.LifecycleStage
}

func (f *fixture) ingest(t *testing.T, ws int64, evs ...scoring.Event) scoring.Result {
	t.Helper()
	res, err := f.svc.Ingest(context.Background(), ws, evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != len(evs) || res.Applied+res.Rejected != res.Submitted || len(res.Errors) != res.Rejected {
		t.Fatalf("does not reconcile: %+v", res)
	}
	return res
}

func (f *fixture) saveConfig(t *testing.T, ws int64, edit func(*scoring.Config)) {
	t.Helper()
	cfg := scoring.DefaultConfig()
	edit(&cfg)
	if _, err := f.svc.SaveConfig(context.Background(), model.Actor{Workspace: ws, Label: "test"}, cfg); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) history(t *testing.T, ws, id int64) []model.HistoryEntry {
	t.Helper()
	h, err := f.st.Read().History(context.Background(), ws, "contact", id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func detail(t *testing.T, h model.HistoryEntry) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(h.Detail, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Each case gets fresh stores of both dialects: the due-time sweep works across
// workspaces, so cases sharing a store would see each other's due scores.
func TestScoring(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{{"ingest", testIngest}, {"breakdown", testBreakdown}, {"due", testDue}, {"isolation", testIsolation}, {"config", testConfig}} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) { c.fn(t, newFixture(t, st)) })
		})
	}
}

// newFixture makes workspaces A and B in st and a service on a clock at t0.
func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, clock: t0}
	f.svc = &scoring.Service{St: st, Now: func() time.Time { return f.clock }}
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
	f.a, f.b = a.ID, b.ID
	return f
}

// A mixed batch: valid events by id and by email are applied, each bad one is
// rejected with its index and field, and the counts reconcile.
func testIngest(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.saveConfig(t, f.a, func(c *scoring.Config) {
		c.FitRules = []scoring.FitRule{{Field: "title", Op: "contains", Value: "VP", Points: 15}}
	})
	ann := f.contact(t, f.a, "ann@acme.com", "VP Marketing", "lead", nil)
	bob := f.contact(t, f.a, "bob@acme.com", "Engineer", "lead", nil)
	cat := f.contact(t, f.a, "cat@acme.com", "VP Finance", "customer", nil)
	dan := f.contact(t, f.b, "dan@beta.com", "", "lead", nil)
	res := f.ingest(t, f.a,
		scoring.Event{ContactID: ann, Kind: "pricing_page_view", OccurredAt: t0.Add(-14 * day), URL: "https://acme.example/pricing?utm=x"},
		scoring.Event{Email: " ANN@acme.com", Kind: "content_download", OccurredAt: t0.Add(-hour), Title: "Buyer's guide"},
		scoring.Event{Email: "nobody@acme.com", Kind: "page_view"},
		scoring.Event{ContactID: ann, Kind: "webinar"},
		scoring.Event{Kind: "page_view"},
		scoring.Event{ContactID: dan, Kind: "page_view"},
		scoring.Event{Email: "dan@beta.com", Kind: "page_view"},
		scoring.Event{ContactID: bob, Kind: "page_view", OccurredAt: t0.Add(hour)},
		scoring.Event{Email: "not an email", Kind: "page_view"},
		scoring.Event{ContactID: bob, Kind: "email_click"},
		scoring.Event{ContactID: ann, Email: "bob@acme.com", Kind: "page_view"},
		scoring.Event{ContactID: bob, Kind: "page_view", URL: strings.Repeat("x", 2001)},
		scoring.Event{ContactID: -3, Kind: "page_view"},
		scoring.Event{ContactID: bob, Kind: "page_view", OccurredAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
	)
	wantErrs := []string{"events[2].email", "events[3].kind", "events[4].contact_id", "events[5].contact_id", "events[6].email",
		"events[7].occurred_at", "events[8].email", "events[10].email", "events[11].url", "events[12].contact_id", "events[13].occurred_at"}
	var got []string
	for _, e := range res.Errors {
		got = append(got, e.Field)
		if e.Field != fmt.Sprintf("events[%d].%s", e.Index, e.Field[strings.IndexByte(e.Field, '.')+1:]) || e.Message == "" || e.Err().Field != e.Field {
			t.Errorf("error %+v does not name its index", e)
		}
	}
	if res.Applied != 3 || res.Rejected != len(wantErrs) || strings.Join(got, " ") != strings.Join(wantErrs, " ") {
		t.Fatalf("applied %d rejected %d errors %v, want 3 and %v", res.Applied, res.Rejected, got, wantErrs)
	}
	if res.Errors[0].Message != "no contact with email nobody@acme.com" {
		t.Errorf("unknown email message: %q", res.Errors[0].Message)
	}
	// ann: fit 15 + pricing view one half-life ago (10 → 5) + download an hour ago (8·2^(−1/336)).
	cur, err := f.svc.Scores(ctx, f.a, []int64{ann, bob, cat}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !near(cur[ann].Engagement, 5+7.983513506854675) || cur[ann].Fit != 15 || !near(cur[ann].Score, 27.983513506854675) {
		t.Errorf("ann: %+v", cur[ann])
	}
	if !near(cur[bob].Score, 3) {
		t.Errorf("bob: %+v", cur[bob])
	}
	if _, ok := cur[cat]; ok {
		t.Errorf("cat has a score without events")
	}
	evs, err := f.st.Read().RecentEngagementEvents(ctx, f.a, ann, 10)
	if err != nil || len(evs) != 2 || evs[0].Kind != "content_download" || evs[0].Detail["title"] != "Buyer's guide" || evs[1].Weight != 10 {
		t.Fatalf("ann's events: %+v %v", evs, err)
	}
	if f.stage(t, f.a, ann) != "lead" || len(res.Promoted) != 0 {
		t.Fatalf("promoted below the threshold: %v", res.Promoted)
	}

	// Two trial events take ann over 50: lead → mql, with the reason in history.
	res = f.ingest(t, f.a,
		scoring.Event{ContactID: ann, Kind: "trial_activity", Title: "Invited 3 teammates"},
		scoring.Event{Email: "ann@acme.com", Kind: "trial_activity", Title: "Created a project"},
		scoring.Event{ContactID: cat, Kind: "trial_activity"}, scoring.Event{ContactID: cat, Kind: "trial_activity"},
		scoring.Event{ContactID: cat, Kind: "trial_activity"}, scoring.Event{ContactID: cat, Kind: "pricing_page_view"},
	)
	if res.Applied != 6 || len(res.Promoted) != 1 || res.Promoted[0] != ann {
		t.Fatalf("second batch: %+v", res)
	}
	if f.stage(t, f.a, ann) != "mql" {
		t.Fatalf("ann is %s, want mql", f.stage(t, f.a, ann))
	}
	if f.stage(t, f.a, cat) != "customer" {
		t.Fatalf("a customer was moved to %s", f.stage(t, f.a, cat))
	}
	h := f.history(t, f.a, ann)
	if len(h) != 1 || h[0].Action != "updated" || h[0].Actor != "scoring" {
		t.Fatalf("history: %+v", h)
	}
	d := detail(t, h[0])
	top, _ := json.Marshal(d["top_contributors"])
	if fmt.Sprint(d["lifecycle_stage"]) != "[lead mql]" || d["reason"] != "score 58 reached the MQL threshold 50" || d["threshold"] != 50.0 ||
		!strings.Contains(string(top), `"+15 title contains 'VP'"`) || !strings.Contains(string(top), `"+15 trial activity: Invited 3 teammates just now (15, half-life 14 d)"`) {
		t.Fatalf("history detail: %s", h[0].Detail)
	}
	sc, err := f.st.Read().GetContactScore(ctx, f.a, ann)
	if err != nil || sc.Events != 4 || sc.MQLAt == nil || sc.DueAt == nil {
		t.Fatalf("ann's score: %+v %v", sc, err)
	}
	// An empty or oversized batch is refused whole.
	var fe *store.FieldError
	if _, err := f.svc.Ingest(ctx, f.a, nil); !errors.As(err, &fe) || fe.Field != "events" {
		t.Fatalf("empty batch: %v", err)
	}
	if _, err := f.svc.Ingest(ctx, f.a, make([]scoring.Event, 1001)); !errors.As(err, &fe) || fe.Field != "events" {
		t.Fatalf("1001 events: %v", err)
	}
}

// The breakdown a rep reads, with the issue's own example line.
func testBreakdown(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.saveConfig(t, f.a, func(c *scoring.Config) {
		c.EventWeights["pricing_page_view"] = 20
		c.FitRules = []scoring.FitRule{{Field: "title", Op: "contains", Value: "VP", Points: 15}, {Field: "segment", Op: "eq", Value: "enterprise", Points: 10}}
	})
	id := f.contact(t, f.a, "vp@acme.com", "VP Sales", "lead", nil)
	var evs []scoring.Event
	evs = append(evs, scoring.Event{ContactID: id, Kind: "pricing_page_view", URL: "https://acme.example/pricing", OccurredAt: t0.Add(-14 * day)})
	for i := 0; i < 12; i++ { // older page views, summed in one line
		evs = append(evs, scoring.Event{ContactID: id, Kind: "page_view", URL: fmt.Sprintf("https://acme.example/blog/%d", i), OccurredAt: t0.Add(-20 * day)})
	}
	evs = append(evs, scoring.Event{ContactID: id, Kind: "email_click", URL: "https://acme.example/webinar", Title: "June webinar", OccurredAt: t0.Add(-3 * hour)})
	f.ingest(t, f.a, evs...)
	b, err := f.svc.Breakdown(ctx, f.a, id, t0, 3)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	sum := 0.0
	for _, l := range b.Lines {
		texts = append(texts, l.Text)
		sum += l.Points
	}
	want := []string{
		"+15 title contains 'VP'",
		"+3 clicked /webinar in email 'June webinar' 3 hours ago (3, half-life 14 d)",
		"+10 viewed /pricing 14 days ago (20, half-life 14 d)",
		"+0.4 viewed /blog/11 20 days ago (1, half-life 14 d)",
		"+4.1 from 11 earlier events",
	}
	if strings.Join(texts, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(texts, "\n"), strings.Join(want, "\n"))
	}
	if !near(sum, b.Score) || !near(b.Score, b.Fit+b.Engagement) || b.Events != 14 || b.HalfLifeSeconds != 14*86400 {
		t.Fatalf("lines sum to %v, score %+v", sum, b)
	}
	if _, err := f.svc.Breakdown(ctx, f.b, id, t0, 3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("breakdown from another workspace: %v", err)
	}
}

// Decay below the threshold is worked off by the due-time job: an untouched MQL
// goes back to nurture, a touched one stays with a history entry.
func testDue(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.saveConfig(t, f.a, func(c *scoring.Config) {
		c.FitRules = []scoring.FitRule{{Field: "title", Op: "contains", Value: "VP", Points: 15}}
	})
	untouched := f.contact(t, f.a, "u@x.io", "", "lead", nil)
	edited := f.contact(t, f.a, "e@x.io", "", "lead", nil)
	called := f.contact(t, f.a, "c@x.io", "", "lead", nil)
	human := f.contact(t, f.a, "h@x.io", "", "mql", nil) // made an mql by a person
	active := f.contact(t, f.a, "a@x.io", "", "lead", nil)
	promoted := f.contact(t, f.a, "p@x.io", "Engineer", "lead", nil)
	var evs []scoring.Event
	for _, id := range []int64{untouched, edited, called, human, active, promoted} {
		for i := 0; i < 4; i++ {
			evs = append(evs, scoring.Event{ContactID: id, Kind: "trial_activity", OccurredAt: t0})
		}
	}
	res := f.ingest(t, f.a, evs...)
	if len(res.Promoted) != 5 {
		t.Fatalf("promoted %v", res.Promoted)
	}
	// 60 falls to 50 at t0 + 14 d·log2(1.2).
	due := t0.Add(318166417297 * time.Microsecond)
	sc, err := f.st.Read().GetContactScore(ctx, f.a, untouched)
	if err != nil || sc.DueAt == nil || !sc.DueAt.Equal(due) {
		t.Fatalf("due at %v, want %v (%v)", sc.DueAt, due, err)
	}
	// Touch two of them; give one more engagement; raise one's fit behind scoring's back.
	crmSvc := &crm.Service{St: f.st}
	if _, err := crmSvc.UpdateContact(ctx, model.Actor{Workspace: f.a, Label: "user:rep@x.io"}, edited, crm.Fields{"phone": "+1 555 0100"}); err != nil {
		t.Fatal(err)
	}
	err = f.st.InTx(ctx, func(q store.Q) error {
		a := model.Activity{Kind: "call", Subject: "intro", OccurredAt: t0, ContactID: &called}
		if err := q.CreateActivity(ctx, f.a, &a); err != nil {
			return err
		}
		c, err := q.GetContact(ctx, f.a, promoted)
		if err != nil {
			return err
		}
		c.Title = "VP Engineering"
		return q.UpdateContact(ctx, f.a, &c)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clock = t0.Add(day)
	f.ingest(t, f.a, scoring.Event{ContactID: active, Kind: "form_submit"})

	// A second before the due time nothing is due.
	r, err := f.svc.RunDue(ctx, due.Add(-time.Second))
	if err != nil || r.Claimed != 0 {
		t.Fatalf("early sweep: %+v %v", r, err)
	}
	r, err = f.svc.RunDue(ctx, due)
	if err != nil {
		t.Fatal(err)
	}
	// promoted now has fit 15: its total still clears 50, so it is rescheduled.
	if r != (scoring.DueResult{Claimed: 5, Rescheduled: 1, Decayed: 4, Nurtured: 1}) {
		t.Fatalf("sweep: %+v", r)
	}
	for id, want := range map[int64]string{untouched: "nurture", edited: "mql", called: "mql", human: "mql", active: "mql", promoted: "mql"} {
		if got := f.stage(t, f.a, id); got != want {
			t.Errorf("contact %d is %s, want %s", id, got, want)
		}
	}
	h := f.history(t, f.a, untouched)
	if d := detail(t, h[0]); h[0].Action != "updated" || fmt.Sprint(d["lifecycle_stage"]) != "[mql nurture]" || d["reason"] != "score decayed below threshold" || d["score"] != 50.0 {
		t.Fatalf("untouched history: %s %s", h[0].Action, h[0].Detail)
	}
	for _, id := range []int64{edited, called, human} {
		h := f.history(t, f.a, id)
		if h[0].Action != "score_decayed" || detail(t, h[0])["reason"] != "score decayed below threshold" {
			t.Errorf("contact %d history: %s %s", id, h[0].Action, h[0].Detail)
		}
	}
	sc, _ = f.st.Read().GetContactScore(ctx, f.a, untouched)
	if sc.DueAt != nil || sc.MQLAt != nil {
		t.Fatalf("settled score still due: %+v", sc)
	}
	ps, _ := f.st.Read().GetContactScore(ctx, f.a, promoted)
	if ps.DueAt == nil || !ps.DueAt.After(due) || ps.Fit != 15 {
		t.Fatalf("rescheduled score: %+v", ps)
	}
	if r, err := f.svc.RunDue(ctx, due); err != nil || r.Claimed != 0 {
		t.Fatalf("second sweep at the same time: %+v %v", r, err)
	}
	// The worker runs the same sweep on the service's clock: at the active
	// contact's due time it goes to nurture too (events are not a person's touch).
	as, _ := f.st.Read().GetContactScore(ctx, f.a, active)
	f.clock = *as.DueAt
	if err := (&scoring.DueWorker{Svc: f.svc}).Work(ctx, &river.Job[scoring.DueArgs]{}); err != nil {
		t.Fatal(err)
	}
	if got := f.stage(t, f.a, active); got != "nurture" {
		t.Fatalf("active contact after its due time: %s", got)
	}
	if (scoring.DueArgs{}).Kind() != "scoring_due" {
		t.Fatal("job kind changed")
	}
}

// Nothing crosses workspaces: events, scores, breakdowns, configuration, sweeps.
func testIsolation(t *testing.T, f *fixture) {
	ctx := context.Background()
	inA := f.contact(t, f.a, "same@x.io", "", "lead", nil)
	inB := f.contact(t, f.b, "same@x.io", "", "lead", nil)
	f.saveConfig(t, f.b, func(c *scoring.Config) { c.EventWeights = map[string]float64{"page_view": 100}; c.MQLThreshold = 10 })
	res := f.ingest(t, f.a, scoring.Event{Email: "same@x.io", Kind: "pricing_page_view"}, scoring.Event{ContactID: inB, Kind: "page_view"})
	if res.Applied != 1 || res.Errors[0].Field != "events[1].contact_id" {
		t.Fatalf("A's batch: %+v", res)
	}
	got, err := f.svc.Scores(ctx, f.b, []int64{inA, inB}, t0)
	if err != nil || len(got) != 0 {
		t.Fatalf("B sees scores %v %v", got, err)
	}
	if a, _ := f.svc.Scores(ctx, f.a, []int64{inA}, t0); !near(a[inA].Score, 10) {
		t.Fatalf("A's score used B's weights: %+v", a)
	}
	if _, err := f.st.Read().GetContactScore(ctx, f.b, inA); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B reads A's score: %v", err)
	}
	res = f.ingest(t, f.b, scoring.Event{Email: "same@x.io", Kind: "page_view"}, scoring.Event{Email: "same@x.io", Kind: "pricing_page_view"})
	if res.Applied != 1 || res.Errors[0].Field != "events[1].kind" || f.stage(t, f.b, inB) != "mql" || f.stage(t, f.a, inA) != "lead" {
		t.Fatalf("B's batch: %+v (A %s, B %s)", res, f.stage(t, f.a, inA), f.stage(t, f.b, inB))
	}
	if evs, _ := f.st.Read().RecentEngagementEvents(ctx, f.b, inA, 10); len(evs) != 0 {
		t.Fatalf("B lists A's events: %+v", evs)
	}
	// B's contact decays below 10 long before A's matters; the sweep moves only B's.
	r, err := f.svc.RunDue(ctx, t0.Add(365*day))
	if err != nil || r.Nurtured != 1 || f.stage(t, f.b, inB) != "nurture" || f.stage(t, f.a, inA) != "lead" {
		t.Fatalf("sweep: %+v %v", r, err)
	}
	cfgA, _ := f.svc.Config(ctx, f.a)
	if cfgA.MQLThreshold != 50 || cfgA.UpdatedAt != nil {
		t.Fatalf("A's config: %+v", cfgA)
	}
}

// Saving a configuration validates it, audits it and moves every due time.
func testConfig(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.contact(t, f.a, "x@x.io", "", "customer", nil)
	f.ingest(t, f.a, scoring.Event{ContactID: id, Kind: "trial_activity"}, scoring.Event{ContactID: id, Kind: "trial_activity"})
	sc, _ := f.st.Read().GetContactScore(ctx, f.a, id)
	// 30 → 20 with h = 14 d: t0 + 14 d·log2(1.5).
	want := t0.Add(time.Duration(math.Ceil(math.Log2(1.5)*float64(14*day)/1e3)) * time.Microsecond)
	if f.saveConfig(t, f.a, func(c *scoring.Config) { c.MQLThreshold = 20 }); sc.DueAt != nil {
		t.Fatalf("due before the threshold moved: %v", sc.DueAt)
	}
	sc, _ = f.st.Read().GetContactScore(ctx, f.a, id)
	if sc.DueAt == nil || sc.DueAt.Sub(want).Abs() > time.Microsecond {
		t.Fatalf("due %v, want %v", sc.DueAt, want)
	}
	// Half the half-life: the same crossing comes twice as soon.
	f.saveConfig(t, f.a, func(c *scoring.Config) { c.MQLThreshold = 20; c.HalfLifeSeconds = 7 * 86400 })
	sc, _ = f.st.Read().GetContactScore(ctx, f.a, id)
	if sc.DueAt == nil || sc.DueAt.Sub(t0.Add(want.Sub(t0)/2)).Abs() > time.Microsecond {
		t.Fatalf("due %v after halving the half-life", sc.DueAt)
	}
	cfg := scoring.DefaultConfig()
	cfg.FitRules = []scoring.FitRule{{Field: "title", Op: "contains", Value: "VP", Points: 5}, {Field: "title", Op: "matches", Value: "x", Points: 5}}
	_, err := f.svc.SaveConfig(ctx, model.Actor{Workspace: f.a, Label: "test"}, cfg)
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "fit_rules[1].op" {
		t.Fatalf("bad rule saved: %v", err)
	}
	got, _ := f.svc.Config(ctx, f.a)
	if got.HalfLifeSeconds != 7*86400 || got.MQLThreshold != 20 || got.UpdatedBy != "test" {
		t.Fatalf("a refused save changed the config: %+v", got)
	}
	audit, err := f.st.Read().ListAudit(ctx, f.a, 10)
	if err != nil || len(audit) != 2 || audit[0].Action != "scoring_config_update" {
		t.Fatalf("audit: %+v %v", audit, err)
	}
	// A custom field rule is checked against the field's definition and survives a reload.
	err = f.st.InTx(ctx, func(q store.Q) error {
		return q.CreateCustomField(ctx, f.a, &model.CustomField{ObjectType: "account", Key: "tier", Label: "Tier", Type: "enum", Options: []string{"gold", "silver"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.saveConfig(t, f.a, func(c *scoring.Config) {
		c.FitRules = []scoring.FitRule{{Field: "account.custom.tier", Op: "in", Value: []any{"gold"}, Points: 20}, {Field: "employees", Op: "gte", Value: "1000", Points: 10}}
	})
	got, _ = f.svc.Config(ctx, f.a)
	if len(got.FitRules) != 2 || fmt.Sprint(got.FitRules[0].Value) != "[gold]" || got.FitRules[1].Value != 1000.0 || got.FitRules[1].Label != "employees ≥ 1000" {
		t.Fatalf("rules after reload: %+v", got.FitRules)
	}
	acct := model.Account{Name: "Acme", Currency: "USD", Employees: ptr[int64](5000), Custom: model.Custom{"tier": "gold"}}
	if err := f.st.InTx(ctx, func(q store.Q) error { return q.CreateAccount(ctx, f.a, &acct) }); err != nil {
		t.Fatal(err)
	}
	vp := f.contact(t, f.a, "vp@acme.io", "", "lead", &acct.ID)
	if res := f.ingest(t, f.a, scoring.Event{ContactID: vp, Kind: "form_submit"}, scoring.Event{ContactID: vp, Kind: "pricing_page_view"}); len(res.Promoted) != 1 {
		t.Fatalf("20 + 10 fit + 20 engagement did not promote: %+v", res)
	}
}
