package funnel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// world is a generated workspace kept in memory as well as in the store, so a
// test can fold it the way the old full scan did and compare.
type world struct {
	ws       int64
	contacts []genContact // in id order
	history  []genHistory // in insertion (id) order
}

type genContact struct {
	id                    int64
	source, motion, stage string
	created               time.Time
}

type genHistory struct {
	contact int64 // index into world.contacts until written, then the contact id
	action  string
	detail  any
	at      time.Time
}

var (
	genSources = []string{"ads", "organic", "partner", "event", ""}
	genMotions = []string{"digital", "high_touch", ""}
)

// genStages walks a funnel: each entry is the chance of moving on, to which
// stage, and the chance of a side exit instead.
var genNext = map[string]struct {
	next       string
	p, pExit   float64
	exit       string
	meanDays   int
	createdPct float64
}{
	"lead":        {next: "mql", p: 0.5, pExit: 0.1, exit: "nurture", meanDays: 20},
	"mql":         {next: "sql", p: 0.4, pExit: 0.1, exit: "nurture", meanDays: 15},
	"sql":         {next: "opportunity", p: 0.5, pExit: 0.15, exit: "disqualified", meanDays: 10},
	"opportunity": {next: "customer", p: 0.4, pExit: 0.2, exit: "disqualified", meanDays: 30},
}

// generate makes n contacts created uniformly over the span before last, each
// with a "created" entry, one to three non-stage updates and a random walk
// along the funnel (stage changes in the scoring service's detail shape);
// history is written in time order, as it accrues in production. It is
// deterministic for a given n, seed and last.
func generate(ctx context.Context, st *store.Store, slug string, n int, seed uint64, last time.Time, span time.Duration) (world, error) {
	r := rand.New(rand.NewPCG(seed, 7))
	first := last.Add(-span)
	w := world{}
	ws := model.Workspace{Name: slug, Slug: slug}
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &ws); err != nil {
			return err
		}
		w.ws = ws.ID
		accts := make([]model.Account, 300)
		for i := range accts {
			accts[i] = model.Account{Name: fmt.Sprintf("acct %d", i), Currency: "USD", Motion: genMotions[i%len(genMotions)]}
		}
		acctIDs, err := q.BulkAccounts(ctx, ws.ID, accts)
		if err != nil {
			return err
		}
		cs := make([]*model.Contact, n)
		created := make([]time.Time, n)
		for i := range cs {
			created[i] = first.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
			stage := "lead"
			if r.IntN(10) == 0 {
				stage = "sql" // created further down (an inbound demo request)
			}
			var acct *int64
			g := genContact{source: genSources[r.IntN(len(genSources))], stage: stage, created: created[i]}
			if k := r.IntN(len(acctIDs) + 50); k < len(acctIDs) {
				acct = &acctIDs[k]
				g.motion = accts[k].Motion
			}
			w.contacts = append(w.contacts, g)
			w.history = append(w.history, genHistory{contact: int64(i), action: "created", at: created[i]})
			for range 1 + r.IntN(3) {
				at := created[i].Add(time.Duration(r.Int64N(int64(last.Sub(created[i])) + 1)))
				w.history = append(w.history, genHistory{contact: int64(i), action: "updated", at: at,
					detail: map[string]any{"fields": []string{"title"}, "title": []string{"", "Head of Ops"}}})
			}
			at := created[i]
			for {
				step, ok := genNext[stage]
				if !ok {
					break
				}
				to := ""
				switch x := r.Float64(); {
				case x < step.p:
					to = step.next
				case x < step.p+step.pExit:
					to = step.exit
				}
				at = at.Add(time.Duration(1+r.IntN(2*step.meanDays)) * 24 * time.Hour).Add(time.Duration(r.IntN(86400)) * time.Second)
				if to == "" || !at.Before(last) {
					break
				}
				w.history = append(w.history, genHistory{contact: int64(i), action: "updated", at: at,
					detail: map[string]any{"fields": []string{"lifecycle_stage"}, "lifecycle_stage": []string{stage, to}, "reason": "generated"}})
				stage = to
			}
			w.contacts[i].stage = stage
			cs[i] = &model.Contact{Email: fmt.Sprintf("c%07d@%s.example", i, slug), Source: g.source, AccountID: acct, LifecycleStage: stage, Custom: model.Custom{}}
		}
		if err := q.InsertContacts(ctx, ws.ID, cs); err != nil {
			return err
		}
		emails := make([]string, n)
		for i, c := range cs {
			emails[i] = c.Email
		}
		byEmail, err := q.ContactIDsByEmail(ctx, ws.ID, emails)
		if err != nil {
			return err
		}
		ids := make([]int64, n)
		for i, e := range emails {
			if ids[i] = byEmail[e]; ids[i] == 0 {
				return fmt.Errorf("generate: contact %s has no id", e)
			}
			w.contacts[i].id = ids[i]
		}
		if err := q.SetContactsCreatedAt(ctx, ws.ID, ids, created); err != nil {
			return err
		}
		slices.SortStableFunc(w.history, func(a, b genHistory) int { return a.at.Compare(b.at) })
		hs := make([]store.HistoryRecord, len(w.history))
		for i := range w.history {
			h := &w.history[i]
			h.contact = ids[h.contact]
			hs[i] = store.HistoryRecord{ObjectType: "contact", ObjectID: h.contact, Action: h.action, Detail: h.detail, Actor: "gen", At: h.at}
		}
		return q.AddHistories(ctx, ws.ID, hs)
	})
	if err != nil {
		return w, fmt.Errorf("generate: %w", err)
	}
	slices.SortFunc(w.contacts, func(a, b genContact) int { return int(a.id - b.id) })
	return w, nil
}
