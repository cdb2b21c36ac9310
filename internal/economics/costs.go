package economics

import (
	"slices"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Acquisition cost by month, segment × motion and channel: the spend ledger
// (allocated as the spend summary does) and the people cost of the cost
// profiles, put together under the conventions below.

// AcquisitionRoles are the cost-profile roles whose people cost is sales and
// marketing: customer success (csm) serves customers already won, so it is
// not part of what a customer costs to acquire.
var AcquisitionRoles = []string{model.RoleLDR, model.RoleAE, model.RoleManager, "partner"}

// Cost conventions.
const (
	ConvBlendedCost = "Blended cost = the spend ledger as entered (every category, people entries included) for the period's months, in the report currency; " +
		"by segment × motion, the spend allocated to the cell (explicit or by rule, as the spend summary allocates; unallocated spend counts in the total only)."
	ConvFullyLoadedCost = "Fully loaded cost = the ledger's programs, tools, partner fees and overhead + people cost of the acquisition roles (ldr, ae, manager, partner; not csm) " +
		"from the cost profiles (annual loaded cost ÷ 12 × headcount × time split by motion). In a month where the profiles have such headcount, the ledger's people entries are left out " +
		"(the profiles replace them, so salaries are not counted twice); in a month without, the ledger's people entries count instead."
	ConvPeopleToSegments = "People cost reaches a segment × motion cell through its motion: each month, a motion's people cost is shared among segments by the activity minutes " +
		"logged that month on accounts of each segment in that motion (when at least 600 minutes are logged), else by the window's new customers of each segment in the motion; " +
		"what neither can place stays unattributed (in the total, in no cell)."
)

// monthCost is one month's acquisition cost in the report currency.
type monthCost struct {
	ledger          int64            // every ledger entry (blended)
	ledgerPeople    int64            // of which category people
	byChannel       map[string]int64 // ledger by channel ("" no channel)
	cellLedger      map[Cell]int64   // allocated ledger, all categories
	cellPeopleEntry map[Cell]int64   // allocated ledger, people entries
	unallocated     int64
	profilePeople   map[string]int64 // acquisition people cost by motion
	profiles        bool             // the profiles have acquisition headcount this month
}

func newMonthCost() *monthCost {
	return &monthCost{byChannel: map[string]int64{}, cellLedger: map[Cell]int64{}, cellPeopleEntry: map[Cell]int64{}, profilePeople: map[string]int64{}}
}

// fullyLoaded is the month's fully loaded cost.
func (m *monthCost) fullyLoaded() int64 {
	if m.profiles {
		var p int64
		for _, v := range m.profilePeople {
			p += v
		}
		return m.ledger - m.ledgerPeople + p
	}
	return m.ledger
}

// costBook is acquisition cost by month index.
type costBook struct {
	currency string
	months   map[int]*monthCost
}

func (b *costBook) month(i int) *monthCost {
	m := b.months[i]
	if m == nil {
		m = newMonthCost()
		b.months[i] = m
	}
	return m
}

// buildCosts allocates the ledger entries of currency with rules and adds the
// people cost rows (acquisition roles only).
func buildCosts(currency string, entries []model.SpendEntry, rules []model.AllocationRule, people []PeopleCostRow) *costBook {
	b := &costBook{currency: currency, months: map[int]*monthCost{}}
	for _, e := range entries {
		if e.Currency != currency {
			continue
		}
		mi, err := monthIndex(e.Month)
		if err != nil {
			continue
		}
		m := b.month(mi)
		m.ledger += e.Amount
		m.byChannel[e.Channel] += e.Amount
		people := e.Category == model.SpendPeople
		if people {
			m.ledgerPeople += e.Amount
		}
		put := func(c Cell, v int64) {
			m.cellLedger[c] += v
			if people {
				m.cellPeopleEntry[c] += v
			}
		}
		if e.Segment != "" {
			put(cellOf(e.Segment, e.Motion), e.Amount)
			continue
		}
		r := MatchRule(rules, e.Category, e.Channel)
		if r == nil {
			m.unallocated += e.Amount
			continue
		}
		for i, part := range Allocate(e.Amount, r.Shares) {
			put(cellOf(r.Shares[i].Segment, r.Shares[i].Motion), part)
		}
	}
	for _, row := range people {
		if row.Currency != currency || !slices.Contains(AcquisitionRoles, row.Role) {
			continue
		}
		mi, err := monthIndex(row.Month)
		if err != nil {
			continue
		}
		m := b.month(mi)
		m.profilePeople[row.Motion] += row.Amount
		if row.Headcount > 0 {
			m.profiles = true
		}
	}
	return b
}

// segmentShares decides, per month and motion, how the motion's people cost
// is shared among segments (ConvPeopleToSegments): shares by segment, and the
// basis used ("activities", "new_customers" or "" when none).
type segmentShares struct {
	minutes map[int]map[string]map[string]int64 // month → motion → segment → minutes
	newCust map[string]map[string]int64         // motion → segment → new customers in the window
}

func (s segmentShares) of(month int, motion string) (map[string]float64, string) {
	if mins := s.minutes[month][motion]; mins != nil {
		var tot int64
		for _, v := range mins {
			tot += v
		}
		if tot >= MinSplitMinutes {
			out := map[string]float64{}
			for seg, v := range mins {
				out[seg] = float64(v) / float64(tot)
			}
			return out, "activities"
		}
	}
	if nc := s.newCust[motion]; nc != nil {
		var tot int64
		for _, v := range nc {
			tot += v
		}
		if tot > 0 {
			out := map[string]float64{}
			for seg, v := range nc {
				out[seg] = float64(v) / float64(tot)
			}
			return out, "new_customers"
		}
	}
	return nil, ""
}

func newSegmentShares(rows []store.SegmentMinutes) segmentShares {
	s := segmentShares{minutes: map[int]map[string]map[string]int64{}, newCust: map[string]map[string]int64{}}
	for _, r := range rows {
		mi, err := monthIndex(r.Month)
		if err != nil {
			continue
		}
		if s.minutes[mi] == nil {
			s.minutes[mi] = map[string]map[string]int64{}
		}
		if s.minutes[mi][r.Motion] == nil {
			s.minutes[mi][r.Motion] = map[string]int64{}
		}
		seg := r.Segment
		if seg == "" {
			seg = Unassigned
		}
		s.minutes[mi][r.Motion][seg] += r.Minutes
	}
	return s
}

// windowCost is acquisition cost summed over months [from, to].
type windowCost struct {
	Ledger          int64
	FullyLoaded     int64
	Unallocated     int64
	UnattributedPpl int64
	ByChannel       map[string]int64
	CellLedger      map[Cell]int64 // blended, by cell
	CellFully       map[Cell]int64 // fully loaded, by cell
	MotionFully     map[string]int64
	ShareBasis      map[string]int // basis → months × motions using it
}

// window sums the book over months [from, to] (indexes, inclusive).
func (b *costBook) window(from, to int, shares segmentShares) windowCost {
	w := windowCost{ByChannel: map[string]int64{}, CellLedger: map[Cell]int64{}, CellFully: map[Cell]int64{}, MotionFully: map[string]int64{}, ShareBasis: map[string]int{}}
	for mi := from; mi <= to; mi++ {
		m := b.months[mi]
		if m == nil {
			continue
		}
		w.Ledger += m.ledger
		w.FullyLoaded += m.fullyLoaded()
		w.Unallocated += m.unallocated
		for ch, v := range m.byChannel {
			w.ByChannel[ch] += v
		}
		for c, v := range m.cellLedger {
			w.CellLedger[c] += v
			if m.profiles {
				v -= m.cellPeopleEntry[c]
			}
			w.CellFully[c] += v
			w.MotionFully[c.Motion] += v
		}
		if !m.profiles {
			continue
		}
		for _, motion := range sortedKeys(m.profilePeople) {
			amount := m.profilePeople[motion]
			w.MotionFully[motion] += amount
			sh, basis := shares.of(mi, motion)
			if sh == nil {
				w.UnattributedPpl += amount
				w.ShareBasis["unattributed"]++
				continue
			}
			w.ShareBasis[basis]++
			segs := sortedKeys(sh)
			bps := make([]model.Share, len(segs))
			for i, seg := range segs {
				bps[i] = model.Share{Segment: seg, Motion: motion, BP: int(sh[seg]*1e6 + 0.5)}
			}
			for i, part := range allocateParts(amount, bps) {
				w.CellFully[cellOf(segs[i], motion)] += part
			}
		}
	}
	return w
}

// allocateParts splits amount by weights (any scale) so the parts sum to it
// exactly: rounded down, the remainder to the largest fractions.
func allocateParts(amount int64, shares []model.Share) []int64 {
	var tot int64
	for _, s := range shares {
		tot += int64(s.BP)
	}
	out := make([]int64, len(shares))
	if tot == 0 {
		return out
	}
	neg := amount < 0
	a := amount
	if neg {
		a = -a
	}
	type rem struct {
		i int
		r float64
	}
	var given int64
	rems := make([]rem, len(shares))
	for i, s := range shares {
		exact := float64(a) * float64(s.BP) / float64(tot)
		out[i] = int64(exact)
		rems[i] = rem{i, exact - float64(out[i])}
		given += out[i]
	}
	slices.SortStableFunc(rems, func(x, y rem) int {
		switch {
		case x.r > y.r:
			return -1
		case x.r < y.r:
			return 1
		}
		return 0
	})
	for k := 0; given < a; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	if neg {
		for i := range out {
			out[i] = -out[i]
		}
	}
	return out
}
