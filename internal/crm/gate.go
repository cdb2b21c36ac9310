package crm

import (
	"context"
	"maps"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/store"
)

// checkDealStage checks d's pipeline and stage against the workspace's
// pipelines and starts a deal without a stage in its pipeline's first one.
func checkDealStage(ctx context.Context, q store.Q, ws int64, d *model.Deal) error {
	ps, _, err := pipeline.Load(ctx, q, ws)
	if err != nil {
		return err
	}
	p, ok := pipeline.Find(ps, d.Pipeline)
	if !ok {
		return fe("pipeline", "%q is not a pipeline (%s)", d.Pipeline, strings.Join(pipeline.Keys(ps), ", "))
	}
	if d.Stage == "" {
		d.Stage = p.Stages[0].Key
	}
	if p.Index(d.Stage) < 0 {
		return fe("stage", "%q is not a stage of %s (%s)", d.Stage, d.Pipeline, strings.Join(p.StageKeys(), ", "))
	}
	return nil
}

// gatedDealKind takes the admin override reason out of f (it is not a deal
// field) and returns the deal kind whose route hook enforces the gates.
func gatedDealKind(act model.Actor, f Fields) (kind[model.Deal], Fields, error) {
	k := dealKind
	reason := ""
	if v, ok := f[pipeline.OverrideField]; ok {
		f = maps.Clone(f)
		delete(f, pipeline.OverrideField)
		r, err := asString(pipeline.OverrideField, v, 1000)
		if err != nil {
			return k, f, err
		}
		reason = strings.TrimSpace(r)
		if reason != "" && act.Role != model.RoleAdmin {
			return k, f, fe(pipeline.OverrideField, "%s", pipeline.ErrOverrideForbidden.Error())
		}
	}
	k.route = func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, d *model.Deal) (func() error, error) {
		return s.dealGate(ctx, q, act, reason, before, d)
	}
	return k, f, nil
}

// dealGate is the one place stage gates are enforced for deals written through
// crm (UI, API, automation). A forward move that leaves a stage whose exit
// criteria are unmet is refused with *model.GateError, unless an admin gave a
// reason: then it goes through, audited and in the deal's history. A create
// into a later stage is not refused (the deal is real, it just skipped the
// tracker): it is kept with needs_review set and the unmet gates as the reason,
// like an import. After the write, a stage change opens a new stage stay.
func (s *Service) dealGate(ctx context.Context, q store.Q, act model.Actor, reason string, before, d *model.Deal) (func() error, error) {
	ws := act.Workspace
	ps, _, err := pipeline.Load(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	p, _ := pipeline.Find(ps, d.Pipeline)
	unmet, err := pipeline.Gate(ctx, q, ws, p, before, d)
	if err != nil {
		return nil, err
	}
	from := ""
	if before != nil {
		from = before.Stage
	}
	overridden := false
	if len(unmet) > 0 {
		switch {
		case reason != "":
			overridden = true
		case before == nil:
			d.NeedsReview, d.ReviewReason = true, pipeline.ReviewReason(unmet)
		default:
			return nil, &model.GateError{DealID: d.ID, From: from, To: d.Stage, Unmet: unmet}
		}
	}
	moved := before == nil || before.Stage != d.Stage || before.Pipeline != d.Pipeline
	won := d.Outcome == "won" && (before == nil || before.Outcome != "won")
	return func() error {
		if overridden {
			if err := pipeline.AuditOverride(ctx, q, act, d, from, reason, unmet); err != nil {
				return err
			}
		}
		if won {
			for _, h := range s.Won {
				if err := h.DealWon(ctx, q, act, d); err != nil {
					return err
				}
			}
		}
		if !moved {
			return nil
		}
		at := d.UpdatedAt
		if before == nil {
			at = d.CreatedAt
		}
		why := ""
		if overridden {
			why = reason
		}
		return q.EnterStage(ctx, ws, d.ID, d.Pipeline, d.Stage, act.Label, why, at)
	}, nil
}
