package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// testTrackingSettings: an admin creates a site and gets the snippet; a bad
// origin is an inline error; reps read but cannot create; another workspace
// does not see the site; a stitched visitor's page views show on the contact's
// timeline.
func testTrackingSettings(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	r := post(t, e, c, "/settings/tracking", url.Values{"name": {"Web site"}, "allowed_origins": {"https://www.web.example\nhttp://localhost:3000"}, "consent_mode": {"required"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	sites, err := e.App.Tracking.Sites(context.Background(), e.A.ID)
	if err != nil || len(sites) == 0 {
		t.Fatalf("%v %v", sites, err)
	}
	site := sites[len(sites)-1]
	if len(site.AllowedOrigins) != 2 || site.ConsentMode != "required" {
		t.Fatalf("site %+v", site)
	}
	ok(t, get(t, e, c, "/settings/tracking?notice=created"), 200, "Web site", "/t.js&#34; data-site=&#34;"+site.PublicKey+"&#34; data-consent=&#34;required&#34; async", "Tracking site created")
	ok(t, post(t, e, c, "/settings/tracking", url.Values{"name": {"Bad"}, "allowed_origins": {"https://ok.example\nhttps://bad.example/path"}, "consent_mode": {"none"}}),
		http.StatusUnprocessableEntity, `id="site-allowed_origins-err"`, "no path")

	ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
	page := get(t, e, ae, "/settings/tracking")
	ok(t, page, 200, site.PublicKey)
	if strings.Contains(page.Body, `action="/settings/tracking"`) {
		t.Error("an ae sees the create form")
	}
	ok(t, post(t, e, ae, "/settings/tracking", url.Values{"name": {"x"}, "allowed_origins": {"https://x.example"}, "consent_mode": {"none"}}), http.StatusForbidden)
	agency := e.Browser(t, e.Agency.Email) // admin in A, ae in B: switch to B
	if r := post(t, e, agency, "/workspace", url.Values{"workspace_id": {fmt.Sprint(e.B.ID)}, "next": {"/"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("switch: %d", r.Status)
	}
	if strings.Contains(get(t, e, agency, "/settings/tracking").Body, site.PublicKey) {
		t.Error("workspace B sees A's site")
	}

	// Timeline: a stitched visitor's page view shows on the contact page.
	ctx := context.Background()
	contact, err := e.App.CRM.CreateContact(ctx, model.Actor{Workspace: e.A.ID, Label: "test"}, map[string]any{"email": "tl-web@web.example", "first_name": "Tia"})
	if err != nil {
		t.Fatal(err)
	}
	err = e.App.St.InTx(ctx, func(q store.Q) error {
		now := store.Now()
		if err := q.InsertWebEvents(ctx, e.A.ID, []store.WebEvent{{VisitorID: "visitor-web-tl", Kind: "page_view", URL: "https://www.web.example/pricing", Title: "Pricing plans", OccurredAt: now, ReceivedAt: now}}); err != nil {
			return err
		}
		_, err := e.App.Tracking.Stitch(ctx, q, e.A.ID, "visitor-web-tl", contact.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ok(t, get(t, e, c, fmt.Sprintf("/contacts/%d", contact.ID)), 200, "Pricing plans", "https://www.web.example/pricing")
}
