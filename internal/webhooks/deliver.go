package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/store"
)

// Retry schedule: after attempt n fails, the next comes RetryBase·2^(n-1)
// later (capped at RetryCap), each delay jittered by ±20%, until the
// delivery's retry window (RetryWindow after its event) is over; the last
// attempt is placed at the end of the window.
const (
	RetryBase = 30 * time.Second
	RetryCap  = 12 * time.Hour
	// ExcerptBytes is how much of a response body the log keeps.
	ExcerptBytes = 1024
	// StaleGrace is how long after a call's timeout a claim is declared
	// stale (its worker died).
	StaleGrace = time.Minute
	// drainBudget bounds one drain job (a backlog continues in a new job,
	// so a shutdown never waits long for a drain).
	drainBudget = 20 * time.Second
)

// Backoff is the nominal delay after attempt n (1-based) failed, before
// jitter.
func Backoff(n int) time.Duration {
	d := RetryBase
	for i := 1; i < n && d < RetryCap; i++ {
		d *= 2
	}
	return min(d, RetryCap)
}

// jitter spreads d uniformly over [0.8d, 1.2d].
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*mrand.Float64()))
}

// nextAttempt decides what follows a failed attempt n at now: another
// attempt at the returned time, or nil when the retry window is over.
func nextAttempt(n int, now, giveUp time.Time) *time.Time {
	if !now.Before(giveUp) {
		return nil
	}
	next := now.Add(jitter(Backoff(n)))
	if next.After(giveUp) {
		next = giveUp
	}
	return &next
}

// ---- the job -------------------------------------------------------------------------

// DrainArgs is the River job that sends an endpoint's due deliveries. Emit
// enqueues one per endpoint and transaction, a failed attempt one at its
// retry time, a redelivery one for its delivery (Delivery is informative:
// the drain sends whatever is due), the sweep one for overdue endpoints.
type DrainArgs struct {
	Workspace int64 `json:"ws"`
	Endpoint  int64 `json:"endpoint"`
	Delivery  int64 `json:"delivery,omitempty"`
}

// Kind names the job.
func (DrainArgs) Kind() string { return "webhook_drain" }

