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

// TestReportPipeline: 2 won at 50,000.00 (60 days each), 6 lost (4 for price,
// 2 without a reason), 2 no decision, 10 open in negotiation at 10,000.00.
// Win rate 2 ÷ 8 = 25 %, 20 % with no decision as a loss; velocity 10 ×
// 50,000.00 × 0.25 ÷ 60 = 2,083.33 a day; weighted 10 × 10,000.00 × 50 % =
// 50,000.00 best case + 100,000.00 closed = 150,000.00.
func TestReportPipeline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme", "--currency", "EUR"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	day := func(d string) time.Time { tm, _ := time.Parse(time.DateOnly, d); return tm }
	err = st.InTx(ctx, func(q store.Q) error {
		w, err := q.WorkspaceBySlug(ctx, "acme")
		if err != nil {
			return err
		}
		mk := func(d model.Deal) error {
			d.Name, d.Currency, d.Pipeline, d.Custom = "d", "EUR", "high_touch", model.Custom{}
			return q.CreateDeal(ctx, w.ID, &d)
		}
		closed := func(s string) *time.Time { c := day(s); return &c }
		for range 2 {
			if err := mk(model.Deal{Amount: 5_000_000, Stage: "order", Outcome: "won", CreatedAt: day("2026-01-01"), ClosedAt: closed("2026-03-02")}); err != nil {
				return err
			}
		}
		for i := range 6 {
			reason := "price"
			if i >= 4 {
				reason = ""
			}
			if err := mk(model.Deal{Amount: 100, Stage: "approach", Outcome: "lost", LossReason: reason, ClosedAt: closed("2026-04-01")}); err != nil {
				return err
			}
		}
		for range 2 {
			if err := mk(model.Deal{Amount: 100, Stage: "close", Outcome: "no_decision", ClosedAt: closed("2026-05-01")}); err != nil {
				return err
			}
		}
		for range 10 {
			if err := mk(model.Deal{Amount: 1_000_000, Stage: "negotiation", ExpectedCloseDate: "2026-08-01"}); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"report", "pipeline", "--db", db, "--workspace", "acme", "--from", "2026-01-01", "--to", "2026-06-30"}
	code, out, errs := run(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("report --json: %s", errs)
	}
	var r struct {
		Pipeline struct {
			Currency string
			Total    struct {
				WinRate        *float64 `json:"win_rate"`
				WinRateND      *float64 `json:"win_rate_no_decision_as_loss"`
				Velocity       *int64   `json:"velocity_per_day"`
				CycleDays      *float64 `json:"cycle_days"`
				AverageWonDeal *int64   `json:"average_won_deal"`
				LossReasons    []struct {
					Reason string
					Count  int
				} `json:"loss_reasons"`
			}
		}
		Forecast struct {
			Total struct{ Weighted int64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	tot := r.Pipeline.Total
	if r.Pipeline.Currency != "EUR" || *tot.WinRate != 0.25 || *tot.WinRateND != 0.2 || *tot.CycleDays != 60 || *tot.AverageWonDeal != 5_000_000 || *tot.Velocity != 208_333 {
		t.Fatalf("pipeline: %s", out)
	}
	if len(tot.LossReasons) != 3 || tot.LossReasons[0].Reason != "price" || tot.LossReasons[0].Count != 4 || tot.LossReasons[1].Reason != "no_decision" {
		t.Fatalf("loss reasons %+v", tot.LossReasons)
	}
	if r.Forecast.Total.Weighted != 15_000_000 {
		t.Fatalf("forecast weighted %d", r.Forecast.Total.Weighted)
	}

	code, out, errs = run(t, args...)
	if code != 0 {
		t.Fatalf("report: %s", errs)
	}
	for _, want := range []string{"Pipeline 2026-01-01 … 2026-06-30, amounts in EUR", "25.0%", "20.0%", "50,000.00", "2,083.33", "60.0",
		"price", "no_decision", "unspecified", "150,000.00", "2026-Q3", "not enough history", "Conventions", "velocity: "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--workspace", "acme", "--period", "week"}, "--period"},
		{[]string{"--workspace", "acme", "--from", "01/02/2026"}, "--from must be a date"},
		{[]string{"--workspace", "acme", "--from", "2026-02-01", "--to", "2026-01-01"}, "--from must not be after to"},
		{[]string{"--workspace", "acme", "--min-sample", "0"}, "--min-sample must be at least 1"},
		{[]string{"--workspace", "acme", "--currency", "euros"}, "--currency"},
		{[]string{}, "--workspace is required"},
	} {
		code, _, errs := run(t, append([]string{"report", "pipeline", "--db", db}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: %d %q, want %q", c.args, code, errs, c.want)
		}
	}
}
