package funnel

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// fullScan is the report as it was computed before FunnelRows read only the
// contacts a window can count: every contact created before the window's end,
// in id order, with every "updated" entry of its history in id order, the
// detail parsed in Go. It is the oracle Report must agree with.
func fullScan(w world, p Params) (Result, error) {
	if err := p.Check(); err != nil {
		return Result{}, err
	}
	start, end := p.From, p.To.AddDate(0, 0, 1)
	acc := newAccumulator(p, start, end)
	for _, gc := range w.contacts {
		if !gc.created.Before(end) {
			continue
		}
		c := &contact{source: gc.source, motion: gc.motion, stage: gc.stage, created: gc.created}
		for _, h := range w.history {
			if h.contact != gc.id || h.action != "updated" {
				continue
			}
			detail, err := json.Marshal(h.detail) // as the store writes it
			if err != nil {
				return Result{}, err
			}
			var d struct {
				Stage []string `json:"lifecycle_stage"`
			}
			if json.Unmarshal(detail, &d) != nil || len(d.Stage) != 2 || d.Stage[0] == d.Stage[1] {
				continue // not a lifecycle change
			}
			c.changes = append(c.changes, change{from: d.Stage[0], to: d.Stage[1], at: h.at.Truncate(time.Microsecond)})
		}
		acc.add(c)
	}
	return acc.report(), nil
}

