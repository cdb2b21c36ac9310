package webhooks

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/rightsize/rightsize/internal/store"
)

// RetryWindow is how long a delivery is retried after its event.
const RetryWindow = 72 * time.Hour

// Envelope is the JSON body every delivery of an event sends.
type Envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Emit records an event of eventType for workspace ws in the caller's write
// transaction q, to every enabled endpoint of ws whose filter takes it, and
// enqueues their delivery in the same transaction: the event goes out if and
// only if the change it reports commits. data is marshalled as the payload's
// "data" member. Emitting with no endpoint interested writes nothing.
//
// Adding an event type is this one call (plus Register, to let admins pick it
// in a filter): webhooks.Emit(ctx, q, ws, "guardrail.alert", alert).
func Emit(ctx context.Context, q store.Q, ws int64, eventType string, data any) error {
	if !ValidType(eventType) {
		return fmt.Errorf("webhooks: emit: bad event type %q", eventType)
	}
	if q.Tx() == nil {
		return errors.New("webhooks: emit needs the caller's write transaction")
	}
	c, err := txCache(ctx, q, ws)
	if err != nil {
		return err
	}
	var targets []int64
	for i := range c.endpoints {
		if c.endpoints[i].Wants(eventType) {
			targets = append(targets, c.endpoints[i].ID)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	now := store.Now()
	payload, err := MarshalEnvelope(eventType, now, data)
	if err != nil {
		return fmt.Errorf("webhooks: emit %s: %w", eventType, err)
	}
	ev := store.WebhookEvent{MsgID: NewMsgID(), Type: eventType, Payload: payload, CreatedAt: now}
	if err := q.InsertWebhookEvent(ctx, ws, &ev); err != nil {
		return err
	}
	ds := make([]store.NewWebhookDelivery, len(targets))
	for i, id := range targets {
		ds[i] = store.NewWebhookDelivery{EndpointID: id, State: store.WebhookPending, Trigger: "auto", NextAt: now, GiveUpAt: now.Add(RetryWindow)}
	}
	if _, err := q.InsertWebhookDeliveries(ctx, ws, ev.ID, ds, now); err != nil {
		return err
	}
	// One drain per endpoint per transaction: an import that emits ten
	// thousand events starts one drain, which sends them all.
	for _, id := range targets {
		if c.kicked[id] {
			continue
		}
		if err := enqueue(ctx, q, DrainArgs{Workspace: ws, Endpoint: id}, time.Time{}); err != nil {
			return err
		}
		c.kicked[id] = true
	}
	return nil
}

// NewMsgID returns a message id for the webhook-id header.
func NewMsgID() string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic("webhooks: crypto/rand: " + err.Error())
	}
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ---- per-transaction endpoint cache ------------------------------------------------

// emitCache holds, for one write transaction and workspace, the enabled
// endpoints (read once, however many events the transaction emits) and the
// endpoints whose drain it already enqueued. Keying by *sql.Tx is safe: the
// entry keeps the pointer alive, so a later transaction cannot reuse its
// address (as in internal/routing).
type emitCache struct {
	tx        *sql.Tx
	ws        int64
	endpoints []store.WebhookEndpoint
	kicked    map[int64]bool
}

var (
	cacheMu   sync.Mutex
	cacheRing [16]*emitCache
	cacheNext int
)

func txCache(ctx context.Context, q store.Q, ws int64) (*emitCache, error) {
	tx := q.Tx()
	cacheMu.Lock()
	for _, c := range cacheRing {
		if c != nil && c.tx == tx && c.ws == ws {
			cacheMu.Unlock()
			return c, nil
		}
	}
	cacheMu.Unlock()
	eps, err := q.WebhookEndpoints(ctx, ws, true)
	if err != nil {
		return nil, err
	}
	c := &emitCache{tx: tx, ws: ws, endpoints: eps, kicked: map[int64]bool{}}
	cacheMu.Lock()
	cacheRing[cacheNext] = c
	cacheNext = (cacheNext + 1) % len(cacheRing)
	cacheMu.Unlock()
	return c, nil
}

// forget drops the cached endpoints of q's transaction (they changed in it).
func forget(q store.Q) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	for i, c := range cacheRing {
		if c != nil && c.tx == q.Tx() {
			cacheRing[i] = nil
		}
	}
}

// ---- enqueueing --------------------------------------------------------------------

// Emit runs inside other services' transactions, which do not carry the app's
// River client; an insert-only client per dialect (no pool: it only inserts
// through the transaction it is handed) writes the job rows.
var (
	insertersMu sync.Mutex
	inserters   = map[store.Kind]*river.Client[*sql.Tx]{}
)

func inserter(kind store.Kind) (*river.Client[*sql.Tx], error) {
	insertersMu.Lock()
	defer insertersMu.Unlock()
	if c, ok := inserters[kind]; ok {
		return c, nil
	}
	var c *river.Client[*sql.Tx]
	var err error
	if kind == store.Postgres {
		c, err = river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	} else {
		c, err = river.NewClient(riversqlite.New(nil), &river.Config{})
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: river inserter: %w", err)
	}
	inserters[kind] = c
	return c, nil
}

// enqueue inserts a drain job in q's transaction, to run at at (zero: now).
func enqueue(ctx context.Context, q store.Q, args DrainArgs, at time.Time) error {
	c, err := inserter(q.Kind())
	if err != nil {
		return err
	}
	var opts *river.InsertOpts
	if !at.IsZero() {
		opts = &river.InsertOpts{ScheduledAt: at}
	}
	if _, err := c.InsertTx(ctx, q.Tx(), args, opts); err != nil {
		return fmt.Errorf("webhooks: enqueue drain: %w", err)
	}
	return nil
}
