package partners_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

// now is mid-June 2026: March, April and May are full months.
var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
}

// fixture is a workspace with two partner users, an in-house LDR, an AE and a
// cost profile for the LDR.
type fixture struct {
	act                model.Actor
	p1, p2, ldr, ae    int64
	contact, account   int64
	st                 *store.Store
	svc                *partners.Service
	desk               *desk.Service
	econ               *economics.Service
	partnerInput       partners.Input
	partner            model.Partner
	acceptLater, wonID int64
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	f := &fixture{st: st}
	f.econ = &economics.Service{St: st, Now: func() time.Time { return now }}
	f.svc = &partners.Service{St: st, Econ: f.econ, Now: func() time.Time { return now }}
	f.desk = &desk.Service{St: st, Now: func() time.Time { return day(4, 2) }}
	err := st.InTx(ctx, func(q store.Q) error {
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", n), Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		f.act = model.Actor{Label: "test", Workspace: w.ID, Role: model.RoleAdmin}
		for _, u := range []struct {
			id   *int64
			role string
		}{{&f.p1, model.RolePartner}, {&f.p2, model.RolePartner}, {&f.ldr, model.RoleLDR}, {&f.ae, model.RoleAE}} {
			usr := model.User{Email: fmt.Sprintf("%s%d-%d@x.example", u.role, seq.Add(1), n)}
			if err := q.CreateUser(ctx, &usr); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, w.ID, usr.ID, u.role); err != nil {
				return err
			}
			*u.id = usr.ID
		}
		a := model.Account{Name: "Buyer Co", Currency: "USD", Segment: "smb", Motion: "digital", Custom: model.Custom{}}
		if err := q.CreateAccount(ctx, w.ID, &a); err != nil {
			return err
		}
		c := model.Contact{Email: fmt.Sprintf("buyer%d@buyer.example", n), AccountID: &a.ID, LifecycleStage: "sql", Custom: model.Custom{}}
		if err := q.CreateContact(ctx, w.ID, &c); err != nil {
			return err
		}
		f.account, f.contact = a.ID, c.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The LDR costs 60,000 × 1.5 = 90,000 a year: 7,500.00 a month at 1 FTE.
	pr, err := f.econ.CreateProfile(ctx, f.act, economics.ProfileInput{Name: "LDR", Role: model.RoleLDR, BaseSalary: 6_000_000, LoadedMultiplier: ptr(1.5), TimeSplit: map[string]float64{"digital": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.econ.SetHeadcount(ctx, f.act, pr.ID, map[string]float64{"2026-03": 1, "2026-04": 1, "2026-05": 1}); err != nil {
		t.Fatal(err)
	}
	f.partnerInput = partners.Input{Name: "Acme SDR Co", PartnerTerms: model.PartnerTerms{RetainerMonthly: 400_000, FeePerMeeting: 15_000, FeePerSQL: 40_000, FeePerWon: 100_000,
		SetupFee: 250_000, ManagementMonthly: 50_000}, StartMonth: "2026-03", UserIDs: []int64{f.p2, f.p1}}
	if f.partner, err = f.svc.Create(ctx, f.act, f.partnerInput); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) meeting(t *testing.T, owner int64, kind string, at time.Time) int64 {
	t.Helper()
	a := model.Activity{Kind: kind, Subject: kind + " with buyer", OccurredAt: at, DurationMinutes: 30, OwnerID: &owner, ContactID: &f.contact, AccountID: &f.account, Participants: []string{}, Custom: model.Custom{}}
	if err := f.st.InTx(context.Background(), func(q store.Q) error { return q.CreateActivity(context.Background(), f.act.Workspace, &a) }); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// sql hands a deal from `from` to the AE at created, decided as given (at
// decided; pending when decision is ""), and returns the handoff and deal ids.
func (f *fixture) sql(t *testing.T, from int64, created time.Time, decision string, decided time.Time) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	var h model.Handoff
	err := f.st.InTx(ctx, func(q store.Q) error {
		d := model.Deal{Name: fmt.Sprintf("Deal %d", seq.Add(1)), AccountID: &f.account, Amount: 1_200_000, Currency: "USD", Pipeline: "digital", Stage: "qualified", OwnerID: &f.ae, Custom: model.Custom{}}
		if err := q.CreateDeal(ctx, f.act.Workspace, &d); err != nil {
			return err
		}
		h = model.Handoff{ContactID: f.contact, DealID: &d.ID, FromUserID: &from, ToUserID: &f.ae, Kind: "ldr_to_ae", CreatedAt: created, Decision: decision}
		if decision != "" && decision != model.HandoffPending {
			h.DecidedAt, h.DecidedBy = &decided, &f.ae
		}
		return q.InsertHandoffAt(ctx, f.act.Workspace, &h)
	})
	if err != nil {
		t.Fatal(err)
	}
	return h.ID, *h.DealID
}

func (f *fixture) win(t *testing.T, dealID int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	err := f.st.InTx(ctx, func(q store.Q) error {
		d, err := q.GetDeal(ctx, f.act.Workspace, dealID)
		if err != nil {
			return err
		}
		d.Outcome, d.Stage, d.ClosedAt = "won", "won", &at
		return q.UpdateDeal(ctx, f.act.Workspace, &d)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// seed records the worked example's delivered work (see TestStatement).
func (f *fixture) seed(t *testing.T) {
	t.Helper()
	// March: four partner meetings (three by one rep, one by the other), a
	// partner call (not a meeting), an in-house LDR meeting, and a partner
	// meeting in February, before the contract.
	for _, d := range []int{3, 9, 17} {
		f.meeting(t, f.p1, "meeting", day(3, d))
	}
	f.meeting(t, f.p2, "meeting", day(3, 24))
	f.meeting(t, f.p1, "call", day(3, 25))
	f.meeting(t, f.ldr, "meeting", day(3, 12))
	f.meeting(t, f.p1, "meeting", day(2, 20))
	// April: two partner meetings.
	f.meeting(t, f.p2, "meeting", day(4, 7))
	f.meeting(t, f.p2, "meeting", day(4, 21))

	// Partner SQLs: H1 accepted in March and won in March; H2 handed off in
	// March and accepted in April (through the desk, as the AE); H3 rejected
	// in March; H4 still pending.
	_, deal1 := f.sql(t, f.p1, day(3, 5), model.HandoffAccepted, day(3, 6))
	f.win(t, deal1, day(3, 30))
	f.wonID = deal1
	f.acceptLater, _ = f.sql(t, f.p1, day(3, 20), "", time.Time{})
	f.sql(t, f.p2, day(3, 25), model.HandoffRejected, day(3, 27))
	f.sql(t, f.p2, day(3, 28), "", time.Time{})
	ae := model.Actor{Label: "ae", Workspace: f.act.Workspace, Role: model.RoleAE, UserID: &f.ae}
	if _, err := f.desk.DecideHandoff(context.Background(), ae, f.acceptLater, model.HandoffAccepted, ""); err != nil {
		t.Fatal(err)
	}
	// In-house SQLs: accepted in April and May, one pending.
	f.sql(t, f.ldr, day(4, 1), model.HandoffAccepted, day(4, 3))
	f.sql(t, f.ldr, day(5, 2), model.HandoffAccepted, day(5, 4))
	f.sql(t, f.ldr, day(5, 20), "", time.Time{})
}

// The worked example: Acme SDR Co charges a 2,500.00 setup fee, a 4,000.00
// retainer, 150.00 a meeting, 400.00 an accepted SQL and 1,000.00 a won deal.
//
// March (start month): setup 2,500 + retainer 4,000 + 4 meetings × 150 = 600
// + 1 accepted SQL × 400 = 400 + 1 won deal × 1,000 = 1,000 → 8,500.00.
// The call, the in-house LDR's meeting and February's meeting do not count;
// the SQL accepted in April is April's; the rejected and pending ones are
// listed, never billed.
// April: retainer 4,000 + 2 meetings × 150 = 300 + 1 SQL × 400 → 4,700.00.
// May: the retainer alone, 4,000.00.
func TestStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.seed(t)

		mar, err := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-03")
		if err != nil {
			t.Fatal(err)
		}
		if mar.Total != 850_000 || mar.Status != partners.StatusClosed || mar.Currency != "USD" {
			t.Fatalf("March total %d (%s), want 850000 closed", mar.Total, mar.Status)
		}
		want := map[string][2]int64{"setup_fee": {1, 250_000}, "retainer": {1, 400_000}, "meetings": {4, 60_000}, "sqls": {1, 40_000}, "won_deals": {1, 100_000}}
		if len(mar.Lines) != len(want) {
			t.Fatalf("March lines %+v", mar.Lines)
		}
		for _, l := range mar.Lines {
			w := want[l.Kind]
			if int64(l.Quantity) != w[0] || l.Amount != w[1] || l.Amount != int64(l.Quantity)*l.UnitAmount {
				t.Errorf("line %s: %d × %d = %d, want %d → %d", l.Kind, l.Quantity, l.UnitAmount, l.Amount, w[0], w[1])
			}
			// Every per-unit line lists exactly the records it counts.
			if l.Kind != "retainer" && l.Kind != "setup_fee" && len(l.Records) != l.Quantity {
				t.Errorf("line %s: %d records for quantity %d", l.Kind, len(l.Records), l.Quantity)
			}
		}
		if mar.Lines[2].Arithmetic != "4 × 150.00 USD = 600.00 USD" {
			t.Errorf("arithmetic %q", mar.Lines[2].Arithmetic)
		}
		w := mar.Work
		if w.Meetings != 4 || w.SQLsAccepted != 1 || w.SQLsRejected != 1 || w.SQLsPending != 1 || w.Won != 1 || w.WonCustomers != 1 ||
			len(w.Revenue) != 1 || w.Revenue[0].Amount != 1_200_000 {
			t.Errorf("March work %+v", w)
		}
		if len(mar.Pending) != 1 || len(mar.Won) != 1 || mar.Won[0].ID != f.wonID || mar.ManagementMonthly != 50_000 {
			t.Errorf("pending %+v won %+v", mar.Pending, mar.Won)
		}

		apr, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-04")
		if apr.Total != 470_000 || apr.Work.SQLsAccepted != 1 || apr.Work.Meetings != 2 {
			t.Errorf("April %d %+v", apr.Total, apr.Work)
		}
		for _, l := range apr.Lines {
			if l.Kind == "sqls" && (len(l.Records) != 1 || l.Records[0].ID != f.acceptLater) {
				t.Errorf("April's SQL should be the one accepted in April: %+v", l.Records)
			}
		}
		may, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-05")
		jun, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-06")
		feb, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-02")
		jul, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-07")
		if may.Total != 400_000 || jun.Status != partners.StatusOpen || jun.Total != 400_000 {
			t.Errorf("May %d, June %s %d", may.Total, jun.Status, jun.Total)
		}
		if feb.Status != partners.StatusOutOfContract || feb.Total != 0 || feb.Work.Meetings != 1 || jul.Status != partners.StatusFuture || jul.Total != 0 {
			t.Errorf("February %s %d %+v, July %s %d", feb.Status, feb.Total, feb.Work, jul.Status, jul.Total)
		}
		all, err := f.svc.Statements(ctx, f.act.Workspace, "2026-03")
		if err != nil || len(all) != 1 || all[0].Total != 850_000 {
			t.Errorf("statements of every partner: %v %+v", err, all)
		}
		// An ended contract stops the retainer.
		in := f.partnerInput
		in.EndMonth = "2026-04"
		if _, err := f.svc.Replace(ctx, f.act, f.partner.ID, in); err != nil {
			t.Fatal(err)
		}
		if may, _ := f.svc.Statement(ctx, f.act.Workspace, f.partner.ID, "2026-05"); may.Status != partners.StatusOutOfContract || may.Total != 0 {
			t.Errorf("after the end month: %s %d", may.Status, may.Total)
		}
	})
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 0.01 {
		t.Errorf("%s = %v, want %.2f", what, got, want)
	}
}

// Actuals over March–May: the partner cost 8,500 + 4,700 + 4,000 = 17,200 in
// fees + 3 × 500 management = 18,700.00 for 6 meetings, 2 accepted SQLs and
// 1 won customer; the in-house LDR cost 3 × 7,500 = 22,500.00 for 1 meeting
// and 2 accepted SQLs, and won nothing yet.
func TestActuals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.seed(t)
		a, err := f.svc.Actuals(ctx, f.act.Workspace, f.partner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Source != "actual" || a.Months != 3 || a.From != "2026-03" || a.To != "2026-05" || !strings.Contains(a.Detail, "actual from 3 months") {
			t.Fatalf("window %+v", a)
		}
		p, h := a.Partner, a.InHouse
		if p.Cost != 1_870_000 || p.Meetings != 6 || p.SQLs != 2 || p.WonCustomers != 1 {
			t.Errorf("partner %+v", p)
		}
		near(t, "partner cost per meeting", p.CostPerMeeting, 1_870_000.0/6)
		near(t, "partner cost per SQL", p.CostPerSQL, 935_000)
		near(t, "partner cost per won", p.CostPerWon, 1_870_000)
		if h.Cost != 2_250_000 || h.Meetings != 1 || h.SQLs != 2 || h.WonCustomers != 0 || h.CostPerWon != nil {
			t.Errorf("in-house %+v", h)
		}
		near(t, "in-house cost per SQL", h.CostPerSQL, 1_125_000)
		if len(a.ByMonth) != 3 || a.ByMonth[0].Fees != 850_000 || a.ByMonth[1].InHouse.SQLsAccepted != 1 || a.ByMonth[2].InHouseCost != 750_000 {
			t.Errorf("by month %+v", a.ByMonth)
		}
		// Before the first month has ended there is nothing to measure yet.
		early := &partners.Service{St: st, Econ: f.econ, Now: func() time.Time { return day(3, 20) }}
		e, err := early.Actuals(ctx, f.act.Workspace, f.partner.ID)
		if err != nil || e.Source != "none" || e.Months != 0 || !strings.Contains(e.Detail, "no full month") {
			t.Errorf("early actuals %v %+v", err, e)
		}
	})
}

func TestPartnerRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		g := newFixture(t, st)
		ws := f.act.Workspace
		got, err := f.svc.Get(ctx, ws, f.partner.ID)
		if err != nil || got.Currency != "USD" || len(got.UserIDs) != 2 || got.UserIDs[0] > got.UserIDs[1] || got.FeePerSQL != 40_000 {
			t.Fatalf("get %v %+v", err, got)
		}
		bad := func(field string, mod func(*partners.Input)) {
			t.Helper()
			in := f.partnerInput
			in.Name = "Other"
			in.UserIDs = []int64{}
			mod(&in)
			_, err := f.svc.Create(ctx, f.act, in)
			wantField(t, err, field)
		}
		bad("name", func(in *partners.Input) { in.Name = " " })
		bad("start_month", func(in *partners.Input) { in.StartMonth = "" })
		bad("start_month", func(in *partners.Input) { in.StartMonth = "2026-13" })
		bad("end_month", func(in *partners.Input) { in.EndMonth = "2026-01" })
		bad("fee_per_sql", func(in *partners.Input) { in.FeePerSQL = -1 })
		bad("currency", func(in *partners.Input) { in.Currency = "dollars" })
		bad("user_ids[0]", func(in *partners.Input) { in.UserIDs = []int64{f.ldr} })                     // not the partner role
		bad("user_ids[0]", func(in *partners.Input) { in.UserIDs = []int64{g.p1} })                      // another workspace's user
		bad("user_ids[0]", func(in *partners.Input) { in.UserIDs = []int64{f.p1} })                      // works for Acme already
		bad("user_ids[1]", func(in *partners.Input) { in.UserIDs = []int64{g.p1, g.p1}; in.Name = "x" }) // listed twice
		dup := f.partnerInput
		dup.UserIDs = nil
		if _, err := f.svc.Create(ctx, f.act, dup); !errors.As(err, new(*store.ConflictError)) {
			t.Errorf("duplicate name: %v", err)
		}
		// Another workspace's partner answers like a missing one.
		if _, err := f.svc.Get(ctx, g.act.Workspace, f.partner.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's partner: %v", err)
		}
		if _, err := f.svc.Statement(ctx, g.act.Workspace, f.partner.ID, "2026-03"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's statement: %v", err)
		}
		if _, err := f.svc.Actuals(ctx, g.act.Workspace, f.partner.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's actuals: %v", err)
		}
		in := g.partnerInput
		in.UserIDs = []int64{g.p1}
		if _, err := f.svc.Replace(ctx, g.act, f.partner.ID, in); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B replaces A's partner: %v", err)
		}
		if err := f.svc.Delete(ctx, g.act, f.partner.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B deletes A's partner: %v", err)
		}
		// A's partner still has its users; after deleting it they may join another.
		if got, _ := f.svc.Get(ctx, ws, f.partner.ID); len(got.UserIDs) != 2 {
			t.Errorf("A's partner changed: %+v", got)
		}
		if err := f.svc.Delete(ctx, f.act, f.partner.ID); err != nil {
			t.Fatal(err)
		}
		in = f.partnerInput
		in.Name, in.UserIDs = "Successor", []int64{f.p1}
		if p, err := f.svc.Create(ctx, f.act, in); err != nil || len(p.UserIDs) != 1 {
			t.Errorf("reuse a freed user: %v %+v", err, p)
		}
		if list, err := f.svc.List(ctx, ws); err != nil || len(list) != 1 || list[0].Name != "Successor" || len(list[0].UserIDs) != 1 {
			t.Errorf("list %v %+v", err, list)
		}
	})
}

