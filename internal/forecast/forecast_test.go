package forecast_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture writes records straight through the store, with the times a test needs.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	ws  int64
}

func newFixture(t *testing.T, st *store.Store, slug string) *fixture {
	f := &fixture{t: t, ctx: context.Background(), st: st}
	w := model.Workspace{Name: slug, Slug: slug, Currency: "USD"}
	f.tx(func(q store.Q) error { return q.CreateWorkspace(f.ctx, &w) })
	f.ws = w.ID
	return f
}

func (f *fixture) tx(fn func(q store.Q) error) {
	f.t.Helper()
	if err := f.st.InTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) user(name, email, role string) int64 {
	f.t.Helper()
	u := model.User{Email: email, Name: name}
	f.tx(func(q store.Q) error {
		if err := q.CreateUser(f.ctx, &u); err != nil {
			return err
		}
		return q.SetMembership(f.ctx, f.ws, u.ID, role)
	})
	return u.ID
}

// deal is one deal to write: stays are the stages it stayed in before its
// current one (entered a day apart from its creation).
type deal struct {
	pipeline, stage, currency string
	amount                    int64
	owner                     int64
	ecd                       string
	outcome, reason           string
	created, closed           string
	stays                     []string
}

func (f *fixture) deal(d deal) int64 {
	f.t.Helper()
	m := model.Deal{Name: fmt.Sprintf("%s %s %d", d.pipeline, d.stage, d.amount), Amount: d.amount, Currency: d.currency, Pipeline: d.pipeline, Stage: d.stage,
		ExpectedCloseDate: d.ecd, Outcome: d.outcome, LossReason: d.reason, Custom: model.Custom{}}
	if m.Currency == "" {
		m.Currency = "USD"
	}
	if d.owner != 0 {
		m.OwnerID = &d.owner
	}
	m.CreatedAt = date("2026-01-01")
	if d.created != "" {
		m.CreatedAt = date(d.created)
	}
	if d.closed != "" {
		c := date(d.closed).Add(12 * time.Hour)
		if d.created != "" { // whole days from creation to close
			c = date(d.closed)
		}
		m.ClosedAt = &c
	}
	f.tx(func(q store.Q) error {
		if err := q.CreateDeal(f.ctx, f.ws, &m); err != nil {
			return err
		}
		for i, s := range append(d.stays, d.stage) {
			if err := q.EnterStage(f.ctx, f.ws, m.ID, d.pipeline, s, "test", "", m.CreatedAt.Add(time.Duration(i)*24*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	return m.ID
}

func (f *fixture) activity(dealID, owner int64, minutes int64, at string, parts ...string) {
	f.t.Helper()
	a := model.Activity{Kind: "meeting", Subject: "work", OccurredAt: date(at), DurationMinutes: minutes, DealID: &dealID, Participants: parts, Custom: model.Custom{}}
	if owner != 0 {
		a.OwnerID = &owner
	}
	f.tx(func(q store.Q) error { return q.CreateActivity(f.ctx, f.ws, &a) })
}

// handMade is the workspace every report test reads; the expected figures in
// the tests are computed by hand from it (default pipelines: high_touch suspect
// 5 %, prospect 10, approach 25, negotiation 50 best_case, close 80 commit, order
// 100 closed; digital qualified 10, trial 30 best_case, proposal 60 commit, won
// 100 closed).
type handMade struct {
	*fixture
	ann, bob, mgr, gone int64
	o1, w1, w2          int64
}

func newHandMade(t *testing.T, st *store.Store) *handMade {
	h := &handMade{fixture: newFixture(t, st, "hand")}
	h.ann = h.user("Ann Archer", "ann@hand.example", model.RoleAE)
	h.bob = h.user("Bob Baker", "bob@hand.example", model.RoleAE)
	h.mgr = h.user("Mia Manager", "mia@hand.example", model.RoleManager)
	h.gone = h.user("Gus Gone", "gus@hand.example", model.RoleAE)
	h.tx(func(q store.Q) error {
		p := model.Pool{Name: "Enterprise AEs", Role: "ae", Team: "enterprise", Regions: []string{}, Industries: []string{}, Capacity: 50}
		if err := q.CreatePool(h.ctx, h.ws, &p); err != nil {
			return err
		}
		if err := q.SetPoolMember(h.ctx, h.ws, model.PoolMember{PoolID: p.ID, UserID: h.ann, Active: true, Regions: []string{}, Industries: []string{}}); err != nil {
			return err
		}
		return q.RemoveMembership(h.ctx, h.ws, h.gone)
	})
	// Open deals.
	h.o1 = h.deal(deal{pipeline: "high_touch", stage: "negotiation", amount: 1000, owner: h.ann, ecd: "2026-08-15", stays: []string{"suspect", "prospect", "approach"}})
	h.deal(deal{pipeline: "high_touch", stage: "close", amount: 2000, owner: h.ann, ecd: "2026-07-01"})
	h.deal(deal{pipeline: "high_touch", stage: "suspect", amount: 3000, owner: h.bob})
	h.deal(deal{pipeline: "digital", stage: "trial", amount: 500, owner: h.bob, ecd: "2026-05-20"})
	h.deal(deal{pipeline: "high_touch", stage: "prospect", amount: 999, currency: "EUR", owner: h.ann, ecd: "2026-07-01"})
	h.deal(deal{pipeline: "high_touch", stage: "ghost", amount: 700, owner: h.bob})
	// Closed in the window 2026-01-01 … 2026-06-30.
	h.w1 = h.deal(deal{pipeline: "high_touch", stage: "order", amount: 4000, owner: h.ann, outcome: "won", created: "2026-01-10", closed: "2026-03-01",
		stays: []string{"suspect", "prospect", "approach", "negotiation", "close"}})
	h.w2 = h.deal(deal{pipeline: "digital", stage: "won", amount: 600, owner: h.bob, outcome: "won", created: "2026-04-01", closed: "2026-04-11"})
	h.activity(h.w2, h.bob, 30, "2026-03-27") // five days before the deal was opened
	h.activity(h.w2, h.bob, 30, "2026-04-05")
	h.deal(deal{pipeline: "high_touch", stage: "approach", amount: 1500, owner: h.ann, outcome: "lost", reason: "price", created: "2026-02-01", closed: "2026-03-15",
		stays: []string{"suspect", "prospect"}})
	h.deal(deal{pipeline: "high_touch", stage: "negotiation", amount: 800, owner: h.bob, outcome: "no_decision", reason: "budget frozen", closed: "2026-05-02"})
	h.deal(deal{pipeline: "high_touch", stage: "prospect", amount: 200, owner: h.bob, outcome: "lost", closed: "2026-06-30", stays: []string{"suspect"}})
	// Outside the window: not in any figure.
	h.deal(deal{pipeline: "high_touch", stage: "order", amount: 9999, owner: h.ann, outcome: "won", created: "2025-10-01", closed: "2025-12-01"})
	h.deal(deal{pipeline: "high_touch", stage: "approach", amount: 9999, owner: h.ann, outcome: "lost", created: "2026-01-01", closed: "2026-07-01"})
	return h
}

func (h *handMade) params() forecast.Params {
	return forecast.Params{From: date("2026-01-01"), To: date("2026-06-30"), MinSample: 2}
}

type cat struct{ deals, amount, weighted int64 }

func checkBucket(t *testing.T, what string, b forecast.Bucket, deals, amount, weighted int64, cats map[string]cat) {
	t.Helper()
	if b.Deals != deals || b.Amount != amount || b.Weighted != weighted {
		t.Errorf("%s: %d deals, %d amount, %d weighted; want %d, %d, %d", what, b.Deals, b.Amount, b.Weighted, deals, amount, weighted)
	}
	if len(b.Categories) != len(model.ForecastCategories) {
		t.Fatalf("%s: %d categories", what, len(b.Categories))
	}
	for i, c := range b.Categories {
		if c.Category != model.ForecastCategories[i] {
			t.Errorf("%s: category %d is %s", what, i, c.Category)
		}
		if cats == nil {
			continue
		}
		w := cats[c.Category]
		if c.Deals != w.deals || c.Amount != w.amount || c.Weighted != w.weighted {
			t.Errorf("%s/%s: %d deals, %d amount, %d weighted; want %+v", what, c.Category, c.Deals, c.Amount, c.Weighted, w)
		}
	}
}

func keys(bs []forecast.Bucket) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Key)
	}
	return out
}

func find(t *testing.T, bs []forecast.Bucket, key string) forecast.Bucket {
	t.Helper()
	for _, b := range bs {
		if b.Key == key {
			return b
		}
	}
	t.Fatalf("no bucket %q in %v", key, keys(bs))
	return forecast.Bucket{}
}

// TestForecastHandMade checks the weighted pipeline of the hand-made workspace.
// Open (USD): negotiation 1,000 × 50 % = 500 best_case (Ann, Aug); close 2,000 ×
// 80 % = 1,600 commit (Ann, Jul); suspect 3,000 × 5 % = 150 pipeline (Bob, no
// date); digital trial 500 × 30 % = 150 best_case (Bob, May); ghost stage 700 →
// omitted at 0 (Bob, no date). Won in the window: 4,000 (Ann, March) and 600
// (Bob, April digital) under closed at 100 %. The EUR deal is only counted.
func TestForecastHandMade(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHandMade(t, st)
		other := newFixture(t, st, "other") // workspace isolation: none of this shows
		other.deal(deal{pipeline: "high_touch", stage: "close", amount: 77_777, ecd: "2026-08-01"})
		other.deal(deal{pipeline: "high_touch", stage: "order", amount: 55_555, outcome: "won", created: "2026-02-01", closed: "2026-03-01"})

		f, err := forecast.Report(h.ctx, st, h.ws, h.params())
		if err != nil {
			t.Fatal(err)
		}
		if f.Currency != "USD" || f.Period != "quarter" || f.OtherCurrencyDeals != 1 || f.UnknownStageDeals != 1 {
			t.Fatalf("currency %s period %s other %d unknown %d", f.Currency, f.Period, f.OtherCurrencyDeals, f.UnknownStageDeals)
		}
		checkBucket(t, "total", f.Total, 7, 11_800, 7_000, map[string]cat{
			"pipeline": {1, 3000, 150}, "best_case": {2, 1500, 650}, "commit": {1, 2000, 1600}, "closed": {2, 4600, 4600}, "omitted": {1, 700, 0},
		})
		if got := fmt.Sprint(keys(f.ByPeriod)); got != "[2026-Q1 2026-Q2 2026-Q3 none]" {
			t.Fatalf("periods %s", got)
		}
		checkBucket(t, "Q1", f.ByPeriod[0], 1, 4000, 4000, map[string]cat{"closed": {1, 4000, 4000}})
		checkBucket(t, "Q2", f.ByPeriod[1], 2, 1100, 750, map[string]cat{"best_case": {1, 500, 150}, "closed": {1, 600, 600}})
		checkBucket(t, "Q3", f.ByPeriod[2], 2, 3000, 2100, map[string]cat{"best_case": {1, 1000, 500}, "commit": {1, 2000, 1600}})
		checkBucket(t, "none", f.ByPeriod[3], 2, 3700, 150, map[string]cat{"pipeline": {1, 3000, 150}, "omitted": {1, 700, 0}})

		if got := fmt.Sprint(keys(f.ByOwner)); got != fmt.Sprintf("[user:%d user:%d]", h.ann, h.bob) {
			t.Fatalf("owners %s", got)
		}
		checkBucket(t, "Ann", f.ByOwner[0], 3, 7000, 6100, nil)
		checkBucket(t, "Bob", f.ByOwner[1], 4, 4800, 900, nil)
		if f.ByOwner[0].Label != "Ann Archer" {
			t.Errorf("owner label %q", f.ByOwner[0].Label)
		}
		if got := fmt.Sprint(keys(f.ByTeam)); got != "[enterprise none]" {
			t.Fatalf("teams %s", got)
		}
		checkBucket(t, "enterprise", f.ByTeam[0], 3, 7000, 6100, nil)
		checkBucket(t, "no team", f.ByTeam[1], 4, 4800, 900, nil)
		checkBucket(t, "high_touch", find(t, f.ByMotion, "high_touch"), 5, 10_700, 6_250, nil)
		checkBucket(t, "digital", find(t, f.ByMotion, "digital"), 2, 1100, 750, nil)

		// Learned (min sample 2): high_touch closed in the window: 1 won, lost
		// at approach (2), no decision at negotiation (3), lost at prospect (1).
		// Reached: order 1, close 1, negotiation 2, approach 3, prospect 4, suspect 4.
		var ht forecast.PipelineProbabilities
		for _, p := range f.Probabilities {
			if p.Pipeline == "high_touch" {
				ht = p
			}
		}
		if ht.ClosedDeals != 4 || ht.Won != 1 || ht.Unplaced != 0 {
			t.Fatalf("high_touch history: %d closed, %d won, %d unplaced", ht.ClosedDeals, ht.Won, ht.Unplaced)
		}
		want := []struct {
			stage   string
			reached int64
			pct     float64 // -1: not enough history
			open    int64
			conf    int64
		}{{"suspect", 4, 25, 3000, 150}, {"prospect", 4, 25, 0, 0}, {"approach", 3, 33.3, 0, 0}, {"negotiation", 2, 50, 1000, 500}, {"close", 1, -1, 2000, 1600}, {"order", 1, -1, 0, 0}}
		for i, w := range want {
			s := ht.Stages[i]
			if s.Stage != w.stage || s.Reached != w.reached || s.Won != 1 || s.OpenAmount != w.open || s.ConfiguredWeighted != w.conf {
				t.Errorf("stage %d: %+v, want %+v", i, s, w)
			}
			switch {
			case w.pct < 0 && (s.LearnedPct != nil || s.Note == ""):
				t.Errorf("%s: learned %v note %q, want not enough history", s.Stage, s.LearnedPct, s.Note)
			case w.pct >= 0 && (s.LearnedPct == nil || *s.LearnedPct != w.pct):
				t.Errorf("%s: learned %v, want %v", s.Stage, s.LearnedPct, w.pct)
			}
		}
		// Configured: 150 + 500 + 1,600 = 2,250. Learned: suspect 3,000 × 1/4 =
		// 750, negotiation 1,000 × 1/2 = 500 → 1,250; close (2,000) has no rate.
		if ht.ConfiguredWeighted != 2250 || ht.LearnedWeighted != 1250 || ht.NotLearnedAmount != 2000 || ht.OpenAmount != 6000 || ht.OpenDeals != 3 {
			t.Errorf("high_touch totals: configured %d learned %d not learned %d open %d (%d deals)", ht.ConfiguredWeighted, ht.LearnedWeighted, ht.NotLearnedAmount, ht.OpenAmount, ht.OpenDeals)
		}

		// The other workspace sees only its own deals.
		fo, err := forecast.Report(h.ctx, st, other.ws, h.params())
		if err != nil {
			t.Fatal(err)
		}
		checkBucket(t, "other total", fo.Total, 2, 77_777+55_555, 62_222+55_555, nil)
	})
}