// add writes one contact of w's workspace created at created in stage (its
// current stage), then its history entries in the order given (so in id
// order), each at its own time: out of time order when a test wants that.
func (w *world) add(t *testing.T, ctx context.Context, st *store.Store, email, source string, created time.Time, stage string, hs ...genHistory) {
	t.Helper()
	err := st.InTx(ctx, func(q store.Q) error {
		c := model.Contact{Email: email, Source: source, LifecycleStage: stage, Custom: model.Custom{}}
		if err := q.CreateContact(ctx, w.ws, &c); err != nil {
			return err
		}
		if err := q.SetContactCreatedAt(ctx, w.ws, c.ID, created); err != nil {
			return err
		}
		w.contacts = append(w.contacts, genContact{id: c.ID, source: source, stage: stage, created: created})
		for _, h := range hs {
			if h.contact == 0 {
				h.contact = c.ID
			}
			if err := q.AddHistoryAt(ctx, w.ws, "contact", h.contact, h.action, h.detail, "test", h.at); err != nil {
				return err
			}
			w.history = append(w.history, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func stageMove(from, to any, at time.Time) genHistory {
	return genHistory{action: "updated", at: at, detail: map[string]any{"fields": []string{"lifecycle_stage"}, "lifecycle_stage": []any{from, to}}}
}

func upd(at time.Time, detail any) genHistory {
	return genHistory{action: "updated", at: at, detail: detail}
}

// TestReportMatchesFullScan checks that reading only the contacts a window can
// count gives the report the full scan gave: over a generated workspace (three
// years of contacts, most created long before the windows, with stage changes
// and other updates) plus contacts at the edges — created before the window
// with and without a stage change in it, non-stage updates in it, changes
// exactly at the window's bounds, entries out of time order, details that
// mention lifecycle_stage without being a change — beside another workspace's
// contacts on the same days.
func TestReportMatchesFullScan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		last := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
		w, err := generate(ctx, st, "oracle-a", 600, 11, last, 3*365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := generate(ctx, st, "oracle-b", 300, 12, last, 3*365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		// The edge cases, around the window 2026-01-01 … 2026-03-31 ([start, end)).
		start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		long := start.AddDate(-2, 0, 0)
		in := start.AddDate(0, 1, 0)
		title := map[string]any{"fields": []string{"title"}, "title": []string{"a", "b"}}
		w.add(t, ctx, st, "old-quiet@x.io", "ads", long, "lead")
		w.add(t, ctx, st, "old-touched@x.io", "ads", long, "mql", stageMove("lead", "mql", long.AddDate(0, 1, 0)), upd(in, title), upd(in.AddDate(0, 0, 1), title))
		w.add(t, ctx, st, "old-moved@x.io", "organic", long, "customer",
			stageMove("lead", "mql", long.AddDate(0, 1, 0)), upd(in, title), stageMove("mql", "sql", in), stageMove("sql", "opportunity", in.AddDate(0, 0, 3)), stageMove("opportunity", "customer", end.AddDate(0, 0, 2)))
		w.add(t, ctx, st, "old-moved-at-start@x.io", "partner", long, "mql", stageMove("lead", "mql", start))
		w.add(t, ctx, st, "old-moved-at-end@x.io", "partner", long, "mql", stageMove("lead", "mql", end))
		w.add(t, ctx, st, "old-moved-after@x.io", "", long, "sql", stageMove("mql", "sql", end.AddDate(0, 0, 5)))
		w.add(t, ctx, st, "old-exit@x.io", "ads", long, "nurture", stageMove("mql", "nurture", in))
		w.add(t, ctx, st, "new-at-start@x.io", "ads", start, "lead")
		w.add(t, ctx, st, "new-at-end@x.io", "ads", end, "lead")
		w.add(t, ctx, st, "new-first-move-after@x.io", "ads", in, "mql", upd(in, title), stageMove("lead", "mql", end.AddDate(0, 1, 0)))
		// Out of time order: the first entry (by id) is after the window, so the
		// in-window one recorded after it is not seen.
		w.add(t, ctx, st, "new-out-of-order@x.io", "event", in, "sql", stageMove("lead", "mql", end.AddDate(0, 0, 1)), stageMove("mql", "sql", in.AddDate(0, 0, 2)))
		w.add(t, ctx, st, "old-out-of-order@x.io", "event", long, "sql", stageMove("lead", "mql", end.AddDate(0, 0, 1)), stageMove("mql", "sql", in.AddDate(0, 0, 2)))
		w.add(t, ctx, st, "not-changes@x.io", "ads", long, "mql",
			upd(in, map[string]any{"lifecycle_stage": "mql"}),
			upd(in, map[string]any{"lifecycle_stage": []string{"lead", "mql", "sql"}}),
			upd(in, map[string]any{"lifecycle_stage": []string{"lead"}}),
			upd(in, map[string]any{"lifecycle_stage": []int{1, 2}}),
			upd(in, map[string]any{"lifecycle_stage": []string{"mql", "mql"}}),
			upd(in, map[string]any{"nested": map[string]any{"lifecycle_stage": []string{"lead", "mql"}}}),
			upd(in, map[string]any{"note": `"lifecycle_stage":["lead","sql"]`}),
			upd(in, nil),
			genHistory{action: "qualified", at: in, detail: map[string]any{"lifecycle_stage": []string{"mql", "sql"}}})
		w.add(t, ctx, st, "null-from@x.io", "ads", long, "mql", stageMove(nil, "mql", in))
		w.add(t, ctx, st, "odd-stage@x.io", "ads", in, "sql", stageMove("lead", "a&b<c>", in.AddDate(0, 0, 1)), stageMove("a&b<c>", "sql", in.AddDate(0, 0, 2)))
		w.add(t, ctx, st, "created-after@x.io", "ads", end.AddDate(0, 0, 3), "mql", stageMove("lead", "mql", in))
		// History of a contact that no longer exists (its id is never used).
		w.add(t, ctx, st, "ghost-host@x.io", "ads", long, "lead", genHistory{contact: 1 << 40, action: "updated", at: in, detail: map[string]any{"lifecycle_stage": []string{"lead", "mql"}}})

		day := 24 * time.Hour
		windows := [][2]time.Time{
			{start, end.Add(-day)},
			{last.AddDate(0, 0, -90), last.Add(-day)},
			{last.AddDate(0, 0, -365), last.Add(-day)},
			{last.AddDate(-4, 0, 0), last.AddDate(0, 0, 30)},
			{last.AddDate(-5, 0, 0), last.AddDate(-4, 0, 0)},
			{in, in},
			{long, long.AddDate(0, 0, 45)},
		}
		checked := 0
		for _, win := range windows {
			for _, by := range []Params{{By: "motion"}, {By: "source"}, {By: "period"}, {By: "period", Period: "week"}} {
				p := by
				p.From, p.To = win[0], win[1]
				want, err := fullScan(w, p)
				if err != nil {
					t.Fatal(err)
				}
				got, err := Report(ctx, st, w.ws, p)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s … %s by %s %s:\n got %s\nwant %s", p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), p.By, p.Period, dump(got), dump(want))
				}
				checked += want.Total.Stages[0].Reached + want.Total.Stages[1].Reached + want.Total.Exits[0].Count
			}
		}
		if checked < 1000 {
			t.Errorf("the windows saw only %d reaches: the fixture does not exercise the report", checked)
		}
	})
}

func dump(r Result) string {
	b, _ := json.Marshal(struct {
		Total  Group
		Groups []Group
		BySrc  []SourceConversion
	}{r.Total, r.Groups, r.LeadToCustomerBySource})
	return fmt.Sprint(string(b))
}
