package demo

import (
	"fmt"
	"sort"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/success"
)

// Customer success for the demo: a csm pool, the handoffs of the most recent
// won deals in every state (awaiting the AE's note, awaiting acceptance, one
// of them unassigned, accepted with part of the checklist done), and for each
// of those customers a health history over the last 90 days built by the
// real scoring from usage, NPS, support and sentiment inputs, with healthy,
// declining and critical customers.

// demoCustomers is how many recent won deals get a handoff and a history.
const demoCustomers = 30

// csProfile shapes a customer's inputs: daily usage at the start and end of
// the period, its NPS and the CSM's sentiment.
type csProfile struct {
	usageFrom, usageTo int64
	nps                int
	sentiment, note    string
	support            int64
}

var csProfiles = []csProfile{
	{usageFrom: 30, usageTo: 55, nps: 9, sentiment: "positive", note: "Sponsor presented the rollout at their all-hands", support: 0},
	{usageFrom: 40, usageTo: 45, nps: 8, sentiment: "neutral", note: "Steady; waiting on their IT for SSO", support: 1},
	{usageFrom: 45, usageTo: 8, nps: 6, sentiment: "negative", note: "Champion left; new owner has not logged in", support: 3},
	{usageFrom: 10, usageTo: 3, nps: 3, sentiment: "negative", note: "Unhappy with the import; escalated twice", support: 6},
}

var csNotes = [][3]string{
	{"Replace spreadsheets for the sales team by the end of the quarter", "Owner (sponsor); office manager (admin)", "Data sits in three spreadsheets with different formats"},
	{"Forecast accuracy within 10% for the board", "CFO (economic buyer), VP Sales (champion), RevOps analyst (admin)", "Procurement wants a security review before users are added"},
	{"Cut lead response time under one hour", "Head of sales (sponsor), two team leads", "Their inbound volume is seasonal; adoption may lag in the quiet months"},
}

func (g *gen) success() error {
	p := model.Pool{Name: "Customer success", Role: model.RoleCSM, Capacity: 100}
	if err := g.q.CreatePool(g.ctx, g.ws, &p); err != nil {
		return fmt.Errorf("demo: csm pool: %w", err)
	}
	for _, uid := range g.owners[model.RoleCSM] {
		if err := g.q.SetPoolMember(g.ctx, g.ws, model.PoolMember{PoolID: p.ID, UserID: uid, Active: true}); err != nil {
			return fmt.Errorf("demo: csm pool member: %w", err)
		}
	}
	var won []model.Deal
	lp := store.ListParams{Filters: []store.Filter{{Field: "outcome", Value: "won"}}, Limit: 200}
	for {
		page, err := g.q.ListDeals(g.ctx, g.ws, lp, nil)
		if err != nil {
			return fmt.Errorf("demo: won deals: %w", err)
		}
		for _, d := range page.Items {
			if d.AccountID != nil && d.ClosedAt != nil {
				won = append(won, d)
			}
		}
		if page.NextCursor == "" {
			break
		}
		lp.Cursor = page.NextCursor
	}
	sort.Slice(won, func(i, j int) bool {
		if !won[i].ClosedAt.Equal(*won[j].ClosedAt) {
			return won[i].ClosedAt.After(*won[j].ClosedAt)
		}
		return won[i].ID > won[j].ID
	})
	seen := map[int64]bool{}
	n := 0
	act := model.Actor{Label: "demo", Workspace: g.ws, Role: model.RoleAdmin}
	for i := range won {
		d := &won[i]
		if n == demoCustomers || seen[*d.AccountID] {
			continue
		}
		seen[*d.AccountID] = true
		wonAt := d.ClosedAt.UTC()
		// The real hook, on the deal's clock: CSM from the pool, checklist,
		// first score.
		svc := &success.Service{Assign: &assignment.Service{}, Now: func() time.Time { return wonAt }}
		if err := svc.DealWon(g.ctx, g.q, act, d); err != nil {
			return fmt.Errorf("demo: handoff of deal %d: %w", d.ID, err)
		}
		if err := g.handoffState(n, d, wonAt); err != nil {
			return err
		}
		if err := g.healthHistory(n, *d.AccountID, wonAt); err != nil {
			return err
		}
		n++
	}
	g.res.Handoffs = n
	return nil
}

