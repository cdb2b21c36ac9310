package sequences_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var t0 = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC) // a Tuesday

type fixture struct {
	st    *store.Store
	svc   *sequences.Service
	crm   *crm.Service
	led   *ledger
	sig   *signals
	a, b  int64
	clock time.Time
}

func newFixture(t testing.TB, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, clock: t0, led: newLedger(t, st), sig: &signals{opened: map[[2]int64]bool{}, clicked: map[[2]int64]bool{}, visited: map[int64]string{}}}
	f.crm = &crm.Service{St: st}
	f.svc = &sequences.Service{St: st, Mailer: f.led, Signals: f.sig, CRM: f.crm, Now: func() time.Time { return f.clock }}
	f.crm.Lifecycle, f.crm.Segments = f.svc, f.svc
	var a, b model.Workspace
	err := st.InTx(ctx, func(q store.Q) error {
		a, b = model.Workspace{Name: "A", Slug: "a"}, model.Workspace{Name: "B", Slug: "b"}
		if err := q.CreateWorkspace(ctx, &a); err != nil {
			return err
		}
		return q.CreateWorkspace(ctx, &b)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.a, f.b = a.ID, b.ID
	return f
}

func (f *fixture) contact(t *testing.T, ws int64, email string, custom model.Custom) int64 {
	t.Helper()
	ctx := context.Background()
	if custom == nil {
		custom = model.Custom{}
	}
	c := model.Contact{Email: email, LifecycleStage: "lead", Custom: custom}
	if err := f.st.InTx(ctx, func(q store.Q) error { return q.CreateContact(ctx, ws, &c) }); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (f *fixture) sequence(t *testing.T, ws int64, s model.Sequence) model.Sequence {
	t.Helper()
	if s.Status == "" {
		s.Status = "active"
	}
	out, err := f.svc.Create(context.Background(), ws, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) enroll(t *testing.T, ws, seq int64, ids ...int64) sequences.EnrollResult {
	t.Helper()
	res, err := f.svc.Enroll(context.Background(), ws, seq, ids, "manual")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Enrolled)+len(res.Already)+len(res.Missing) != len(ids) {
		t.Fatalf("enrol result does not reconcile: %+v", res)
	}
	return res
}

func (f *fixture) run(t *testing.T) sequences.RunResult {
	t.Helper()
	res, err := f.svc.RunDue(context.Background(), f.clock)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) enrollment(t *testing.T, ws, id int64) model.Enrollment {
	t.Helper()
	e, err := f.st.Read().GetEnrollment(context.Background(), ws, id, false)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) outcomes(t *testing.T, ws, id int64) string {
	t.Helper()
	logs, err := f.st.Read().StepLogs(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range logs {
		out = append(out, l.Outcome)
	}
	return strings.Join(out, ",")
}

func ptr(i int) *int { return &i }

func email(subject string) model.SequenceStep {
	return model.SequenceStep{Kind: "send_email", Subject: subject, Text: "Hello {{ .FirstName }}"}
}

func wait(d string) model.SequenceStep { return model.SequenceStep{Kind: "wait", Duration: d} }

func TestSequences(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		fn   func(*testing.T, *fixture)
	}{
		{"validation", testValidation},
		{"steps", testSteps},
		{"branches", testBranches},
		{"send window in contact zone", testSendWindow},
		{"one running enrollment", testOneRunning},
		{"exit rules", testExitRules},
		{"pause and resume never re-send", testPauseResume},
		{"staleness hold", testStaleness},
		{"lifecycle and form triggers", testTriggers},
		{"segment trigger", testSegmentTrigger},
		{"workspace isolation", testIsolation},
		{"stats", testStats},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, st *store.Store) { c.fn(t, newFixture(t, st)) })
		})
	}
}

