package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Outgoing webhooks (migration 00019, docs/webhooks.md): endpoints, the event
// outbox, one delivery per (event, endpoint) and the attempt log. The state
// machine lives in internal/webhooks; these methods only read and write rows.

// Delivery states.
const (
	WebhookPending   = "pending"   // waiting for its first attempt
	WebhookSending   = "sending"   // claimed: an HTTP call is (or was) in flight
	WebhookRetrying  = "retrying"  // an attempt failed; the next is due at next_attempt_at
	WebhookSucceeded = "succeeded" // a 2xx answered
	WebhookFailed    = "failed"    // given up (retry window over, 410, endpoint disabled)
)

// WebhookEndpoint is a URL a workspace sends events to. SecretEnc is the
// sealed signing secret; it never leaves the server.
type WebhookEndpoint struct {
	ID             int64
	URL            string
	Description    string
	EventTypes     []string // empty: every event
	Enabled        bool
	SecretEnc      string
	DisabledReason string
	DisabledAt     *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Wants reports whether the endpoint takes events of type t.
func (e *WebhookEndpoint) Wants(t string) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, x := range e.EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

const webhookEndpointCols = `id, url, description, event_types, enabled, secret_enc, disabled_reason, disabled_at, created_by, created_at, updated_at`

func scanWebhookEndpoint(r rowScanner) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	var types string
	var dis, cr, up dbTime
	err := r.Scan(&e.ID, &e.URL, &e.Description, &types, &e.Enabled, &e.SecretEnc, &e.DisabledReason, &dis, &e.CreatedBy, &cr, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("store: webhook endpoint: %w", err)
	}
	_ = json.Unmarshal([]byte(types), &e.EventTypes) // written only by encodeTypes
	if e.EventTypes == nil {
		e.EventTypes = []string{}
	}
	e.DisabledAt, e.CreatedAt, e.UpdatedAt = dis.ptr(), cr.T, up.T
	return e, nil
}

func encodeTypes(ts []string) string {
	if len(ts) == 0 {
		return "[]"
	}
	return encodeJSON(ts)
}

