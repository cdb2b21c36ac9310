package economics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The spend ledger: what sales and marketing cost, by month, category and
// channel, attributed to segments and motions either explicitly (the entry
// names both) or by rule (allocation rules share it out). See
// docs/economics.md for the conventions.

// categoryAliases are other names for the spend categories (files from
// finance tools say "Programs/Ads" or "Partner fees").
var categoryAliases = map[string]string{
	"programs/ads": "programs", "programs and ads": "programs", "ads": "programs", "advertising": "programs", "marketing programs": "programs",
	"partner fees": "partner_fees", "partners": "partner_fees", "partner": "partner_fees",
	"salaries": "people", "payroll": "people", "headcount": "people",
	"software": "tools", "tooling": "tools", "g&a": "overhead",
}

var categoryEnum = csvin.NewEnum("category", model.SpendCategories, categoryAliases)

var motionEnum = csvin.NewEnum("motion", model.Motions, map[string]string{"high touch": "high_touch", "self serve": "digital", "self-serve": "digital"})

// SpendInput creates or changes a spend entry; on a change, nil fields keep
// their value ("" clears a text field).
type SpendInput struct {
	Month      *string `json:"month"`
	Amount     *int64  `json:"amount"`
	Currency   *string `json:"currency"`
	Category   *string `json:"category"`
	Channel    *string `json:"channel"`
	Segment    *string `json:"segment"`
	Motion     *string `json:"motion"`
	Note       *string `json:"note"`
	ExternalID *string `json:"external_id"`
}

func (in SpendInput) apply(e *model.SpendEntry) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&e.Month, in.Month)
	set(&e.Currency, in.Currency)
	set(&e.Category, in.Category)
	set(&e.Channel, in.Channel)
	set(&e.Segment, in.Segment)
	set(&e.Motion, in.Motion)
	set(&e.Note, in.Note)
	set(&e.ExternalID, in.ExternalID)
	if in.Amount != nil {
		e.Amount = *in.Amount
	}
}

// ValidateSpend checks and normalises an entry: month "YYYY-MM", an amount of
// at most 10^15 minor units either way (negative amounts are credits and
// refunds), the currency (defCurrency when empty), a category (aliases such
// as "programs/ads" accepted), a channel as a lower snake key, and segment and
// motion both set (explicit attribution) or both empty (by rule).
func ValidateSpend(e *model.SpendEntry, defCurrency string) error {
	m, err := ParseMonth(e.Month)
	if err != nil {
		if strings.TrimSpace(e.Month) == "" {
			return fieldErr("month", "is required (YYYY-MM)")
		}
		return fieldErr("month", "%v", err)
	}
	e.Month = m
	if e.Amount > maxMoney || e.Amount < -maxMoney {
		return fieldErr("amount", "must be at most 10^15 minor units either way")
	}
	if e.Currency, err = normCurrency("currency", e.Currency, defCurrency); err != nil {
		return err
	}
	if strings.TrimSpace(e.Category) == "" {
		return fieldErr("category", "is required: one of %s", strings.Join(model.SpendCategories, ", "))
	}
	if e.Category, err = categoryEnum.Match(e.Category); err != nil {
		return fieldErr("category", "%v", err)
	}
	if e.Channel, err = channelKey("channel", e.Channel); err != nil {
		return err
	}
	e.Segment = normKey(e.Segment)
	if e.Segment != "" && !keyRE.MatchString(e.Segment) {
		return fieldErr("segment", "%q is not a segment key (letters, digits and _, e.g. smb)", e.Segment)
	}
	if strings.TrimSpace(e.Motion) != "" {
		if e.Motion, err = motionEnum.Match(e.Motion); err != nil {
			return fieldErr("motion", "%v", err)
		}
	} else {
		e.Motion = ""
	}
	switch {
	case e.Segment != "" && e.Motion == "":
		return fieldErr("motion", "is required with a segment: explicit attribution names both (leave both empty to allocate by rule)")
	case e.Segment == "" && e.Motion != "":
		return fieldErr("segment", "is required with a motion: explicit attribution names both (leave both empty to allocate by rule)")
	}
	e.Attribution = model.AttributionRule
	if e.Segment != "" {
		e.Attribution = model.AttributionExplicit
	}
	e.Note = strings.TrimSpace(e.Note)
	if len(e.Note) > 1000 {
		return fieldErr("note", "at most 1000 characters")
	}
	e.ExternalID = strings.TrimSpace(e.ExternalID)
	if len(e.ExternalID) > 200 {
		return fieldErr("external_id", "at most 200 characters")
	}
	return nil
}