func testValidation(t *testing.T, f *fixture) {
	ctx := context.Background()
	for _, c := range []struct {
		seq   model.Sequence
		field string
	}{
		{model.Sequence{}, "name"},
		{model.Sequence{Name: "x", Trigger: model.SequenceTrigger{Kind: "lifecycle_stage", Ref: "nope"}}, "trigger.ref"},
		{model.Sequence{Name: "x", ExitRules: []string{"replied", "bored"}}, "exit_rules[1]"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{email("a"), {Kind: "send_email", Text: "b"}}}, "steps[1].subject"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{wait("soon")}}, "steps[0].duration"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{{Kind: "wait", UntilWindow: &model.SendWindow{StartHour: 9, EndHour: 17, Days: []string{"mon", "funday"}}}}}, "steps[0].until_window.days[1]"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{email("a"), {Kind: "branch", If: &model.StepCondition{Kind: "opened"}, Then: ptr(7)}}}, "steps[1].then"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{{Kind: "branch", If: &model.StepCondition{Kind: "field", Field: "title", Op: "like"}}}}, "steps[0].if.op"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{{Kind: "set_field", Field: "lifecycle_stage", Value: "king"}}}, "steps[0].value"},
		{model.Sequence{Name: "x", Steps: []model.SequenceStep{{Kind: "teleport"}}}, "steps[0].kind"},
		{model.Sequence{Name: "x", Status: "active"}, "steps"},
	} {
		_, err := f.svc.Create(ctx, f.a, c.seq)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: error %v, want a field error on %s", c.seq, err, c.field)
		}
	}
	s := f.sequence(t, f.a, model.Sequence{Name: "dup", Steps: []model.SequenceStep{email("a")}})
	if _, err := f.svc.Create(ctx, f.a, model.Sequence{Name: "dup"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if s.StalenessMinutes != sequences.DefaultStalenessMinutes || s.Steps[0].ID == 0 {
		t.Fatalf("defaults not applied: %+v", s)
	}
	// Editing keeps the id of a position that still exists.
	up, err := f.svc.Update(ctx, f.a, s.ID, model.Sequence{Name: "dup", Steps: []model.SequenceStep{email("changed"), wait("1d")}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Steps[0].ID != s.Steps[0].ID || up.Steps[1].ID == 0 {
		t.Fatalf("step ids: before %d, after %+v", s.Steps[0].ID, up.Steps)
	}
}

// A linear sequence: email, wait 2 days, task, set a field, email, end. Steps run
// several in a row when nothing waits; the wait's due time is written.
func testSteps(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "welcome", Steps: []model.SequenceStep{
		email("Welcome"), wait("2d"),
		{Kind: "create_task", TaskSubject: "Call them"},
		{Kind: "set_field", Field: "title", Value: "Nurtured"},
		email("Second"),
	}})
	c := f.contact(t, f.a, "ann@x.io", nil)
	e := f.enroll(t, f.a, seq.ID, c).Enrolled[0]
	res := f.run(t)
	if res.Claimed != 1 || res.Planned != 1 || res.Steps != 2 {
		t.Fatalf("first run: %+v", res)
	}
	got := f.enrollment(t, f.a, e)
	if got.Status != "active" || got.Position != 2 || got.NextDueAt == nil || !got.NextDueAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("after the wait: %+v", got)
	}
	// Not due yet: nothing is claimed.
	f.clock = t0.Add(47 * time.Hour)
	if res := f.run(t); res.Claimed != 0 {
		t.Fatalf("claimed early: %+v", res)
	}
	f.clock = t0.Add(48*time.Hour + time.Minute)
	if res := f.run(t); res.Planned != 1 || res.Completed != 1 {
		t.Fatalf("second run: %+v", res)
	}
	got = f.enrollment(t, f.a, e)
	if got.Status != "completed" || got.NextDueAt != nil || got.EndedAt == nil {
		t.Fatalf("not completed: %+v", got)
	}
	if o := f.outcomes(t, f.a, e); o != "enrolled,sent,waited,task,field,sent,completed" {
		t.Fatalf("log: %s", o)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1", e); n != 2 {
		t.Fatalf("ledger rows: %d", n)
	}
	ct, err := f.st.Read().GetContact(ctx, f.a, c)
	if err != nil || ct.Title != "Nurtured" {
		t.Fatalf("set_field did not go through crm: %+v %v", ct, err)
	}
	h, err := f.st.Read().History(ctx, f.a, "contact", c)
	if err != nil || len(h) == 0 || !strings.HasPrefix(h[0].Actor, sequences.Actor) {
		t.Fatalf("no history from the sequence: %+v %v", h, err)
	}
	acts, err := f.st.Read().ListActivities(ctx, f.a, store.ListParams{Filters: []store.Filter{{Field: "contact_id", Op: "eq", Value: fmt.Sprint(c)}}, Limit: 10}, nil)
	if err != nil || len(acts.Items) != 1 || acts.Items[0].Kind != "task" || acts.Items[0].Subject != "Call them" {
		t.Fatalf("task: %+v %v", acts, err)
	}
}

