// Package forecast computes the high-touch motion's numbers (PRODUCT.md §4, §6):
// the weighted pipeline (amount × stage probability) by period, owner, team and
// motion, broken down by forecast category; stage probabilities as configured
// and as learned from the workspace's own closed deals, side by side; win rates,
// average won deal, sales cycle, sales velocity and loss reasons per motion; and
// the effort spent on a deal, in hours by role. Deals are aggregated in SQL
// (internal/store/forecast.go); the arithmetic (arith.go) is pure. Every report
// names the conventions it used.
package forecast

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/store"
)

// Defaults of a report's parameters.
const (
	// DefaultWindowDays is the closed_at window when from is left out: this many
	// days ending on to.
	DefaultWindowDays = 365
	// DefaultMinSample is how many closed deals must have reached a stage before
	// its learned probability is shown.
	DefaultMinSample = 20
)

// Periods a forecast can be bucketed by.
var Periods = []string{"month", "quarter"}

// NoPeriod is the period key of open deals without an expected close date;
// NoOwner and NoTeam key deals without an owner or whose owner has no team.
const (
	NoPeriod = "none"
	NoOwner  = "none"
	NoTeam   = "none"
)

// Params choose what a report covers. From and To are dates (their time of day
// is ignored); both days are inside the window.
type Params struct {
	From, To time.Time
	// Currency of the report; "" means the workspace's currency. Deals in other
	// currencies are counted, not added.
	Currency string
	// Period buckets the forecast: month or quarter (default quarter).
	Period string
	// MinSample is the minimum number of closed deals reaching a stage for a
	// learned probability (default DefaultMinSample).
	MinSample int
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// Check validates p and fills its defaults. Errors are *store.FieldError
// naming the parameter.
func (p *Params) Check() error {
	if p.To.IsZero() {
		p.To = time.Now().UTC()
	}
	p.To = day(p.To)
	if p.From.IsZero() {
		p.From = p.To.AddDate(0, 0, 1-DefaultWindowDays)
	}
	p.From = day(p.From)
	if p.From.After(p.To) {
		return &store.FieldError{Field: "from", Message: "must not be after to"}
	}
	if p.To.Sub(p.From) > 20*366*24*time.Hour {
		return &store.FieldError{Field: "from", Message: "the window may span at most 20 years"}
	}
	if p.Period == "" {
		p.Period = "quarter"
	}
	if !model.Contains(Periods, p.Period) {
		return &store.FieldError{Field: "period", Message: fmt.Sprintf("%q is not one of %s", p.Period, strings.Join(Periods, ", "))}
	}
	if p.MinSample == 0 {
		p.MinSample = DefaultMinSample
	}
	if p.MinSample < 1 || p.MinSample > 1_000_000 {
		return &store.FieldError{Field: "min_sample", Message: fmt.Sprintf("%d must be 1–1000000", p.MinSample)}
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if p.Currency != "" && !currencyRE.MatchString(p.Currency) {
		return &store.FieldError{Field: "currency", Message: fmt.Sprintf("%q is not a three-letter currency code", p.Currency)}
	}
	return nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// window is [from, to+1 day) as closed_at bounds.
func (p Params) window() (time.Time, time.Time) { return p.From, p.To.AddDate(0, 0, 1) }

// ---- shared loading -------------------------------------------------------------

// data is what both reports read.
type data struct {
	p         Params
	pipes     []model.PipelineDef
	people    map[int64]store.Person
	open      []store.OpenDealGroup
	closed    []store.ClosedDealGroup // won deals; lost ones too for the pipeline report
	reach     []store.ReachCount      // the forecast's lost deals by how far they got
	otherOpen int64                   // open deals in another currency
	otherShut int64                   // deals closed in the window in another currency
}

// load reads what a report needs. The forecast splits won deals by owner and
// month and ranks how far lost ones got (learned probabilities); the pipeline
// report sums the won deals' cycles instead.
func load(ctx context.Context, st *store.Store, ws int64, p *Params, forecast bool) (*data, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	q := st.Read()
	if p.Currency == "" {
		w, err := q.GetWorkspace(ctx, ws)
		if err != nil {
			return nil, err
		}
		p.Currency = w.Currency
	}
	d := &data{p: *p}
	var err error
	if d.pipes, _, err = pipeline.Load(ctx, q, ws); err != nil {
		return nil, err
	}
	if d.people, err = q.ForecastPeople(ctx, ws); err != nil {
		return nil, err
	}
	// The three passes over the deals are independent: run them on separate
	// read connections (SQLite readers, PostgreSQL pool).
	from, to := p.window()
	var (
		open                  []store.OpenDealGroup
		closedWon, closedLost []store.ClosedDealGroup
		otherLost             int64
		errs                  [3]error
		wg                    sync.WaitGroup
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		open, errs[0] = q.ForecastOpenDeals(ctx, ws, forecast)
	}()
	go func() {
		defer wg.Done()
		closedWon, errs[1] = q.ForecastWonDeals(ctx, ws, from, to, store.WonOptions{ByOwnerMonth: forecast, Cycle: !forecast})
	}()
	go func() {
		defer wg.Done()
		if !forecast {
			closedLost, errs[2] = q.ForecastLostDeals(ctx, ws, from, to)
			return
		}
		var ranks []store.StageRank
		for _, pd := range d.pipes {
			for i, s := range pd.Stages {
				ranks = append(ranks, store.StageRank{Pipeline: pd.Key, Stage: s.Key, Rank: i})
			}
		}
		d.reach, otherLost, errs[2] = q.ForecastReach(ctx, ws, p.Currency, from, to, ranks)
	}()
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	for _, g := range open {
		if g.Currency != p.Currency {
			d.otherOpen += g.Count
			continue
		}
		d.open = append(d.open, g)
	}
	d.otherShut = otherLost
	closed := append(closedWon, closedLost...)
	var owners []int64
	for _, g := range closed {
		if g.Currency != p.Currency {
			d.otherShut += g.Count
			continue
		}
		d.closed = append(d.closed, g)
		owners = append(owners, g.OwnerID)
	}
	for _, g := range d.open {
		owners = append(owners, g.OwnerID)
	}
	if err := addFormer(ctx, q, d.people, owners); err != nil {
		return nil, err
	}
	return d, nil
}

// addFormer names the users among ids that are not members of the workspace
// any more (deal owners, activity owners): they keep their name, with no role.
func addFormer(ctx context.Context, q store.Q, people map[int64]store.Person, ids []int64) error {
	for _, id := range ids {
		if _, ok := people[id]; ok || id == 0 {
			continue
		}
		u, err := q.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			people[id] = store.Person{ID: id}
			continue
		}
		if err != nil {
			return err
		}
		people[id] = store.Person{ID: id, Name: u.Name, Email: u.Email}
	}
	return nil
}

// stage finds a pipeline stage definition.
func (d *data) stage(pipe, stage string) (model.StageDef, bool) {
	p, ok := pipeline.Find(d.pipes, pipe)
	if !ok {
		return model.StageDef{}, false
	}
	if i := p.Index(stage); i >= 0 {
		return p.Stages[i], true
	}
	return model.StageDef{}, false
}

func (d *data) pipeName(key string) string {
	if p, ok := pipeline.Find(d.pipes, key); ok {
		return p.Name
	}
	return key
}

func (d *data) ownerKey(id int64) (key, label string) {
	if id == 0 {
		return NoOwner, "No owner"
	}
	p := d.people[id]
	switch {
	case p.Name == "" && p.Email == "":
		return fmt.Sprintf("user:%d", id), fmt.Sprintf("User %d", id)
	case p.Name != "":
		return fmt.Sprintf("user:%d", id), p.Name
	default:
		return fmt.Sprintf("user:%d", id), p.Email
	}
}

func (d *data) teamKey(owner int64) (key, label string) {
	if p, ok := d.people[owner]; ok && p.Team != "" {
		return p.Team, p.Team
	}
	return NoTeam, "No team"
}

// ---- the forecast ---------------------------------------------------------------

// Forecast is the weighted pipeline report.
type Forecast struct {
	From       string             `json:"from"`
	To         string             `json:"to"`
	Currency   string             `json:"currency"`
	Period     string             `json:"period"`
	MinSample  int                `json:"min_sample"`
	Convention ForecastConvention `json:"convention"`
	// Categories lists the forecast categories in the order every bucket uses.
	Categories []string `json:"categories"`
	Total      Bucket   `json:"total"`
	ByPeriod   []Bucket `json:"by_period"`
	ByOwner    []Bucket `json:"by_owner"`
	ByTeam     []Bucket `json:"by_team"`
	ByMotion   []Bucket `json:"by_motion"`
	// Probabilities are each pipeline's stages with the configured and the
	// learned probability side by side, and the weighted totals under each.
	Probabilities []PipelineProbabilities `json:"probabilities"`
	// OtherCurrencyDeals are open deals, and deals closed in the window, whose
	// currency is not the report's: counted here, in no figure above.
	OtherCurrencyDeals int64 `json:"other_currency_deals"`
	// UnknownStageDeals are open deals whose pipeline or stage is not in the
	// workspace's pipelines (a stage removed by an edit): omitted at 0 %.
	UnknownStageDeals int64 `json:"unknown_stage_deals"`
}

// ForecastConvention says how every figure of the forecast is computed.
type ForecastConvention struct {
	Weighted   string `json:"weighted"`
	Categories string `json:"categories"`
	Period     string `json:"period"`
	Owner      string `json:"owner"`
	Team       string `json:"team"`
	Motion     string `json:"motion"`
	Learned    string `json:"learned"`
	Currency   string `json:"currency"`
}

// Bucket is the weighted pipeline of one period, owner, team or motion (or the
// total), with its split by forecast category.
type Bucket struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	Deals    int64  `json:"deals"`
	Amount   int64  `json:"amount"`
	Weighted int64  `json:"weighted"`
	// Categories holds every forecast category, in Forecast.Categories order.
	Categories []CategoryTotal `json:"categories"`
}

// CategoryTotal is one forecast category of a bucket.
type CategoryTotal struct {
	Category string `json:"category"`
	Deals    int64  `json:"deals"`
	Amount   int64  `json:"amount"`
	Weighted int64  `json:"weighted"`
}

// PipelineProbabilities are one pipeline's stage probabilities.
type PipelineProbabilities struct {
	Pipeline string `json:"pipeline"`
	Name     string `json:"name"`
	// ClosedDeals and Won are the pipeline's deals closed in the window (the
	// history the learned probabilities come from).
	ClosedDeals int64 `json:"closed_deals"`
	Won         int64 `json:"won"`
	// Unplaced are closed, not won deals none of whose stages is in the
	// pipeline any more: they reached no stage.
	Unplaced           int64              `json:"unplaced"`
	Stages             []StageProbability `json:"stages"`
	OpenDeals          int64              `json:"open_deals"`
	OpenAmount         int64              `json:"open_amount"`
	ConfiguredWeighted int64              `json:"configured_weighted"`
	// LearnedWeighted sums the stages that have a learned probability;
	// NotLearnedAmount is the open amount of the stages that do not (left out
	// of LearnedWeighted, not weighted at the configured probability).
	LearnedWeighted  int64 `json:"learned_weighted"`
	NotLearnedAmount int64 `json:"not_learned_amount"`
}

// StageProbability is one stage's configured and learned probability.
type StageProbability struct {
	Stage              string `json:"stage"`
	Name               string `json:"name"`
	Category           string `json:"forecast_category"`
	OpenDeals          int64  `json:"open_deals"`
	OpenAmount         int64  `json:"open_amount"`
	ConfiguredPct      int    `json:"configured_pct"`
	ConfiguredWeighted int64  `json:"configured_weighted"`
	// Reached is how many deals closed in the window got at least this far;
	// Won of them were won.
	Reached int64 `json:"reached"`
	Won     int64 `json:"won"`
	// LearnedPct is Won ÷ Reached in percent (one decimal); nil when fewer than
	// min_sample deals reached the stage, with Note saying so.
	LearnedPct      *float64 `json:"learned_pct"`
	LearnedWeighted *int64   `json:"learned_weighted"`
	Note            string   `json:"note,omitempty"`
}

func (p Params) forecastConvention() ForecastConvention {
	return ForecastConvention{
		Weighted: "open deals (no outcome): amount × the configured probability of the deal's current stage; " +
			"plus deals won in the window at 100 % under closed. Lost and no-decision deals are not in the forecast. " +
			"Weighted figures are rounded to a minor unit once per bucket.",
		Categories: "an open deal counts under its current stage's forecast_category (pipeline, best_case, commit, closed, omitted); " +
			"a won deal under closed; a deal whose stage is not in its pipeline under omitted at 0 %",
		Period: fmt.Sprintf("open deals by the %s of expected_close_date (none when it is not set); won deals by the %s of closed_at (UTC)", p.Period, p.Period),
		Owner:  "the deal's owner_id (none when unset)",
		Team: "the team of the owner's assignment pool: the first pool (by id) the owner is a member of whose team is set; " +
			"none when the owner is in no such pool (Rightsize has no team record; pools carry the team)",
		Motion: "the deal's pipeline: high_touch and digital are the motions' pipelines; any other pipeline is its own row",
		Learned: fmt.Sprintf("stage-to-win conversion from deals closed %s … %s: of the closed deals that reached a stage, the share won. "+
			"A deal reached every stage up to the furthest of its current stage and the stages it stayed in (stage history, same pipeline); "+
			"a won deal reached every stage. Lost and no-decision deals count as not won. Shown only when at least %d closed deals reached the stage; "+
			"the learned weighted total leaves out the stages without a learned probability.",
			p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.MinSample),
		Currency: fmt.Sprintf("amounts in minor units of %s; deals in other currencies are counted in other_currency_deals and in no figure", p.Currency),
	}
}

// acc accumulates a bucket in hundredths so that weighted sums stay exact.
type acc struct {
	key, label string
	deals      int64
	amount     int64
	w100       int64
	cats       map[string]*[3]int64 // deals, amount, w100
}

func newAcc(key, label string) *acc {
	return &acc{key: key, label: label, cats: map[string]*[3]int64{}}
}

func (a *acc) add(cat string, n, amount, w100 int64) {
	a.deals += n
	a.amount += amount
	a.w100 += w100
	c := a.cats[cat]
	if c == nil {
		c = &[3]int64{}
		a.cats[cat] = c
	}
	c[0] += n
	c[1] += amount
	c[2] += w100
}

func (a *acc) bucket() Bucket {
	b := Bucket{Key: a.key, Label: a.label, Deals: a.deals, Amount: a.amount, Weighted: Round100(a.w100), Categories: make([]CategoryTotal, 0, len(model.ForecastCategories))}
	for _, c := range model.ForecastCategories {
		ct := CategoryTotal{Category: c}
		if v := a.cats[c]; v != nil {
			ct.Deals, ct.Amount, ct.Weighted = v[0], v[1], Round100(v[2])
		}
		b.Categories = append(b.Categories, ct)
	}
	return b
}

// accs is a keyed set of buckets in first-seen order.
type accs struct {
	m     map[string]*acc
	order []string
}

func (s *accs) get(key, label string) *acc {
	if s.m == nil {
		s.m = map[string]*acc{}
	}
	a := s.m[key]
	if a == nil {
		a = newAcc(key, label)
		s.m[key] = a
		s.order = append(s.order, key)
	}
	return a
}

func (s *accs) buckets() []Bucket {
	out := make([]Bucket, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.m[k].bucket())
	}
	return out
}