// ChannelKey is how a channel is stored: "Paid Search" → paid_search.
func ChannelKey(s string) string { return normKey(s) }

func channelKey(field, s string) (string, error) {
	k := normKey(s)
	if k != "" && !keyRE.MatchString(k) {
		return "", fieldErr(field, "%q is not a channel name (letters, digits, spaces or _, at most 64; e.g. paid_search)", strings.TrimSpace(s))
	}
	return k, nil
}

func (s *Service) workspaceCurrency(ctx context.Context, q store.Q, ws int64) (string, error) {
	w, err := q.GetWorkspace(ctx, ws)
	if err != nil {
		return "", err
	}
	return w.Currency, nil
}

func spendDetail(e model.SpendEntry) map[string]any {
	return map[string]any{"month": e.Month, "amount": e.Amount, "currency": e.Currency, "category": e.Category, "channel": e.Channel, "segment": e.Segment, "motion": e.Motion}
}

// CreateSpend validates and stores a new spend entry in the actor's workspace.
func (s *Service) CreateSpend(ctx context.Context, act model.Actor, in SpendInput) (model.SpendEntry, error) {
	var e model.SpendEntry
	in.apply(&e)
	if in.Amount == nil {
		return e, fieldErr("amount", "is required (minor units: 120050 is 1,200.50)")
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		if err := ValidateSpend(&e, cur); err != nil {
			return err
		}
		if err := q.CreateSpend(ctx, act.Workspace, &e); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "spend_create", "spend", &e.ID, spendDetail(e))
	})
	return e, err
}

// UpdateSpend changes the fields in sets of a spend entry of the actor's workspace.
func (s *Service) UpdateSpend(ctx context.Context, act model.Actor, id int64, in SpendInput) (model.SpendEntry, error) {
	var e model.SpendEntry
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if e, err = q.GetSpend(ctx, act.Workspace, id); err != nil {
			return err
		}
		in.apply(&e)
		cur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		if err := ValidateSpend(&e, cur); err != nil {
			return err
		}
		if err := q.UpdateSpend(ctx, act.Workspace, &e); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "spend_update", "spend", &e.ID, spendDetail(e))
	})
	return e, err
}

// DeleteSpend removes a spend entry of the actor's workspace.
func (s *Service) DeleteSpend(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		e, err := q.GetSpend(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := q.DeleteSpend(ctx, act.Workspace, id); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "spend_delete", "spend", &id, spendDetail(e))
	})
}

// Rule is an allocation rule as clients see it: shares as fractions.
type Rule struct {
	ID       int64       `json:"id,omitempty"`
	Category string      `json:"category"`
	Channel  string      `json:"channel"`
	Shares   []RuleShare `json:"shares"`
}

// RuleShare is one segment × motion's fraction of a rule (0.6 = 60 %).
type RuleShare struct {
	Segment string  `json:"segment"`
	Motion  string  `json:"motion"`
	Share   float64 `json:"share"`
}

func ruleOut(r model.AllocationRule) Rule {
	out := Rule{ID: r.ID, Category: r.Category, Channel: r.Channel, Shares: []RuleShare{}}
	for _, sh := range r.Shares {
		out.Shares = append(out.Shares, RuleShare{Segment: sh.Segment, Motion: sh.Motion, Share: float64(sh.BP) / 10000})
	}
	return out
}

