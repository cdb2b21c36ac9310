package subscriptions_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// The property test drives the service with random subscription histories
// (creates with back-dated starts and ends, changes, cancellations,
// reactivations, on a few accounts) while keeping its own plain model of what
// each subscription is on each day. Then, for random periods, the MRR bridge
// must start and end at the MRR the model computes and satisfy
// end = start + new + expansion + reactivation − contraction − churn; and every
// stored movement must be what the model says happened to its account that
// day (churn only when no subscription is left, reactivation only for a former
// customer, and so on). The service must also accept exactly the operations
// the model considers valid.

type mEvent struct {
	date   string
	seq    int
	mrr    int64
	active bool
	end    bool
}

type mSub struct {
	id       int64
	acct     int64
	events   []mEvent
	start    string
	end      string
	mrr      int64
	qty      int64
	price    int64
	interval string
}

// lastDate is the date of the newest event that is not a trailing end.
func (s *mSub) lastBody() string {
	d := s.start
	for _, e := range s.events {
		if !e.end && e.date > d {
			d = e.date
		}
	}
	return d
}

func (s *mSub) last() string {
	d := s.start
	for _, e := range s.events {
		if e.date > d {
			d = e.date
		}
	}
	return d
}

// stateAt is the subscription's (active, mrr) at the end of day.
func (s *mSub) stateAt(day string) (bool, int64) {
	evs := append([]mEvent(nil), s.events...)
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].date != evs[j].date {
			return evs[i].date < evs[j].date
		}
		return evs[i].seq < evs[j].seq
	})
	active, mrr := false, int64(0)
	for _, e := range evs {
		if e.date > day {
			break
		}
		active, mrr = e.active, e.mrr
	}
	if !active {
		return false, 0
	}
	return true, mrr
}

type world struct {
	subs []*mSub
	seq  int
}

func (w *world) account(acct int64, day string) (bool, int64) {
	var any bool
	var sum int64
	for _, s := range w.subs {
		if s.acct != acct {
			continue
		}
		a, m := s.stateAt(day)
		any = any || a
		sum += m
	}
	return any, sum
}

func (w *world) total(day string) int64 {
	var sum int64
	for _, s := range w.subs {
		_, m := s.stateAt(day)
		sum += m
	}
	return sum
}

func (w *world) event(s *mSub, date string, mrr int64, active, end bool) {
	w.seq++
	s.events = append(s.events, mEvent{date: date, seq: w.seq, mrr: mrr, active: active, end: end})
}

func shift(day string, n int) string {
	t, _ := time.Parse(time.DateOnly, day)
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

func randDay(r *rand.Rand, from string, span int) string { return shift(from, r.IntN(span)) }

func TestMRRIdentityProperty(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runProperty(t, st, seed) })
		}
	})
}