// TestPipelineHandMade checks win rates, cycle, velocity and loss reasons.
func TestPipelineHandMade(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHandMade(t, st)
		other := newFixture(t, st, "other")
		other.deal(deal{pipeline: "high_touch", stage: "close", amount: 1, outcome: "lost", reason: "price", closed: "2026-03-01"})
		r, err := forecast.PipelineReport(h.ctx, st, h.ws, h.params())
		if err != nil {
			t.Fatal(err)
		}
		if r.OtherCurrencyDeals != 1 {
			t.Errorf("other currency %d", r.OtherCurrencyDeals)
		}
		type want struct {
			won, lost, nd  int64
			wr, wrND       float64
			avg            int64
			cycle, engaged float64
			open, velocity int64
			reasons        string
		}
		check := func(o forecast.Outcomes, w want) {
			t.Helper()
			if o.Won != w.won || o.Lost != w.lost || o.NoDecision != w.nd || o.OpenOpportunities != w.open {
				t.Errorf("%s: won %d lost %d nd %d open %d; want %+v", o.Key, o.Won, o.Lost, o.NoDecision, o.OpenOpportunities, w)
			}
			if o.WinRate == nil || *o.WinRate != w.wr || o.WinRateNoDecisionAsLoss == nil || *o.WinRateNoDecisionAsLoss != w.wrND {
				t.Errorf("%s: win rates %v %v; want %v %v", o.Key, o.WinRate, o.WinRateNoDecisionAsLoss, w.wr, w.wrND)
			}
			if o.AverageWonDeal == nil || *o.AverageWonDeal != w.avg || o.CycleDays == nil || *o.CycleDays != w.cycle ||
				o.CycleDaysFromFirstEngagement == nil || *o.CycleDaysFromFirstEngagement != w.engaged {
				t.Errorf("%s: avg %v cycle %v engaged %v; want %d %v %v", o.Key, o.AverageWonDeal, o.CycleDays, o.CycleDaysFromFirstEngagement, w.avg, w.cycle, w.engaged)
			}
			if o.VelocityPerDay == nil || *o.VelocityPerDay != w.velocity {
				t.Errorf("%s: velocity %v, want %d", o.Key, o.VelocityPerDay, w.velocity)
			}
			var got string
			for _, l := range o.LossReasons {
				got += fmt.Sprintf("%s/%s:%d:%d:%v ", l.Outcome, l.Reason, l.Count, l.Amount, l.Share)
			}
			if got != w.reasons {
				t.Errorf("%s: loss reasons %q, want %q", o.Key, got, w.reasons)
			}
		}
		// Total: won 2 (4,000 in 50 days; 600 in 10 days, first worked on 15
		// days before close), lost 2, no decision 1; 5 open USD deals.
		// velocity = 5 × 2,300 × 0.5 ÷ 30 = 191.67 → 192.
		check(r.Total, want{won: 2, lost: 2, nd: 1, wr: 0.5, wrND: 0.4, avg: 2300, cycle: 30, engaged: 32.5, open: 5, velocity: 192,
			reasons: "no_decision/no_decision:1:800:0.3333 lost/price:1:1500:0.3333 lost/unspecified:1:200:0.3333 "})
		var ht, dg forecast.Outcomes
		for _, o := range r.ByMotion {
			switch o.Key {
			case "high_touch":
				ht = o
			case "digital":
				dg = o
			}
		}
		// high_touch: 1 won of 3 decided → 1/3; with no decision 1/4; open 4
		// (the ghost-stage deal is open too); 4 × 4,000 × 1/3 ÷ 50 = 106.67 → 107.
		check(ht, want{won: 1, lost: 2, nd: 1, wr: 0.3333, wrND: 0.25, avg: 4000, cycle: 50, engaged: 50, open: 4, velocity: 107,
			reasons: "no_decision/no_decision:1:800:0.3333 lost/price:1:1500:0.3333 lost/unspecified:1:200:0.3333 "})
		// digital: 1 × 600 × 1 ÷ 10 = 60.
		check(dg, want{won: 1, wr: 1, wrND: 1, avg: 600, cycle: 10, engaged: 15, open: 1, velocity: 60, reasons: ""})
	})
}