// CreateWebhookEndpoint inserts e into ws.
func (q Q) CreateWebhookEndpoint(ctx context.Context, ws int64, e *WebhookEndpoint) error {
	now := Now()
	e.CreatedAt, e.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (workspace_id, url, description, event_types, enabled, secret_enc, disabled_reason, disabled_at, created_by, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id`,
		ws, e.URL, e.Description, encodeTypes(e.EventTypes), e.Enabled, e.SecretEnc, e.DisabledReason, nullTime(e.DisabledAt), e.CreatedBy, now).Scan(&e.ID)
	if err != nil {
		return wrapWrite("create webhook endpoint", err)
	}
	return nil
}

// GetWebhookEndpoint loads endpoint id of ws; lock (PostgreSQL) holds the row
// until the transaction ends, which serialises claims against one endpoint.
// The lock is FOR NO KEY UPDATE: it does not wait for transactions that only
// inserted deliveries referring to the endpoint (their foreign-key check
// holds KEY SHARE), so a long import that emits does not stall drains.
func (q Q) GetWebhookEndpoint(ctx context.Context, ws, id int64, lock bool) (WebhookEndpoint, error) {
	suffix := ""
	if lock && q.kind == Postgres {
		suffix = " FOR NO KEY UPDATE"
	}
	return scanWebhookEndpoint(q.db.QueryRowContext(ctx, `SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE workspace_id=$1 AND id=$2`+suffix, ws, id))
}

// WebhookEndpoints lists ws's endpoints by id; onlyEnabled narrows to those
// that receive events.
func (q Q) WebhookEndpoints(ctx context.Context, ws int64, onlyEnabled bool) ([]WebhookEndpoint, error) {
	where := ""
	if onlyEnabled {
		where = " AND enabled"
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+webhookEndpointCols+` FROM webhook_endpoints WHERE workspace_id=$1`+where+` ORDER BY id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", err)
	}
	defer rows.Close()
	out := []WebhookEndpoint{}
	for rows.Next() {
		e, err := scanWebhookEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// UpdateWebhookEndpoint writes e's settings (not its secret).
func (q Q) UpdateWebhookEndpoint(ctx context.Context, ws int64, e *WebhookEndpoint) error {
	e.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE webhook_endpoints SET url=$3, description=$4, event_types=$5, enabled=$6, disabled_reason=$7, disabled_at=$8, updated_at=$9
		WHERE workspace_id=$1 AND id=$2`, ws, e.ID, e.URL, e.Description, encodeTypes(e.EventTypes), e.Enabled, e.DisabledReason, nullTime(e.DisabledAt), e.UpdatedAt)
	return affected(res, err, "update webhook endpoint")
}

// DisableWebhookEndpoint stops deliveries to endpoint id (a 410 Gone answer).
func (q Q) DisableWebhookEndpoint(ctx context.Context, ws, id int64, reason string, at time.Time) error {
	res, err := q.db.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled=FALSE, disabled_reason=$3, disabled_at=$4, updated_at=$4 WHERE workspace_id=$1 AND id=$2`, ws, id, reason, at.UTC())
	return affected(res, err, "disable webhook endpoint")
}

// DeleteWebhookEndpoint removes endpoint id and, by cascade, its deliveries
// and their log.
func (q Q) DeleteWebhookEndpoint(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete webhook endpoint")
}

// WebhookEvent is one emitted event: its public id (the webhook-id header),
// type and the exact payload bytes every delivery sends.
type WebhookEvent struct {
	ID        int64
	MsgID     string
	Type      string
	Payload   []byte
	CreatedAt time.Time
}

// InsertWebhookEvent writes ev to ws's outbox.
func (q Q) InsertWebhookEvent(ctx context.Context, ws int64, ev *WebhookEvent) error {
	err := q.db.QueryRowContext(ctx, `INSERT INTO webhook_events (workspace_id, msg_id, type, payload, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		ws, ev.MsgID, ev.Type, string(ev.Payload), ev.CreatedAt.UTC()).Scan(&ev.ID)
	if err != nil {
		return wrapWrite("insert webhook event", err)
	}
	return nil
}

// NewWebhookDelivery is a delivery to create: state is pending (an emitted
// event) or sending (a test sent at once by its creator, claimed with token).
type NewWebhookDelivery struct {
	EndpointID int64
	State      string
	Trigger    string
	Token      string
	Attempts   int
	NextAt     time.Time
	GiveUpAt   time.Time
}

// InsertWebhookDeliveries creates one delivery of event eventID per entry and
// returns their ids in order.
func (q Q) InsertWebhookDeliveries(ctx context.Context, ws, eventID int64, ds []NewWebhookDelivery, now time.Time) ([]int64, error) {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		var claimed any
		if d.State == WebhookSending {
			claimed = now.UTC()
		}
		err := q.db.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (workspace_id, endpoint_id, event_id, state, trigger_kind, attempts, next_attempt_at, give_up_at, claim_token, claimed_at, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING id`,
			ws, d.EndpointID, eventID, d.State, d.Trigger, d.Attempts, d.NextAt.UTC(), d.GiveUpAt.UTC(), d.Token, claimed, now.UTC()).Scan(&ids[i])
		if err != nil {
			return nil, wrapWrite("insert webhook delivery", err)
		}
	}
	return ids, nil
}

// WebhookDelivery is one (event, endpoint) delivery with its event's type
// and id.
type WebhookDelivery struct {
	ID            int64      `json:"id"`
	EndpointID    int64      `json:"endpoint_id"`
	EventID       int64      `json:"-"`
	MsgID         string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	State         string     `json:"state"`
	Trigger       string     `json:"-"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	GiveUpAt      time.Time  `json:"give_up_at"`
	ClaimToken    string     `json:"-"`
	ClaimedAt     *time.Time `json:"-"`
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	// Log is the delivery's attempts, oldest first (lists fill it).
	Log []WebhookAttempt `json:"log"`
}

const webhookDeliveryCols = `d.id, d.endpoint_id, d.event_id, ev.msg_id, ev.type, d.state, d.trigger_kind, d.attempts, d.next_attempt_at, d.give_up_at, d.claim_token, d.claimed_at, d.last_status, d.last_error, d.created_at, d.updated_at, d.finished_at`

func scanWebhookDelivery(r rowScanner) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, give, cl, cr, up, fin dbTime
	err := r.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.MsgID, &d.EventType, &d.State, &d.Trigger, &d.Attempts, &next, &give, &d.ClaimToken, &cl, &d.LastStatus, &d.LastError, &cr, &up, &fin)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: webhook delivery: %w", err)
	}
	d.GiveUpAt, d.ClaimedAt, d.CreatedAt, d.UpdatedAt, d.FinishedAt = give.T, cl.ptr(), cr.T, up.T, fin.ptr()
	if d.State == WebhookPending || d.State == WebhookRetrying {
		d.NextAttemptAt = next.ptr()
	}
	d.Log = []WebhookAttempt{}
	return d, nil
}

// GetWebhookDelivery loads delivery id of ws; lock (PostgreSQL) holds it.
func (q Q) GetWebhookDelivery(ctx context.Context, ws, id int64, lock bool) (WebhookDelivery, error) {
	suffix := ""
	if lock && q.kind == Postgres {
		suffix = " FOR UPDATE OF d"
	}
	return scanWebhookDelivery(q.db.QueryRowContext(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries d JOIN webhook_events ev ON ev.id=d.event_id
		WHERE d.workspace_id=$1 AND d.id=$2`+suffix, ws, id))
}

