package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The digital motion's loop through every layer: a form submission enrols the
// contact in the sequence its trigger names; the due-steps job plans the email
// in the send ledger (a template per step); the one-click unsubscribe exits the
// enrollment. A workspace without a sender logs the step "not sent" and does
// not hold up anyone else's enrollments.
func TestNurtureThroughMail(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			if code, body := e.Do(t, e.A.Keys["admin"], "PUT", "/api/v1/mail/sender", `{"from_name":"Ada","from_address":"ada@sender.example","postal_address":"1 Engine St, London"}`); code != 200 {
				t.Fatalf("sender: %d %s", code, body)
			}
			setup := func(ws apptest.WS) string {
				f, err := e.App.Forms.CreateForm(ctx, model.Actor{Workspace: ws.ID, Label: "test"}, model.Form{Name: "Guide", Kind: "signup", Fields: []model.FormField{{Field: "first_name"}}})
				if err != nil {
					t.Fatal(err)
				}
				body := fmt.Sprintf(`{"name":"Welcome","status":"active","trigger":{"kind":"form","ref":%q},"exit_rules":["unsubscribed","replied"],"steps":[
					{"kind":"send_email","subject":"Welcome {{.Contact.FirstName}}","html":"<p>Hi {{.Contact.FirstName}}, here is <a href=\"https://northwind.example/guide\">the guide</a>.</p>"},
					{"kind":"wait","duration":"24h"},
					{"kind":"send_email","subject":"Day two","text":"More"}]}`, f.Key)
				if code, out := e.Do(t, ws.Keys["admin"], "POST", "/api/v1/sequences", body); code != 201 {
					t.Fatalf("sequence: %d %s", code, out)
				}
				return f.Key
			}
			keyA, keyB := setup(e.A), setup(e.B)
			for _, p := range []struct{ key, email string }{{keyA, "ann@shop.example"}, {keyB, "bob@shop.example"}} {
				res, err := http.Post(e.URL+"/f/"+p.key, "application/json", strings.NewReader(`{"email":"`+p.email+`","first_name":"Ann"}`))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("submit %s: %d", p.email, res.StatusCode)
				}
			}
			// Both enrollments' first step has run: A's email is planned, B's is
			// logged not sent (B has no sender).
			notSentB := func() bool {
				enr, err := e.App.St.Read().Enrollments(ctx, e.B.ID, store.EnrollmentFilter{Limit: 10})
				if err != nil || len(enr) != 1 {
					return false
				}
				logs, err := e.App.St.Read().StepLogs(ctx, e.B.ID, enr[0].ID)
				for _, l := range logs {
					if err == nil && l.Outcome == "not_sent" {
						return true
					}
				}
				return false
			}
			e.WaitUntil(t, "sequences_due_batch", func() bool {
				sends, err := e.App.St.Read().ListSends(ctx, e.A.ID, "planned", 10)
				return err == nil && len(sends) == 1 && notSentB()
			})
			sends, err := e.App.St.Read().ListSends(ctx, e.A.ID, "planned", 10)
			if err != nil || len(sends) != 1 || !strings.HasPrefix(sends[0].DedupeKey, "enrollment:") || sends[0].EnrollmentID == nil {
				t.Fatalf("A's planned sends %+v %v", sends, err)
			}
			// The send is delivered (as the SMTP path records it); a person opens
			// it and a scanner fetches the pixel: the step's stats count one
			// delivered, one opened.
			err = e.App.St.InTx(ctx, func(q store.Q) error {
				now := e.App.Mail.Now()
				claimed, _, err := q.AdminClaimDueSends(ctx, now, 10, "test")
				if err != nil || len(claimed) != 1 {
					return fmt.Errorf("claim: %d %v", len(claimed), err)
				}
				if err := q.AdminStartSends(ctx, []int64{claimed[0].ID}, "test", now); err != nil {
					return err
				}
				if err := q.AdminFinishSends(ctx, []store.SendOutcome{{ID: claimed[0].ID, Workspace: e.A.ID, Email: claimed[0].ToEmail, State: store.SendAccepted, Code: 250}}, now); err != nil {
					return err
				}
				for _, machine := range []bool{true, false} {
					ev := store.MailEvent{SendID: claimed[0].ID, ContactID: claimed[0].ContactID, EnrollmentID: claimed[0].EnrollmentID, StepID: claimed[0].StepID, Kind: store.MailOpen, Machine: machine, At: now}
					if err := q.InsertMailEvent(ctx, e.A.ID, &ev); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			seqs, err := e.App.St.Read().Sequences(ctx, e.A.ID)
			if err != nil || len(seqs) != 1 {
				t.Fatalf("sequences %v %v", seqs, err)
			}
			stats, err := e.App.Sequences.Stats(ctx, e.A.ID, seqs[0].ID)
			if err != nil || stats.Steps[0].Delivered != 1 || stats.Steps[0].Opened != 1 || stats.Steps[0].Clicked != 0 {
				t.Fatalf("step stats %+v %v", stats.Steps, err)
			}
			if sends, _ := e.App.St.Read().ListSends(ctx, e.B.ID, "", 10); len(sends) != 0 {
				t.Fatalf("B (no sender) planned %+v", sends)
			}
			enrB := enrollments(t, e, e.B)
			if len(enrB) != 1 {
				t.Fatalf("B's enrollments %+v", enrB)
			}
			logs, err := e.App.St.Read().StepLogs(ctx, e.B.ID, enrB[0].ID)
			notSent := false
			for _, l := range logs {
				notSent = notSent || (l.Outcome == "not_sent" && strings.Contains(l.Detail, "no sender"))
			}
			if err != nil || !notSent {
				t.Fatalf("B's step log %+v %v: want the email logged not_sent", logs, err)
			}
			// One-click unsubscribe exits A's enrollment before its second email.
			c, err := e.App.St.Read().ContactByEmail(ctx, e.A.ID, "ann@shop.example")
			if err != nil {
				t.Fatal(err)
			}
			_, tok := e.App.Mail.UnsubscribeURL(e.A.ID, c.ID, c.Email)
			res, err := http.Post(e.URL+"/u/"+tok, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			enrA := enrollments(t, e, e.A)
			if len(enrA) != 1 || enrA[0].Status != "exited" || enrA[0].ExitReason != "unsubscribed" {
				t.Fatalf("A's enrollment after unsubscribe %+v", enrA)
			}
		})
	}
}

func enrollments(t *testing.T, e *apptest.Env, ws apptest.WS) []model.Enrollment {
	t.Helper()
	out, err := e.App.St.Read().Enrollments(context.Background(), ws.ID, store.EnrollmentFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
