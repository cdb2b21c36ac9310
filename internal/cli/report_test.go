package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

func TestReportFunnel(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	if code, _, errs := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	// History on known days, written straight through the store.
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d string) time.Time {
		tm, _ := time.Parse(time.DateOnly, d)
		return tm.Add(9 * time.Hour)
	}
	err = st.InTx(ctx, func(q store.Q) error {
		w, err := q.WorkspaceBySlug(ctx, "acme")
		if err != nil {
			return err
		}
		for _, c := range []struct {
			email, source, stage, created string
			moves                         [][2]string // to, day
		}{
			{"a@x.io", "ads", "lead", "2026-01-05", [][2]string{{"mql", "2026-01-06"}, {"sql", "2026-01-09"}}},
			{"b@x.io", "ads", "lead", "2026-01-10", [][2]string{{"mql", "2026-01-12"}}},
			{"c@x.io", "web", "customer", "2026-01-02", nil},
		} {
			m := model.Contact{Email: c.email, Source: c.source, LifecycleStage: c.stage, Custom: model.Custom{}}
			if err := q.CreateContact(ctx, w.ID, &m); err != nil {
				return err
			}
			if err := q.SetContactCreatedAt(ctx, w.ID, m.ID, day(c.created)); err != nil {
				return err
			}
			from := c.stage
			for _, mv := range c.moves {
				if err := q.AddHistoryAt(ctx, w.ID, "contact", m.ID, "updated", map[string]any{"lifecycle_stage": []string{from, mv[0]}}, "test", day(mv[1])); err != nil {
					return err
				}
				from = mv[0]
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, "report", "funnel", "--db", db, "--workspace", "acme", "--from", "2026-01-01", "--to", "2026-01-31", "--by", "source", "--json")
	if code != 0 {
		t.Fatalf("report --json: %s", errs)
	}
	var r struct {
		By         string
		Convention map[string]string
		Total      struct {
			Stages []struct {
				Stage   string
				Reached int
			}
			Conversions []struct{ Converted, Denominator int }
			Durations   []struct {
				N          int
				MedianDays *float64 `json:"median_days"`
				MeanDays   *float64 `json:"mean_days"`
			}
		}
		Groups []struct{ Key string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got []int
	for _, s := range r.Total.Stages {
		got = append(got, s.Reached)
	}
	for _, c := range r.Total.Conversions {
		got = append(got, c.Converted, c.Denominator)
	}
	// lead a, b; mql a, b; sql a; c created a customer. a: 1 day to mql, 3 to sql; b: 2 days to mql.
	if want := []int{2, 2, 1, 0, 1, 2, 2, 1, 2, 0, 1, 0, 0}; !equalInts(got, want) || r.By != "source" || r.Convention["window"] == "" {
		t.Fatalf("report: %v, want %v: %s", got, want, out)
	}
	if d := r.Total.Durations; d[0].N != 2 || *d[0].MedianDays != 1.5 || *d[1].MedianDays != 3 {
		t.Errorf("durations: %s", out)
	}
	if len(r.Groups) != 2 || r.Groups[0].Key != "ads" || r.Groups[1].Key != "web" {
		t.Errorf("groups: %+v", r.Groups)
	}

	code, out, errs = run(t, "report", "funnel", "--db", db, "--workspace", "acme", "--from", "2026-01-01", "--to", "2026-01-31")
	if code != 0 {
		t.Fatalf("report: %s", errs)
	}
	for _, want := range []string{"Funnel 2026-01-01 … 2026-01-31 by motion", "unknown", "2/2 (100.0%)", "1.50", "Lead → customer by source", "ads", "Conventions", "window: "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workspace", "acme", "--by", "channel"}, "--by must be"},
		{[]string{"--workspace", "acme", "--from", "01/02/2026"}, "--from must be a date"},
		{[]string{"--workspace", "acme", "--from", "2026-02-01", "--to", "2026-01-01"}, "--to must not be before from"},
		{[]string{}, "--workspace is required"},
	} {
		code, _, errs := run(t, append([]string{"report", "funnel", "--db", db}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, errs, c.want)
		}
	}
	if code, _, errs := run(t, "report", "cohorts", "--db", db); code != 2 || !strings.Contains(errs, "funnel") {
		t.Errorf("unknown report: %d %s", code, errs)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
