package pipeline

import (
	"time"

	"context"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Card is one open deal on the board.
type Card struct {
	store.BoardCard
	DaysInStage int
	Stale       bool
}

// CardsPerStage is how many cards a board column shows (the biggest deals); the
// column's count and amount cover all of its deals, and the deals list shows the rest.
const CardsPerStage = 50

// Column is one stage of the board: its biggest open deals, and the count and
// amount of all of them.
type Column struct {
	Stage  model.StageDef
	Cards  []Card
	Count  int64
	Amount map[string]int64 // open amount by currency
}

// Hidden is how many of the column's deals have no card.
func (c Column) Hidden() int64 { return c.Count - int64(len(c.Cards)) }

// Board is a pipeline's open deals by stage. Orphans are open deals whose
// stage the pipeline no longer has (after an edit); they are listed, not lost.
type Board struct {
	Pipeline  model.PipelineDef
	Pipelines []model.PipelineDef
	Columns   []Column
	Orphans   []Card
	Open      int64
}

// Board builds the board of pipeline key in ws: two queries (the cards, and
// the totals by stage), then days in stage and staleness against now.
func (s *Service) Board(ctx context.Context, ws int64, key string) (Board, error) {
	q := s.St.Read()
	ps, _, err := Load(ctx, q, ws)
	if err != nil {
		return Board{}, err
	}
	p, ok := Find(ps, key)
	if !ok {
		return Board{}, store.ErrNotFound
	}
	b := Board{Pipeline: p, Pipelines: ps, Columns: make([]Column, len(p.Stages))}
	idx := make(map[string]int, len(p.Stages))
	for i, st := range p.Stages {
		b.Columns[i] = Column{Stage: st, Amount: map[string]int64{}}
		idx[st.Key] = i
	}
	totals, err := q.BoardTotals(ctx, ws, key)
	if err != nil {
		return Board{}, err
	}
	for _, t := range totals {
		b.Open += t.Count
		if i, ok := idx[t.Stage]; ok {
			b.Columns[i].Count += t.Count
			b.Columns[i].Amount[t.Currency] += t.Amount
		}
	}
	cards, err := q.BoardDeals(ctx, ws, key, CardsPerStage)
	if err != nil {
		return Board{}, err
	}
	now := s.now()
	for _, c := range cards {
		card := Card{BoardCard: c, DaysInStage: DaysBetween(c.InStageSince, now)}
		i, ok := idx[c.Stage]
		if !ok {
			b.Orphans = append(b.Orphans, card)
			continue
		}
		col := &b.Columns[i]
		card.Stale = IsStale(col.Stage, c.InStageSince, c.LastActivity, now)
		col.Cards = append(col.Cards, card)
	}
	return b, nil
}

// StaleRules are the deals list's stale filter for ws: one rule per stage with
// stale days, cut off at now − those days (IsStale, evaluated in SQL).
func (s *Service) StaleRules(ctx context.Context, ws int64) ([]store.StaleRule, error) {
	ps, _, err := Load(ctx, s.St.Read(), ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []store.StaleRule{}
	for _, p := range ps {
		for _, st := range p.Stages {
			if st.StaleDays > 0 {
				out = append(out, store.StaleRule{Pipeline: p.Key, Stage: st.Key, Cutoff: now.Add(-time.Duration(st.StaleDays) * 24 * time.Hour)})
			}
		}
	}
	return out, nil
}
