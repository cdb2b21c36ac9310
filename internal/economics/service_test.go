package economics_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

type fixture struct {
	ws    int64
	users map[string]int64 // role → user
	act   model.Actor
}

func newWS(t *testing.T, st *store.Store, currency string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{users: map[string]int64{}}
	err := st.InTx(ctx, func(q store.Q) error {
		k := seq.Add(1)
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", k), Currency: currency}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		f.ws = w.ID
		for _, role := range []string{model.RoleLDR, model.RoleAE} {
			u := model.User{Email: fmt.Sprintf("%s-%d@example.com", role, k)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, w.ID, u.ID, role); err != nil {
				return err
			}
			f.users[role] = u.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.act = model.Actor{Label: "test", Workspace: f.ws, Role: model.RoleAdmin}
	return f
}

func ptr[T any](v T) *T { return &v }

// Spend entries are scoped to their workspace: another workspace's id is
// ErrNotFound for every operation and changes nothing.
func TestSpendService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := newWS(t, st, "EUR"), newWS(t, st, "USD")
		svc := &economics.Service{St: st}
		e, err := svc.CreateSpend(ctx, a.act, economics.SpendInput{Month: ptr("2026-02"), Amount: ptr(int64(250000)), Category: ptr("programs"), Channel: ptr("Paid Search"), ExternalID: ptr("inv-1")})
		if err != nil {
			t.Fatal(err)
		}
		if e.Currency != "EUR" || e.Channel != "paid_search" || e.Attribution != model.AttributionRule {
			t.Errorf("created %+v", e)
		}
		_, err = svc.CreateSpend(ctx, a.act, economics.SpendInput{Month: ptr("2026-02"), Amount: ptr(int64(1)), Category: ptr("tools"), ExternalID: ptr("inv-1")})
		var ce *store.ConflictError
		if !errors.As(err, &ce) || ce.Field != "external_id" {
			t.Errorf("duplicate external id: %v", err)
		}
		_, err = svc.CreateSpend(ctx, a.act, economics.SpendInput{Month: ptr("2026-02"), Category: ptr("tools")})
		wantField(t, err, "amount")

		for what, err := range map[string]error{
			"update": func() error {
				_, err := svc.UpdateSpend(ctx, b.act, e.ID, economics.SpendInput{Amount: ptr(int64(1))})
				return err
			}(),
			"delete": svc.DeleteSpend(ctx, b.act, e.ID),
			"read":   func() error { _, err := st.Read().GetSpend(ctx, b.ws, e.ID); return err }(),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s from B: %v, want ErrNotFound", what, err)
			}
		}
		u, err := svc.UpdateSpend(ctx, a.act, e.ID, economics.SpendInput{Segment: ptr("smb"), Motion: ptr("digital")})
		if err != nil || u.Amount != 250000 || u.Attribution != model.AttributionExplicit {
			t.Fatalf("update: %v %+v", err, u)
		}
		_, err = svc.UpdateSpend(ctx, a.act, e.ID, economics.SpendInput{Segment: ptr("")})
		wantField(t, err, "segment")
		if got, _ := st.Read().GetSpend(ctx, a.ws, e.ID); got.Segment != "smb" {
			t.Errorf("a refused update changed the entry: %+v", got)
		}

		// Rules and the summary through the store.
		if _, err := svc.SaveAllocationRules(ctx, a.act, []economics.Rule{{Category: "tools", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 1}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateSpend(ctx, a.act, economics.SpendInput{Month: ptr("2026-03"), Amount: ptr(int64(999)), Category: ptr("tools")}); err != nil {
			t.Fatal(err)
		}
		sum, err := svc.SpendSummary(ctx, a.ws, "2026-01", "2026-03")
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Allocated) != 1 || sum.Allocated[0].Explicit != 250000 || sum.Allocated[0].ByRule != 999 || len(sum.Unallocated) != 0 {
			t.Errorf("summary %+v", sum)
		}
		if rs, _ := svc.AllocationRules(ctx, b.ws); len(rs) != 0 {
			t.Errorf("B sees A's rules: %+v", rs)
		}
		if err := svc.DeleteSpend(ctx, a.act, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Read().GetSpend(ctx, a.ws, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted entry still there: %v", err)
		}
	})
}

// A messy spend file: every row is accounted for (rows = accepted + merged +
// rejected), rejected rows say line:column and why, a repeated external id
// merges (blank cells keep the value), and a second import merges into what
// the first stored.
func TestImportSpend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newWS(t, st, "USD")
		svc := &economics.Service{St: st}
		csv := "\ufeffMonth;Amount;Category;Channel;Segment;Motion;Reference;Budget owner\n" +
			"2026-01;1.200,50;Programs/Ads;Paid Search;;;A-1;Ann\n" + // line 2: accepted (a ';' file reads ',' decimals)
			"2026-01;300;tools;;smb;digital;;Bob\n" + // line 3: accepted, explicit
			"2026-13;10;tools;;;;;x\n" + // line 4: bad month
			"2026-02;ten;tools;;;;;x\n" + // line 5: bad amount
			"2026-02;10;progams;;;;;x\n" + // line 6: bad category
			"2026-02;10;tools;;smb;;;x\n" + // line 7: segment without motion
			"2026-02;;programs;events;;;A-1;x\n" + // line 8: merges into line 2: month, channel change, amount kept
			"2026-02;5;tools;;;\n" // line 9: too few fields
		rep, err := svc.ImportSpend(ctx, f.act, "spend.csv", strings.NewReader(csv))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 8 || rep.Accepted != 2 || rep.Merged != 1 || rep.Rejected != 5 || !rep.Reconciles {
			t.Fatalf("report %+v", rep)
		}
		if len(rep.IgnoredColumns) != 1 || rep.IgnoredColumns[0] != "Budget owner" || rep.Delimiter != ";" {
			t.Errorf("columns %+v", rep)
		}
		type pos struct {
			line, col int
			field     string
		}
		want := []pos{{4, 1, "month"}, {5, 9, "amount"}, {6, 12, "category"}, {7, 23, "motion"}, {9, 19, "motion"}}
		if len(rep.Errors) != len(want) {
			t.Fatalf("errors %+v", rep.Errors)
		}
		for i, w := range want {
			e := rep.Errors[i]
			if e.Line != w.line || e.Column != w.col || e.Field != w.field || e.Reason == "" {
				t.Errorf("error %d = %+v, want line %d col %d field %q", i, e, w.line, w.col, w.field)
			}
		}
		if !strings.Contains(rep.Errors[2].Reason, "programs") {
			t.Errorf("no suggestion for progams: %q", rep.Errors[2].Reason)
		}
		byExt, err := st.Read().SpendByExternalID(ctx, f.ws)
		if err != nil {
			t.Fatal(err)
		}
		if a1 := byExt["A-1"]; a1.Amount != 120050 || a1.Month != "2026-02" || a1.Channel != "events" || a1.Category != "programs" {
			t.Errorf("merged entry %+v", a1)
		}
		// The same reference again, with a new amount: merged into the stored entry.
		rep, err = svc.ImportSpend(ctx, f.act, "again.csv", strings.NewReader("month,amount,category,external_id\n2026-02,99.99,programs,A-1\n2026-03,1,overhead,\n"))
		if err != nil || rep.Rows != 2 || rep.Merged != 1 || rep.Accepted != 1 || !rep.Reconciles {
			t.Fatalf("second import: %v %+v", err, rep)
		}
		all, _ := st.Read().ListSpend(ctx, f.ws, store.SpendFilter{})
		if len(all) != 3 {
			t.Errorf("entries after two imports: %d", len(all))
		}
		if byExt, _ = st.Read().SpendByExternalID(ctx, f.ws); byExt["A-1"].Amount != 9999 || byExt["A-1"].Channel != "events" {
			t.Errorf("re-import did not merge: %+v", byExt["A-1"])
		}
		// File-level problems name where.
		for _, c := range []struct{ csv, want string }{
			{"month,amount\n2026-01,1\n", "no category column"},
			{"month,amount,category,cost\n", "both give the amount"},
			{"month,amount,category\n2026-01,1,\"tools\n", "never closed"},
		} {
			_, err := svc.ImportSpend(ctx, f.act, "bad.csv", strings.NewReader(c.csv))
			var fe *economics.FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Error(), c.want) {
				t.Errorf("%q: %v, want a file error with %q", c.csv, err, c.want)
			}
		}
	})
}

