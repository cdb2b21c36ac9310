package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// ContactVisited answers a nurture branch ("visited a page containing …"): only
// the contact's own page views of its workspace, on or after since, and the
// part is matched literally (% and _ are not wildcards).
func TestContactVisited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		var ann, bob int64
		err := st.InTx(ctx, func(q store.Q) error {
			ca := model.Contact{Email: "ann@x.io", LifecycleStage: "lead"}
			cb := model.Contact{Email: "bob@y.io", LifecycleStage: "lead"}
			if err := q.CreateContact(ctx, a, &ca); err != nil {
				return err
			}
			if err := q.CreateContact(ctx, b, &cb); err != nil {
				return err
			}
			ann, bob = ca.ID, cb.ID
			if err := q.InsertWebEvents(ctx, a, []store.WebEvent{
				{VisitorID: "visitor-ann", ContactID: &ann, Kind: "page_view", URL: "https://x.io/pricing?plan=team", Title: "Pricing", OccurredAt: base, ReceivedAt: base},
				{VisitorID: "visitor-ann", ContactID: &ann, Kind: "custom", Name: "demo", URL: "https://x.io/demo", OccurredAt: base, ReceivedAt: base},
			}); err != nil {
				return err
			}
			return q.InsertWebEvents(ctx, b, []store.WebEvent{
				{VisitorID: "visitor-bob", ContactID: &bob, Kind: "page_view", URL: "https://y.io/careers", OccurredAt: base, ReceivedAt: base},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ws, contact int64
			part        string
			since       time.Time
			want        bool
		}{
			{a, ann, "/pricing", base.Add(-time.Hour), true},
			{a, ann, "/pricing", base, true},                   // since is inclusive
			{a, ann, "/pricing", base.Add(time.Second), false}, // viewed before since
			{a, ann, "/demo", base.Add(-time.Hour), false},     // a custom event, not a page view
			{a, ann, "%", base.Add(-time.Hour), false},         // literal, not a wildcard
			{a, ann, "plan_team", base.Add(-time.Hour), false}, // _ is literal too
			{a, ann, "/careers", base.Add(-time.Hour), false},  // another contact's page
			{b, ann, "/pricing", base.Add(-time.Hour), false},  // A's contact asked in B
			{b, bob, "/careers", base.Add(-time.Hour), true},
		} {
			got, err := st.Read().ContactVisited(ctx, c.ws, c.contact, c.part, c.since)
			if err != nil || got != c.want {
				t.Errorf("visited(ws %d, contact %d, %q, %v) = %v %v, want %v", c.ws, c.contact, c.part, c.since, got, err, c.want)
			}
		}
	})
}
