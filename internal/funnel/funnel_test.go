package funnel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func at(date string) time.Time {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour) // noon UTC
}

// fixture writes contacts with a known history straight through the store.
type fixture struct {
	t   *testing.T
	st  *store.Store
	ws  int64
	ctx context.Context
}

func (f fixture) account(motion string) *int64 {
	a := model.Account{Name: "acct " + motion, Currency: "USD", Motion: motion, Custom: model.Custom{}}
	if err := f.st.InTx(f.ctx, func(q store.Q) error { return q.CreateAccount(f.ctx, f.ws, &a) }); err != nil {
		f.t.Fatal(err)
	}
	return &a.ID
}

// contact creates a contact in stage on created, then applies moves "stage@date".
func (f fixture) contact(email, source string, acct *int64, stage, created string, moves ...string) {
	f.t.Helper()
	err := f.st.InTx(f.ctx, func(q store.Q) error {
		final := stage
		for _, m := range moves {
			final, _, _ = strings.Cut(m, "@")
		}
		c := model.Contact{Email: email, Source: source, AccountID: acct, LifecycleStage: final, Custom: model.Custom{}}
		if err := q.CreateContact(f.ctx, f.ws, &c); err != nil {
			return err
		}
		if err := q.SetContactCreatedAt(f.ctx, f.ws, c.ID, at(created)); err != nil {
			return err
		}
		if err := q.AddHistoryAt(f.ctx, f.ws, "contact", c.ID, "created", nil, "test", at(created)); err != nil {
			return err
		}
		// An unrelated update: not a lifecycle change.
		if err := q.AddHistoryAt(f.ctx, f.ws, "contact", c.ID, "updated", map[string]any{"fields": []string{"title"}}, "test", at(created)); err != nil {
			return err
		}
		from := stage
		for _, m := range moves {
			to, date, _ := strings.Cut(m, "@")
			// The scoring service's promotion shape: the change plus why.
			d := map[string]any{"fields": []string{"lifecycle_stage"}, "lifecycle_stage": []string{from, to}, "reason": "test"}
			if err := q.AddHistoryAt(f.ctx, f.ws, "contact", c.ID, "updated", d, "test", at(date)); err != nil {
				return err
			}
			from = to
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func workspace(t *testing.T, st *store.Store, slug string) fixture {
	ctx := context.Background()
	w := model.Workspace{Name: slug, Slug: slug}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	return fixture{t: t, st: st, ws: w.ID, ctx: ctx}
}

// summary renders a group compactly: reached counts, conversions as n/d, median and
// mean days, lead → customer, and exits.
func summary(g funnel.Group) string {
	var b strings.Builder
	for _, s := range g.Stages {
		fmt.Fprintf(&b, "%s=%d ", s.Stage, s.Reached)
	}
	b.WriteString("|")
	for _, c := range g.Conversions {
		fmt.Fprintf(&b, " %d/%d", c.Converted, c.Denominator)
	}
	b.WriteString(" |")
	for _, d := range g.Durations {
		if d.N == 0 {
			b.WriteString(" -")
			continue
		}
		fmt.Fprintf(&b, " %g~%g", *d.MedianDays, *d.MeanDays)
	}
	fmt.Fprintf(&b, " | l2c %d/%d |", g.LeadToCustomer.Converted, g.LeadToCustomer.Denominator)
	for _, e := range g.Exits {
		fmt.Fprintf(&b, " %s=%d%v", e.Stage, e.Count, e.From)
	}
	return b.String()
}

func group(t *testing.T, r funnel.Result, key string) funnel.Group {
	t.Helper()
	for _, g := range r.Groups {
		if g.Key == key {
			return g
		}
	}
	t.Fatalf("no group %q in %+v", key, r.Groups)
	return funnel.Group{}
}

func TestReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := workspace(t, st, "funnel-a")
		digital, high := a.account("digital"), a.account("high_touch")
		// Window 2026-01-01 … 2026-03-31. Days between stages in comments.
		a.contact("c1@x.io", "ads", digital, "lead", "2026-01-05",
			"mql@2026-01-07", "sql@2026-01-11", "opportunity@2026-01-21", "customer@2026-02-20") // 2, 4, 10, 30
		a.contact("c2@x.io", "ads", digital, "lead", "2026-01-10",
			"mql@2026-01-14", "sql@2026-01-15", "disqualified@2026-01-20") // 4, 1; exit from sql
		a.contact("c3@x.io", "organic", nil, "lead", "2026-02-01",
			"mql@2026-02-03", "nurture@2026-02-10") // 2; exit from mql
		a.contact("c4@x.io", "partner", high, "sql", "2026-02-15",
			"opportunity@2026-02-25", "customer@2026-03-07") // created in sql; 10, 10
		a.contact("c5@x.io", "ads", digital, "lead", "2025-12-20",
			"mql@2026-01-02", "sql@2026-04-05") // lead before the window, sql after it
		a.contact("c6@x.io", "", digital, "lead", "2026-03-30")
		a.contact("c7@x.io", "ads", digital, "lead", "2026-04-02", "mql@2026-04-03") // after the window
		// Workspace B has its own contacts on the same days; A must not see them.
		b := workspace(t, st, "funnel-b")
		b.contact("b1@x.io", "ads", nil, "lead", "2026-01-05", "mql@2026-01-06", "sql@2026-01-08")
		b.contact("b2@x.io", "ads", nil, "lead", "2026-01-05", "customer@2026-01-08")

		from, to := at("2026-01-01"), at("2026-03-31")
		r, err := funnel.Report(ctx, st, a.ws, funnel.Params{From: from, To: to, By: "motion"})
		if err != nil {
			t.Fatal(err)
		}
		if r.From != "2026-01-01" || r.To != "2026-03-31" || !strings.Contains(r.Convention.Window, "2026-01-01 ≤ t < 2026-04-01") ||
			r.Convention.Reached == "" || r.Convention.Conversion == "" || r.Convention.Days == "" || r.Convention.Grouping == "" || r.Convention.Exits == "" {
			t.Errorf("window or convention: %+v", r)
		}
		checks := map[string]string{
			"total":      "lead=4 mql=4 sql=3 opportunity=2 customer=2 | 3/4 2/4 2/3 2/2 | 2~2.67 2.5~2.5 10~10 20~20 | l2c 1/4 | disqualified=1map[sql:1] nurture=1map[mql:1]",
			"digital":    "lead=3 mql=3 sql=2 opportunity=1 customer=1 | 2/3 2/3 1/2 1/1 | 3~3 2.5~2.5 10~10 30~30 | l2c 1/3 | disqualified=1map[sql:1] nurture=0map[]",
			"high_touch": "lead=0 mql=0 sql=1 opportunity=1 customer=1 | 0/0 0/0 1/1 1/1 | - - 10~10 10~10 | l2c 0/0 | disqualified=0map[] nurture=0map[]",
			"unknown":    "lead=1 mql=1 sql=0 opportunity=0 customer=0 | 1/1 0/1 0/0 0/0 | 2~2 - - - | l2c 0/1 | disqualified=0map[] nurture=1map[mql:1]",
		}
		if got := summary(r.Total); got != checks["total"] {
			t.Errorf("total:\n got %s\nwant %s", got, checks["total"])
		}
		if len(r.Groups) != 3 {
			t.Errorf("groups: %+v", r.Groups)
		}
		for _, k := range []string{"digital", "high_touch", "unknown"} {
			if got := summary(group(t, r, k)); got != checks[k] {
				t.Errorf("%s:\n got %s\nwant %s", k, got, checks[k])
			}
		}
		lm := r.Total.Conversions[0]
		if *lm.Rate != 0.75 || lm.DenominatorIs != "contacts that reached lead in the window" {
			t.Errorf("lead→mql: %+v", lm)
		}
		if r.Total.Conversions[2].Rate == nil || *r.Total.Conversions[2].Rate != 0.6667 || group(t, r, "high_touch").Conversions[0].Rate != nil {
			t.Errorf("rates: %+v", r.Total.Conversions)
		}
		var bySrc []string
		for _, s := range r.LeadToCustomerBySource {
			bySrc = append(bySrc, fmt.Sprintf("%s %d/%d", s.Source, s.Converted, s.Denominator))
		}
		if got := strings.Join(bySrc, ", "); got != "ads 1/2, organic 0/1, unknown 0/1" {
			t.Errorf("lead → customer by source: %s", got)
		}

		r, err = funnel.Report(ctx, st, a.ws, funnel.Params{From: from, To: to, By: "source"})
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{
			"ads":     "lead=2 mql=3 sql=2 opportunity=1 customer=1 | 2/2 2/3 1/2 1/1 | 3~3 2.5~2.5 10~10 30~30 | l2c 1/2 | disqualified=1map[sql:1] nurture=0map[]",
			"partner": "lead=0 mql=0 sql=1 opportunity=1 customer=1 | 0/0 0/0 1/1 1/1 | - - 10~10 10~10 | l2c 0/0 | disqualified=0map[] nurture=0map[]",
			"unknown": "lead=1 mql=0 sql=0 opportunity=0 customer=0 | 0/1 0/0 0/0 0/0 | - - - - | l2c 0/1 | disqualified=0map[] nurture=0map[]",
		} {
			if got := summary(group(t, r, k)); got != want {
				t.Errorf("source %s:\n got %s\nwant %s", k, got, want)
			}
		}

		r, err = funnel.Report(ctx, st, a.ws, funnel.Params{From: from, To: to, By: "period"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Period != "month" || len(r.Groups) != 3 {
			t.Fatalf("months: %+v", r.Groups)
		}
		for k, want := range map[string]string{
			"2026-01": "lead=2 mql=3 sql=2 opportunity=1 customer=0 | 2/2 2/3 1/2 1/1 | 3~3 2.5~2.5 10~10 30~30 | l2c 1/2 | disqualified=1map[sql:1] nurture=0map[]",
			"2026-02": "lead=1 mql=1 sql=1 opportunity=1 customer=1 | 1/1 0/1 1/1 1/1 | 2~2 - 10~10 10~10 | l2c 0/1 | disqualified=0map[] nurture=1map[mql:1]",
			"2026-03": "lead=1 mql=0 sql=0 opportunity=0 customer=1 | 0/1 0/0 0/0 0/0 | - - - - | l2c 0/1 | disqualified=0map[] nurture=0map[]",
		} {
			if got := summary(group(t, r, k)); got != want {
				t.Errorf("month %s:\n got %s\nwant %s", k, got, want)
			}
		}
		r, err = funnel.Report(ctx, st, a.ws, funnel.Params{From: from, To: to, By: "period", Period: "week"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(r.Groups); n != 14 || r.Groups[0].Key != "2026-W01" || r.Groups[n-1].Key != "2026-W14" {
			t.Errorf("weeks: %d groups", n)
		}
		// c1 and c2 became leads on 5 and 10 January (ISO week 2, Monday to Sunday).
		if g := group(t, r, "2026-W02"); g.Stages[0].Reached != 2 {
			t.Errorf("week 2: %s", summary(g))
		}

		// Workspace B sees only its own two contacts; b2 skipped straight to customer.
		rb, err := funnel.Report(ctx, st, b.ws, funnel.Params{From: from, To: to, By: "motion"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := summary(rb.Total), "lead=2 mql=1 sql=1 opportunity=0 customer=1 | 1/2 1/1 0/1 0/0 | 1~1 2~2 - - | l2c 1/2 | disqualified=0map[] nurture=0map[]"; got != want {
			t.Errorf("workspace B:\n got %s\nwant %s", got, want)
		}
	})
}

func TestParams(t *testing.T) {
	d := at("2026-01-01")
	for _, c := range []struct {
		p     funnel.Params
		field string
	}{
		{funnel.Params{From: d, To: d, By: "channel"}, "by"},
		{funnel.Params{From: d, To: d, By: "period", Period: "year"}, "period"},
		{funnel.Params{To: d, By: "motion"}, "from"},
		{funnel.Params{From: d, By: "motion"}, "to"},
		{funnel.Params{From: d, To: d.AddDate(0, 0, -1), By: "motion"}, "to"},
	} {
		err := c.p.Check()
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want an error on %s", c.p, err, c.field)
		}
	}
	p := funnel.Params{From: d, To: d, By: "period"}
	if err := p.Check(); err != nil || p.Period != "month" {
		t.Errorf("default period: %v %q", err, p.Period)
	}
}