// WebhookDeliveries lists the newest deliveries of endpoint endpointID of ws
// (ErrNotFound when the endpoint is not ws's), each with its attempt log.
func (q Q) WebhookDeliveries(ctx context.Context, ws, endpointID int64, limit int) ([]WebhookDelivery, error) {
	if _, err := q.GetWebhookEndpoint(ctx, ws, endpointID, false); err != nil {
		return nil, err
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries d JOIN webhook_events ev ON ev.id=d.event_id
		WHERE d.workspace_id=$1 AND d.endpoint_id=$2 ORDER BY d.id DESC LIMIT $3`, ws, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	out := []WebhookDelivery{}
	idx := map[int64]int{}
	for rows.Next() {
		d, err := scanWebhookDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		idx[d.ID] = len(out)
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	last := out[0].ID
	first := out[len(out)-1].ID
	arows, err := q.db.QueryContext(ctx, `SELECT `+webhookAttemptCols+` FROM webhook_attempts a JOIN webhook_deliveries d ON d.id=a.delivery_id
		WHERE a.workspace_id=$1 AND d.endpoint_id=$2 AND a.delivery_id BETWEEN $3 AND $4 ORDER BY a.id`, ws, endpointID, first, last)
	if err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		a, err := scanWebhookAttempt(arows)
		if err != nil {
			return nil, err
		}
		if i, ok := idx[a.DeliveryID]; ok {
			out[i].Log = append(out[i].Log, a)
		}
	}
	return out, arows.Err()
}

// WebhookDeliveryLog returns the attempts of delivery id of ws, oldest first.
func (q Q) WebhookDeliveryLog(ctx context.Context, ws, id int64) ([]WebhookAttempt, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+webhookAttemptCols+` FROM webhook_attempts a WHERE a.workspace_id=$1 AND a.delivery_id=$2 ORDER BY a.id`, ws, id)
	if err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []WebhookAttempt{}
	for rows.Next() {
		a, err := scanWebhookAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// WebhookEventPayload loads the payload of event eventID of ws.
func (q Q) WebhookEventPayload(ctx context.Context, ws, eventID int64) ([]byte, error) {
	var p string
	err := q.db.QueryRowContext(ctx, `SELECT payload FROM webhook_events WHERE workspace_id=$1 AND id=$2`, ws, eventID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: webhook event: %w", err)
	}
	return []byte(p), nil
}

// WebhookInFlight counts endpoint endpointID's deliveries in the sending state.
func (q Q) WebhookInFlight(ctx context.Context, ws, endpointID int64) (int, error) {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id=$2 AND state='sending' AND workspace_id=$1`, ws, endpointID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: webhook in flight: %w", err)
	}
	return n, nil
}

