package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

// DemoPartner names the demo's outsourced SDR team.
const DemoPartner = "Pipeline Pros"

// partners gives the demo a sales-as-a-service partner with five full months
// of delivered work and the month to date, so /economics/partners tells its
// story: two partner reps book meetings and hand SMB deals to the AEs, who
// accept most of them (and reject a few); the in-house LDRs do the same over
// the same months. The SQLs are the existing SMB deals of those months (their
// wins and revenue are the demo's own), so nothing else in the demo changes.
// Over those months the partner delivers SQLs for less than the in-house LDRs'
// loaded cost, and a staffing scenario measured against it says "actual".
func (g *gen) partners() error {
	cur := "USD"
	usd := func(n int64) int64 { return n * 100 }
	thisMonth := economics.MonthOf(g.now)
	start := economics.AddMonths(thisMonth, -5)
	var reps []int64
	// The partner's reps sign in to this workspace like the team (one demo
	// workspace per slug, so the address carries the demo's domain).
	domain := strings.TrimPrefix(g.res.AdminEmail, "admin@")
	for _, name := range []string{"Kai Lund", "Rosa Diaz"} {
		u := model.User{Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + ".pipelinepros@" + domain, Name: name + " (Pipeline Pros)", PasswordHash: g.repHash}
		if err := g.q.CreateUser(g.ctx, &u); err != nil {
			return fmt.Errorf("demo: partner user: %w", err)
		}
		if err := g.q.SetMembership(g.ctx, g.ws, u.ID, model.RolePartner); err != nil {
			return fmt.Errorf("demo: partner member: %w", err)
		}
		g.owners[model.RolePartner] = append(g.owners[model.RolePartner], u.ID)
		reps = append(reps, u.ID)
	}
	p := model.Partner{Name: DemoPartner, Currency: cur, StartMonth: start, UserIDs: reps,
		Note:         "demo: an outsourced SDR team booking meetings with SMB owners",
		PartnerTerms: model.PartnerTerms{RetainerMonthly: usd(3_000), FeePerMeeting: usd(100), FeePerSQL: usd(350), SetupFee: usd(2_000), ManagementMonthly: usd(800)}}
	if err := g.q.CreatePartner(g.ctx, g.ws, &p); err != nil {
		return fmt.Errorf("demo: partner: %w", err)
	}
	if err := g.q.SetPartnerMembers(g.ctx, g.ws, p.ID, reps); err != nil {
		return fmt.Errorf("demo: partner members: %w", err)
	}

	first, err := time.Parse("2006-01", start)
	if err != nil {
		return err
	}
	// SMB digital accounts with contacts: whom the meetings are with.
	var smb []int
	for i, a := range g.accts {
		if a.Segment == "smb" && a.Motion == "digital" && len(a.contacts) > 0 {
			smb = append(smb, i)
		}
	}
	ldrs := g.owners[model.RoleLDR]
	meeting := func(owner int64, at time.Time) error {
		a := &g.accts[smb[g.r.IntN(len(smb))]]
		c := a.contacts[g.r.IntN(len(a.contacts))]
		act := model.Activity{Kind: "meeting", Subject: "Intro call — " + a.Name, OccurredAt: at, DurationMinutes: int64(25 + g.r.IntN(20)),
			OwnerID: &owner, ContactID: &c, AccountID: &a.ID, Participants: []string{fmt.Sprintf("contact:%d", c)}, Custom: model.Custom{"booked_by": "demo"}}
		if err := g.q.CreateActivity(g.ctx, g.ws, &act); err != nil {
			return fmt.Errorf("demo: meeting: %w", err)
		}
		g.res.Activities++
		return nil
	}
	// Meetings month by month: the partner ramps in its first month.
	for k := 0; k <= 5; k++ {
		from := first.AddDate(0, k, 0)
		to := from.AddDate(0, 1, 0)
		if to.After(g.now) {
			to = g.now
		}
		span := to.Sub(from)
		if span <= 0 {
			continue
		}
		frac := float64(span) / float64(from.AddDate(0, 1, 0).Sub(from))
		partnerN, inHouseN := 20+g.r.IntN(6), 12+g.r.IntN(5)
		if k == 0 {
			partnerN /= 2
		}
		partnerN, inHouseN = int(float64(partnerN)*frac), int(float64(inHouseN)*frac)
		for range partnerN {
			if err := meeting(reps[g.r.IntN(len(reps))], from.Add(time.Duration(g.r.Int64N(int64(span)))).Truncate(time.Minute)); err != nil {
				return err
			}
		}
		for range inHouseN {
			if err := meeting(ldrs[g.r.IntN(len(ldrs))], from.Add(time.Duration(g.r.Int64N(int64(span)))).Truncate(time.Minute)); err != nil {
				return err
			}
		}
	}
	// SQLs: the SMB digital deals opened in the partner's months, handed off
	// by a partner rep or an in-house LDR (the rest came in on their own).
	notWon := 0
	for _, d := range g.made {
		a := g.accts[d.acct]
		if a.Segment != "smb" || a.Motion != "digital" || len(a.contacts) == 0 || d.CreatedAt.Before(first) || d.OwnerID == nil {
			continue
		}
		partnerShare := 40 // the partner works the outbound list
		if d.CreatedAt.Before(first.AddDate(0, 1, 0)) {
			partnerShare = 15 // ramping
		}
		var from int64
		switch roll := g.r.IntN(100); {
		case roll < partnerShare:
			from = reps[g.r.IntN(len(reps))]
		case roll < partnerShare+30:
			from = ldrs[g.r.IntN(len(ldrs))]
		default:
			continue
		}
		dealID := d.ID
		h := model.Handoff{ContactID: a.contacts[0], DealID: &dealID, FromUserID: &from, ToUserID: d.OwnerID, Kind: "ldr_to_ae", CreatedAt: d.CreatedAt,
			Note:     "demo: owner wants to replace spreadsheets this quarter",
			BANT:     model.BANT{Budget: "fits the Starter plan", Authority: "the owner decides", Need: "leads slip through the cracks", Timeline: "this quarter"},
			Decision: model.HandoffPending}
		decided := d.CreatedAt.Add(time.Duration(4+g.r.IntN(44)) * time.Hour)
		if !decided.After(g.now) {
			h.Decision, h.DecidedAt, h.DecidedBy = model.HandoffAccepted, &decided, d.OwnerID
			// About one in seven of the deals that were not won was never a
			// real SQL: the AE said so.
			if d.Outcome != "won" {
				if notWon++; notWon%7 == 3 {
					h.Decision, h.DecisionNote = model.HandoffRejected, "not a fit after discovery: no budget this year"
				}
			}
		}
		if err := g.q.InsertHandoffAt(g.ctx, g.ws, &h); err != nil {
			return fmt.Errorf("demo: handoff: %w", err)
		}
		g.res.SQLs++
	}
	// A staffing scenario measured against the partner: with five full months
	// of data its meetings and SQLs are the partner's actuals ("actual from 5
	// months"), next to the article's assumptions.
	won, churn, arpa := 0.2, 0.02, usd(500)
	pid := p.ID
	sc := staffing.Input{Name: DemoPartner + " (measured)", Kind: staffing.Partner, Params: staffing.Params{Segment: "smb", Motion: "digital", Currency: cur,
		Reps: 2, MeetingsPerMonth: 12, SQLsPerMonth: 6, SQLToWon: &won, ARPA: &arpa, MonthlyChurn: &churn, RampCurve: []float64{}, PartnerID: &pid,
		RetainerMonthly: p.RetainerMonthly, FeePerMeeting: p.FeePerMeeting, FeePerSQL: p.FeePerSQL, SetupFee: p.SetupFee, ManagementMonthly: p.ManagementMonthly}}
	if err := staffing.Validate(&sc, cur); err != nil {
		return fmt.Errorf("demo: measured scenario: %w", err)
	}
	b, err := json.Marshal(sc.Params)
	if err != nil {
		return err
	}
	if err := g.q.CreateStaffingScenario(g.ctx, g.ws, &store.StaffingScenario{Name: sc.Name, Kind: sc.Kind, Params: b}); err != nil {
		return fmt.Errorf("demo: staffing scenario: %w", err)
	}
	return nil
}
