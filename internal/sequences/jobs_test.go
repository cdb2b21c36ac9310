package sequences_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
)

// keys is a concurrency-safe Mailer for the full app (River workers call it).
type keys struct {
	mu sync.Mutex
	m  map[string]bool
}

func (k *keys) PlanSend(_ context.Context, _ store.Q, _ int64, s sequences.PlannedSend) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m[s.Key] {
		return false, nil
	}
	k.m[s.Key] = true
	return true, nil
}

func (k *keys) has(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[key]
}

// Event-driven execution in the running app: a lifecycle change through crm
// enrols the contact and inserts a due-steps job in the same transaction; the
// River worker runs the first step without waiting for the periodic sweep.
func TestJobRunsStepWhenDue(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			k := &keys{m: map[string]bool{}}
			events, stop := e.App.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
			defer stop()
			e.App.Sequences.Mailer = k
			sq, err := e.App.Sequences.Create(ctx, e.A.ID, model.Sequence{Name: "sql follow-up", Status: "active",
				Trigger: model.SequenceTrigger{Kind: "lifecycle_stage", Ref: "sql"}, Steps: []model.SequenceStep{{Kind: "send_email", Subject: "Hi", Text: "Hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			act := model.Actor{Workspace: e.A.ID, Label: "test", Role: model.RoleAdmin}
			c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "job@x.io"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.CRM.UpdateContact(ctx, act, c.ID, crm.Fields{"lifecycle_stage": "sql"}); err != nil {
				t.Fatal(err)
			}
			es, err := e.App.Sequences.Enrollments(ctx, e.A.ID, store.EnrollmentFilter{SequenceID: sq.ID})
			if err != nil || len(es) != 1 {
				t.Fatalf("enrollments: %+v %v", es, err)
			}
			key := sequences.SendKey(es[0].ID, sq.Steps[0].ID)
			timeout := time.After(30 * time.Second) // a guard, not a synchronisation: job events drive the wait
			for done := false; !done; {
				select {
				case ev := <-events:
					if ev.Job.Kind != (sequences.DueBatchArgs{}).Kind() {
						continue
					}
					if ev.Kind == river.EventKindJobFailed {
						t.Fatalf("due-steps batch job failed: %v", ev.Job.Errors)
					}
					got, err := e.App.St.Read().GetEnrollment(ctx, e.A.ID, es[0].ID, false)
					if err != nil {
						t.Fatal(err)
					}
					done = got.Status == "completed"
				case <-timeout:
					t.Fatal("the step was not run by a job")
				}
			}
			// The job planned the email and completed the enrollment in one transaction.
			if !k.has(key) {
				t.Fatalf("completed without planning %s", key)
			}
		})
	}
}