// Settings start at their defaults (listed as such), merge per field and per
// key, and a null map value goes back to the default.
func TestSettingsService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := newWS(t, st, "USD"), newWS(t, st, "USD")
		svc := &economics.Service{St: st}
		s, err := svc.Settings(ctx, a.ws)
		if err != nil {
			t.Fatal(err)
		}
		if s.GrossMargin != 0.8 || s.LifetimeCapMonths != 60 || s.LTVCACTarget != 3 || s.PaybackTargetMonths["smb"] != 12 || !s.IsDefault("gross_margin") || s.UpdatedAt != nil {
			t.Fatalf("defaults %+v", s)
		}
		s, err = svc.SaveSettings(ctx, a.act, economics.SettingsInput{GrossMargin: ptr(0.72), PlanMargins: map[string]*float64{"pro": ptr(0.9)},
			PaybackTargetMonths: map[string]*float64{"smb": ptr(9.0), "partner_led": ptr(6.0)}})
		if err != nil {
			t.Fatal(err)
		}
		s, err = svc.SaveSettings(ctx, a.act, economics.SettingsInput{LTVCACTarget: ptr(4.0), PaybackTargetMonths: map[string]*float64{"smb": nil}})
		if err != nil {
			t.Fatal(err)
		}
		if s.GrossMargin != 0.72 || s.LTVCACTarget != 4 || s.MarginFor("pro") != 0.9 || s.MarginFor("basic") != 0.72 ||
			s.PaybackTargetMonths["smb"] != 12 || s.PaybackTargetMonths["partner_led"] != 6 || s.IsDefault("gross_margin") || !s.IsDefault("discount_rate") || s.UpdatedAt == nil {
			t.Errorf("merged %+v", s)
		}
		for _, c := range []struct {
			in    economics.SettingsInput
			field string
		}{
			{economics.SettingsInput{GrossMargin: ptr(1.2)}, "gross_margin"},
			{economics.SettingsInput{DiscountRate: ptr(-0.1)}, "discount_rate"},
			{economics.SettingsInput{LifetimeCapMonths: ptr(0)}, "lifetime_cap_months"},
			{economics.SettingsInput{LTVCACTarget: ptr(0.0)}, "ltv_cac_target"},
			{economics.SettingsInput{PaybackTargetMonths: map[string]*float64{"smb": ptr(-1.0)}}, "payback_target_months.smb"},
			{economics.SettingsInput{PlanMargins: map[string]*float64{"Pro Plan": ptr(0.5)}}, "plan_margins.Pro Plan"},
		} {
			_, err := svc.SaveSettings(ctx, a.act, c.in)
			wantField(t, err, c.field)
		}
		if sb, _ := svc.Settings(ctx, b.ws); sb.GrossMargin != 0.8 {
			t.Errorf("B sees A's settings: %+v", sb)
		}
	})
}