func runProperty(t *testing.T, st *store.Store, seed uint64) {
	f := newFixture(t, st)
	r := rand.New(rand.NewPCG(seed, seed*7919))
	accts := []int64{f.account("P1", "smb"), f.account("P2", "mid_market"), f.account("P3", "enterprise")}
	w := &world{}
	prices := []int64{0, 999, 10_000, 49_900, 120_000}
	check := func(op string, err error, valid bool) bool {
		t.Helper()
		if valid && err != nil {
			t.Fatalf("%s: refused a valid operation: %v", op, err)
		}
		if !valid && err == nil {
			t.Fatalf("%s: accepted an invalid operation", op)
		}
		if !valid && fieldOf(err) == "" {
			t.Fatalf("%s: refused without naming a field: %v", op, err)
		}
		return valid
	}
	for i := 0; i < 40; i++ {
		roll := r.IntN(10)
		if len(w.subs) == 0 || roll < 3 {
			acct := accts[r.IntN(len(accts))]
			start := randDay(r, "2024-01-01", 1200)
			qty, price := int64(1+r.IntN(5)), prices[r.IntN(len(prices))]
			iv := model.BillingIntervals[r.IntN(3)]
			in := subscriptions.Input{AccountID: &acct, Quantity: &qty, UnitPrice: &price, Interval: &iv, StartDate: &start}
			end := ""
			if r.IntN(10) < 3 {
				end = shift(start, 1+r.IntN(500))
				in.EndDate = &end
			}
			sub, err := f.svc.Create(f.ctx, f.act, in)
			check("create", err, true)
			s := &mSub{id: sub.ID, acct: acct, start: start, end: end, mrr: model.MonthlyValue(qty, price, iv), qty: qty, price: price, interval: iv}
			w.event(s, start, s.mrr, true, false)
			if end != "" {
				w.event(s, end, s.mrr, false, true)
			}
			w.subs = append(w.subs, s)
			continue
		}
		s := w.subs[r.IntN(len(w.subs))]
		switch {
		case roll < 6: // change the quantity
			eff := shift(s.lastBody(), r.IntN(200)-20)
			qty := s.qty + int64(1+r.IntN(4))
			if r.IntN(2) == 0 && s.qty > 1 {
				qty = int64(1 + r.IntN(int(s.qty-1)))
			}
			_, err := f.svc.Change(f.ctx, f.act, s.id, subscriptions.ChangeInput{EffectiveDate: &eff, Quantity: &qty})
			valid := eff >= s.start && eff >= s.lastBody() && (s.end == "" || eff < s.end)
			if check(fmt.Sprintf("change %d on %s (start %s, last %s, end %q)", s.id, eff, s.start, s.lastBody(), s.end), err, valid) {
				s.qty = qty
				s.mrr = model.MonthlyValue(s.qty, s.price, s.interval)
				w.event(s, eff, s.mrr, true, false)
			}
		case roll < 8: // cancel
			end := shift(s.lastBody(), r.IntN(300)-10)
			_, err := f.svc.Cancel(f.ctx, f.act, s.id, subscriptions.CancelInput{EndDate: &end})
			valid := !(s.end != "" && s.end <= today) && end >= s.start && end >= s.lastBody()
			if check(fmt.Sprintf("cancel %d on %s (start %s, last %s, end %q)", s.id, end, s.start, s.lastBody(), s.end), err, valid) {
				if s.end != "" { // a scheduled end moves
					for k := range s.events {
						if s.events[k].end && s.events[k].date == s.end {
							s.events[k].date = end
						}
					}
				} else {
					w.event(s, end, s.mrr, false, true)
				}
				s.end = end
			}
		default: // reactivate
			if s.end != "" && s.end > today && r.IntN(2) == 0 {
				_, err := f.svc.Reactivate(f.ctx, f.act, s.id, subscriptions.ReactivateInput{})
				check("withdraw", err, true)
				for k := range s.events {
					if s.events[k].end && s.events[k].date == s.end {
						s.events = append(s.events[:k], s.events[k+1:]...)
						break
					}
				}
				s.end = ""
				continue
			}
			base := s.end
			if base == "" {
				base = s.last()
			}
			day := shift(base, r.IntN(120)-10)
			_, err := f.svc.Reactivate(f.ctx, f.act, s.id, subscriptions.ReactivateInput{Date: &day})
			valid := s.end != "" && day >= s.end
			if check(fmt.Sprintf("reactivate %d on %s (end %q)", s.id, day, s.end), err, valid) {
				w.event(s, day, s.mrr, true, false)
				for k := range s.events {
					if s.events[k].end {
						s.events[k].end = false // no longer a trailing end
					}
				}
				s.end = ""
			}
		}
	}

	// Periods: the bridge starts and ends at the model's MRR, and adds up.
	for i := 0; i < 15; i++ {
		from := randDay(r, "2023-10-01", 1500)
		to := shift(from, r.IntN(700))
		rep, err := f.svc.Bridge(f.ctx, f.act.Workspace, from, to, "")
		if err != nil {
			t.Fatal(err)
		}
		var b subscriptions.Bridge
		if len(rep.Totals) == 1 {
			b = rep.Totals[0]
		} else if len(rep.Totals) > 1 {
			t.Fatalf("several currencies: %+v", rep.Totals)
		}
		wantStart, wantEnd := w.total(shift(from, -1)), w.total(to)
		if b.Start != wantStart || b.End != wantEnd {
			t.Fatalf("%s..%s: bridge %d → %d, model %d → %d", from, to, b.Start, b.End, wantStart, wantEnd)
		}
		if b.Start+b.New+b.Expansion+b.Reactivation-b.Contraction-b.Churn != b.End || (len(rep.Totals) == 1 && !b.Holds) {
			t.Fatalf("%s..%s: identity fails: %+v", from, to, b)
		}
		if len(rep.Months) > 0 && rep.Months[len(rep.Months)-1].End != wantEnd {
			t.Fatalf("%s..%s: months end at %d, want %d", from, to, rep.Months[len(rep.Months)-1].End, wantEnd)
		}
	}

	// Every movement is what happened to its account that day, and every day
	// something happened has its movement.
	for _, acct := range accts {
		ms, err := f.st.Read().AccountMovements(f.ctx, f.act.Workspace, acct)
		if err != nil {
			t.Fatal(err)
		}
		byDay := map[string]model.MRRMovement{}
		for _, m := range ms {
			byDay[m.Date] = m
		}
		days := map[string]bool{}
		for _, s := range w.subs {
			if s.acct == acct {
				for _, e := range s.events {
					days[e.date] = true
				}
			}
		}
		var ordered []string
		for d := range days {
			ordered = append(ordered, d)
		}
		sort.Strings(ordered)
		ever := false
		for _, d := range ordered {
			wasActive, before := w.account(acct, shift(d, -1))
			isActive, after := w.account(acct, d)
			m, has := byDay[d]
			delete(byDay, d)
			want := ""
			switch {
			case !wasActive && isActive && !ever:
				want = "new"
			case !wasActive && isActive:
				want = "reactivation"
			case wasActive && !isActive:
				want = "churn"
			case wasActive && isActive && after > before:
				want = "expansion"
			case wasActive && isActive && after < before:
				want = "contraction"
			}
			ever = ever || isActive
			if want == "" {
				if has {
					t.Fatalf("account %d on %s: movement %s %d, but nothing changed (%v %d → %v %d)", acct, d, m.Kind, m.Amount, wasActive, before, isActive, after)
				}
				continue
			}
			if !has || m.Kind != want || model.MovementSign(m.Kind)*m.Amount != after-before {
				t.Fatalf("account %d on %s: movement %+v (present %v), want %s of %d", acct, d, m, has, want, after-before)
			}
		}
		for d, m := range byDay {
			t.Fatalf("account %d: movement on %s (%s) on a day with no change", acct, d, m.Kind)
		}
	}
}