// InsertOpts: River retries a drain only for database errors; HTTP failures
// are retried by the delivery schedule.
func (DrainArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// DrainWorker runs drain jobs.
type DrainWorker struct {
	river.WorkerDefaults[DrainArgs]
	Svc *Service
}

// Work drains the endpoint.
func (w *DrainWorker) Work(ctx context.Context, j *river.Job[DrainArgs]) error {
	_, err := w.Svc.Drain(ctx, j.Args.Workspace, j.Args.Endpoint)
	return err
}

// Timeout leaves room for a full budget of calls.
func (w *DrainWorker) Timeout(*river.Job[DrainArgs]) time.Duration {
	return drainBudget + 2*safehttp.DefaultTimeout
}

// DrainStats counts what a drain did.
type DrainStats struct {
	Attempts, Succeeded, Failed int
	// Paused: sending is paused (a restore not yet confirmed); nothing sent.
	Paused bool
}

// Drain sends endpoint endpointID's due deliveries, up to MaxInFlight at
// once (counted in the database across processes), until none is due or the
// budget is spent (then a follow-up drain is enqueued). A delivery of a
// disabled endpoint fails without a call.
func (s *Service) Drain(ctx context.Context, ws, endpointID int64) (DrainStats, error) {
	var st DrainStats
	paused, err := s.St.Read().AdminSendingPaused(ctx)
	if err != nil || paused {
		st.Paused = paused
		return st, err
	}
	deadline := time.Now().Add(drainBudget)
	var mu sync.Mutex
	var firstErr error
	more := false
	var wg sync.WaitGroup
	for range s.maxInFlight() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if time.Now().After(deadline) {
					mu.Lock()
					more = true
					mu.Unlock()
					return
				}
				c, err := s.claimNext(ctx, ws, endpointID)
				if err == nil && c == nil {
					return
				}
				var a store.WebhookAttempt
				if err == nil {
					a = s.send(ctx, c)
					faults.Point(faults.WebhookAfterCall)
					err = s.finish(ctx, c, a)
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				st.Attempts++
				if a.Outcome == "succeeded" {
					st.Succeeded++
				} else {
					st.Failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return st, firstErr
	}
	if more && ctx.Err() == nil {
		err = s.St.InTx(ctx, func(q store.Q) error {
			return enqueue(ctx, q, DrainArgs{Workspace: ws, Endpoint: endpointID}, time.Time{})
		})
	}
	return st, err
}

// claim is a delivery claimed for one attempt, with what sending it needs.
type claim struct {
	ws       int64
	endpoint store.WebhookEndpoint
	delivery store.WebhookDelivery
	payload  []byte
	token    string
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// claimNext commits the claim of endpointID's next due delivery before any
// call is made: nil when none is due, the endpoint is at its in-flight limit
// or it is disabled (its due deliveries then fail without a call).
func (s *Service) claimNext(ctx context.Context, ws, endpointID int64) (*claim, error) {
	var c *claim
	now := s.now()
	err := s.St.InTx(ctx, func(q store.Q) error {
		c = nil
		ep, err := q.GetWebhookEndpoint(ctx, ws, endpointID, true)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted with its deliveries
		}
		if err != nil {
			return err
		}
		if !ep.Enabled {
			why := "endpoint disabled"
			if ep.DisabledReason != "" {
				why += ": " + ep.DisabledReason
			}
			_, err := q.FailPendingWebhooks(ctx, ws, endpointID, why, now)
			return err
		}
		n, err := q.WebhookInFlight(ctx, ws, endpointID)
		if err != nil || n >= s.maxInFlight() {
			return err
		}
		token := newToken()
		d, err := q.ClaimNextWebhook(ctx, ws, endpointID, token, now)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		payload, err := q.WebhookEventPayload(ctx, ws, d.EventID)
		if err != nil {
			return err
		}
		c = &claim{ws: ws, endpoint: ep, delivery: d, payload: payload, token: token}
		return nil
	})
	return c, err
}

// send makes the HTTP call of a claimed attempt and says how it went.
func (s *Service) send(ctx context.Context, c *claim) store.WebhookAttempt {
	a := store.WebhookAttempt{Attempt: c.delivery.Attempts, Trigger: c.delivery.Trigger, StartedAt: s.now()}
	if a.Trigger == "" {
		a.Trigger = "auto"
	}
	secret, err := s.open(c.ws, c.endpoint.SecretEnc)
	if err != nil {
		a.Outcome, a.Error = "error", err.Error()
		return a
	}
	ts := a.StartedAt.Unix()
	sig, err := Sign(secret, c.delivery.MsgID, ts, c.payload)
	if err != nil {
		a.Outcome, a.Error = "error", err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.URL, bytes.NewReader(c.payload))
	if err != nil {
		a.Outcome, a.Error = "error", "bad URL: "+err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rightsize-Webhooks/1")
	req.Header.Set("webhook-id", c.delivery.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	res, err := s.HTTP.Do(req)
	a.LatencyMS = time.Since(start).Milliseconds()
	switch {
	case errors.Is(err, safehttp.ErrBlocked):
		a.Outcome, a.Error = "blocked", err.Error()
	case err != nil:
		a.Outcome, a.Error = "error", callError(err)
	default:
		a.StatusCode = res.Status
		a.Excerpt = Excerpt(res.Body, res.Truncated)
		switch {
		case res.Status >= 200 && res.Status < 300:
			a.Outcome = "succeeded"
		case res.Status == http.StatusGone:
			a.Outcome, a.Error = "gone", "410 Gone: the endpoint is disabled"
		default:
			a.Outcome, a.Error = "failed", fmt.Sprintf("HTTP %d", res.Status)
		}
	}
	return a
}

// callError words a transport error without the request URL (which may carry
// a token in its query).
func callError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// Excerpt keeps at most ExcerptBytes of a response body as valid UTF-8 with
// control characters (other than newline and tab) and invalid bytes escaped
// as \xNN, so the log shows exactly what came back without it being able to
// do anything where it is displayed (pages escape it again as HTML).
func Excerpt(body []byte, truncated bool) string {
	var b strings.Builder
	for len(body) > 0 && b.Len() < ExcerptBytes {
		r, size := utf8.DecodeRune(body)
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, body[0])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			fmt.Fprintf(&b, `\u%04x`, r) // C1 controls, line separators, BOM, bidi overrides
		default:
			b.WriteRune(r)
		}
		body = body[size:]
	}
	if len(body) > 0 || truncated {
		b.WriteString("…")
	}
	return b.String()
}

// finish records attempt a of claim c and decides what follows: success,
// another attempt (with its drain job, in the same transaction), or failure
// (the window is over, or a 410 disabled the endpoint).
func (s *Service) finish(ctx context.Context, c *claim, a store.WebhookAttempt) error {
	now := s.now()
	// The call was made: its outcome is recorded even when ctx ends
	// (shutdown), or the attempt would be logged unknown and sent again.
	ctx = context.WithoutCancel(ctx)
	return s.St.InTx(ctx, func(q store.Q) error {
		f := store.WebhookFinish{Attempt: a}
		switch a.Outcome {
		case "succeeded":
			f.State = store.WebhookSucceeded
		case "gone":
			if _, err := q.GetWebhookEndpoint(ctx, c.ws, c.endpoint.ID, true); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			reason := fmt.Sprintf("the endpoint answered 410 Gone on %s", now.Format("2 Jan 2006 15:04 UTC"))
			if err := q.DisableWebhookEndpoint(ctx, c.ws, c.endpoint.ID, reason, now); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			forget(q)
			f.State = store.WebhookFailed
		default:
			f.NextAt = nextAttempt(a.Attempt, now, c.delivery.GiveUpAt)
			if a.Outcome == "unknown" && f.NextAt != nil {
				// Our process died mid-call; the receiver did not fail: again now.
				f.NextAt = &now
			}
			f.State = store.WebhookFailed
			if f.NextAt != nil {
				f.State = store.WebhookRetrying
			}
		}
		held, err := q.FinishWebhookDelivery(ctx, c.ws, c.delivery.ID, c.token, f, now)
		if err != nil {
			return err
		}
		if !held {
			s.log().Warn("webhooks: an attempt finished after its claim was swept; its outcome is not recorded",
				"workspace", c.ws, "delivery", c.delivery.ID, "attempt", a.Attempt, "outcome", a.Outcome)
			return nil
		}
		if f.NextAt != nil {
			return enqueue(ctx, q, DrainArgs{Workspace: c.ws, Endpoint: c.endpoint.ID}, *f.NextAt)
		}
		return nil
	})
}

// ---- the test event ------------------------------------------------------------------

// TestResult is what a test event's call did.
type TestResult struct {
	DeliveryID int64                `json:"delivery_id"`
	EventID    string               `json:"event_id"`
	Attempt    store.WebhookAttempt `json:"attempt"`
}

// SendTest sends a webhook.test event to endpoint id now, with the same
// client, signing and log as any delivery, and waits for the answer. It is
// not retried, and it is sent to a disabled endpoint too (to check it before
// enabling it again).
func (s *Service) SendTest(ctx context.Context, ws, id int64) (TestResult, error) {
	var c *claim
	now := s.now()
	err := s.St.InTx(ctx, func(q store.Q) error {
		ep, err := q.GetWebhookEndpoint(ctx, ws, id, true)
		if err != nil {
			return err
		}
		payload, err := MarshalEnvelope(TestEvent, now, map[string]any{
			"endpoint_id": id, "message": "This is a test event from Rightsize. Check its webhook-signature with the endpoint's secret.",
		})
		if err != nil {
			return err
		}
		ev := store.WebhookEvent{MsgID: NewMsgID(), Type: TestEvent, Payload: payload, CreatedAt: now}
		if err := q.InsertWebhookEvent(ctx, ws, &ev); err != nil {
			return err
		}
		token := newToken()
		ids, err := q.InsertWebhookDeliveries(ctx, ws, ev.ID, []store.NewWebhookDelivery{{EndpointID: id, State: store.WebhookSending, Trigger: "test",
			Token: token, Attempts: 1, NextAt: now, GiveUpAt: now}}, now)
		if err != nil {
			return err
		}
		d, err := q.GetWebhookDelivery(ctx, ws, ids[0], false)
		if err != nil {
			return err
		}
		c = &claim{ws: ws, endpoint: ep, delivery: d, payload: payload, token: token}
		return nil
	})
	if err != nil {
		return TestResult{}, err
	}
	a := s.send(ctx, c)
	// A test never disables the endpoint: a 410 is reported, not acted on.
	rec := a
	if rec.Outcome == "gone" {
		rec.Outcome, rec.Error = "failed", "HTTP 410 (a test does not disable the endpoint; a delivery would)"
	}
	if err := s.finish(ctx, c, rec); err != nil {
		return TestResult{}, err
	}
	return TestResult{DeliveryID: c.delivery.ID, EventID: c.delivery.MsgID, Attempt: rec}, nil
}

// MarshalEnvelope encodes an event's payload.
func MarshalEnvelope(eventType string, at time.Time, data any) ([]byte, error) {
	return json.Marshal(Envelope{Type: eventType, Timestamp: at, Data: data})
}

// ---- the sweep -----------------------------------------------------------------------

// SweepStats counts what a sweep did.
type SweepStats struct {
	Unknown, Kicked int
	Pruned          int64
}

// Retention is how long finished deliveries and their log are kept.
const Retention = 30 * 24 * time.Hour

// Sweep repairs what a crash leaves: a claim older than the call timeout plus
// StaleGrace belongs to a worker that died mid-call, so its attempt is logged
// as unknown (the receiver may or may not have it) and the delivery goes on
// with its schedule; endpoints whose deliveries are overdue get a drain. It
// also prunes deliveries finished more than Retention ago.
func (s *Service) Sweep(ctx context.Context) (SweepStats, error) {
	var st SweepStats
	now := s.now()
	timeout := safehttp.DefaultTimeout
	if s.HTTP != nil && s.HTTP.Timeout > 0 {
		timeout = s.HTTP.Timeout
	}
	n, err := s.RecoverClaims(ctx, now.Add(-timeout-StaleGrace))
	st.Unknown = n
	if err != nil {
		return st, err
	}
	paused, err := s.St.Read().AdminSendingPaused(ctx)
	if err != nil {
		return st, err
	}
	if !paused {
		n, err := s.KickOverdue(ctx, now.Add(-30*time.Second))
		if err != nil {
			return st, err
		}
		st.Kicked = n
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		st.Pruned, err = q.AdminPruneWebhooks(ctx, now.Add(-Retention))
		return err
	})
	return st, err
}

// RecoverClaims logs the attempts of deliveries claimed before cutoff as
// unknown (their worker died mid-call: the receiver may or may not have the
// event) and schedules the next attempt at once, with the same webhook-id
// (the failure was ours, not the receiver's, so no backoff). The sweep calls
// it with the call timeout plus StaleGrace ago; a SQLite serve process at
// start with now (it is the only process). It returns how many.
func (s *Service) RecoverClaims(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	for {
		before := n
		stale, err := s.St.Read().AdminStaleWebhookClaims(ctx, cutoff, 500)
		if err != nil || len(stale) == 0 {
			return n, err
		}
		for _, r := range stale {
			d, err := s.St.Read().GetWebhookDelivery(ctx, r.Workspace, r.ID, false)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, err
			}
			c := &claim{ws: r.Workspace, endpoint: store.WebhookEndpoint{ID: r.Endpoint}, delivery: d, token: r.Token}
			a := store.WebhookAttempt{Attempt: r.Attempts, Trigger: d.Trigger, StartedAt: r.ClaimedAt, Outcome: "unknown",
				Error: "the process ended during this attempt; the receiver may or may not have received it (it is sent again; dedupe on webhook-id)"}
			if a.Trigger == "" {
				a.Trigger = "auto"
			}
			if err := s.finish(ctx, c, a); err != nil {
				return n, err
			}
			n++
		}
		if len(stale) < 500 || n == before {
			return n, nil
		}
	}
}

