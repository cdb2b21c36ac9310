package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
)

// keyMailer stands in for the mail layer: planned keys, each once.
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

func TestSequencesUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) { testSequencesUI(t, e) })
}

// seedHeldSequence makes an active sequence in ws with two contacts whose
// first step is held (run two hours late with a 1-minute staleness window).
func seedHeldSequence(t *testing.T, e *apptest.Env, ws apptest.WS, name string) (model.Sequence, []int64) {
	t.Helper()
	ctx := context.Background()
	if e.App.Sequences.Mailer == nil {
		e.App.Sequences.Mailer = &keyMailer{keys: map[string]bool{}}
	}
	sq, err := e.App.Sequences.Create(ctx, ws.ID, model.Sequence{Name: name, Status: "active", StalenessMinutes: 1, ExitRules: []string{"replied"},
		Steps: []model.SequenceStep{{Kind: "wait", Duration: "1h"}, {Kind: "send_email", Subject: "Hello", Text: "Hi"}, {Kind: "create_task", TaskSubject: "Call"}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 2 {
		c, err := e.App.CRM.CreateContact(ctx, actor(t, e, ws), crm.Fields{"email": fmt.Sprintf("%s%d@seq.example", strings.ToLower(strings.ReplaceAll(name, " ", "")), i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	res, err := e.App.Sequences.Enroll(ctx, ws.ID, sq.ID, ids, "manual")
	if err != nil || len(res.Enrolled) != 2 {
		t.Fatalf("enrol: %+v %v", res, err)
	}
	// The worker enrolment kicked may hold the rows (SKIP LOCKED on PostgreSQL)
	// while this run claims: run again until both are held.
	for i := 0; i < 100; i++ {
		if _, err := e.App.Sequences.RunDue(ctx, time.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		held, err := e.App.Sequences.Enrollments(ctx, ws.ID, store.EnrollmentFilter{SequenceID: sq.ID, Status: "held"})
		if err != nil {
			t.Fatal(err)
		}
		if len(held) == 2 {
			return sq, res.Enrolled
		}
	}
	t.Fatal("enrollments were not held")
	return sq, nil
}

func testSequencesUI(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, c, "/sequences"), 200, "No sequences yet")
	ok(t, get(t, e, c, "/sequences/new"), 200, `name="s0_subject"`, "Add step")
	// Row operations re-render without saving.
	form := url.Values{"name": {"Welcome"}, "trigger_kind": {"manual"}, "staleness_minutes": {"1440"}, "steps": {"1"},
		"s0_kind": {"send_email"}, "s0_subject": {"Hi"}, "s0_text": {"Hello"}, "op": {"add"}, "add_kind": {"wait"}}
	ok(t, post(t, e, c, "/sequences", form), 200, `name="s1_duration"`)
	// Preview renders the email step for a sample contact through the sending
	// engine; a template error names its place.
	pv := url.Values{}
	for k, v := range form {
		pv[k] = v
	}
	pv.Set("s0_subject", "Hi {{.Contact.FirstName}}")
	pv.Set("s0_text", "Welcome aboard, {{.Contact.FirstName}}.")
	pv.Set("op", "preview-0")
	ok(t, post(t, e, c, "/sequences", pv), 200, "<strong>Hi Ada</strong>", "Welcome aboard, Ada.", "As ada@example.com would receive it")
	pv.Set("s0_text", "Welcome {{.Contact.FirstName")
	ok(t, post(t, e, c, "/sequences", pv), 200, `role="alert"`, "1:")
	// A bad wait is shown on its row.
	form.Set("steps", "2")
	form.Set("s1_kind", "wait")
	form.Set("s1_duration", "soon")
	form.Set("op", "save")
	ok(t, post(t, e, c, "/sequences", form), http.StatusUnprocessableEntity, `id="s1-duration-err"`, "Step 2")
	// Move the wait up, then save.
	form.Set("op", "up-1")
	r := post(t, e, c, "/sequences", form)
	ok(t, r, 200)
	if strings.Index(r.Body, `name="s0_duration"`) < 0 {
		t.Fatalf("wait did not move up:\n%s", snippet(r.Body))
	}
	form.Set("s1_duration", "2d")
	form.Set("op", "save")
	ok(t, post(t, e, c, "/sequences", form), http.StatusSeeOther)
	ok(t, get(t, e, c, "/sequences"), 200, "Welcome", "Activate")

	sq, enr := seedHeldSequence(t, e, e.A, "Held demo")
	ok(t, get(t, e, c, "/sequences"), 200, "Held demo", "2 held")
	ok(t, get(t, e, c, fmt.Sprintf("/sequences/%d/enrollments?status=held", sq.ID)), 200, "Release", "Skip", "staleness window")
	ok(t, get(t, e, c, fmt.Sprintf("/sequences/%d/edit", sq.ID)), 200, `value="1h"`)
	ok(t, post(t, e, c, fmt.Sprintf("/enrollments/%d/release", enr[0]), nil), http.StatusSeeOther)
	ok(t, post(t, e, c, fmt.Sprintf("/enrollments/%d/skip", enr[1]), nil), http.StatusSeeOther)
	// The worker may already run the next step: check the log, not the position.
	logs, err := e.App.St.Read().StepLogs(context.Background(), e.A.ID, enr[1])
	// Held at the wait or at the email (whether the worker kicked by the
	// enrolment ran the wait first); either way the skip follows the hold.
	skipped := false
	for i := 1; i < len(logs); i++ {
		skipped = skipped || (logs[i-1].Outcome == "held" && logs[i].Outcome == "skipped" && logs[i].Position == logs[i-1].Position)
	}
	if err != nil || !skipped {
		t.Fatalf("skip log: %+v %v", logs, err)
	}
	ok(t, post(t, e, c, fmt.Sprintf("/sequences/%d/pause", sq.ID), nil), http.StatusSeeOther)

	// B's sequence and enrollments are a 404 to A.
	bs, benr := seedHeldSequence(t, e, e.B, "Beta secret")
	for _, p := range []string{fmt.Sprintf("/sequences/%d/edit", bs.ID), fmt.Sprintf("/sequences/%d/enrollments", bs.ID)} {
		r := get(t, e, c, p)
		ok(t, r, http.StatusNotFound, "Page not found")
		if strings.Contains(r.Body, "Beta secret") {
			t.Errorf("%s leaked B's sequence", p)
		}
	}
	ok(t, post(t, e, c, fmt.Sprintf("/enrollments/%d/release", benr[0]), nil), http.StatusNotFound)
	ok(t, post(t, e, c, fmt.Sprintf("/sequences/%d/pause", bs.ID), nil), http.StatusNotFound)
	if b, _ := e.App.St.Read().GetEnrollment(context.Background(), e.B.ID, benr[0], false); b.Status != "held" {
		t.Fatalf("A changed B's enrollment: %+v", b)
	}
}