// ValidateRules checks a whole rule set: category "" (any) or a category,
// channel "" (any) or a channel key, at least one share, each share a
// segment, a motion and a fraction with at most 4 decimals (0.01 %), no
// segment × motion twice, shares summing to exactly 100 %, and no two rules
// for the same category and channel. Errors name rules[i].field.
func ValidateRules(in []Rule) ([]model.AllocationRule, error) {
	out := make([]model.AllocationRule, 0, len(in))
	seen := map[[2]string]int{}
	if len(in) > 200 {
		return nil, fieldErr("rules", "at most 200 rules")
	}
	for i, r := range in {
		p := fmt.Sprintf("rules[%d].", i)
		var m model.AllocationRule
		var err error
		if strings.TrimSpace(r.Category) != "" {
			if m.Category, err = categoryEnum.Match(r.Category); err != nil {
				return nil, fieldErr(p+"category", "%v", err)
			}
		}
		if m.Channel, err = channelKey(p+"channel", r.Channel); err != nil {
			return nil, err
		}
		k := [2]string{m.Category, m.Channel}
		if j, dup := seen[k]; dup {
			return nil, fieldErr(p+"channel", "rules[%d] already covers category %q and channel %q", j, m.Category, m.Channel)
		}
		seen[k] = i
		if len(r.Shares) == 0 {
			return nil, fieldErr(p+"shares", "at least one segment × motion share is required")
		}
		total := 0
		pairs := map[[2]string]bool{}
		for j, sh := range r.Shares {
			sp := fmt.Sprintf("%sshares[%d].", p, j)
			seg := normKey(sh.Segment)
			if seg == "" || !keyRE.MatchString(seg) {
				return nil, fieldErr(sp+"segment", "%q is not a segment key (e.g. smb)", sh.Segment)
			}
			mot, err := motionEnum.Match(sh.Motion)
			if err != nil || mot == "" {
				return nil, fieldErr(sp+"motion", "must be one of %s", strings.Join(model.Motions, ", "))
			}
			if pairs[[2]string{seg, mot}] {
				return nil, fieldErr(sp+"segment", "%s × %s is listed twice", seg, mot)
			}
			pairs[[2]string{seg, mot}] = true
			if math.IsNaN(sh.Share) || sh.Share <= 0 || sh.Share > 1 {
				return nil, fieldErr(sp+"share", "must be a fraction above 0 and at most 1 (0.6 is 60 %%)")
			}
			bp := int(math.Round(sh.Share * 10000))
			if math.Abs(sh.Share*10000-float64(bp)) > 1e-6 {
				return nil, fieldErr(sp+"share", "at most 4 decimals (0.0001 is 0.01 %%)")
			}
			total += bp
			m.Shares = append(m.Shares, model.Share{Segment: seg, Motion: mot, BP: bp})
		}
		if total != 10000 {
			return nil, fieldErr(p+"shares", "sum to %s %%; they must sum to 100 %%", trimFloat(float64(total)/100))
		}
		out = append(out, m)
	}
	return out, nil
}

// AllocationRules lists the allocation rules of ws.
func (s *Service) AllocationRules(ctx context.Context, ws int64) ([]Rule, error) {
	rs, err := s.St.Read().AllocationRules(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rs))
	for _, r := range rs {
		out = append(out, ruleOut(r))
	}
	return out, nil
}

// SaveAllocationRules replaces the allocation rules of the actor's workspace.
func (s *Service) SaveAllocationRules(ctx context.Context, act model.Actor, in []Rule) ([]Rule, error) {
	rs, err := ValidateRules(in)
	if err != nil {
		return nil, err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.ReplaceAllocationRules(ctx, act.Workspace, rs); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "spend_rules_update", "spend_rules", nil, map[string]any{"rules": len(rs)})
	})
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rs))
	for _, r := range rs {
		out = append(out, ruleOut(r))
	}
	return out, nil
}