// KickOverdue enqueues a drain for every endpoint with a delivery due before
// cutoff and returns how many (after a restore is confirmed, with cutoff now).
func (s *Service) KickOverdue(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		n, err = s.KickOverdueIn(ctx, q, cutoff)
		return err
	})
	return n, err
}

// KickOverdueIn is KickOverdue inside the caller's write transaction.
func (s *Service) KickOverdueIn(ctx context.Context, q store.Q, cutoff time.Time) (int, error) {
	refs, err := q.AdminOverdueWebhooks(ctx, cutoff, 1000)
	if err != nil {
		return 0, err
	}
	for _, r := range refs {
		if err := enqueue(ctx, q, DrainArgs{Workspace: r.Workspace, Endpoint: r.Endpoint}, time.Time{}); err != nil {
			return 0, err
		}
	}
	return len(refs), nil
}

// SweepArgs is the periodic sweep job.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "webhook_sweep" }

// SweepWorker runs the sweep.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Svc *Service
}

// Work sweeps.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	st, err := w.Svc.Sweep(ctx)
	if st.Unknown > 0 {
		w.Svc.log().Warn("webhooks: stale claims found; their attempts are logged as unknown and retried", "count", st.Unknown)
	}
	return err
}

// SweepPeriodicJob runs the sweep every interval on the elected leader.
func SweepPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "webhook_sweep"})
}