// People cost through the store: the activity split reads logged durations by
// the owner's role and the motion of the account the activity reaches (its
// own account, its deal's, its contact's).
func TestPeopleCostFromActivities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newWS(t, st, "USD")
		svc := &economics.Service{St: st}
		p, err := svc.CreateProfile(ctx, f.act, economics.ProfileInput{Name: "AE", Role: "ae", BaseSalary: 12_000_000, LoadedMultiplier: ptr(1.0),
			TimeSplit: map[string]float64{"digital": 0.5, "high_touch": 0.5}, SplitFromActivities: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetHeadcount(ctx, f.act, p.ID, map[string]float64{"2026-03": 1, "2026-04": 2}); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		ae, ldr := f.users["ae"], f.users["ldr"]
		err = st.InTx(ctx, func(q store.Q) error {
			dig := model.Account{Name: "Small", Motion: "digital", Currency: "USD"}
			ent := model.Account{Name: "Big", Motion: "high_touch", Currency: "USD"}
			for _, a := range []*model.Account{&dig, &ent} {
				if err := q.CreateAccount(ctx, f.ws, a); err != nil {
					return err
				}
			}
			c := model.Contact{Email: "buyer@big.example", AccountID: &ent.ID, LifecycleStage: "lead"}
			if err := q.CreateContact(ctx, f.ws, &c); err != nil {
				return err
			}
			d := model.Deal{Name: "Small deal", AccountID: &dig.ID, Pipeline: "digital", Stage: "qualified", Currency: "USD"}
			if err := q.CreateDeal(ctx, f.ws, &d); err != nil {
				return err
			}
			for _, a := range []model.Activity{
				{Kind: "call", OccurredAt: at, DurationMinutes: 200, OwnerID: &ae, AccountID: &dig.ID},
				{Kind: "demo", OccurredAt: at, DurationMinutes: 100, OwnerID: &ae, DealID: &d.ID},                      // digital via the deal
				{Kind: "meeting", OccurredAt: at, DurationMinutes: 900, OwnerID: &ae, ContactID: &c.ID},                // high touch via the contact
				{Kind: "meeting", OccurredAt: at, DurationMinutes: 5000, OwnerID: &ldr, AccountID: &dig.ID},            // another role
				{Kind: "note", OccurredAt: at, DurationMinutes: 4000, OwnerID: &ae},                                    // no motion
				{Kind: "call", OccurredAt: at.AddDate(0, 1, 0), DurationMinutes: 60, OwnerID: &ae, AccountID: &dig.ID}, // April: too little
			} {
				if err := q.CreateActivity(ctx, f.ws, &a); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pc, err := svc.PeopleCost(ctx, f.ws, "2026-03", "2026-04")
		if err != nil {
			t.Fatal(err)
		}
		// March: 1,000,000 a month × 1 × (300 ÷ 1200 digital, 900 ÷ 1200 high touch).
		// April: × 2 with the configured 50/50 (60 minutes is under the minimum).
		want := map[string]int64{"2026-03/digital/activities": 250_000, "2026-03/high_touch/activities": 750_000,
			"2026-04/digital/configured": 1_000_000, "2026-04/high_touch/configured": 1_000_000}
		if len(pc.Rows) != len(want) {
			t.Fatalf("rows %+v", pc.Rows)
		}
		for _, r := range pc.Rows {
			if k := r.Month + "/" + r.Motion + "/" + r.SplitSource; want[k] != r.Amount || r.Role != "ae" {
				t.Errorf("row %+v (want %d for %s)", r, want[k], k)
			}
		}
		// Headcount and profiles stay in their workspace.
		g := newWS(t, st, "USD")
		if _, err := svc.SetHeadcount(ctx, g.act, p.ID, map[string]float64{"2026-03": 5}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("headcount from another workspace: %v", err)
		}
		if err := svc.DeleteProfile(ctx, g.act, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete from another workspace: %v", err)
		}
		_, err = svc.SetHeadcount(ctx, f.act, p.ID, map[string]float64{"2026-3": 1})
		wantField(t, err, "months.2026-3")
		_, err = svc.SetHeadcount(ctx, f.act, p.ID, map[string]float64{"2026-05": 1.255})
		wantField(t, err, "months.2026-05")
	})
}
