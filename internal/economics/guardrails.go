package economics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/rightsize/rightsize/internal/webhooks"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Guardrails: each segment × motion cell's status (green, amber, red,
// no_data) is evaluated on the default report (the 12 months ending this
// month, default conventions) by a River job — hourly for every workspace,
// and in the transaction of any change to the economics inputs — and stored;
// a cell whose status becomes red (from any other status, or on its first
// evaluation) raises an alert record with the numbers behind it, shown on
// /economics and the dashboard to admins and managers, and emitted as the
// outgoing webhook event GuardrailRedEvent once webhooks exist.

// GuardrailQueue enqueues jobs in a transaction (River's client).
type GuardrailQueue = *river.Client[*sql.Tx]

// GuardrailRedEvent is the webhook event type of a cell turning red.
const GuardrailRedEvent = "guardrail.red"

// GuardrailEvent is the payload of GuardrailRedEvent.
type GuardrailEvent struct {
	AlertID        int64    `json:"alert_id"`
	Segment        string   `json:"segment"`
	Motion         string   `json:"motion"`
	PreviousStatus string   `json:"previous_status"`
	Status         string   `json:"status"`
	LTV            *float64 `json:"ltv"`
	CAC            *float64 `json:"cac"`
	LTVToCAC       *float64 `json:"ltv_to_cac"`
	PaybackMonths  *float64 `json:"payback_months"`
	Target         float64  `json:"ltv_cac_target"`
	PaybackTarget  *float64 `json:"payback_target_months"`
	Reasons        []string `json:"reasons"`
	From           string   `json:"from"`
	To             string   `json:"to"`
	Currency       string   `json:"currency"`
}

// emitGuardrailRed is the single place the outgoing webhook for a cell that
// turned red is raised, in the transaction that records the alert (event type
// "guardrail.red", payload GuardrailEvent; docs/webhooks.md).
func emitGuardrailRed(ctx context.Context, q store.Q, ws int64, ev GuardrailEvent) error {
	return webhooks.Emit(ctx, q, ws, GuardrailRedEvent, ev)
}

func init() {
	webhooks.Register(GuardrailRedEvent, "a segment × motion cell of the unit economics matrix turned red (LTV:CAC or payback beyond its target)")
}

// Alert is an alert as clients see it.
type Alert struct {
	ID             int64       `json:"id"`
	Segment        string      `json:"segment"`
	Motion         string      `json:"motion"`
	PreviousStatus string      `json:"previous_status"`
	Status         string      `json:"status"`
	Cell           CellMetrics `json:"cell"`
	Text           string      `json:"text"`
	From           string      `json:"from"`
	To             string      `json:"to"`
	CreatedAt      time.Time   `json:"created_at"`
	AcknowledgedAt *time.Time  `json:"acknowledged_at"`
	AcknowledgedBy string      `json:"acknowledged_by"`
}

func decodeCell(b []byte) (CellMetrics, bool) {
	var cm CellMetrics
	if len(b) == 0 || json.Unmarshal(b, &cm) != nil || cm.Segment == "" {
		return cm, false
	}
	return cm, true
}

func alertOut(a store.EconomicsAlert, cur string) Alert {
	out := Alert{ID: a.ID, Segment: a.Segment, Motion: a.Motion, PreviousStatus: a.PreviousStatus, Status: a.Status, From: a.WindowFrom, To: a.WindowTo,
		CreatedAt: a.CreatedAt, AcknowledgedAt: a.AcknowledgedAt, AcknowledgedBy: a.AcknowledgedBy}
	out.Cell, _ = decodeCell(a.Detail)
	if out.Cell.Reasons == nil {
		out.Cell.Reasons = []string{}
	}
	if out.Cell.LTV == nil {
		out.Cell.LTV = []LTVFigure{}
	}
	if out.Cell.Notes == nil {
		out.Cell.Notes = map[string]string{}
	}
	out.Text = alertText(out.Cell, cur, a.PreviousStatus)
	return out
}