// MatchRule finds the rule that allocates spend of category and channel: the
// most specific wins — category and channel, then channel alone (any
// category), then category alone (any channel), then the default rule (both
// empty). nil means no rule matches: the spend stays unallocated.
func MatchRule(rules []model.AllocationRule, category, channel string) *model.AllocationRule {
	var best *model.AllocationRule
	rank := -1
	for i := range rules {
		r := &rules[i]
		if (r.Category != "" && r.Category != category) || (r.Channel != "" && r.Channel != channel) {
			continue
		}
		k := 0
		switch {
		case r.Category != "" && r.Channel != "":
			k = 3
		case r.Channel != "":
			k = 2
		case r.Category != "":
			k = 1
		}
		if k > rank {
			best, rank = r, k
		}
	}
	return best
}

// Allocate splits amount (minor units) by shares in basis points so the parts
// sum to amount exactly: each part is rounded down, then the units left over
// go to the largest remainders (earlier shares first on ties). A negative
// amount is split as its magnitude and negated.
func Allocate(amount int64, shares []model.Share) []int64 {
	out := make([]int64, len(shares))
	if len(shares) == 0 {
		return out
	}
	neg := amount < 0
	a := amount
	if neg {
		a = -a
	}
	type rem struct {
		i int
		r int64
	}
	rems := make([]rem, len(shares))
	var given int64
	for i, sh := range shares {
		// a ≤ 10^15 and bp ≤ 10^4: the product fits in int64.
		p := a * int64(sh.BP)
		out[i] = p / 10000
		rems[i] = rem{i, p % 10000}
		given += out[i]
	}
	sort.SliceStable(rems, func(x, y int) bool { return rems[x].r > rems[y].r })
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

// SpendCell is spend of one month, currency and category.
type SpendCell struct {
	Month    string `json:"month"`
	Currency string `json:"currency"`
	Category string `json:"category"`
	Amount   int64  `json:"amount"`
}

// AllocatedCell is spend that reached one segment × motion in one currency:
// Explicit from entries that name it, ByRule from allocation rules.
type AllocatedCell struct {
	Currency string `json:"currency"`
	Segment  string `json:"segment"`
	Motion   string `json:"motion"`
	Explicit int64  `json:"explicit"`
	ByRule   int64  `json:"by_rule"`
	Total    int64  `json:"total"`
}

// UnallocatedCell is spend to be allocated by rule that no rule matches.
type UnallocatedCell struct {
	Currency string `json:"currency"`
	Category string `json:"category"`
	Channel  string `json:"channel"`
	Amount   int64  `json:"amount"`
	Entries  int    `json:"entries"`
}

// CurrencyAmount is a total in one currency.
type CurrencyAmount struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// SpendSummary is the ledger of a window, totalled and allocated.
type SpendSummary struct {
	From        string            `json:"from"`
	To          string            `json:"to"`
	Entries     int               `json:"entries"`
	Totals      []CurrencyAmount  `json:"totals"`
	ByCategory  []SpendCell       `json:"by_month_category"`
	Allocated   []AllocatedCell   `json:"allocated"`
	Unallocated []UnallocatedCell `json:"unallocated"`
	Convention  string            `json:"convention"`
}

// SpendConvention says how the summary allocates.
const SpendConvention = "Spend of the months from..to inclusive, per currency (never converted). An entry that names its segment and motion counts there in full (explicit); " +
	"any other entry is shared out by the most specific allocation rule (category and channel, channel alone, category alone, default), " +
	"split in minor units so the parts sum to the entry exactly; an entry no rule matches is listed as unallocated, never dropped. " +
	"Totals = Σ allocated + Σ unallocated."

// SummarizeSpend totals and allocates entries with rules (pure: the store
// reads are the caller's).
func SummarizeSpend(from, to string, entries []model.SpendEntry, rules []model.AllocationRule) SpendSummary {
	sum := SpendSummary{From: from, To: to, Entries: len(entries), Convention: SpendConvention,
		Totals: []CurrencyAmount{}, ByCategory: []SpendCell{}, Allocated: []AllocatedCell{}, Unallocated: []UnallocatedCell{}}
	totals := map[string]int64{}
	cells := map[[3]string]int64{}
	alloc := map[[3]string]*AllocatedCell{}
	unalloc := map[[3]string]*UnallocatedCell{}
	cell := func(cur, seg, mot string) *AllocatedCell {
		k := [3]string{cur, seg, mot}
		c := alloc[k]
		if c == nil {
			c = &AllocatedCell{Currency: cur, Segment: seg, Motion: mot}
			alloc[k] = c
		}
		return c
	}
	for _, e := range entries {
		totals[e.Currency] += e.Amount
		cells[[3]string{e.Month, e.Currency, e.Category}] += e.Amount
		if e.Segment != "" {
			c := cell(e.Currency, e.Segment, e.Motion)
			c.Explicit += e.Amount
			c.Total += e.Amount
			continue
		}
		r := MatchRule(rules, e.Category, e.Channel)
		if r == nil {
			k := [3]string{e.Currency, e.Category, e.Channel}
			u := unalloc[k]
			if u == nil {
				u = &UnallocatedCell{Currency: e.Currency, Category: e.Category, Channel: e.Channel}
				unalloc[k] = u
			}
			u.Amount += e.Amount
			u.Entries++
			continue
		}
		for i, part := range Allocate(e.Amount, r.Shares) {
			c := cell(e.Currency, r.Shares[i].Segment, r.Shares[i].Motion)
			c.ByRule += part
			c.Total += part
		}
	}
	for _, cur := range sortedKeys(totals) {
		sum.Totals = append(sum.Totals, CurrencyAmount{Currency: cur, Amount: totals[cur]})
	}
	for k, v := range cells {
		sum.ByCategory = append(sum.ByCategory, SpendCell{Month: k[0], Currency: k[1], Category: k[2], Amount: v})
	}
	sort.Slice(sum.ByCategory, func(i, j int) bool {
		a, b := sum.ByCategory[i], sum.ByCategory[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		return slices.Index(model.SpendCategories, a.Category) < slices.Index(model.SpendCategories, b.Category)
	})
	for _, c := range alloc {
		sum.Allocated = append(sum.Allocated, *c)
	}
	sort.Slice(sum.Allocated, func(i, j int) bool {
		a, b := sum.Allocated[i], sum.Allocated[j]
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.Segment != b.Segment {
			return segmentOrder(a.Segment) < segmentOrder(b.Segment)
		}
		return a.Motion < b.Motion
	})
	for _, u := range unalloc {
		sum.Unallocated = append(sum.Unallocated, *u)
	}
	sort.Slice(sum.Unallocated, func(i, j int) bool {
		a, b := sum.Unallocated[i], sum.Unallocated[j]
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return a.Channel < b.Channel
	})
	return sum
}

// segmentOrder sorts the default segments by size, then the others by name.
func segmentOrder(s string) string {
	if i := slices.Index(model.Segments, s); i >= 0 {
		return fmt.Sprintf("0%d", i)
	}
	return "1" + s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SpendSummary reads and summarises the spend of ws in the months from..to.
func (s *Service) SpendSummary(ctx context.Context, ws int64, from, to string) (SpendSummary, error) {
	q := s.St.Read()
	entries, err := q.ListSpend(ctx, ws, store.SpendFilter{From: from, To: to})
	if err != nil {
		return SpendSummary{}, err
	}
	rules, err := q.AllocationRules(ctx, ws)
	if err != nil {
		return SpendSummary{}, err
	}
	return SummarizeSpend(from, to, entries, rules), nil
}

// Window checks a from..to pair of months ("" defaults: to the current month,
// from 11 months before to) and returns it; at most 120 months.
func (s *Service) Window(from, to string) (string, string, error) {
	var err error
	if to == "" {
		to = MonthOf(s.now())
	} else if to, err = ParseMonth(to); err != nil {
		return "", "", fieldErr("to", "%v", err)
	}
	if from == "" {
		from = AddMonths(to, -11)
	} else if from, err = ParseMonth(from); err != nil {
		return "", "", fieldErr("from", "%v", err)
	}
	if from > to {
		return "", "", fieldErr("from", "must not be after to")
	}
	if len(Months(from, to)) > 120 {
		return "", "", fieldErr("from", "the window may span at most 120 months")
	}
	return from, to, nil
}