// Branches on opened, clicked, visited, score and fields pick then or else.
func testBranches(t *testing.T, f *fixture) {
	branch := func(c model.StepCondition) model.SequenceStep {
		return model.SequenceStep{Kind: "branch", If: &c, Then: ptr(2), Else: ptr(4)}
	}
	cases := []struct {
		name string
		cond model.StepCondition
		prep func(c, e int64, sendStep int64)
		want string
	}{
		{"opened yes", model.StepCondition{Kind: "opened"}, func(c, e, s int64) { f.sig.opened[[2]int64{e, s}] = true }, "yes"},
		{"opened no", model.StepCondition{Kind: "opened"}, nil, "no"},
		{"clicked yes", model.StepCondition{Kind: "clicked", Step: ptr(0)}, func(c, e, s int64) { f.sig.clicked[[2]int64{e, s}] = true }, "yes"},
		{"visited yes", model.StepCondition{Kind: "visited", URL: "/pricing"}, func(c, e, s int64) { f.sig.visited[c] = "https://x.io/pricing?a=1" }, "yes"},
		{"visited other page", model.StepCondition{Kind: "visited", URL: "/pricing"}, func(c, e, s int64) { f.sig.visited[c] = "https://x.io/blog" }, "no"},
		{"score below", model.StepCondition{Kind: "score", Score: 50}, nil, "no"},
		{"score above", model.StepCondition{Kind: "score", Score: 50}, func(c, e, s int64) {
			err := f.st.InTx(context.Background(), func(q store.Q) error {
				return q.PutContactScores(context.Background(), f.a, []store.ContactScore{{ContactID: c, Fit: 60, Total: 60, EngagementAt: t0, UpdatedAt: t0, Breakdown: []byte("{}")}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}, "yes"},
		{"field eq", model.StepCondition{Kind: "field", Field: "custom.plan", Op: "eq", Value: "PRO"}, nil, "yes"},
		{"field gte number", model.StepCondition{Kind: "field", Field: "custom.seats", Op: "gte", Value: 10.0}, nil, "yes"},
		{"field contains no", model.StepCondition{Kind: "field", Field: "email", Op: "contains", Value: "@other"}, nil, "no"},
		{"account field unset", model.StepCondition{Kind: "field", Field: "account.industry", Op: "unset"}, nil, "yes"},
	}
	for i, c := range cases {
		// 0 first, 1 branch (then 2, else 4), 2 yes, 3 jump to the end, 4 no.
		seq := f.sequence(t, f.a, model.Sequence{Name: c.name, Steps: []model.SequenceStep{
			email("first"), branch(c.cond), email("yes"),
			{Kind: "branch", If: &model.StepCondition{Kind: "field", Field: "email", Op: "set"}, Then: ptr(5), Else: ptr(5)},
			email("no"),
		}})
		ct := f.contact(t, f.a, "b"+string(rune('a'+i))+"@x.io", model.Custom{"plan": "pro", "seats": 12.0})
		e := f.enroll(t, f.a, seq.ID, ct).Enrolled[0]
		// First run sends step 0 and evaluates the branch in the same batch; the
		// doubles must be set before: prep with the step id of the first email.
		if c.prep != nil {
			c.prep(ct, e, seq.Steps[0].ID)
		}
		f.run(t)
		var subj string
		err := f.st.W.QueryRowContext(context.Background(), `SELECT subject FROM test_send_ledger WHERE enrollment_id=$1 AND subject <> 'first'`, e).Scan(&subj)
		if err != nil {
			t.Fatalf("%s: %v (log %s)", c.name, err, f.outcomes(t, f.a, e))
		}
		if subj != c.want {
			t.Errorf("%s: went to %q, want %q (log %s)", c.name, subj, c.want, f.outcomes(t, f.a, e))
		}
	}
}

// A send window holds an email until 9:00 in the contact's own zone; a contact
// without a zone uses the workspace default.
func testSendWindow(t *testing.T, f *fixture) {
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(q store.Q) error {
		return q.SetAssignmentSettings(ctx, f.a, model.AssignmentSettings{Timezone: "America/New_York"})
	}); err != nil {
		t.Fatal(err)
	}
	seq := f.sequence(t, f.a, model.Sequence{Name: "windowed", SendWindow: &model.SendWindow{StartHour: 9, EndHour: 17, Days: []string{"mon", "tue", "wed", "thu", "fri"}},
		Steps: []model.SequenceStep{email("hi")}})
	f.clock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // 21:00 Tokyo, 08:00 New York
	tokyo := f.contact(t, f.a, "tokyo@x.io", model.Custom{"timezone": "Asia/Tokyo"})
	ny := f.contact(t, f.a, "ny@x.io", nil)
	bad := f.contact(t, f.a, "bad@x.io", model.Custom{"timezone": "Mars/Olympus"})
	res := f.enroll(t, f.a, seq.ID, tokyo, ny, bad)
	if r := f.run(t); r.Planned != 0 {
		t.Fatalf("sent outside the window: %+v", r)
	}
	want := map[int64]time.Time{
		res.Enrolled[0]: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC),  // 09:00 Wed Tokyo
		res.Enrolled[1]: time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC), // 09:00 Tue New York (EDT since 8 March)
		res.Enrolled[2]: time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC), // unknown zone: workspace default
	}
	for id, w := range want {
		e := f.enrollment(t, f.a, id)
		if e.NextDueAt == nil || !e.NextDueAt.Equal(w) || e.Position != 0 {
			t.Errorf("enrollment %d: due %v, want %v", id, e.NextDueAt, w)
		}
	}
	f.clock = time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)
	if r := f.run(t); r.Planned != 2 {
		t.Fatalf("at 9:00 New York: %+v", r)
	}
}