// handoffState moves the n-th newest handoff along: the 4 newest await the
// AE's note, the next 4 await acceptance (one unassigned), the rest are
// accepted with older customers further through onboarding.
func (g *gen) handoffState(n int, d *model.Deal, wonAt time.Time) error {
	h, err := g.q.CSHandoffByDeal(g.ctx, g.ws, d.ID)
	if err != nil {
		return fmt.Errorf("demo: handoff: %w", err)
	}
	if n < 4 {
		if n == 1 { // half a note
			h.Goals = csNotes[0][0]
			return g.q.UpdateCSHandoff(g.ctx, g.ws, &h)
		}
		return nil
	}
	note := csNotes[n%len(csNotes)]
	h.Goals, h.Stakeholders, h.Risks = note[0], note[1], note[2]
	noteAt := wonAt.Add(time.Duration(2+g.r.IntN(20)) * time.Hour)
	h.NoteBy, h.NoteAt = "demo", &noteAt
	h.Status = success.StatusAwaitingAcceptance
	if n < 8 {
		if n == 5 {
			h.CSMUserID, h.AssignmentID, h.AssignmentReason = nil, nil, "unassigned: both CSMs were out of office when the deal was won"
		}
		return g.q.UpdateCSHandoff(g.ctx, g.ws, &h)
	}
	accAt := noteAt.Add(time.Duration(1+g.r.IntN(30)) * time.Hour)
	h.Status, h.AcceptedBy, h.AcceptedAt = success.StatusAccepted, "demo", &accAt
	if err := g.q.UpdateCSHandoff(g.ctx, g.ws, &h); err != nil {
		return fmt.Errorf("demo: accept handoff: %w", err)
	}
	items, err := g.q.OnboardingItems(g.ctx, g.ws, h.ID)
	if err != nil {
		return err
	}
	// One item per week since acceptance, in order.
	done := min(len(items), int(g.now.Sub(accAt)/(7*24*time.Hour)))
	for i := range done {
		at := accAt.Add(time.Duration(i+1) * 7 * 24 * time.Hour)
		if err := g.q.SetOnboardingItemDone(g.ctx, g.ws, h.ID, items[i].ID, &at, "demo"); err != nil {
			return err
		}
	}
	return nil
}

// healthHistory gives a customer 90 days (or since the win) of usage, an NPS
// response and, once accepted, the CSM's sentiment, and scores it week by week
// with the daily cause, then reports its support count today.
func (g *gen) healthHistory(n int, acct int64, wonAt time.Time) error {
	prof := csProfiles[n%len(csProfiles)]
	start := g.now.Add(-90 * 24 * time.Hour)
	if wonAt.After(start) {
		start = wonAt
	}
	days := int(g.now.Sub(start) / (24 * time.Hour))
	var es []store.UsageEvent
	for i := 0; i <= days; i++ {
		rate := prof.usageFrom
		if days > 0 {
			rate = prof.usageFrom + (prof.usageTo-prof.usageFrom)*int64(i)/int64(days)
		}
		q := max(1, rate-3+int64(g.r.IntN(7)))
		es = append(es, store.UsageEvent{Kind: "active_user_session", Quantity: q, OccurredAt: start.Add(time.Duration(i)*24*time.Hour + 14*time.Hour)})
	}
	if _, err := g.q.InsertUsageEvents(g.ctx, g.ws, acct, es); err != nil {
		return fmt.Errorf("demo: usage: %w", err)
	}
	if days > 20 {
		r := store.NPSResponse{Score: prof.nps, RespondedAt: start.Add(time.Duration(days/2) * 24 * time.Hour), RecordedBy: "demo", Comment: prof.note}
		if err := g.q.InsertNPS(g.ctx, g.ws, acct, &r); err != nil {
			return fmt.Errorf("demo: nps: %w", err)
		}
	}
	if n >= 8 && days > 10 {
		at := g.now.Add(-time.Duration(1+g.r.IntN(10)) * 24 * time.Hour)
		if err := g.q.SetSentiment(g.ctx, g.ws, acct, prof.sentiment, prof.note, "demo", at); err != nil {
			return err
		}
	}
	for at := start.Add(7 * 24 * time.Hour); at.Before(g.now); at = at.Add(7 * 24 * time.Hour) {
		if _, _, err := success.Recompute(g.ctx, g.q, g.ws, acct, success.CauseDaily, at); err != nil {
			return fmt.Errorf("demo: health: %w", err)
		}
	}
	if err := g.q.SetSupportItems(g.ctx, g.ws, acct, prof.support, "demo", g.now); err != nil {
		return err
	}
	_, _, err := success.Recompute(g.ctx, g.q, g.ws, acct, success.CauseSupport, g.now)
	return err
}
