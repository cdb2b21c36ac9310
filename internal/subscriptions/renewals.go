package subscriptions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Renewals are records of their own (the renewals table), not deals: a renewal
// is not new business, and putting it through a sales pipeline would make it
// pass SPANCO's gates and count in new-business win rates, cycle times and
// forecasts. The job opens one per subscription and renewal date, N days
// ahead (per workspace, default 90); an outcome closes it.

// SystemActor names the renewal job in history and on the renewals it settles.
const SystemActor = "system:renewals"

// MaxLeadDays bounds a workspace's renewal lead time.
const MaxLeadDays = 730

// OutcomeInput records a renewal's outcome. Expand and contract take the
// renewed terms (quantity and/or unit price) and must raise or lower MRR.
type OutcomeInput struct {
	Outcome   *string `json:"outcome"`
	Quantity  *int64  `json:"quantity"`
	UnitPrice *int64  `json:"unit_price"`
	Note      *string `json:"note"`
}

// RecordOutcome closes renewal id with an outcome, applied to its subscription
// on the renewal date: renew keeps the terms, expand and contract change them,
// churn ends the subscription. Renew, expand and contract move the
// subscription's renewal date one term on.
func (s *Service) RecordOutcome(ctx context.Context, act model.Actor, id int64, in OutcomeInput) (model.Renewal, error) {
	var r model.Renewal
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if r, err = q.GetRenewal(ctx, act.Workspace, id); err != nil {
			return err
		}
		if r.Status != "open" {
			return fe("outcome", "the renewal is already closed (%s)", r.Outcome)
		}
		if in.Outcome == nil {
			return fe("outcome", "is required (%s)", strings.Join(model.RenewalOutcomes, ", "))
		}
		note := ""
		if in.Note != nil {
			if note, err = checkText("note", *in.Note, 2000); err != nil {
				return err
			}
		}
		return s.outcomeIn(ctx, q, act, &r, strings.TrimSpace(*in.Outcome), in.Quantity, in.UnitPrice, note)
	})
	return r, err
}

func (s *Service) outcomeIn(ctx context.Context, q store.Q, act model.Actor, r *model.Renewal, outcome string, quantity, price *int64, note string) error {
	ws := act.Workspace
	if !model.Contains(model.RenewalOutcomes, outcome) {
		return fe("outcome", "%q is not %s", outcome, strings.Join(model.RenewalOutcomes, ", "))
	}
	sub, err := load(ctx, q, ws, r.SubscriptionID)
	if err != nil {
		return err
	}
	t := termsOf(&sub)
	switch outcome {
	case "renew", "churn":
		if quantity != nil || price != nil {
			return fe("outcome", "%s keeps the terms; use expand or contract to change quantity or unit price", outcome)
		}
	default:
		if quantity == nil && price == nil {
			return fe("outcome", "%s needs the renewed quantity or unit_price", outcome)
		}
		if quantity != nil {
			if err := checkQuantity("quantity", *quantity); err != nil {
				return err
			}
			t.quantity = *quantity
		}
		if price != nil {
			if err := checkPrice("unit_price", *price); err != nil {
				return err
			}
			t.unitPrice = *price
		}
		after := model.MonthlyValue(t.quantity, t.unitPrice, t.interval)
		if outcome == "expand" && after <= sub.MRR {
			return fe("outcome", "expand needs a higher MRR than %d (the new terms give %d)", sub.MRR, after)
		}
		if outcome == "contract" && after >= sub.MRR {
			return fe("outcome", "contract needs a lower MRR than %d (the new terms give %d)", sub.MRR, after)
		}
	}
	day := r.RenewalDate
	if outcome == "churn" {
		if err := s.cancelIn(ctx, q, act, &sub, day, note, "outcome"); err != nil {
			return err
		}
	} else {
		if err := s.checkEffective(ctx, q, ws, &sub, "outcome", day); err != nil {
			return err
		}
		kind := "renew"
		if outcome != "renew" {
			kind = "change"
			t.applyTo(&sub)
		}
		if err := record(ctx, q, ws, &sub, kind, day, true, note, act.Label); err != nil {
			return err
		}
		if sub.RenewalDate == r.RenewalDate {
			sub.RenewalDate = addMonths(r.RenewalDate, sub.TermMonths)
		}
		if err := q.UpdateSubscription(ctx, ws, &sub); err != nil {
			return err
		}
		if err := sync(ctx, q, ws, sub.AccountID); err != nil {
			return err
		}
	}
	after := sub.MRR
	if outcome == "churn" {
		after = 0
	}
	r.Outcome, r.MRRAfter, r.Note, r.DecidedBy = outcome, &after, note, act.Label
	if err := q.CloseRenewal(ctx, ws, r); err != nil {
		return err
	}
	return q.AddHistory(ctx, ws, "account", sub.AccountID, "renewal_"+outcome, historyDetail(&sub, map[string]any{"renewal_id": r.ID, "renewal_date": r.RenewalDate, "mrr_before": r.MRRBefore, "note": note}), act.Label)
}

