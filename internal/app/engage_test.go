package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Through the whole app, the first human open of a send is stored (the app
// answers the pixel before its event is durable: SyncEngagement is the
// barrier) and scored — on PostgreSQL by a mail_engage_score job enqueued
// with it (any worker node runs it), on SQLite in the writer's transaction;
// a second open is stored unscored and scores nothing.
func TestEngagementScored(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			st, ws := e.App.St, e.A.ID
			var sendID, contactID int64
			err := st.InTx(ctx, func(q store.Q) error {
				if err := q.SaveMailSender(ctx, ws, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.test", PostalAddress: "1 Engine St"}); err != nil {
					return err
				}
				tm := store.MailTemplate{Name: "t", Subject: "Hi", HTML: "<p>Hi</p>"}
				if err := q.SaveMailTemplate(ctx, ws, &tm); err != nil {
					return err
				}
				c := model.Contact{Email: "ann@buyer.test", FirstName: "Ann", LifecycleStage: "lead"}
				if err := q.CreateContact(ctx, ws, &c); err != nil {
					return err
				}
				contactID = c.ID
				s := store.Send{DedupeKey: "k1", ContactID: c.ID, TemplateID: tm.ID, ToEmail: c.Email, MessageID: mail.MessageID(ws, "k1", "sender.test")}
				if _, err := q.PlanSend(ctx, ws, &s); err != nil {
					return err
				}
				sendID = s.ID
				// Delivered an hour ago: later fetches are people, not gateways.
				cl, _, err := q.AdminClaimDueSends(ctx, time.Now(), 10, "test")
				if err != nil || len(cl) != 1 {
					t.Fatalf("claim: %d %v", len(cl), err)
				}
				at := time.Now().Add(-time.Hour)
				if err := q.AdminStartSends(ctx, []int64{s.ID}, "test", at); err != nil {
					return err
				}
				return q.AdminFinishSends(ctx, []store.SendOutcome{{ID: s.ID, Workspace: ws, Email: c.Email, State: store.SendAccepted, Code: 250}}, at)
			})
			if err != nil {
				t.Fatal(err)
			}
			pixel := strings.TrimPrefix(e.App.Mail.OpenURL(ws, sendID), e.App.Mail.BaseURL)
			open := func() {
				req, _ := http.NewRequest("GET", e.URL+pixel, nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/gif" {
					t.Fatalf("pixel: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
				}
				if err := e.App.Mail.SyncEngagement(ctx); err != nil {
					t.Fatal(err)
				}
			}
			scoredOpens := func() int64 {
				m, err := st.Read().CountBy(ctx, ws, "engagement_events", "kind")
				if err != nil {
					t.Fatal(err)
				}
				return m["email_open"]
			}
			open()
			if total, scored, err := st.Read().CountMailEvents(ctx, ws); err != nil || total != 1 || scored != 1 {
				t.Fatalf("after the first open: %d events, %d scored, %v; want 1, 1", total, scored, err)
			}
			if kind == store.SQLite {
				if n := scoredOpens(); n != 1 {
					t.Fatalf("SQLite: %d scored opens after the first open's commit, want 1 (scored in the writer's transaction)", n)
				}
			} else {
				e.WaitUntil(t, (mail.EngageScoreArgs{}).Kind(), func() bool { return scoredOpens() == 1 })
			}
			open()
			if total, scored, err := st.Read().CountMailEvents(ctx, ws); err != nil || total != 2 || scored != 1 {
				t.Fatalf("after the second open: %d events, %d scored, %v; want 2, 1", total, scored, err)
			}
			jobs, err := e.App.River.JobList(ctx, river.NewJobListParams().Kinds((mail.EngageScoreArgs{}).Kind()))
			if err != nil {
				t.Fatal(err)
			}
			if kind == store.SQLite {
				if len(jobs.Jobs) != 0 || scoredOpens() != 1 {
					t.Fatalf("SQLite: %d scoring jobs, %d scored opens; want 0 and 1", len(jobs.Jobs), scoredOpens())
				}
				return
			}
			if len(jobs.Jobs) != 1 || scoredOpens() != 1 {
				t.Fatalf("%d scoring jobs, %d scored opens; want 1 and 1", len(jobs.Jobs), scoredOpens())
			}
			var args mail.EngageScoreArgs
			if err := json.Unmarshal(jobs.Jobs[0].EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.Workspace != ws || len(args.Events) != 1 || args.Events[0].ContactID != contactID || args.Events[0].Kind != "email_open" {
				t.Fatalf("job args %+v, want contact %d's email_open in workspace %d", args, contactID, ws)
			}
		})
	}
}
