package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The demo's economics tell the story: SMB through the digital motion
// meets 3:1, SMB through high touch does not, and the recommendations say to
// route SMB to digital, that outsourcing LDR work is cheaper per SQL, and
// that the SMB deal worked like an enterprise one cost more than it is worth.
func TestDemoEconomicsStory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	st := storetest.New(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, st, demo.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	spend, err := st.Read().ListSpend(ctx, res.Workspace.ID, store.SpendFilter{})
	if err != nil || len(spend) != 96 {
		t.Fatalf("spend entries %d %v", len(spend), err)
	}
	svc := &economics.Service{St: st, Now: func() time.Time { return now }}
	m, err := svc.Metrics(ctx, res.Workspace.ID, economics.MetricsParams{})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]economics.CellMetrics{}
	for _, c := range m.Matrix.Cells {
		status[c.Segment+"/"+c.Motion] = c
	}
	if c := status["smb/digital"]; c.Status != economics.StatusGreen || c.NewCustomers < 50 || c.LTVToCAC == nil || *c.LTVToCAC < 3 {
		t.Errorf("SMB digital %s %v", c.Status, c.Reasons)
	}
	if c := status["smb/high_touch"]; c.Status != economics.StatusRed || c.NewCustomers == 0 {
		t.Errorf("SMB high touch %s %v", c.Status, c.Reasons)
	}
	rules := map[string]bool{}
	for _, r := range m.Recommendations {
		rules[r.Rule] = true
	}
	for _, want := range []string{economics.RuleRoute, economics.RuleCostToClose} {
		if !rules[want] {
			t.Errorf("no %s recommendation: %+v", want, m.Recommendations)
		}
	}
	if len(m.Cohorts.Rows) < 6 || !m.MRR.Bridge.Holds || m.Summary.CAC.FullyLoaded.Value == nil {
		t.Errorf("cohorts %d, bridge %+v", len(m.Cohorts.Rows), m.MRR.Bridge)
	}
}
