package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Stage changes made outside crm's edit path — the desk's "return to nurture"
// and a scoring promotion to MQL — start the sequences those stages trigger,
// like an edit does.
func TestStageTriggersFromDeskAndScoring(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			admin := e.A.Keys["admin"]
			for _, stage := range []string{"nurture", "mql"} {
				body := fmt.Sprintf(`{"name":"On %s","status":"active","trigger":{"kind":"lifecycle_stage","ref":%q},"exit_rules":["meeting_booked"],"steps":[{"kind":"wait","duration":"24h"},{"kind":"create_task","task_subject":"Check in"}]}`, stage, stage)
				if code, out := e.Do(t, admin, "POST", "/api/v1/sequences", body); code != 201 {
					t.Fatalf("sequence: %d %s", code, out)
				}
			}
			mk := func(email, stage string) int64 {
				code, out := e.Do(t, admin, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":%q,"lifecycle_stage":%q}`, email, stage))
				if code != 201 {
					t.Fatalf("contact: %d %s", code, out)
				}
				var c struct{ ID int64 }
				_ = json.Unmarshal(out, &c)
				return c.ID
			}
			enrolled := func(contact int64) string {
				code, out := e.Do(t, admin, "GET", fmt.Sprintf("/api/v1/enrollments?contact_id=%d", contact), "")
				if code != 200 {
					t.Fatalf("enrollments: %d %s", code, out)
				}
				return string(out)
			}
			// The desk returns an MQL to nurture.
			m := mk("mql@shop.example", "mql")
			if code, out := e.Do(t, admin, "POST", fmt.Sprintf("/api/v1/contacts/%d/nurture", m), `{"note":"not yet"}`); code != 200 {
				t.Fatalf("nurture: %d %s", code, out)
			}
			if out := enrolled(m); !strings.Contains(out, `"source":"lifecycle_stage:nurture"`) {
				t.Fatalf("after the desk's nurture: %s", out)
			}
			// A meeting booked through the API ends that nurture.
			if code, out := e.Do(t, admin, "POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", m), `{"at":"2026-12-01T15:00:00Z","subject":"Intro call"}`); code != 201 || !strings.Contains(string(out), `"kind":"meeting"`) {
				t.Fatalf("meeting booked: %d %s", code, out)
			}
			if out := enrolled(m); !strings.Contains(out, `"exit_reason":"meeting_booked"`) {
				t.Fatalf("after the meeting was booked: %s", out)
			}
			if code, out := e.Do(t, admin, "POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", m), `{"at":"tomorrow"}`); code != 400 || !strings.Contains(string(out), `"field":"at"`) {
				t.Fatalf("bad time: %d %s", code, out)
			}
			// Scoring promotes a lead to MQL.
			l := mk("lead@shop.example", "lead")
			events := `{"events":[`
			for i := 0; i < 6; i++ {
				if i > 0 {
					events += ","
				}
				events += fmt.Sprintf(`{"contact_id":%d,"kind":"pricing_page_view","url":"https://x.example/pricing"}`, l)
			}
			events += `]}`
			if code, out := e.Do(t, admin, "POST", "/api/v1/events", events); code != 200 || !strings.Contains(string(out), fmt.Sprintf(`"promoted":[%d]`, l)) {
				t.Fatalf("events: %d %s", code, out)
			}
			if out := enrolled(l); !strings.Contains(out, `"source":"lifecycle_stage:mql"`) {
				t.Fatalf("after the scoring promotion: %s", out)
			}
		})
	}
}
