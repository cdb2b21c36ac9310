package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/success"
)

// TestSeedCustomerSuccess: the demo's recent won deals have handoffs in every
// state (one unassigned), and its customers have weekly health histories in
// more than one band.
func TestSeedCustomerSuccess(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	st := storetest.New(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, st, demo.Options{Now: now, Slug: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Handoffs != 30 {
		t.Fatalf("handoffs %d, want 30", res.Handoffs)
	}
	q := st.Read()
	queue, err := (&success.Service{St: st}).Queue(ctx, res.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(queue.AwaitingNote) != 4 || len(queue.AwaitingAcceptance) != 4 {
		t.Fatalf("queue: %d awaiting note, %d awaiting acceptance", len(queue.AwaitingNote), len(queue.AwaitingAcceptance))
	}
	unassigned := 0
	for _, r := range queue.AwaitingAcceptance {
		if r.CSMUserID == nil {
			unassigned++
		}
	}
	if unassigned != 1 {
		t.Errorf("unassigned awaiting acceptance: %d, want 1", unassigned)
	}
	bands := map[string]int{}
	histories := 0
	for _, r := range append(queue.AwaitingNote, queue.AwaitingAcceptance...) {
		h, err := q.HealthHistory(ctx, res.Workspace.ID, r.AccountID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) > 1 {
			histories++
		}
	}
	for _, b := range success.Bands {
		rows, err := q.CustomersInBands(ctx, res.Workspace.ID, []string{b}, 100)
		if err != nil {
			t.Fatal(err)
		}
		bands[b] = len(rows)
	}
	if bands[success.BandHealthy] == 0 || bands[success.BandCritical] == 0 || bands[success.BandHealthy]+bands[success.BandAtRisk]+bands[success.BandCritical] != 30 {
		t.Errorf("bands %v", bands)
	}
	if histories == 0 {
		t.Error("no customer in the queue has a health history")
	}
}