// The AE's decision is what makes an SQL count: only the receiving AE (or the
// deal's owner, an admin or a manager) decides, once; a rejection says why.
func TestDecideHandoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		g := newFixture(t, st)
		hid, _ := f.sql(t, f.p1, day(4, 1), "", time.Time{})
		ws := f.act.Workspace
		ae := model.Actor{Label: "ae", Workspace: ws, Role: model.RoleAE, UserID: &f.ae}
		other := model.Actor{Label: "ldr", Workspace: ws, Role: model.RoleLDR, UserID: &f.ldr}
		if _, err := f.desk.DecideHandoff(ctx, other, hid, model.HandoffAccepted, ""); !errors.Is(err, desk.ErrNotYours) {
			t.Errorf("an LDR accepts: %v", err)
		}
		_, err := f.desk.DecideHandoff(ctx, ae, hid, model.HandoffRejected, " ")
		wantField(t, err, "note")
		_, err = f.desk.DecideHandoff(ctx, ae, hid, "maybe", "")
		wantField(t, err, "decision")
		foreign := model.Actor{Label: "b", Workspace: g.act.Workspace, Role: model.RoleAdmin}
		if _, err := f.desk.DecideHandoff(ctx, foreign, hid, model.HandoffAccepted, ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B decides A's handoff: %v", err)
		}
		h, err := f.desk.DecideHandoff(ctx, ae, hid, model.HandoffRejected, "no budget after all")
		if err != nil || h.Decision != model.HandoffRejected || h.DecidedAt == nil || *h.DecidedBy != f.ae || h.DecisionNote != "no budget after all" {
			t.Fatalf("reject %v %+v", err, h)
		}
		if _, err := f.desk.DecideHandoff(ctx, f.act, hid, model.HandoffAccepted, ""); !errors.As(err, new(*store.ConflictError)) {
			t.Errorf("a second decision: %v", err)
		}
		got, err := st.Read().GetHandoff(ctx, ws, hid)
		if err != nil || got.Decision != model.HandoffRejected {
			t.Errorf("stored %v %+v", err, got)
		}
	})
}