func alertText(c CellMetrics, cur, prev string) string {
	s := fmt.Sprintf("%s via %s turned red", human(c.Segment), c.Motion)
	if prev != "" && prev != "none" {
		s = fmt.Sprintf("%s via %s turned red (was %s)", human(c.Segment), c.Motion, prev)
	}
	if c.LTVToCAC != nil {
		s += fmt.Sprintf(": LTV:CAC %s", fmtRatio(*c.LTVToCAC))
	}
	if c.CACUsed != nil && c.MaxAffordableCAC != nil {
		s += fmt.Sprintf(", CAC %s vs max affordable %s", fmtMoneyF(*c.CACUsed, cur), fmtMoneyF(*c.MaxAffordableCAC, cur))
	}
	if c.PaybackMonths != nil && c.PaybackTarget != nil {
		s += fmt.Sprintf(", payback %.1f months (target %s)", *c.PaybackMonths, trimFloat(*c.PaybackTarget))
	}
	return s
}

// Alerts lists the alerts of ws, newest first (only unacknowledged ones when open).
func (s *Service) Alerts(ctx context.Context, ws int64, open bool, limit int) ([]Alert, error) {
	w, err := s.St.Read().GetWorkspace(ctx, ws)
	if err != nil {
		return nil, err
	}
	as, err := s.St.Read().EconomicsAlerts(ctx, ws, open, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Alert, 0, len(as))
	for _, a := range as {
		out = append(out, alertOut(a, w.Currency))
	}
	return out, nil
}

// AcknowledgeAlert marks an alert of the actor's workspace as seen.
func (s *Service) AcknowledgeAlert(ctx context.Context, act model.Actor, id int64) (Alert, error) {
	var a store.EconomicsAlert
	var cur string
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.AcknowledgeEconomicsAlert(ctx, act.Workspace, id, act.Label, s.now()); err != nil {
			return err
		}
		var err error
		if a, err = q.GetEconomicsAlert(ctx, act.Workspace, id); err != nil {
			return err
		}
		if cur, err = s.workspaceCurrency(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "economics_alert_acknowledge", "economics_alert", &id, map[string]any{"segment": a.Segment, "motion": a.Motion})
	})
	if err != nil {
		return Alert{}, err
	}
	return alertOut(a, cur), nil
}