// ClaimNextWebhook claims the next due delivery (pending or retrying, due at
// or before now, oldest due first) of endpoint endpointID under token: it is
// moved to sending and its attempt counted. It returns the delivery as
// claimed, or ErrNotFound when none is due. The caller holds the endpoint's
// lock (GetWebhookEndpoint with lock), which serialises claims per endpoint.
func (q Q) ClaimNextWebhook(ctx context.Context, ws, endpointID int64, token string, now time.Time) (WebhookDelivery, error) {
	var id int64
	err := q.db.QueryRowContext(ctx, `SELECT id FROM webhook_deliveries WHERE endpoint_id=$2 AND state IN ('pending','retrying') AND next_attempt_at <= $3 AND workspace_id=$1
		ORDER BY next_attempt_at, id LIMIT 1`, ws, endpointID, now.UTC()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return WebhookDelivery{}, ErrNotFound
	}
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("store: next webhook delivery: %w", err)
	}
	_, err = q.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state='sending', attempts=attempts+1, claim_token=$3, claimed_at=$4, updated_at=$4
		WHERE workspace_id=$1 AND id=$2`, ws, id, token, now.UTC())
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("store: claim webhook delivery: %w", err)
	}
	return q.GetWebhookDelivery(ctx, ws, id, false)
}

// FailPendingWebhooks ends every pending or retrying delivery of endpoint
// endpointID without an attempt (the endpoint was disabled) and returns how
// many.
func (q Q) FailPendingWebhooks(ctx context.Context, ws, endpointID int64, why string, now time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state='failed', last_error=$3, finished_at=$4, updated_at=$4
		WHERE workspace_id=$1 AND endpoint_id=$2 AND state IN ('pending','retrying')`, ws, endpointID, why, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: fail webhook deliveries: %w", err)
	}
	return res.RowsAffected()
}

// NextWebhookDue is the earliest due time of endpoint endpointID's pending or
// retrying deliveries; ErrNotFound when there is none.
func (q Q) NextWebhookDue(ctx context.Context, ws, endpointID int64) (time.Time, error) {
	var t dbTime
	err := q.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE endpoint_id=$2 AND state IN ('pending','retrying') AND workspace_id=$1`, ws, endpointID).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: next webhook due: %w", err)
	}
	if !t.Valid {
		return time.Time{}, ErrNotFound
	}
	return t.T, nil
}

// WebhookAttempt is one HTTP attempt of a delivery, as the delivery log shows
// it. Outcome is succeeded, failed, gone (410), blocked (the address was
// refused), error (no HTTP answer) or unknown (the process ended mid-call).
type WebhookAttempt struct {
	ID         int64     `json:"-"`
	DeliveryID int64     `json:"-"`
	Attempt    int       `json:"attempt"`
	Trigger    string    `json:"trigger"`
	StartedAt  time.Time `json:"started_at"`
	LatencyMS  int64     `json:"latency_ms"`
	StatusCode int       `json:"status_code"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error,omitempty"`
	Excerpt    string    `json:"response_excerpt"`
}

const webhookAttemptCols = `a.id, a.delivery_id, a.attempt, a.trigger_kind, a.started_at, a.latency_ms, a.status_code, a.outcome, a.error, a.response_excerpt`

func scanWebhookAttempt(r rowScanner) (WebhookAttempt, error) {
	var a WebhookAttempt
	var st dbTime
	if err := r.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &a.Trigger, &st, &a.LatencyMS, &a.StatusCode, &a.Outcome, &a.Error, &a.Excerpt); err != nil {
		return a, fmt.Errorf("store: webhook attempt: %w", err)
	}
	a.StartedAt = st.T
	return a, nil
}

// WebhookFinish is how an attempt ended and what the delivery becomes.
type WebhookFinish struct {
	Attempt WebhookAttempt
	State   string     // retrying, succeeded or failed
	NextAt  *time.Time // retrying: when
}

