// Package success is life after the win (PRODUCT.md §3, §5; issue 5): when a
// deal is won it opens a handoff from the AE to a CSM with an onboarding
// checklist from the motion's template and a required note (goals,
// stakeholders, risks), and it keeps each customer's health score from
// configurable inputs (product usage, engagement, open support items, NPS, CSM
// sentiment) with a reason breakdown, bands and history. A customer is an
// account. See docs/success.md.
package success

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
)

// Service runs handoffs and health scores.
type Service struct {
	St *store.Store
	// Assign picks a CSM from the workspace's csm pools; nil leaves every
	// handoff unassigned (the /success queue).
	Assign *assignment.Service
	// River queues the recompute of every customer after a settings change
	// and runs the daily recompute; nil recomputes settings changes inline.
	River *river.Client[*sql.Tx]
	// Now is the clock (tests move it); nil means store.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// ErrForbidden answers an action the actor's role may not take.
var ErrForbidden = errors.New("success: your role may not do this")

// StateError refuses an action the handoff's state does not allow (accepting
// without a complete note, editing an accepted note). Field names what is
// missing or wrong; the API answers 422.
type StateError struct {
	Field   string
	Message string
	Missing []string
}

func (e *StateError) Error() string { return e.Field + ": " + e.Message }

// customer loads the account a customer route names; a foreign id is
// store.ErrNotFound like a missing one.
func customer(ctx context.Context, q store.Q, ws, accountID int64) (model.Account, error) {
	return q.GetAccount(ctx, ws, accountID)
}

// canManageCustomer: CSMs, managers and admins set sentiment and accept.
func canManageCustomer(role string) bool {
	return role == model.RoleCSM || role == model.RoleAdmin || role == model.RoleManager
}

// ---- inputs ---------------------------------------------------------------------

// Limits on inputs.
const (
	MaxUsageBatch = 1000
	maxQuantity   = 1_000_000
	maxNote       = 2000
	maxKey        = 200
	maxSupport    = 1_000_000
	// futureSlack is how far ahead of the server clock an event may be stamped
	// (client clocks drift); later is refused.
	futureSlack = 5 * time.Minute
)

var kindRE = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,62}$`)

// UsageInput is one usage event as a client sends it: Kind defaults to
// "event", Quantity to 1, OccurredAt to now.
type UsageInput struct {
	Kind       string     `json:"kind"`
	Quantity   *int64     `json:"quantity"`
	OccurredAt *time.Time `json:"occurred_at"`
	Key        string     `json:"key"`
}

// UsageResult says what an ingest did and the health it produced.
type UsageResult struct {
	Accepted   int       `json:"accepted"`
	Duplicates int       `json:"duplicates"`
	Health     Breakdown `json:"health"`
}

// RecordUsage validates and stores an account's usage events, then recomputes
// its health, in one transaction. Errors name events[i].field.
func (s *Service) RecordUsage(ctx context.Context, act model.Actor, accountID int64, in []UsageInput) (UsageResult, error) {
	now := s.now()
	if len(in) == 0 {
		return UsageResult{}, fe("events", "needs at least one event")
	}
	if len(in) > MaxUsageBatch {
		return UsageResult{}, fe("events", "at most %d events per request, got %d", MaxUsageBatch, len(in))
	}
	es := make([]store.UsageEvent, len(in))
	for i, u := range in {
		at := fmt.Sprintf("events[%d].", i)
		e := store.UsageEvent{Kind: strings.TrimSpace(u.Kind), Quantity: 1, OccurredAt: now, DedupeKey: strings.TrimSpace(u.Key)}
		if e.Kind == "" {
			e.Kind = "event"
		}
		if !kindRE.MatchString(e.Kind) {
			return UsageResult{}, fe(at+"kind", "%q must start with a-z and use a-z, 0-9, _ . : - (at most 63)", e.Kind)
		}
		if u.Quantity != nil {
			if *u.Quantity < 1 || *u.Quantity > maxQuantity {
				return UsageResult{}, fe(at+"quantity", "must be between 1 and %d", maxQuantity)
			}
			e.Quantity = *u.Quantity
		}
		if u.OccurredAt != nil {
			if u.OccurredAt.After(now.Add(futureSlack)) {
				return UsageResult{}, fe(at+"occurred_at", "is in the future")
			}
			e.OccurredAt = u.OccurredAt.UTC().Truncate(time.Microsecond)
		}
		if len(e.DedupeKey) > maxKey {
			return UsageResult{}, fe(at+"key", "at most %d characters", maxKey)
		}
		es[i] = e
	}
	var res UsageResult
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := customer(ctx, q, act.Workspace, accountID); err != nil {
			return err
		}
		n, err := q.InsertUsageEvents(ctx, act.Workspace, accountID, es)
		if err != nil {
			return err
		}
		res.Accepted, res.Duplicates = n, len(es)-n
		res.Health, _, err = Recompute(ctx, q, act.Workspace, accountID, CauseUsage, now)
		return err
	})
	return res, err
}

// NPSIn is an NPS response as a client sends it.
type NPSIn struct {
	Score       *int       `json:"score"`
	ContactID   *int64     `json:"contact_id"`
	Comment     string     `json:"comment"`
	RespondedAt *time.Time `json:"responded_at"`
}

// NPSResult is the stored response and the health it produced.
type NPSResult struct {
	Response store.NPSResponse `json:"response"`
	Health   Breakdown         `json:"health"`
}

// RecordNPS stores an NPS response of an account and recomputes its health.
// A contact, when named, must be one of the workspace's.
func (s *Service) RecordNPS(ctx context.Context, act model.Actor, accountID int64, in NPSIn) (NPSResult, error) {
	now := s.now()
	switch {
	case in.Score == nil:
		return NPSResult{}, fe("score", "is required (0–10)")
	case *in.Score < 0 || *in.Score > 10:
		return NPSResult{}, fe("score", "must be between 0 and 10, got %d", *in.Score)
	case len([]rune(in.Comment)) > maxNote:
		return NPSResult{}, fe("comment", "at most %d characters", maxNote)
	case in.RespondedAt != nil && in.RespondedAt.After(now.Add(futureSlack)):
		return NPSResult{}, fe("responded_at", "is in the future")
	}
	r := store.NPSResponse{ContactID: in.ContactID, Score: *in.Score, Comment: strings.TrimSpace(in.Comment), RespondedAt: now, RecordedBy: act.Label}
	if in.RespondedAt != nil {
		r.RespondedAt = in.RespondedAt.UTC().Truncate(time.Microsecond)
	}
	var res NPSResult
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := customer(ctx, q, act.Workspace, accountID); err != nil {
			return err
		}
		if in.ContactID != nil {
			if _, err := q.GetContact(ctx, act.Workspace, *in.ContactID); errors.Is(err, store.ErrNotFound) {
				return fe("contact_id", "no contact %d", *in.ContactID)
			} else if err != nil {
				return err
			}
		}
		if err := q.InsertNPS(ctx, act.Workspace, accountID, &r); err != nil {
			return err
		}
		var err error
		res.Response = r
		res.Health, _, err = Recompute(ctx, q, act.Workspace, accountID, CauseNPS, now)
		return err
	})
	return res, err
}

// SetSupport records an account's open support item count and recomputes its
// health.
func (s *Service) SetSupport(ctx context.Context, act model.Actor, accountID int64, open *int64) (Breakdown, error) {
	switch {
	case open == nil:
		return Breakdown{}, fe("open_items", "is required (a count, 0 or more)")
	case *open < 0 || *open > maxSupport:
		return Breakdown{}, fe("open_items", "must be between 0 and %d", maxSupport)
	}
	now := s.now()
	var b Breakdown
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := customer(ctx, q, act.Workspace, accountID); err != nil {
			return err
		}
		if err := q.SetSupportItems(ctx, act.Workspace, accountID, *open, act.Label, now); err != nil {
			return err
		}
		var err error
		b, _, err = Recompute(ctx, q, act.Workspace, accountID, CauseSupport, now)
		return err
	})
	return b, err
}

// SetSentiment records the CSM's sentiment of an account with the note that
// explains it (required), and recomputes its health. CSMs, managers and
// admins may; others get ErrForbidden.
func (s *Service) SetSentiment(ctx context.Context, act model.Actor, accountID int64, sentiment, note string) (Breakdown, error) {
	if !canManageCustomer(act.Role) {
		return Breakdown{}, ErrForbidden
	}
	sentiment, note = strings.TrimSpace(sentiment), strings.TrimSpace(note)
	switch {
	case sentiment == "":
		return Breakdown{}, fe("sentiment", "is required (positive, neutral or negative)")
	case !model.Contains(Sentiments, sentiment):
		return Breakdown{}, fe("sentiment", "%q is not positive, neutral or negative", sentiment)
	case note == "":
		return Breakdown{}, fe("note", "is required: say why")
	case len([]rune(note)) > maxNote:
		return Breakdown{}, fe("note", "at most %d characters", maxNote)
	}
	now := s.now()
	var b Breakdown
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := customer(ctx, q, act.Workspace, accountID); err != nil {
			return err
		}
		if err := q.SetSentiment(ctx, act.Workspace, accountID, sentiment, note, act.Label, now); err != nil {
			return err
		}
		var err error
		b, _, err = Recompute(ctx, q, act.Workspace, accountID, CauseSentiment, now)
		return err
	})
	return b, err
}

// ---- reading health -------------------------------------------------------------

// Current is a customer's current health: the stored one, or (Stored false)
// one computed for this read when it was never stored.
type Current struct {
	Breakdown
	Cause      string    `json:"cause"`
	ComputedAt time.Time `json:"computed_at"`
	Stored     bool      `json:"stored"`
}

// HistoryPoint is one history row.
type HistoryPoint struct {
	ID         int64          `json:"id"`
	Score      int            `json:"score"`
	Band       string         `json:"band"`
	Cause      string         `json:"cause"`
	Day        string         `json:"day,omitempty"`
	ComputedAt time.Time      `json:"computed_at"`
	Points     map[string]int `json:"points"`
	Reasons    []string       `json:"reasons"`
}

// InputsView shows the raw inputs behind a score.
type InputsView struct {
	store.CustomerInputs
	NPS []store.NPSResponse `json:"nps"`
}

// Health is what GET …/health answers.
type Health struct {
	AccountID int64          `json:"account_id"`
	Current   Current        `json:"current"`
	History   []HistoryPoint `json:"history"`
	Inputs    InputsView     `json:"inputs"`
}

// HistoryLimit is how many history rows a read returns (the newest).
const HistoryLimit = 365

// Health reads a customer's current health, history and inputs.
func (s *Service) Health(ctx context.Context, ws, accountID int64) (Health, error) {
	q := s.St.Read()
	if _, err := customer(ctx, q, ws, accountID); err != nil {
		return Health{}, err
	}
	out := Health{AccountID: accountID}
	rec, err := q.GetHealth(ctx, ws, accountID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		now := s.now()
		b, err := Score(ctx, q, ws, accountID, now)
		if err != nil {
			return out, err
		}
		out.Current = Current{Breakdown: b, Cause: CauseLive, ComputedAt: now}
	case err != nil:
		return out, err
	default:
		var b Breakdown
		if err := decodeBreakdown(rec.Breakdown, &b); err != nil {
			return out, err
		}
		out.Current = Current{Breakdown: b, Cause: rec.Cause, ComputedAt: rec.ComputedAt, Stored: true}
	}
	hs, err := q.HealthHistory(ctx, ws, accountID, HistoryLimit)
	if err != nil {
		return out, err
	}
	out.History = make([]HistoryPoint, 0, len(hs))
	for _, h := range hs {
		var b Breakdown
		if err := decodeBreakdown(h.Breakdown, &b); err != nil {
			return out, err
		}
		out.History = append(out.History, HistoryPoint{ID: h.ID, Score: h.Score, Band: h.Band, Cause: h.Cause, Day: h.Day, ComputedAt: h.ComputedAt, Points: b.Points(), Reasons: b.Reasons()})
	}
	if out.Inputs.CustomerInputs, err = q.GetCustomerInputs(ctx, ws, accountID); err != nil {
		return out, err
	}
	if out.Inputs.NPS, err = q.NPSResponses(ctx, ws, accountID, s.now().Add(futureSlack), 5); err != nil {
		return out, err
	}
	return out, nil
}

func decodeBreakdown(raw []byte, b *Breakdown) error {
	if err := json.Unmarshal(raw, b); err != nil {
		return fmt.Errorf("success: stored breakdown: %w", err)
	}
	if b.Parts == nil {
		b.Parts = []Part{}
	}
	return nil
}

// AtRisk lists ws's customers whose current band is at_risk or critical,
// lowest score first.
func (s *Service) AtRisk(ctx context.Context, ws int64, limit int) ([]store.CustomerHealthRow, error) {
	return s.St.Read().CustomersInBands(ctx, ws, []string{BandCritical, BandAtRisk}, limit)
}

// history records an action on a customer (account) in its history.
func history(ctx context.Context, q store.Q, act model.Actor, accountID int64, action string, detail any) error {
	return q.AddHistory(ctx, act.Workspace, "account", accountID, action, detail, act.Label)
}