// Renewals lists renewals (open ones first by date when status is "open").
func (s *Service) Renewals(ctx context.Context, ws int64, f store.RenewalFilter) ([]model.Renewal, error) {
	if f.Status != "" && f.Status != "open" && f.Status != "closed" {
		return nil, fe("status", "%q is not open or closed", f.Status)
	}
	return s.St.Read().ListRenewals(ctx, ws, f)
}

// Settings are a workspace's subscription settings.
type Settings struct {
	RenewalLeadDays int `json:"renewal_lead_days"`
}

// Settings reads the workspace's settings.
func (s *Service) Settings(ctx context.Context, ws int64) (Settings, error) {
	n, err := s.St.Read().RenewalLeadDays(ctx, ws)
	return Settings{RenewalLeadDays: n}, err
}

// SettingsInput changes the settings.
type SettingsInput struct {
	RenewalLeadDays *int `json:"renewal_lead_days"`
}

// SaveSettings stores the workspace's settings and audits the change.
func (s *Service) SaveSettings(ctx context.Context, act model.Actor, in SettingsInput) (Settings, error) {
	if in.RenewalLeadDays == nil {
		return Settings{}, fe("renewal_lead_days", "is required")
	}
	n := *in.RenewalLeadDays
	if n < 0 || n > MaxLeadDays {
		return Settings{}, fe("renewal_lead_days", "must be from 0 to %d days", MaxLeadDays)
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SetRenewalLeadDays(ctx, act.Workspace, n); err != nil {
			return err
		}
		detail := fmt.Sprintf(`{"renewal_lead_days":%d}`, n)
		ws := act.Workspace
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "subscription_settings", TargetType: "workspace", TargetID: &ws, Detail: []byte(detail), IP: act.IP})
	})
	return Settings{RenewalLeadDays: n}, err
}

// RenewalResult counts what one run of the renewal job did.
type RenewalResult struct {
	Opened      int `json:"opened"`       // renewals opened
	AutoRenewed int `json:"auto_renewed"` // reached their date and renewed (auto-renew on)
	Expired     int `json:"expired"`      // reached their date without an outcome, auto-renew off: churned
}

// renewBatch is how many subscriptions or renewals one transaction handles.
const renewBatch = 200

