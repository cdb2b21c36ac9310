package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/webhooks"
)

type gotEvent struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// eventSink is a loopback webhook receiver keeping the events it verified.
type eventSink struct {
	mu     sync.Mutex
	events []gotEvent
	bad    []string
	secret string
}

func (s *eventSink) handler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := webhooks.Verify(s.secret, r.Header, b, time.Now(), 5*time.Minute); err != nil {
		s.bad = append(s.bad, err.Error())
		w.WriteHeader(400)
		return
	}
	var ev gotEvent
	_ = json.Unmarshal(b, &ev)
	s.events = append(s.events, ev)
	w.WriteHeader(204)
}

func (s *eventSink) find(typ string, match func(map[string]any) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.Type == typ && (match == nil || match(e.Data)) {
			return true
		}
	}
	return false
}

// TestWebhookEventsFromHookPoints: every hook point emits its event, in the
// transaction of the change, and the drain job delivers it signed: records
// written through the API, a deal's stage and win, routing and re-routing,
// the LDR desk's nurture decision (a lifecycle change outside crm's write
// path), a sequence exit and an unsubscribe. Workspace B's changes never
// reach A's endpoint.
func TestWebhookEventsFromHookPoints(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			sink := &eventSink{}
			srv := httptest.NewServer(http.HandlerFunc(sink.handler))
			defer srv.Close()
			admin := e.A.Keys["admin"]
			call := func(key, method, path, body string, want int) map[string]any {
				t.Helper()
				code, out := e.Do(t, key, method, path, body)
				if code != want {
					t.Fatalf("%s %s: %d %s", method, path, code, out)
				}
				var m map[string]any
				_ = json.Unmarshal(out, &m)
				return m
			}
			ep := call(admin, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q}`, srv.URL+"/all"), 201)
			sink.mu.Lock()
			sink.secret = ep["secret"].(string)
			sink.mu.Unlock()
			num := func(m map[string]any, k string) float64 { f, _ := m[k].(float64); return f }

			acc := call(admin, "POST", "/api/v1/accounts", `{"name":"Globex","employees":1500}`, 201)
			accID := num(acc, "id")
			call(admin, "PATCH", fmt.Sprintf("/api/v1/accounts/%v", accID), `{"employees":40}`, 200)
			c := call(admin, "POST", "/api/v1/contacts", `{"email":"hank@globex.example","first_name":"Hank"}`, 201)
			cID := num(c, "id")
			call(admin, "PATCH", fmt.Sprintf("/api/v1/contacts/%v", cID), `{"lifecycle_stage":"mql"}`, 200)
			call(e.A.Keys["ldr"], "POST", fmt.Sprintf("/api/v1/contacts/%v/nurture", cID), `{"note":"not now"}`, 200)
			d := call(admin, "POST", "/api/v1/deals", `{"name":"Globex trial","pipeline":"digital"}`, 201)
			dID := num(d, "id")
			call(admin, "PATCH", fmt.Sprintf("/api/v1/deals/%v", dID), `{"stage":"trial"}`, 200)
			call(admin, "PATCH", fmt.Sprintf("/api/v1/deals/%v", dID), `{"outcome":"won"}`, 200)
			seq := call(admin, "POST", "/api/v1/sequences", `{"name":"Nurture","status":"active","exit_rules":["unsubscribed"],"steps":[{"kind":"wait","duration":"48h"}]}`, 201)
			enr := call(admin, "POST", fmt.Sprintf("/api/v1/sequences/%v/enrollments", num(seq, "id")), fmt.Sprintf(`{"contact_ids":[%v]}`, cID), 200)
			enrID := enr["enrolled"].([]any)[0].(float64)
			call(admin, "POST", fmt.Sprintf("/api/v1/enrollments/%v/exit", enrID), "", 200)
			_, tok := e.App.Mail.UnsubscribeURL(e.A.ID, int64(cID), "hank@globex.example")
			res, err := http.Post(e.URL+"/u/"+tok, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			// B's activity goes to B's endpoints only (it has none).
			call(e.B.Keys["admin"], "POST", "/api/v1/contacts", `{"email":"bob@b.example"}`, 201)

			nested := func(obj, k string, want any) func(map[string]any) bool {
				return func(m map[string]any) bool { o, _ := m[obj].(map[string]any); return o != nil && o[k] == want }
			}
			expect := []struct {
				typ   string
				match func(map[string]any) bool
			}{
				{webhooks.AccountRouted, func(m map[string]any) bool { return m["account_id"] == accID && m["rerouted"] == false }},
				{webhooks.AccountRouted, func(m map[string]any) bool {
					dec, _ := m["decision"].(map[string]any)
					return m["account_id"] == accID && m["rerouted"] == true && dec["previous_segment"] == "enterprise" && dec["segment"] == "smb"
				}},
				{webhooks.ContactCreated, nested("contact", "email", "hank@globex.example")},
				{webhooks.ContactUpdated, nested("contact", "lifecycle_stage", "mql")},
				{webhooks.ContactLifecycleChanged, func(m map[string]any) bool { return m["contact_id"] == cID && m["from"] == "lead" && m["to"] == "mql" }},
				{webhooks.ContactLifecycleChanged, func(m map[string]any) bool {
					return m["contact_id"] == cID && m["from"] == "mql" && m["to"] == "nurture"
				}},
				{webhooks.DealCreated, nested("deal", "id", dID)},
				{webhooks.DealStageChanged, func(m map[string]any) bool {
					from, _ := m["from"].(map[string]any)
					to, _ := m["to"].(map[string]any)
					return from["stage"] == "qualified" && to["stage"] == "trial"
				}},
				{webhooks.DealUpdated, nested("deal", "outcome", "won")},
				{webhooks.DealWon, nested("deal", "id", dID)},
				{webhooks.SequenceExited, func(m map[string]any) bool { return m["enrollment_id"] == enrID && m["reason"] == "manual" }},
				{webhooks.ContactUnsubscribed, func(m map[string]any) bool {
					return m["email"] == "hank@globex.example" && m["contact_id"] == cID && m["reason"] == "unsubscribed"
				}},
			}
			missing := func() []string {
				var out []string
				for _, x := range expect {
					if !sink.find(x.typ, x.match) {
						out = append(out, x.typ)
					}
				}
				return out
			}
			settled := func() bool {
				ds, err := e.App.Webhooks.Deliveries(ctx, e.A.ID, int64(num(ep, "id")), 200)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.State != store.WebhookSucceeded {
						return false
					}
				}
				return true
			}
			e.WaitUntil(t, "webhook_drain", func() bool { return len(missing()) == 0 && settled() })
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.bad) > 0 {
				t.Fatalf("requests that did not verify: %v", sink.bad)
			}
			for _, ev := range sink.events {
				if c, ok := ev.Data["contact"].(map[string]any); ok && c["email"] == "bob@b.example" {
					t.Fatal("workspace B's contact reached workspace A's endpoint")
				}
			}
			ds, err := e.App.Webhooks.Deliveries(ctx, e.A.ID, int64(num(ep, "id")), 200)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, d := range ds {
				types = append(types, d.EventType)
				if d.Attempts != 1 {
					t.Errorf("delivery %d (%s) took %d attempts", d.ID, d.EventType, d.Attempts)
				}
			}
			if !slices.Contains(types, webhooks.DealWon) {
				t.Fatalf("delivery log types %v", types)
			}
		})
	}
}

// TestSendingPausedHoldsSequenceSteps: while sending is paused (a restore
// not yet confirmed) a due sequence step does not run; the admin's
// confirmation through the API lets it run.
func TestSendingPausedHoldsSequenceSteps(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			admin := e.A.Keys["admin"]
			if code, body := e.Do(t, admin, "PUT", "/api/v1/mail/sender", `{"from_address":"ada@sender.example","postal_address":"1 Engine St, London"}`); code != 200 {
				t.Fatalf("sender: %d %s", code, body)
			}
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, Value: "restored from test.db", SetAt: store.Now()})
			})
			if err != nil {
				t.Fatal(err)
			}
			_, out := e.Do(t, admin, "POST", "/api/v1/contacts", `{"email":"zoe@shop.example"}`)
			var c struct{ ID int64 }
			_ = json.Unmarshal(out, &c)
			code, out := e.Do(t, admin, "POST", "/api/v1/sequences", `{"name":"Welcome","status":"active","steps":[{"kind":"send_email","subject":"Hi","text":"Hello"}]}`)
			if code != 201 {
				t.Fatalf("sequence: %d %s", code, out)
			}
			var seq struct{ ID int64 }
			_ = json.Unmarshal(out, &seq)
			before := e.JobsDone("sequences_due")
			if code, out := e.Do(t, admin, "POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", seq.ID), fmt.Sprintf(`{"contact_ids":[%d]}`, c.ID)); code != 200 {
				t.Fatalf("enrol: %d %s", code, out)
			}
			// The enrolment enqueued a dispatch; it ran and found sending paused.
			e.WaitJobs(t, "sequences_due", before+1)
			if sends, _ := e.App.St.Read().ListSends(ctx, e.A.ID, "", 10); len(sends) != 0 {
				t.Fatalf("a step ran while paused: %+v", sends)
			}
			enr, _ := e.App.St.Read().Enrollments(ctx, e.A.ID, store.EnrollmentFilter{Limit: 10})
			if len(enr) != 1 || enr[0].Position != 0 || enr[0].NextDueAt == nil {
				t.Fatalf("enrollment %+v", enr)
			}
			if code, out := e.Do(t, admin, "POST", "/api/v1/sending/resume", ""); code != 200 || !strings.Contains(string(out), `"paused":false`) {
				t.Fatalf("resume: %d %s", code, out)
			}
			e.WaitUntil(t, "sequences_due_batch", func() bool {
				sends, _ := e.App.St.Read().ListSends(ctx, e.A.ID, "", 10)
				return len(sends) == 1
			})
		})
	}
}
