package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

type keyMailer struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (m *keyMailer) PlanSend(_ context.Context, _ store.Q, _ int64, s sequences.PlannedSend) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[s.Key] {
		return false, nil
	}
	m.keys[s.Key] = true
	return true, nil
}

// TestSequences: an admin opens the sequence list (per-step stats), the editor,
// and the enrollments page, where a held step is released.
func TestSequences(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			e.App.Sequences.Mailer = &keyMailer{keys: map[string]bool{}}
			sq, err := e.App.Sequences.Create(ctx, e.A.ID, model.Sequence{Name: "Trial nurture", Status: "active", StalenessMinutes: 60,
				Trigger: model.SequenceTrigger{Kind: "lifecycle_stage", Ref: "lead"}, ExitRules: []string{"replied", "became_customer", "unsubscribed"},
				SendWindow: &model.SendWindow{StartHour: 0, EndHour: 24},
				Steps: []model.SequenceStep{
					{Kind: "send_email", Subject: "Getting started", Text: "Hi {{.FirstName}}"},
					{Kind: "wait", Duration: "2d"},
					{Kind: "branch", If: &model.StepCondition{Kind: "field", Field: "title", Op: "contains", Value: "vp"}, Then: ptrInt(4)},
					{Kind: "send_email", Subject: "Case study", Text: "See how"},
					{Kind: "create_task", TaskSubject: "Call the VP"},
				}})
			if err != nil {
				t.Fatal(err)
			}
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			var ids []int64
			for i, name := range []string{"Ada", "Grace", "Linus", "Ken", "Barbara"} {
				c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": fmt.Sprintf("%s@example.com", name), "first_name": name, "title": []string{"VP Sales", "Engineer"}[i%2]})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			// Contacts created as leads were enrolled by the trigger; run their first step.
			if _, err := e.App.Sequences.RunDue(ctx, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := e.App.St.InTx(ctx, func(q store.Q) error { _, err := e.App.Sequences.Exit(ctx, q, e.A.ID, ids[0], "replied"); return err }); err != nil {
				t.Fatal(err)
			}
			// Two days and two hours later (downtime): the wait ended long ago, so the next step is held.
			// Run again while the worker holds rows (SKIP LOCKED on PostgreSQL).
			for i := 0; i < 100; i++ {
				if _, err := e.App.Sequences.RunDue(ctx, time.Now().Add(50*time.Hour)); err != nil {
					t.Fatal(err)
				}
				held, err := e.App.Sequences.Enrollments(ctx, e.A.ID, store.EnrollmentFilter{SequenceID: sq.ID, Status: "held"})
				if err != nil {
					t.Fatal(err)
				}
				if len(held) == 4 {
					break
				}
			}
			admin := e.A.Users[model.RoleAdmin]
			b.run("sign in",
				chromedp.Navigate(e.URL+"/login?next=%2Fsequences"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, admin.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`table.table`),
			)
			mustContain(t, "list", b.text(`main`), "Trial nurture", "4 held", "Send email")
			b.screenshot(string(kind) + "-sequences-list")
			b.run("editor", chromedp.Navigate(fmt.Sprintf("%s/sequences/%d/edit", e.URL, sq.ID)), chromedp.WaitVisible(`table.steps`))
			b.screenshot(string(kind) + "-sequence-editor")
			b.run("enrollments", chromedp.Navigate(fmt.Sprintf("%s/sequences/%d/enrollments?status=held", e.URL, sq.ID)), chromedp.WaitVisible(`table.table`))
			mustContain(t, "held", b.text(`main`), "held", "staleness window")
			b.screenshot(string(kind) + "-sequence-enrollments")
			b.run("release one", chromedp.Click(`form[action$="/release"] button`), chromedp.WaitVisible(`.notice`))
		})
	}
}

func ptrInt(i int) *int { return &i }
