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

// Column is one stage of the board with its open deals, biggest first.
type Column struct {
	Stage  model.StageDef
	Cards  []Card
	Amount map[string]int64 // open amount by currency
}

// Board is a pipeline's open deals by stage. Orphans are open deals whose
// stage the pipeline no longer has (after an edit); they are listed, not lost.
type Board struct {
	Pipeline  model.PipelineDef
	Pipelines []model.PipelineDef
	Columns   []Column
	Orphans   []Card
	Open      int64
}

// Board builds the board of pipeline key in ws: one query for the cards, then
// days in stage and staleness computed against now.
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
	cards, err := q.BoardDeals(ctx, ws, key)
	if err != nil {
		return Board{}, err
	}
	now := s.now()
	b.Open = int64(len(cards))
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
		col.Amount[c.Currency] += c.Amount
	}
	return b, nil
}

// StaleDealIDs lists the open deals of ws that are stale in their stage (the
// deals list's stale filter).
func (s *Service) StaleDealIDs(ctx context.Context, ws int64) ([]int64, error) {
	ps, _, err := Load(ctx, s.St.Read(), ws)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, p := range ps {
		b, err := s.Board(ctx, ws, p.Key)
		if err != nil {
			return nil, err
		}
		for _, c := range b.Columns {
			for _, card := range c.Cards {
				if card.Stale {
					out = append(out, card.ID)
				}
			}
		}
	}
	return out, nil
}