func testOneRunning(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", Steps: []model.SequenceStep{email("a"), wait("7d"), email("b")}})
	c := f.contact(t, f.a, "c@x.io", nil)
	first := f.enroll(t, f.a, seq.ID, c)
	if len(first.Enrolled) != 1 {
		t.Fatalf("%+v", first)
	}
	again := f.enroll(t, f.a, seq.ID, c, c+1000)
	if len(again.Already) != 1 || again.Already[0] != c || len(again.Missing) != 1 {
		t.Fatalf("second enrolment: %+v", again)
	}
	// The database enforces it too, not only the service.
	err := f.st.InTx(ctx, func(q store.Q) error {
		ok, err := q.InsertEnrollment(ctx, f.a, &model.Enrollment{SequenceID: seq.ID, ContactID: c, Status: "held"})
		if ok {
			return errors.New("a second running enrollment was written")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ExitEnrollment(ctx, f.a, first.Enrolled[0]); err != nil {
		t.Fatal(err)
	}
	if re := f.enroll(t, f.a, seq.ID, c); len(re.Enrolled) != 1 {
		t.Fatalf("re-enrolment after exit: %+v", re)
	}
	// A draft cannot enrol.
	d := f.sequence(t, f.a, model.Sequence{Name: "draft", Status: "draft"})
	var fe *store.FieldError
	if _, err := f.svc.Enroll(ctx, f.a, d.ID, []int64{c}, "api"); !errors.As(err, &fe) {
		t.Fatalf("draft enrolment: %v", err)
	}
}

func testExitRules(t *testing.T, f *fixture) {
	ctx := context.Background()
	steps := []model.SequenceStep{email("a"), wait("3d"), email("b")}
	replied := f.sequence(t, f.a, model.Sequence{Name: "r", ExitRules: []string{"replied", "became_customer"}, Steps: steps})
	plain := f.sequence(t, f.a, model.Sequence{Name: "p", Steps: steps})
	c := f.contact(t, f.a, "x@x.io", nil)
	er := f.enroll(t, f.a, replied.ID, c).Enrolled[0]
	ep := f.enroll(t, f.a, plain.ID, c).Enrolled[0]
	f.run(t)
	exit := func(reason string) int {
		var n int
		err := f.st.InTx(ctx, func(q store.Q) error {
			var err error
			n, err = f.svc.Exit(ctx, q, f.a, c, reason)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := exit("bounced"); n != 0 {
		t.Fatalf("bounced exited %d without the rule", n)
	}
	if n := exit("replied"); n != 1 {
		t.Fatalf("replied exited %d", n)
	}
	if e := f.enrollment(t, f.a, er); e.Status != "exited" || e.ExitReason != "replied" || e.NextDueAt != nil {
		t.Fatalf("replied: %+v", e)
	}
	if e := f.enrollment(t, f.a, ep); e.Status != "active" {
		t.Fatalf("plain was exited: %+v", e)
	}
	if n := exit("manual"); n != 1 {
		t.Fatalf("manual exited %d", n)
	}
	if e := f.enrollment(t, f.a, ep); e.Status != "exited" || e.ExitReason != "manual" {
		t.Fatalf("manual: %+v", e)
	}
	err := f.st.InTx(ctx, func(q store.Q) error { _, err := f.svc.Exit(ctx, q, f.a, c, "bored"); return err })
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "reason" {
		t.Fatalf("unknown reason: %v", err)
	}
	// became_customer fires from a lifecycle change through crm, in its transaction.
	c2 := f.contact(t, f.a, "y@x.io", nil)
	e2 := f.enroll(t, f.a, replied.ID, c2).Enrolled[0]
	if _, err := f.crm.UpdateContact(ctx, model.Actor{Workspace: f.a, Label: "test"}, c2, crm.Fields{"lifecycle_stage": "customer"}); err != nil {
		t.Fatal(err)
	}
	if e := f.enrollment(t, f.a, e2); e.Status != "exited" || e.ExitReason != "became_customer" {
		t.Fatalf("became_customer: %+v", e)
	}
	// A set_field step that makes the contact a customer exits it mid-run: the
	// email after it is not planned.
	conv := f.sequence(t, f.a, model.Sequence{Name: "conv", ExitRules: []string{"became_customer"}, Steps: []model.SequenceStep{
		{Kind: "set_field", Field: "lifecycle_stage", Value: "customer"}, email("never"),
	}})
	c3 := f.contact(t, f.a, "z@x.io", nil)
	e3 := f.enroll(t, f.a, conv.ID, c3).Enrolled[0]
	f.run(t)
	if e := f.enrollment(t, f.a, e3); e.Status != "exited" || e.ExitReason != "became_customer" {
		t.Fatalf("set_field exit: %+v", e)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1", e3); n != 0 {
		t.Fatalf("sent after exit: %d", n)
	}
}

// Pausing and resuming (sequence or enrollment) never plans a step twice, and
// replaying a step that was planned (a re-run after a crash) finds its key.
func testPauseResume(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", Steps: []model.SequenceStep{email("a"), wait("1h"), email("b")}})
	c := f.contact(t, f.a, "p@x.io", nil)
	e := f.enroll(t, f.a, seq.ID, c).Enrolled[0]
	f.run(t)
	if _, err := f.svc.SetStatus(ctx, f.a, seq.ID, "paused"); err != nil {
		t.Fatal(err)
	}
	if got := f.enrollment(t, f.a, e); got.Status != "paused" || got.PausedBy != "sequence" {
		t.Fatalf("sequence pause: %+v", got)
	}
	f.clock = t0.Add(2 * time.Hour)
	if r := f.run(t); r.Claimed != 0 {
		t.Fatalf("ran while paused: %+v", r)
	}
	if _, err := f.svc.SetStatus(ctx, f.a, seq.ID, "active"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PauseEnrollment(ctx, f.a, e); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t); r.Claimed != 0 {
		t.Fatalf("ran while the enrollment was paused: %+v", r)
	}
	if _, err := f.svc.ResumeEnrollment(ctx, f.a, e); err != nil {
		t.Fatal(err)
	}
	if r := f.run(t); r.Planned != 1 || r.Duplicate != 0 || r.Completed != 1 {
		t.Fatalf("after resume: %+v", r)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1", e); n != 2 {
		t.Fatalf("ledger rows %d, want 2", n)
	}
	// Replay: put the enrollment back on step 0, as a batch that crashed after
	// planning would leave it. The key is taken: nothing is planned again.
	err := f.st.InTx(ctx, func(q store.Q) error {
		got, err := q.GetEnrollment(ctx, f.a, e, true)
		if err != nil {
			return err
		}
		now := f.clock
		got.Status, got.Position, got.NextDueAt, got.EndedAt = "active", 0, &now, nil
		return q.SetEnrollmentState(ctx, f.a, &got)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.run(t); r.Planned != 0 || r.Duplicate != 1 {
		t.Fatalf("replay: %+v", r)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1", e); n != 2 {
		t.Fatalf("ledger rows after replay %d, want 2", n)
	}
	if o := f.outcomes(t, f.a, e); !strings.Contains(o, "duplicate") {
		t.Fatalf("log does not show the duplicate: %s", o)
	}
}

// A step due longer ago than the staleness window is held, then released (runs)
// or skipped by an admin.
func testStaleness(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", StalenessMinutes: 60, Steps: []model.SequenceStep{email("a"), email("b")}})
	c1, c2 := f.contact(t, f.a, "h1@x.io", nil), f.contact(t, f.a, "h2@x.io", nil)
	res := f.enroll(t, f.a, seq.ID, c1, c2)
	f.clock = t0.Add(61 * time.Minute) // downtime
	if r := f.run(t); r.Held != 2 || r.Planned != 0 {
		t.Fatalf("not held: %+v", r)
	}
	held, err := f.svc.Enrollments(ctx, f.a, store.EnrollmentFilter{Status: "held"})
	if err != nil || len(held) != 2 || held[0].HoldReason == "" {
		t.Fatalf("held list: %+v %v", held, err)
	}
	if r := f.run(t); r.Claimed != 0 {
		t.Fatalf("held enrollments were claimed: %+v", r)
	}
	if _, err := f.svc.Release(ctx, f.a, res.Enrolled[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Skip(ctx, f.a, res.Enrolled[1]); err != nil {
		t.Fatal(err)
	}
	var fe *store.FieldError
	if _, err := f.svc.Release(ctx, f.a, res.Enrolled[1]); !errors.As(err, &fe) {
		t.Fatalf("release of an active enrollment: %v", err)
	}
	if r := f.run(t); r.Planned != 3 {
		t.Fatalf("after release and skip: %+v", r)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1", res.Enrolled[0]); n != 2 {
		t.Fatalf("released: %d sends", n)
	}
	if n := f.led.count(t, "WHERE enrollment_id=$1 AND subject='a'", res.Enrolled[1]); n != 0 {
		t.Fatalf("skipped step was sent")
	}
	if o := f.outcomes(t, f.a, res.Enrolled[1]); o != "enrolled,held,skipped,sent,completed" {
		t.Fatalf("skip log: %s", o)
	}
}

func testTriggers(t *testing.T, f *fixture) {
	ctx := context.Background()
	mql := f.sequence(t, f.a, model.Sequence{Name: "mql", Trigger: model.SequenceTrigger{Kind: "lifecycle_stage", Ref: "mql"}, Steps: []model.SequenceStep{email("a")}})
	form := f.sequence(t, f.a, model.Sequence{Name: "form", Trigger: model.SequenceTrigger{Kind: "form", Ref: "ebook"}, Steps: []model.SequenceStep{email("a")}})
	f.sequence(t, f.a, model.Sequence{Name: "draft mql", Status: "draft", Trigger: model.SequenceTrigger{Kind: "lifecycle_stage", Ref: "mql"}, Steps: []model.SequenceStep{email("a")}})
	act := model.Actor{Workspace: f.a, Label: "test"}
	c, err := f.crm.CreateContact(ctx, act, crm.Fields{"email": "t@x.io"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.crm.UpdateContact(ctx, act, c.ID, crm.Fields{"title": "CTO"}); err != nil {
		t.Fatal(err)
	}
	list := func(seq int64) []model.Enrollment {
		es, err := f.svc.Enrollments(ctx, f.a, store.EnrollmentFilter{SequenceID: seq})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if n := len(list(mql.ID)); n != 0 {
		t.Fatalf("enrolled without a stage change: %d", n)
	}
	if _, err := f.crm.UpdateContact(ctx, act, c.ID, crm.Fields{"lifecycle_stage": "mql"}); err != nil {
		t.Fatal(err)
	}
	es := list(mql.ID)
	if len(es) != 1 || es[0].ContactID != c.ID || es[0].Source != "lifecycle_stage:mql" {
		t.Fatalf("lifecycle trigger: %+v", es)
	}
	// A new contact created as an mql enters the stage too.
	c2, err := f.crm.CreateContact(ctx, act, crm.Fields{"email": "t2@x.io", "lifecycle_stage": "mql"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list(mql.ID)) != 2 {
		t.Fatalf("created mql %d not enrolled", c2.ID)
	}
	err = f.st.InTx(ctx, func(q store.Q) error {
		n, err := f.svc.Trigger(ctx, q, f.a, "form", "ebook", c.ID)
		if err == nil && n != 1 {
			err = errors.New("form trigger did not enrol")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if es := list(form.ID); len(es) != 1 || es[0].Source != "form:ebook" {
		t.Fatalf("form trigger: %+v", es)
	}
	if r := f.run(t); r.Planned != 3 {
		t.Fatalf("triggered enrollments did not run: %+v", r)
	}
}

func testIsolation(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", StalenessMinutes: 1, Steps: []model.SequenceStep{email("a")}})
	c := f.contact(t, f.a, "i@x.io", nil)
	cb := f.contact(t, f.b, "i@x.io", nil)
	e := f.enroll(t, f.a, seq.ID, c).Enrolled[0]
	for name, err := range map[string]error{
		"get": func() error { _, err := f.svc.Get(ctx, f.b, seq.ID); return err }(),
		"enroll": func() error {
			_, err := f.svc.Enroll(ctx, f.b, seq.ID, []int64{cb}, "api")
			return err
		}(),
		"release": func() error { _, err := f.svc.Release(ctx, f.b, e); return err }(),
		"exit":    func() error { _, err := f.svc.ExitEnrollment(ctx, f.b, e); return err }(),
		"stats":   func() error { _, err := f.svc.Stats(ctx, f.b, seq.ID); return err }(),
		"status":  func() error { _, err := f.svc.SetStatus(ctx, f.b, seq.ID, "paused"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s from B: %v, want not found", name, err)
		}
	}
	// A's sequence cannot enrol B's contact: it is missing in A.
	if res := f.enroll(t, f.a, seq.ID, cb); len(res.Missing) != 1 {
		t.Fatalf("B's contact enrolled in A: %+v", res)
	}
}

func testStats(t *testing.T, f *fixture) {
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", ExitRules: []string{"replied", "unsubscribed"}, Steps: []model.SequenceStep{email("a"), wait("1d"), email("b")}})
	var ids []int64
	for i := range 4 {
		ids = append(ids, f.contact(t, f.a, string(rune('a'+i))+"@s.io", nil))
	}
	f.enroll(t, f.a, seq.ID, ids...)
	f.run(t)
	err := f.st.InTx(ctx, func(q store.Q) error {
		if _, err := f.svc.Exit(ctx, q, f.a, ids[0], "replied"); err != nil {
			return err
		}
		_, err := f.svc.Exit(ctx, q, f.a, ids[1], "unsubscribed")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.clock = t0.Add(25 * time.Hour)
	f.run(t)
	st, err := f.svc.Stats(ctx, f.a, seq.ID)
	if err != nil {
		t.Fatal(err)
	}
	s0, s2 := st.Steps[0], st.Steps[2]
	if s0.Entered != 4 || s0.Sent != 4 || s0.Replied != 1 || s0.Unsubscribed != 1 || s2.Entered != 2 || s2.Sent != 2 {
		t.Fatalf("stats: %+v", st)
	}
	if st.Enrollments["exited"] != 2 || st.Enrollments["completed"] != 2 {
		t.Fatalf("enrollment counts: %+v", st.Enrollments)
	}
}

// Two workers claiming the same due set on PostgreSQL: SKIP LOCKED gives them
// disjoint batches, so every step is planned once and none is found planned.
func TestConcurrentClaimPostgres(t *testing.T) {
	t.Parallel()
	if !hasPG(t) {
		t.Skip("no PostgreSQL: set RIGHTSIZE_TEST_PG (the claim race needs concurrent writers)")
	}
	st := storetest.New(t, store.Postgres)
	f := newFixture(t, st)
	ctx := context.Background()
	seq := f.sequence(t, f.a, model.Sequence{Name: "s", Steps: []model.SequenceStep{email("a"), email("b")}})
	const n = 1500
	ids := seedContacts(t, st, f.a, n)
	for i := 0; i < n; i += 500 {
		f.enroll(t, f.a, seq.ID, ids[i:i+500]...)
	}
	var wg sync.WaitGroup
	results := make([]sequences.RunResult, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for w := range 2 {
		svc := *f.svc
		svc.BatchSize = 100
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[w], errs[w] = svc.RunDue(ctx, f.clock)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	planned := results[0].Planned + results[1].Planned
	dup := results[0].Duplicate + results[1].Duplicate
	if planned != 2*n || dup != 0 || results[0].Claimed+results[1].Claimed != n {
		t.Fatalf("workers: %+v %+v", results[0], results[1])
	}
	if results[0].Claimed == 0 || results[1].Claimed == 0 {
		t.Logf("one worker took every batch: %+v %+v", results[0], results[1])
	}
	if got := f.led.count(t, ""); got != 2*n {
		t.Fatalf("ledger rows %d, want %d", got, 2*n)
	}
}

func hasPG(t *testing.T) bool {
	for _, k := range storetest.Kinds(t) {
		if k == store.Postgres {
			return true
		}
	}
	return false
}

// An account routed into a segment enrols its contacts in that segment's
// sequences, in the transaction that routed it.
func testSegmentTrigger(t *testing.T, f *fixture) {
	ctx := context.Background()
	f.crm.Router = &routing.Service{St: f.st}
	ent := f.sequence(t, f.a, model.Sequence{Name: "enterprise", Trigger: model.SequenceTrigger{Kind: "segment", Ref: "enterprise"}, Steps: []model.SequenceStep{email("a")}})
	act := model.Actor{Workspace: f.a, Label: "test"}
	acct, err := f.crm.CreateAccount(ctx, act, crm.Fields{"name": "Globex", "employees": "50"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.crm.CreateContact(ctx, act, crm.Fields{"email": "hank@globex.example", "account_id": fmt.Sprint(acct.ID)})
	if err != nil {
		t.Fatal(err)
	}
	list := func() []model.Enrollment {
		es, err := f.svc.Enrollments(ctx, f.a, store.EnrollmentFilter{SequenceID: ent.ID})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if n := len(list()); n != 0 {
		t.Fatalf("an smb account enrolled %d", n)
	}
	if _, err := f.crm.UpdateAccount(ctx, act, acct.ID, crm.Fields{"employees": "5000"}); err != nil {
		t.Fatal(err)
	}
	if es := list(); len(es) != 1 || es[0].ContactID != c.ID || es[0].Source != "segment:enterprise" {
		t.Fatalf("segment trigger: %+v", es)
	}
	// Another change that keeps the segment enrols nobody again.
	if _, err := f.crm.UpdateAccount(ctx, act, acct.ID, crm.Fields{"employees": "6000"}); err != nil {
		t.Fatal(err)
	}
	if n := len(list()); n != 1 {
		t.Fatalf("re-routed into the same segment: %d enrollments", n)
	}
}
