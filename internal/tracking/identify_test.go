package tracking_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A visitor arriving through a tracked email click carries a signed token: the
// ingest stitches the visitor (earlier anonymous events included) to the
// contact; a tampered token or another workspace's identifies no one, and the
// events are stored anyway.
func TestIdentifyFromEmailClick(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, kind)
			ctx := context.Background()
			mk := func(ws int64, email string) int64 {
				c, err := e.App.CRM.CreateContact(ctx, model.Actor{Workspace: ws, Label: "test"}, crm.Fields{"email": email})
				if err != nil {
					t.Fatal(err)
				}
				return c.ID
			}
			ann := mk(e.A.ID, "ann@acme.example")
			bob := mk(e.B.ID, "bob@beta.example")
			// Earlier, anonymously.
			if a := e.post(t, origin, batch(e.siteA.PublicKey, "visitor-ann-1", pv("/blog"))); a.status != 202 {
				t.Fatalf("anonymous: %d %v", a.status, a.body)
			}
			with := func(tok, visitor, path string) answer {
				return e.post(t, origin, fmt.Sprintf(`{"site":%q,"visitor":%q,"identify":%q,"events":[%s]}`, e.siteA.PublicKey, visitor, tok, pv(path)))
			}
			good := e.App.Mail.IdentifyToken(e.A.ID, ann)
			for _, bad := range []string{good[:len(good)-3] + "xyz", e.App.Mail.IdentifyToken(e.B.ID, bob), "garbage"} {
				if a := with(bad, "visitor-bad-1", "/x"); a.status != 202 || a.body["identified"] == true {
					t.Fatalf("token %q: %d %v", bad, a.status, a.body)
				}
			}
			if a := with(good, "visitor-ann-1", "/pricing"); a.status != 202 || a.body["identified"] != true {
				t.Fatalf("identify: %d %v", a.status, a.body)
			}
			evs, err := e.App.St.Read().ContactWebEvents(ctx, e.A.ID, ann, 10)
			if err != nil || len(evs) != 2 {
				t.Fatalf("ann's events %+v %v: want the earlier /blog and the landing /pricing", evs, err)
			}
			if bobs, _ := e.App.St.Read().ContactWebEvents(ctx, e.B.ID, bob, 10); len(bobs) != 0 {
				t.Fatalf("B's contact got events: %+v", bobs)
			}
			if total, stitched := e.count(t, e.A.ID); total != 5 || stitched != 2 {
				t.Fatalf("A has %d events, %d stitched; want 5 and 2 (the bad tokens' events stay anonymous)", total, stitched)
			}
		})
	}
}