// byWeighted sorts buckets by weighted amount, biggest first, then key; the
// "none" bucket goes last.
func byWeighted(bs []Bucket, none string) {
	slices.SortFunc(bs, func(a, b Bucket) int {
		if (a.Key == none) != (b.Key == none) {
			if a.Key == none {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(b.Weighted, a.Weighted); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// Report computes the forecast of ws.
func Report(ctx context.Context, st *store.Store, ws int64, p Params) (Forecast, error) {
	d, err := load(ctx, st, ws, &p, true)
	if err != nil {
		return Forecast{}, err
	}
	f := Forecast{
		From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), Currency: p.Currency, Period: p.Period, MinSample: p.MinSample,
		Convention: p.forecastConvention(), Categories: model.ForecastCategories,
		OtherCurrencyDeals: d.otherOpen + d.otherShut,
	}
	total := newAcc("total", "Total")
	var periods, owners, teams, motions accs
	for _, p := range d.pipes { // motions in pipeline order, even when empty
		motions.get(p.Key, p.Name)
	}
	put := func(pipe string, owner int64, month, cat string, n, amount, w100 int64) {
		total.add(cat, n, amount, w100)
		pk := PeriodKey(month, p.Period)
		if pk == "" {
			pk = NoPeriod
		}
		label := pk
		if pk == NoPeriod {
			label = "No close date"
		}
		periods.get(pk, label).add(cat, n, amount, w100)
		ok, ol := d.ownerKey(owner)
		owners.get(ok, ol).add(cat, n, amount, w100)
		tk, tl := d.teamKey(owner)
		teams.get(tk, tl).add(cat, n, amount, w100)
		motions.get(pipe, d.pipeName(pipe)).add(cat, n, amount, w100)
	}
	for _, g := range d.open {
		s, ok := d.stage(g.Pipeline, g.Stage)
		if !ok {
			f.UnknownStageDeals += g.Count
			put(g.Pipeline, g.OwnerID, g.Month, "omitted", g.Count, g.Amount, 0)
			continue
		}
		put(g.Pipeline, g.OwnerID, g.Month, s.ForecastCategory, g.Count, g.Amount, Weighted100(g.Amount, s.Probability))
	}
	for _, g := range d.closed {
		if g.Outcome == "won" {
			put(g.Pipeline, g.OwnerID, g.Month, "closed", g.Count, g.Amount, Weighted100(g.Amount, 100))
		}
	}
	f.Total = total.bucket()
	f.ByPeriod = periods.buckets()
	slices.SortFunc(f.ByPeriod, func(a, b Bucket) int {
		if (a.Key == NoPeriod) != (b.Key == NoPeriod) {
			if a.Key == NoPeriod {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Key, b.Key)
	})
	f.ByOwner = owners.buckets()
	byWeighted(f.ByOwner, NoOwner)
	f.ByTeam = teams.buckets()
	byWeighted(f.ByTeam, NoTeam)
	f.ByMotion = motions.buckets()
	f.Probabilities = probabilities(d)
	return f, nil
}

// probabilities puts each pipeline's configured and learned stage
// probabilities side by side over its open deals.
func probabilities(d *data) []PipelineProbabilities {
	out := make([]PipelineProbabilities, 0, len(d.pipes))
	for _, p := range d.pipes {
		pp := PipelineProbabilities{Pipeline: p.Key, Name: p.Name}
		r := Reach{Lost: make([]int64, len(p.Stages))}
		for _, c := range d.closed {
			if c.Pipeline == p.Key && c.Outcome == "won" {
				pp.ClosedDeals += c.Count
				r.Won += c.Count
			}
		}
		for _, c := range d.reach {
			if c.Pipeline != p.Key {
				continue
			}
			pp.ClosedDeals += c.Count
			if c.Furthest >= 0 && c.Furthest < len(p.Stages) {
				r.Lost[c.Furthest] += c.Count
			} else {
				pp.Unplaced += c.Count
			}
		}
		pp.Won = r.Won
		learned := Learn(r, int64(d.p.MinSample))
		openN, openAmt := map[string]int64{}, map[string]int64{}
		for _, g := range d.open {
			if g.Pipeline == p.Key {
				openN[g.Stage] += g.Count
				openAmt[g.Stage] += g.Amount
			}
		}
		var conf100 int64
		for i, s := range p.Stages {
			sp := StageProbability{Stage: s.Key, Name: s.Name, Category: s.ForecastCategory, OpenDeals: openN[s.Key], OpenAmount: openAmt[s.Key],
				ConfiguredPct: s.Probability, Reached: learned[i].Reached, Won: learned[i].Won}
			w := Weighted100(sp.OpenAmount, s.Probability)
			conf100 += w
			sp.ConfiguredWeighted = Round100(w)
			if rate := learned[i].Rate; rate != nil {
				pct := RoundTo(*rate*100, 1)
				lw := LearnedWeighted(sp.OpenAmount, learned[i])
				sp.LearnedPct, sp.LearnedWeighted = &pct, &lw
				pp.LearnedWeighted += lw
			} else {
				sp.Note = fmt.Sprintf("not enough history: %d closed deals reached this stage, %d needed", sp.Reached, d.p.MinSample)
				pp.NotLearnedAmount += sp.OpenAmount
			}
			pp.OpenDeals += sp.OpenDeals
			pp.OpenAmount += sp.OpenAmount
			pp.Stages = append(pp.Stages, sp)
		}
		pp.ConfiguredWeighted = Round100(conf100)
		out = append(out, pp)
	}
	return out
}