// EvaluateGuardrails computes the default report of ws, stores each cell's
// status and raises an alert for every cell that turned red. It returns the
// alerts raised.
func (s *Service) EvaluateGuardrails(ctx context.Context, ws int64) ([]store.EconomicsAlert, error) {
	m, err := s.Metrics(ctx, ws, MetricsParams{})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var raised []store.EconomicsAlert
	err = s.St.InTx(ctx, func(q store.Q) error {
		raised = nil
		if err := q.LockWorkspace(ctx, ws); err != nil {
			return err
		}
		states, err := q.GuardrailStates(ctx, ws)
		if err != nil {
			return err
		}
		prev := map[Cell]string{}
		for _, g := range states {
			prev[Cell{g.Segment, g.Motion}] = g.Status
		}
		seen := map[Cell]bool{}
		for _, cm := range m.Matrix.Cells {
			cl := Cell{cm.Segment, cm.Motion}
			seen[cl] = true
			detail, err := json.Marshal(cm)
			if err != nil {
				return err
			}
			was, known := prev[cl]
			if cm.Status == StatusRed && was != StatusRed {
				if !known {
					was = "none"
				}
				a := store.EconomicsAlert{Segment: cm.Segment, Motion: cm.Motion, PreviousStatus: was, Status: StatusRed, Detail: detail,
					WindowFrom: m.From, WindowTo: m.To, CreatedAt: now}
				if err := q.InsertEconomicsAlert(ctx, ws, &a); err != nil {
					return err
				}
				ev := GuardrailEvent{AlertID: a.ID, Segment: cm.Segment, Motion: cm.Motion, PreviousStatus: was, Status: StatusRed, LTV: cm.LTVUsed, CAC: cm.CACUsed,
					LTVToCAC: cm.LTVToCAC, PaybackMonths: cm.PaybackMonths, Target: m.Matrix.Target, PaybackTarget: cm.PaybackTarget, Reasons: cm.Reasons, From: m.From, To: m.To, Currency: m.Currency}
				if err := emitGuardrailRed(ctx, q, ws, ev); err != nil {
					return err
				}
				raised = append(raised, a)
			}
			if err := q.SetGuardrailState(ctx, ws, store.GuardrailState{Segment: cm.Segment, Motion: cm.Motion, Status: cm.Status, Detail: detail, EvaluatedAt: now}); err != nil {
				return err
			}
		}
		for cl := range prev {
			if !seen[cl] {
				if err := q.DeleteGuardrailState(ctx, ws, cl.Segment, cl.Motion); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return raised, err
}

// GuardrailStatus is a cell's last evaluated status.
type GuardrailStatus struct {
	Segment     string    `json:"segment"`
	Motion      string    `json:"motion"`
	Status      string    `json:"status"`
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// GuardrailStatuses lists the stored statuses of ws.
func (s *Service) GuardrailStatuses(ctx context.Context, ws int64) ([]GuardrailStatus, error) {
	gs, err := s.St.Read().GuardrailStates(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]GuardrailStatus, 0, len(gs))
	for _, g := range gs {
		out = append(out, GuardrailStatus{Segment: g.Segment, Motion: g.Motion, Status: g.Status, EvaluatedAt: g.EvaluatedAt})
	}
	return out, nil
}

// queueGuardrails enqueues an evaluation of ws in the input change's transaction.
func (s *Service) queueGuardrails(ctx context.Context, q store.Q, ws int64) error {
	if s.River == nil || q.Tx() == nil {
		return nil
	}
	_, err := s.River.InsertTx(ctx, q.Tx(), GuardrailArgs{WorkspaceID: ws}, nil)
	return err
}

// GuardrailArgs evaluates one workspace's guardrails.
type GuardrailArgs struct {
	WorkspaceID int64 `json:"workspace_id"`
}

// Kind names the job.
func (GuardrailArgs) Kind() string { return "economics_guardrails" }

// InsertOpts: one evaluation per workspace queued or running. River requires
// running among the unique states, so a change made while an evaluation runs
// is picked up by the next one (the hourly sweep at the latest).
func (GuardrailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// GuardrailWorker runs GuardrailArgs.
type GuardrailWorker struct {
	river.WorkerDefaults[GuardrailArgs]
	Svc *Service
}

// Work evaluates the workspace.
func (w *GuardrailWorker) Work(ctx context.Context, j *river.Job[GuardrailArgs]) error {
	_, err := w.Svc.EvaluateGuardrails(ctx, j.Args.WorkspaceID)
	return err
}

// GuardrailSweepArgs queues an evaluation of every workspace.
type GuardrailSweepArgs struct{}

// Kind names the job.
func (GuardrailSweepArgs) Kind() string { return "economics_guardrails_sweep" }

// InsertOpts keeps one sweep queued or running.
func (GuardrailSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// GuardrailSweepInterval: a cell's status follows subscriptions, deals and
// the clock (the window slides) as well as the inputs, so every workspace is
// evaluated at least this often.
const GuardrailSweepInterval = time.Hour

// GuardrailSweepPeriodicJob is the periodic job app registers.
func GuardrailSweepPeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(GuardrailSweepInterval), func() (river.JobArgs, *river.InsertOpts) {
		return GuardrailSweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "economics_guardrails_sweep", RunOnStart: true})
}

// GuardrailSweepWorker runs GuardrailSweepArgs.
type GuardrailSweepWorker struct {
	river.WorkerDefaults[GuardrailSweepArgs]
	Svc *Service
}

// Work queues every workspace's evaluation.
func (w *GuardrailSweepWorker) Work(ctx context.Context, _ *river.Job[GuardrailSweepArgs]) error {
	if w.Svc.River == nil {
		return fmt.Errorf("economics: no job client")
	}
	wss, err := w.Svc.St.Read().AdminListWorkspaces(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		if _, err := w.Svc.River.Insert(ctx, GuardrailArgs{WorkspaceID: ws.ID}, nil); err != nil {
			return fmt.Errorf("economics: queue guardrails of workspace %d: %w", ws.ID, err)
		}
	}
	return nil
}