// TestPipelineWorkedCheck is PRODUCT.md's velocity check through the store:
// 20 won at 50,000.00 each, every one 90 days from creation to close, 60 lost,
// 100 open → win rate 25 %, velocity 13,888.89 a day (1,388,889 cents).
func TestPipelineWorkedCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, "worked")
		f.tx(func(q store.Q) error {
			mk := func(d model.Deal) error {
				d.Custom = model.Custom{}
				d.Currency = "USD"
				d.Pipeline = "high_touch"
				return q.CreateDeal(f.ctx, f.ws, &d)
			}
			for i := range 20 {
				created := date("2026-01-01").AddDate(0, 0, i)
				closed := created.AddDate(0, 0, 90)
				if err := mk(model.Deal{Name: "won", Amount: 5_000_000, Stage: "order", Outcome: "won", CreatedAt: created, ClosedAt: &closed}); err != nil {
					return err
				}
			}
			for range 60 {
				closed := date("2026-05-01")
				if err := mk(model.Deal{Name: "lost", Amount: 1_000_000, Stage: "approach", Outcome: "lost", LossReason: "competitor", ClosedAt: &closed}); err != nil {
					return err
				}
			}
			for range 100 {
				if err := mk(model.Deal{Name: "open", Amount: 123, Stage: "prospect"}); err != nil {
					return err
				}
			}
			return nil
		})
		r, err := forecast.PipelineReport(f.ctx, st, f.ws, forecast.Params{From: date("2026-01-01"), To: date("2026-12-31")})
		if err != nil {
			t.Fatal(err)
		}
		o := r.Total
		if o.WinRate == nil || *o.WinRate != 0.25 || o.OpenOpportunities != 100 || o.AverageWonDeal == nil || *o.AverageWonDeal != 5_000_000 ||
			o.CycleDays == nil || *o.CycleDays != 90 {
			t.Fatalf("inputs: win rate %v open %d avg %v cycle %v", o.WinRate, o.OpenOpportunities, o.AverageWonDeal, o.CycleDays)
		}
		if o.VelocityPerDay == nil || *o.VelocityPerDay != 1_388_889 {
			t.Fatalf("velocity %v, want 1,388,889 (13,888.89 a day)", o.VelocityPerDay)
		}
	})
}

