package economics

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/store"
)

// CheckParams validates and fills a report's parameters: the window (default
// the 12 months ending this month), period month (default) or quarter, a churn
// convention, an LTV variant, a CAC variant (fully_loaded or blended) and a
// currency (default: the workspace's, given as def).
func (s *Service) CheckParams(p MetricsParams, def string) (MetricsParams, error) {
	var err error
	if p.From, p.To, err = s.Window(p.From, p.To); err != nil {
		return p, err
	}
	if p.Period == "" {
		p.Period = "month"
	}
	if !slices.Contains(ReportPeriods, p.Period) {
		return p, fieldErr("period", "must be month or quarter")
	}
	if p.Churn == "" {
		p.Churn = ChurnStart
	}
	if !slices.Contains(ChurnConventions, p.Churn) {
		return p, fieldErr("churn", "must be one of %s", strings.Join(ChurnConventions, ", "))
	}
	if p.LTV == "" {
		p.LTV = LTVSimpleGM
	}
	if !slices.Contains(LTVVariants, p.LTV) {
		return p, fieldErr("ltv", "must be one of %s", strings.Join(LTVVariants, ", "))
	}
	if p.CAC == "" {
		p.CAC = CACFullyLoaded
	}
	if !slices.Contains(CACVariants, p.CAC) {
		return p, fieldErr("cac", "must be one of %s (paid CAC has no segment × motion: organic customers are in every cell)", strings.Join(CACVariants, ", "))
	}
	if p.Currency, err = normCurrency("currency", p.Currency, def); err != nil {
		return p, err
	}
	return p, nil
}

// Metrics reads what the report needs from ws and computes it (p is checked
// here; zero values take the defaults).
func (s *Service) Metrics(ctx context.Context, ws int64, p MetricsParams) (Metrics, error) {
	q := s.St.Read()
	w, err := q.GetWorkspace(ctx, ws)
	if err != nil {
		return Metrics{}, err
	}
	if p, err = s.CheckParams(p, w.Currency); err != nil {
		return Metrics{}, err
	}
	in, err := s.metricsInput(ctx, ws, p)
	if err != nil {
		return Metrics{}, err
	}
	return ComputeMetrics(in), nil
}

// metricsInput gathers the inputs: the customers and their movements (one
// pass) on one goroutine, everything else on another.
func (s *Service) metricsInput(ctx context.Context, ws int64, p MetricsParams) (MetricsInput, error) {
	q := s.St.Read()
	in := MetricsInput{Params: p}
	var err error
	if in.Settings, err = s.Settings(ctx, ws); err != nil {
		return in, err
	}
	to, _ := monthIndex(p.To)
	from, _ := monthIndex(p.From)
	loadFrom := monthName(from - from%3 - 3) // the quarter before the window's first: magic number
	endDay := monthEndDay(to)
	var wg sync.WaitGroup
	var cubeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		in.Cube, in.Others, cubeErr = s.buildCube(ctx, ws, p.Currency, to, endDay, in.Settings)
	}()
	err = func() error {
		var err error
		if in.Spend, err = q.ListSpend(ctx, ws, store.SpendFilter{From: loadFrom, To: p.To}); err != nil {
			return err
		}
		if in.Rules, err = q.AllocationRules(ctx, ws); err != nil {
			return err
		}
		pc, err := s.PeopleCost(ctx, ws, loadFrom, p.To)
		if err != nil {
			return err
		}
		in.People = pc.Rows
		start, _ := monthStart(loadFrom)
		end, _ := monthStart(monthName(to + 1))
		if in.Minutes, err = q.ActivityMinutesBySegment(ctx, ws, start, end); err != nil {
			return err
		}
		subs, err := q.ActiveSubscriptions(ctx, ws, endDay)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if sub.Currency == p.Currency {
				in.Subs = append(in.Subs, sub)
			}
		}
		fs, _ := monthStart(p.From)
		fe, _ := time.Parse(time.DateOnly, endDay)
		fr, err := funnel.Report(ctx, s.St, ws, funnel.Params{From: fs, To: fe, By: "motion"})
		if err != nil {
			return err
		}
		in.Funnel = &fr
		if in.OpenDeals, err = q.OpenDealsIn(ctx, ws, "high_touch"); err != nil {
			return err
		}
		if len(in.OpenDeals) > 0 {
			if in.Effort, err = forecast.EffortByDeal(ctx, q, ws); err != nil {
				return err
			}
		}
		profiles, err := s.Profiles(ctx, ws)
		if err != nil {
			return err
		}
		in.Rates = RoleRates(profiles, p.Currency, MonthOf(s.now()), in.Settings.WorkingHoursPerYear)
		if s.Scenarios != nil {
			if in.Scenarios, err = s.Scenarios(ctx, ws); err != nil {
				return err
			}
		}
		return nil
	}()
	wg.Wait()
	return in, errors.Join(err, cubeErr)
}