// FinishWebhookDelivery records attempt f of delivery id, claimed under
// token, and moves the delivery to f.State. It reports false, writing
// nothing, when the claim is no longer held (the stale-claim sweep took it).
func (q Q) FinishWebhookDelivery(ctx context.Context, ws, id int64, token string, f WebhookFinish, now time.Time) (bool, error) {
	var next any
	if f.NextAt != nil {
		next = f.NextAt.UTC()
	}
	var fin any
	if f.State == WebhookSucceeded || f.State == WebhookFailed {
		fin = now.UTC()
	}
	a := f.Attempt
	lastErr := a.Error
	if lastErr == "" && a.Outcome != "succeeded" {
		lastErr = a.Outcome
	}
	res, err := q.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state=$4, next_attempt_at=COALESCE($5, next_attempt_at), last_status=$6, last_error=$7,
		claim_token='', trigger_kind='auto', finished_at=$8, updated_at=$9
		WHERE workspace_id=$1 AND id=$2 AND state='sending' AND claim_token=$3`,
		ws, id, token, f.State, next, a.StatusCode, lastErr, fin, now.UTC())
	if err != nil {
		return false, fmt.Errorf("store: finish webhook delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO webhook_attempts (workspace_id, delivery_id, attempt, trigger_kind, started_at, latency_ms, status_code, outcome, error, response_excerpt)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, ws, id, a.Attempt, a.Trigger, a.StartedAt.UTC(), a.LatencyMS, a.StatusCode, a.Outcome, a.Error, a.Excerpt)
	if err != nil {
		return false, fmt.Errorf("store: webhook attempt: %w", err)
	}
	return true, nil
}

// RedeliverWebhook makes delivery id of endpoint endpointID due now for one
// manual attempt: pending again, retry window at least until now. A delivery
// being sent is a conflict; a foreign or missing one is ErrNotFound.
func (q Q) RedeliverWebhook(ctx context.Context, ws, endpointID, id int64, now time.Time) error {
	res, err := q.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state='pending', trigger_kind='manual', next_attempt_at=$4,
		give_up_at=CASE WHEN give_up_at < $4 THEN $4 ELSE give_up_at END, finished_at=NULL, updated_at=$4
		WHERE workspace_id=$1 AND endpoint_id=$2 AND id=$3 AND state <> 'sending'`, ws, endpointID, id, now.UTC())
	if err != nil {
		return fmt.Errorf("store: redeliver webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	d, err := q.GetWebhookDelivery(ctx, ws, id, false)
	if err != nil {
		return err
	}
	if d.EndpointID != endpointID {
		return ErrNotFound
	}
	return &ConflictError{Field: "state"}
}

// WebhookRef names one delivery across workspaces (for the sweep).
type WebhookRef struct {
	Workspace int64
	ID        int64
	Endpoint  int64
	Token     string
	Attempts  int
	ClaimedAt time.Time
}

// AdminStaleWebhookClaims lists deliveries of every workspace left in sending
// since before cutoff: their worker ended (or hung) mid-call.
func (q Q) AdminStaleWebhookClaims(ctx context.Context, cutoff time.Time, limit int) ([]WebhookRef, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT workspace_id, id, endpoint_id, claim_token, attempts, claimed_at FROM webhook_deliveries
		WHERE state='sending' AND claimed_at < $1 ORDER BY claimed_at LIMIT $2`, cutoff.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: stale webhook claims: %w", err)
	}
	defer rows.Close()
	var out []WebhookRef
	for rows.Next() {
		var r WebhookRef
		var cl dbTime
		if err := rows.Scan(&r.Workspace, &r.ID, &r.Endpoint, &r.Token, &r.Attempts, &cl); err != nil {
			return nil, fmt.Errorf("store: stale webhook claims: %w", err)
		}
		r.ClaimedAt = cl.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// AdminOverdueWebhooks lists the endpoints (of every workspace) with a
// pending or retrying delivery due before cutoff: a drain should have sent it
// by now (a lost job, sending paused meanwhile). Endpoint is set, ID is not.
func (q Q) AdminOverdueWebhooks(ctx context.Context, cutoff time.Time, limit int) ([]WebhookRef, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT DISTINCT workspace_id, endpoint_id FROM webhook_deliveries
		WHERE state IN ('pending','retrying') AND next_attempt_at < $1 ORDER BY workspace_id, endpoint_id LIMIT $2`, cutoff.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: overdue webhooks: %w", err)
	}
	defer rows.Close()
	var out []WebhookRef
	for rows.Next() {
		var r WebhookRef
		if err := rows.Scan(&r.Workspace, &r.Endpoint); err != nil {
			return nil, fmt.Errorf("store: overdue webhooks: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AdminPruneWebhooks deletes deliveries of every workspace finished before
// cutoff (their log goes with them) and events older than cutoff that no
// delivery refers to any more. It returns the deliveries deleted.
func (q Q) AdminPruneWebhooks(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE finished_at IS NOT NULL AND finished_at < $1`, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := q.db.ExecContext(ctx, `DELETE FROM webhook_events WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id=webhook_events.id)`, cutoff.UTC()); err != nil {
		return n, fmt.Errorf("store: prune webhook events: %w", err)
	}
	return n, nil
}