// TestEffort: minutes go to every internal person on an activity, by their
// role; non-users cost nothing; an activity with no one internal is
// unattributed; a removed member's time is former_member.
func TestEffort(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHandMade(t, st)
		// On o1: a 60-minute meeting owned by Ann with the manager (by email, in
		// other case), a customer contact, and Ann again → Ann 60, Mia 60.
		h.activity(h.o1, h.ann, 60, "2026-02-01", "MIA@hand.example", "buyer@customer.example", fmt.Sprintf("user:%d", h.ann))
		h.activity(h.o1, 0, 30, "2026-02-02", "buyer@customer.example") // no one internal → unattributed 30
		h.activity(h.o1, h.gone, 45, "2026-02-03")                      // removed member → former_member 45
		h.activity(h.o1, 0, 10, "2026-02-04", fmt.Sprintf("user:%d", h.bob))
		other := newFixture(t, st, "other")
		od := other.deal(deal{pipeline: "high_touch", stage: "close", amount: 5})

		e, err := forecast.DealEffort(h.ctx, st.Read(), h.ws, h.o1)
		if err != nil {
			t.Fatal(err)
		}
		var roles string
		for _, r := range e.Roles {
			roles += fmt.Sprintf("%s:%d:%v ", r.Role, r.Minutes, r.Hours)
		}
		if want := "manager:60:1 ae:70:1.17 former_member:45:0.75 unattributed:30:0.5 "; roles != want {
			t.Errorf("roles %q, want %q", roles, want)
		}
		if e.TotalMinutes != 205 || e.Activities != 4 {
			t.Errorf("total %d over %d activities, want 205 over 4", e.TotalMinutes, e.Activities)
		}
		var people string
		for _, p := range e.People {
			people += fmt.Sprintf("%s/%s:%d ", p.Name, p.Role, p.Minutes)
		}
		if want := "Ann Archer/ae:60 Mia Manager/manager:60 Gus Gone/former_member:45 Bob Baker/ae:10 "; people != want {
			t.Errorf("people %q, want %q", people, want)
		}

		all, err := forecast.EffortByDeal(h.ctx, st.Read(), h.ws)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(all[h.o1]); got != "map[ae:70 former_member:45 manager:60 unattributed:30]" {
			t.Errorf("EffortByDeal[o1] = %s", got)
		}
		if got := fmt.Sprint(all[h.w2]); got != "map[ae:60]" {
			t.Errorf("EffortByDeal[w2] = %s", got)
		}
		if len(all) != 2 {
			t.Errorf("EffortByDeal has %d deals, want 2", len(all))
		}
		// A deal of another workspace answers like a missing one.
		if _, err := forecast.DealEffort(h.ctx, st.Read(), h.ws, od); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("foreign deal: %v", err)
		}
		if _, err := forecast.DealEffort(h.ctx, st.Read(), other.ws, h.o1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("foreign deal from the other side: %v", err)
		}
	})
}
