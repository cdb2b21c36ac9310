package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
)

// The running app works off due scores: an MQL promoted a month ago whose score has
// since decayed is moved back to nurture by the scoring_due job.
func TestScoringDueJobRuns(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			c := model.Contact{Email: "old@x.io", LifecycleStage: "lead"}
			if err := e.App.St.InTx(ctx, func(q store.Q) error { return q.CreateContact(ctx, e.A.ID, &c) }); err != nil {
				t.Fatal(err)
			}
			month := store.Now().Add(-30 * 24 * time.Hour)
			past := &scoring.Service{St: e.App.St, Now: func() time.Time { return month }}
			evs := make([]scoring.Event, 4)
			for i := range evs {
				evs[i] = scoring.Event{ContactID: c.ID, Kind: "trial_activity"}
			}
			if res, err := past.Ingest(ctx, e.A.ID, evs); err != nil || len(res.Promoted) != 1 {
				t.Fatalf("ingest: %+v %v", res, err)
			}
			done, stop := e.App.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
			defer stop()
			// Ask for a sweep now rather than waiting for the next interval. A sweep
			// that was already running (the start-up one) may have looked before the
			// score existed and makes the insert a duplicate, so ask again after every
			// sweep that ends until one has handled the contact.
			timeout := time.After(30 * time.Second)
			for {
				if _, err := e.App.River.Insert(ctx, scoring.DueArgs{}, nil); err != nil {
					t.Fatal(err)
				}
				got, err := e.App.St.Read().GetContact(ctx, e.A.ID, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.LifecycleStage == "nurture" {
					return
				}
				select {
				case ev := <-done:
					if ev.Job.Kind == "scoring_due" && ev.Kind == river.EventKindJobFailed {
						t.Fatalf("scoring_due failed: %v", ev.Job.Errors)
					}
				case <-timeout:
					t.Fatalf("contact still %s 30 s after asking for a sweep", got.LifecycleStage)
				}
			}
		})
	}
}
