package pipeline

import (
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

// StaleDealIDs lists the open deals of ws that are stale in their stage (the
// deals list's stale filter).
func (s *Service) StaleDealIDs(ctx context.Context, ws int64) ([]int64, error) {
	q := s.St.Read()
	ps, _, err := Load(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	stays, err := q.OpenDealStays(ctx, ws)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []int64
	for _, c := range stays {
		p, ok := Find(ps, c.Name)
		if !ok {
			continue
		}
		if i := p.Index(c.Stage); i >= 0 && IsStale(p.Stages[i], c.InStageSince, c.LastActivity, now) {
			out = append(out, c.ID)
		}
	}
	return out, nil
}
