package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
)

// memMailer stands in for the mail layer in API tests: a set of keys, so a
// double plan answers false as the real ledger does.
type memMailer struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (m *memMailer) PlanSend(_ context.Context, _ store.Q, _ int64, s sequences.PlannedSend) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[s.Key] {
		return false, nil
	}
	m.keys[s.Key] = true
	return true, nil
}

const seqBody = `{"name":%q,"status":"active","exit_rules":["replied"],"steps":[
	{"kind":"wait","duration":"1h"},
	{"kind":"send_email","subject":"Hello","text":"Hi there"},
	{"kind":"branch","if":{"kind":"field","field":"title","op":"contains","value":"vp"},"then":4},
	{"kind":"create_task","task_subject":"Call"},
	{"kind":"send_email","subject":"Bye","text":"Bye"}]}`

func (h *harness) mailer() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.env.App.Sequences.Mailer == nil {
		h.env.App.Sequences.Mailer = &memMailer{keys: map[string]bool{}}
	}
}

func (h *harness) testSequences(t *testing.T) {
	h.mailer()
	admin := h.adminA()
	// Validation names the step's field.
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/sequences", `{"name":"bad","steps":[{"kind":"wait","duration":"soon"}]}`), http.StatusBadRequest, "steps[0].duration")
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/sequences", `{"name":"bad","steps":[{"kind":"send_email","subject":"x","text":"y"},{"kind":"branch","if":{"kind":"score","score":10},"then":9}]}`), http.StatusBadRequest, "steps[1].then")
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/sequences", `{"name":"bad","steps":[{"kind":"wait","duration":"1h","bogus":1}]}`), http.StatusBadRequest, "bogus") // the strict decoder names the unknown key

	created := h.want(t, http.StatusCreated, admin, "POST", "/api/v1/sequences", fmt.Sprintf(seqBody, uniq("nurture")))
	sid := id(t, created, "id")
	path := fmt.Sprintf("/api/v1/sequences/%d", sid)
	h.want(t, http.StatusOK, admin, "GET", path, "")
	if n := len(items(t, h.want(t, http.StatusOK, admin, "GET", "/api/v1/sequences", ""))); n == 0 {
		t.Fatal("list is empty")
	}
	upd := h.want(t, http.StatusOK, admin, "PUT", path, fmt.Sprintf(seqBody, uniq("renamed")))
	if upd["status"] != "active" {
		t.Fatalf("PUT changed the status: %v", upd)
	}
	c1 := h.mk(t, admin, "contacts", fmt.Sprintf(`{"email":"%s@seq.example","title":"VP Sales"}`, uniq("s")))
	c2 := h.mk(t, admin, "contacts", fmt.Sprintf(`{"email":"%s@seq.example"}`, uniq("s")))
	res := h.want(t, http.StatusOK, admin, "POST", path+"/enrollments", fmt.Sprintf(`{"contact_ids":[%d,%d,%d,999999999]}`, c1, c2, c1))
	if len(res["enrolled"].([]any)) != 2 || len(res["already"].([]any)) != 1 || len(res["missing"].([]any)) != 1 {
		t.Fatalf("enrol: %v", res)
	}
	wantProblem(t, h.call(t, admin, "POST", path+"/enrollments", `{"contact_ids":[]}`), http.StatusBadRequest, "contact_ids")
	e1 := int64(res["enrolled"].([]any)[0].(float64))
	e2 := int64(res["enrolled"].([]any)[1].(float64))
	ep := func(id int64, action string) string { return fmt.Sprintf("/api/v1/enrollments/%d/%s", id, action) }

	// Hold both: run the due steps two hours ahead with a 1-minute staleness window.
	h.want(t, http.StatusOK, admin, "PUT", path, fmt.Sprintf(`{"name":%q,"staleness_minutes":1,"steps":[{"kind":"wait","duration":"1h"},{"kind":"send_email","subject":"Hello","text":"Hi"},{"kind":"wait","duration":"1h"},{"kind":"send_email","subject":"Again","text":"Hi"}]}`, uniq("held")))
	// The due-steps worker enrolment kicked may hold the rows (SKIP LOCKED on
	// PostgreSQL) while this run claims: run again until both are held.
	var held []map[string]any
	for i := 0; i < 100 && len(held) < 2; i++ {
		if _, err := h.env.App.Sequences.RunDue(context.Background(), time.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		held = items(t, h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/enrollments?sequence_id=%d&status=held", sid), ""))
	}
	if len(held) != 2 || held[0]["hold_reason"] == "" {
		t.Fatalf("held: %v", held)
	}
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/enrollments?status=sleeping", ""), http.StatusBadRequest, "status")
	if got := h.want(t, http.StatusOK, admin, "POST", ep(e1, "release"), "")["status"]; got != "active" {
		t.Fatalf("release: %v", got)
	}
	h.want(t, http.StatusOK, admin, "POST", ep(e2, "skip"), "")
	wantProblem(t, h.call(t, admin, "POST", ep(e2, "skip"), ""), http.StatusConflict, "status")
	h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/enrollments/%d", e1), "")
	if got := h.want(t, http.StatusOK, admin, "POST", ep(e1, "pause"), "")["status"]; got != "paused" {
		t.Fatalf("pause: %v", got)
	}
	h.want(t, http.StatusOK, admin, "POST", ep(e1, "resume"), "")
	h.want(t, http.StatusOK, admin, "POST", path+"/pause", "")
	h.want(t, http.StatusOK, admin, "POST", path+"/resume", "")
	h.want(t, http.StatusOK, admin, "POST", path+"/activate", "")
	if got := h.want(t, http.StatusOK, admin, "POST", ep(e1, "exit"), "")["exit_reason"]; got != "manual" {
		t.Fatalf("exit: %v", got)
	}
	st := h.want(t, http.StatusOK, admin, "GET", path+"/stats", "")
	steps := st["steps"].([]any)
	// Both were held once; at the wait or at the email, depending on whether
	// the worker kicked by the enrolment ran the wait step first. (A wait after
	// the email keeps a released enrollment active, whichever step was held.)
	held2 := 0.0
	for _, x := range steps {
		held2 += x.(map[string]any)["held"].(float64)
	}
	if len(steps) != 4 || held2 != 2 {
		t.Fatalf("stats: %v", st)
	}
	h.want(t, http.StatusNoContent, admin, "DELETE", path, "")
	wantProblem(t, h.call(t, admin, "GET", path, ""), http.StatusNotFound, "")
}
