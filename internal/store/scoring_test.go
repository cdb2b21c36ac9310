package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The scoring tables on both dialects: round trips, scoping, and the due-time
// claim (disjoint under concurrency on PostgreSQL).
func TestScoringStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		base := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
		var ids []int64
		err := st.InTx(ctx, func(q store.Q) error {
			for i := 0; i < 6; i++ {
				c := model.Contact{Email: fmt.Sprintf("p%d@x.io", i), LifecycleStage: []string{"lead", "customer"}[i%2]}
				if err := q.CreateContact(ctx, a, &c); err != nil {
					return err
				}
				ids = append(ids, c.ID)
			}
			var ss []store.ContactScore
			for i, id := range ids {
				due := base.Add(time.Duration(i) * time.Hour)
				s := store.ContactScore{ContactID: id, Fit: 5, EngagementValue: 40.5, EngagementAt: base, Total: 45.5, DueAt: &due, Events: 3, Breakdown: json.RawMessage(`{"fit":[]}`)}
				if i == 5 {
					s.DueAt = nil
				}
				ss = append(ss, s)
			}
			if err := q.PutContactScores(ctx, a, ss); err != nil {
				return err
			}
			return q.InsertEngagementEvents(ctx, a, []store.EngagementEvent{
				{ContactID: ids[0], Kind: "page_view", Weight: 1, OccurredAt: base.Add(-time.Hour), Detail: map[string]string{"url": "/a"}},
				{ContactID: ids[0], Kind: "pricing_page_view", Weight: 10, OccurredAt: base},
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		r := st.Read()
		got, err := r.GetContactScore(ctx, a, ids[1])
		if err != nil || got.Fit != 5 || got.EngagementValue != 40.5 || !got.EngagementAt.Equal(base) || got.DueAt == nil || !got.DueAt.Equal(base.Add(time.Hour)) || got.MQLAt != nil || got.Events != 3 {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if _, err := r.GetContactScore(ctx, b, ids[1]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B reads A's score: %v", err)
		}
		if m, err := r.ContactScores(ctx, b, ids); err != nil || len(m) != 0 {
			t.Fatalf("B lists A's scores: %v %v", m, err)
		}
		evs, err := r.RecentEngagementEvents(ctx, a, ids[0], 10)
		if err != nil || len(evs) != 2 || evs[0].Kind != "pricing_page_view" || evs[1].Detail["url"] != "/a" {
			t.Fatalf("events: %+v %v", evs, err)
		}
		// Due rows, earliest first, only A's, only those due.
		wss, err := r.AdminWorkspacesWithDueScores(ctx, base.Add(2*time.Hour))
		if err != nil || len(wss) != 1 || wss[0] != a {
			t.Fatalf("workspaces with due scores: %v %v", wss, err)
		}
		claim := func(q store.Q, ws int64, limit int) []int64 {
			rows, err := q.ClaimDueScores(ctx, ws, base.Add(2*time.Hour), limit)
			if err != nil {
				t.Error(err)
			}
			var out []int64
			for _, s := range rows {
				out = append(out, s.ContactID)
			}
			return out
		}
		if got := claim(r, a, 10); fmt.Sprint(got) != fmt.Sprint(ids[:3]) {
			t.Fatalf("due: %v, want %v", got, ids[:3])
		}
		if got := claim(r, b, 10); len(got) != 0 {
			t.Fatalf("B claims A's scores: %v", got)
		}
		if st.Kind == store.Postgres {
			// A worker holding two claimed rows: a second one gets the third only.
			held, release, done := make(chan []int64, 1), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- st.InTx(ctx, func(q store.Q) error {
					held <- claim(q, a, 2)
					<-release
					return nil
				})
			}()
			first := <-held
			var second []int64
			err := st.InTx(ctx, func(q store.Q) error { second = claim(q, a, 10); return nil })
			close(release)
			if err != nil || <-done != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(first) != fmt.Sprint(ids[:2]) || fmt.Sprint(second) != fmt.Sprint(ids[2:3]) {
				t.Fatalf("concurrent claims: %v and %v", first, second)
			}
		}
		// Stage moves respect the from-stages and the workspace; bulk history lands.
		err = st.InTx(ctx, func(q store.Q) error {
			now := store.Now()
			moved, err := q.MoveContactsStage(ctx, a, ids[:4], []string{"lead", "subscriber"}, "mql", now)
			if err != nil {
				return err
			}
			if fmt.Sprint(moved) != fmt.Sprint([]int64{ids[0], ids[2]}) {
				return fmt.Errorf("moved %v", moved)
			}
			if moved, err := q.MoveContactsStage(ctx, b, ids, []string{"lead", "mql"}, "nurture", now); err != nil || len(moved) != 0 {
				return fmt.Errorf("B moved A's contacts: %v %v", moved, err)
			}
			return q.AddHistories(ctx, a, []store.HistoryRecord{{ObjectType: "contact", ObjectID: ids[0], Action: "updated", Detail: map[string]any{"lifecycle_stage": []string{"lead", "mql"}}, Actor: "scoring"}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := r.GetContact(ctx, a, ids[0]); c.LifecycleStage != "mql" {
			t.Fatalf("stage %s", c.LifecycleStage)
		}
		if h, _ := r.History(ctx, a, "contact", ids[0]); len(h) != 1 || h[0].Actor != "scoring" {
			t.Fatalf("history %+v", h)
		}
		// The configuration round-trips and is per workspace.
		if _, err := r.GetScoringConfig(ctx, a); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unsaved config: %v", err)
		}
		err = st.InTx(ctx, func(q store.Q) error {
			return q.SaveScoringConfig(ctx, a, &store.ScoringConfig{HalfLifeSeconds: 3600, MQLThreshold: 42, EventWeights: json.RawMessage(`{"page_view":2}`), FitRules: json.RawMessage(`[]`), UpdatedBy: "t"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := r.GetScoringConfig(ctx, a); err != nil || c.HalfLifeSeconds != 3600 || c.MQLThreshold != 42 || string(c.EventWeights) != `{"page_view": 2}` && string(c.EventWeights) != `{"page_view":2}` {
			t.Fatalf("config: %+v %v", c, err)
		}
		if _, err := r.GetScoringConfig(ctx, b); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B sees A's config: %v", err)
		}
	})
}