// RunRenewals does workspace ws's renewal work as of day today: it opens a
// renewal for every running subscription whose renewal date is within the
// workspace's lead time (the renewals table's unique key makes a second run
// open nothing twice), and settles the open renewals whose date has come and
// that nobody decided: an auto-renewing subscription renews on its terms
// (then its next renewal is opened when due), one without auto-renew ends on
// the renewal date (churn). A subscription that fell several terms behind
// (the job did not run) is walked forward one term at a time.
func (s *Service) RunRenewals(ctx context.Context, ws int64, today string) (RenewalResult, error) {
	var res RenewalResult
	act := model.Actor{Workspace: ws, Label: SystemActor}
	for round := 0; round < 10_000; round++ {
		var opened, settled int
		err := s.St.InTx(ctx, func(q store.Q) error {
			lead, err := q.RenewalLeadDays(ctx, ws)
			if err != nil {
				return err
			}
			subs, err := q.SubscriptionsToRenew(ctx, ws, addDays(today, lead), renewBatch)
			if err != nil {
				return err
			}
			for _, x := range subs {
				r := model.Renewal{SubscriptionID: x.ID, AccountID: x.AccountID, RenewalDate: x.RenewalDate, Status: "open", MRRBefore: x.MRR, Currency: x.Currency}
				ok, err := q.InsertRenewal(ctx, ws, &r)
				if err != nil {
					return err
				}
				if ok {
					opened++
					if err := q.AddHistory(ctx, ws, "account", x.AccountID, "renewal_opened", map[string]any{"renewal_id": r.ID, "subscription_id": x.ID, "renewal_date": x.RenewalDate}, SystemActor); err != nil {
						return err
					}
				}
			}
			due, err := q.ListRenewals(ctx, ws, store.RenewalFilter{Status: "open", DueBy: today, Limit: renewBatch})
			if err != nil {
				return err
			}
			for i := range due {
				r := &due[i]
				sub, err := q.GetSubscription(ctx, ws, r.SubscriptionID)
				if err != nil {
					return err
				}
				outcome, note := "renew", "renewed automatically on "+r.RenewalDate+" (auto-renew)"
				if !sub.AutoRenew {
					outcome, note = "churn", "the term ended on "+r.RenewalDate+" without a renewal (auto-renew off)"
				}
				err = s.outcomeIn(ctx, q, act, r, outcome, nil, nil, note)
				var bad *store.FieldError
				if errors.As(err, &bad) {
					// The subscription changed under the renewal (a change
					// recorded after its date): checks run before any write,
					// so close it for a person to look at instead of failing
					// every run.
					r.Note, r.DecidedBy = "not settled automatically: "+bad.Message, SystemActor
					if err := q.CloseRenewal(ctx, ws, r); err != nil {
						return err
					}
					settled++
					continue
				}
				if err != nil {
					return fmt.Errorf("subscriptions: settle renewal %d: %w", r.ID, err)
				}
				settled++
				if outcome == "renew" {
					res.AutoRenewed++
				} else {
					res.Expired++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Opened += opened
		if opened == 0 && settled == 0 {
			break
		}
	}
	return res, nil
}

// RenewalsArgs is the job that does one workspace's renewal work. It is
// unique per workspace while queued or running: the sweep enqueues it for
// every workspace each time it runs, and a workspace never has two in flight.
type RenewalsArgs struct {
	WorkspaceID int64 `json:"workspace_id"`
}

// Kind names the job.
func (RenewalsArgs) Kind() string { return "subscriptions_renewals" }

// uniqueWhileQueued keeps one job of a kind and args queued or running.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// InsertOpts: unique by workspace while queued or running.
func (RenewalsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: uniqueWhileQueued}
}

// RenewalsWorker runs one workspace's renewal work at the service's clock.
type RenewalsWorker struct {
	river.WorkerDefaults[RenewalsArgs]
	Svc *Service
}

// Work opens and settles the workspace's renewals; a rerun finds the work
// done (the renewals' unique key, the subscriptions' advanced dates).
func (w *RenewalsWorker) Work(ctx context.Context, job *river.Job[RenewalsArgs]) error {
	_, err := w.Svc.RunRenewals(ctx, job.Args.WorkspaceID, w.Svc.Today())
	return err
}

// SweepArgs is the periodic job that enqueues RenewalsArgs for every workspace
// with a running subscription.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "subscriptions_renewals_sweep" }

// InsertOpts: one sweep queued or running at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: uniqueWhileQueued.ByState}}
}

// SweepInterval is how often renewals are looked at: a renewal opens at most
// this late after its lead time begins.
const SweepInterval = time.Hour

// SweepPeriodicJob is registered by app; River runs it on the elected leader.
func SweepPeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepInterval), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "subscriptions_renewals_sweep", RunOnStart: true})
}

// SweepWorker enqueues each workspace's renewal job.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Svc *Service
}

// Work enqueues one RenewalsArgs per workspace with running subscriptions.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	ids, err := w.Svc.St.Read().AdminWorkspacesWithSubscriptions(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[*sql.Tx](ctx)
	for _, id := range ids {
		if _, err := client.Insert(ctx, RenewalsArgs{WorkspaceID: id}, nil); err != nil {
			return fmt.Errorf("subscriptions: enqueue renewals of workspace %d: %w", id, err)
		}
	}
	return nil
}