// buildCube reads the customers of currency acquired up to endDay and their
// movements into a cube; customers of other currencies are counted. The
// movements are read into a compact buffer while the customers load (two
// queries at once), then added.
func (s *Service) buildCube(ctx context.Context, ws int64, currency string, to int, endDay string, set Settings) (*Cube, []CurrencyCount, error) {
	q := s.St.Read()
	type move struct {
		acct   int64
		amount int64
		month  int32
		kind   int8
	}
	var moves []move
	var moveErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		moves = make([]move, 0, 1<<16)
		moveErr = q.EachMovement(ctx, ws, monthName(to), func(m store.MovementRow) error {
			k, ok := kindIndex[m.Kind]
			if !ok {
				k = -1
			}
			moves = append(moves, move{acct: m.AccountID, amount: m.Amount, month: int32(monthBytes(m.Month)), kind: int8(k)})
			return nil
		})
	}()
	acqs, err := q.Acquisitions(ctx, ws, endDay)
	var sources map[int64]string
	if err == nil {
		sources, err = q.AccountSources(ctx, ws)
	}
	<-done
	if err != nil {
		return nil, nil, err
	}
	if moveErr != nil {
		return nil, nil, moveErr
	}
	c := NewCube(currency, to)
	others := map[string]int64{}
	paid := map[string]bool{}
	for _, ch := range set.PaidChannels {
		paid[ch] = true
	}
	for _, a := range acqs {
		if a.Currency != currency {
			others[a.Currency]++
			c.Ignore(a.AccountID)
			continue
		}
		co, err := monthIndex(a.Month)
		if err != nil {
			continue
		}
		ch := ChannelKey(sources[a.AccountID])
		if ch == "" {
			ch = "unknown"
		}
		c.AddCustomer(Customer{AccountID: a.AccountID, Cohort: co, Cell: c.CellIndex(cellOf(a.Segment, a.Motion)), Channel: ch, Paid: paid[ch], NewMRR: a.Amount})
	}
	c.Finish()
	for _, m := range moves {
		c.add(m.acct, int(m.month), int(m.kind), m.amount)
	}
	var oc []CurrencyCount
	for _, cur := range sortedKeys(others) {
		oc = append(oc, CurrencyCount{Currency: cur, Customers: others[cur]})
	}
	return c, oc, nil
}

// CostToCloseOf prices the time spent on deal id of ws (any deal; the
// recommendations look at open high-touch ones) against the LTV of its
// segment × motion: from the last guardrail evaluation when there is one,
// else from a report computed now.
func (s *Service) CostToCloseOf(ctx context.Context, ws, id int64) (CostToClose, error) {
	q := s.St.Read()
	d, err := q.DealForCost(ctx, ws, id)
	if err != nil {
		return CostToClose{}, err
	}
	full, err := q.GetDeal(ctx, ws, id)
	if err != nil {
		return CostToClose{}, err
	}
	w, err := q.GetWorkspace(ctx, ws)
	if err != nil {
		return CostToClose{}, err
	}
	set, err := s.Settings(ctx, ws)
	if err != nil {
		return CostToClose{}, err
	}
	eff, err := forecast.DealEffort(ctx, q, ws, id)
	if err != nil {
		return CostToClose{}, err
	}
	minutes := map[string]int64{}
	for _, r := range eff.Roles {
		minutes[r.Role] = r.Minutes
	}
	profiles, err := s.Profiles(ctx, ws)
	if err != nil {
		return CostToClose{}, err
	}
	rates := RoleRates(profiles, w.Currency, MonthOf(s.now()), set.WorkingHoursPerYear)
	cell := cellOf(d.Segment, d.Motion)
	ltv, asOf, err := s.cellLTV(ctx, ws, cell)
	if err != nil {
		return CostToClose{}, err
	}
	c := ComputeCostToClose(d, full.Outcome, minutes, rates, w.Currency, set.WorkingHoursPerYear, ltv, set.LTVCACTarget)
	c.LTVAsOf = asOf
	return c, nil
}

// cellLTV is the headline LTV of a cell: from the stored guardrail state
// (evaluated by the guardrail job) or, without one, from a report now.
func (s *Service) cellLTV(ctx context.Context, ws int64, cell Cell) (*LTVFigure, string, error) {
	states, err := s.St.Read().GuardrailStates(ctx, ws)
	if err != nil {
		return nil, "", err
	}
	for _, g := range states {
		if g.Segment == cell.Segment && g.Motion == cell.Motion {
			if cm, ok := decodeCell(g.Detail); ok {
				f := pick(cm.LTV, LTVSimpleGM)
				return &f, "guardrail evaluation of " + g.EvaluatedAt.UTC().Format(time.RFC3339), nil
			}
		}
	}
	m, err := s.Metrics(ctx, ws, MetricsParams{})
	if err != nil {
		return nil, "", err
	}
	for _, cm := range m.Matrix.Cells {
		if cm.Segment == cell.Segment && cm.Motion == cell.Motion {
			f := pick(cm.LTV, m.Matrix.LTV)
			return &f, "computed now (" + m.From + " to " + m.To + ")", nil
		}
	}
	return nil, "", nil
}
