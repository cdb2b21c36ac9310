// Package webhooks sends a workspace's events to the URLs it registered,
// following the Standard Webhooks spec (webhook-id, webhook-timestamp,
// webhook-signature). Events are written to an outbox in the transaction of
// the change they report (Emit); River drain jobs deliver them with the
// SSRF-safe client (internal/safehttp), retry with exponential backoff and
// jitter for up to three days, hold at most MaxInFlight calls per endpoint
// (counted in the database, so across processes), disable an endpoint that
// answers 410 Gone and log every attempt. Delivery is at least once: a claim
// commits before each HTTP call, so our side never makes the same attempt
// twice, but a crash during a call leaves its outcome unknown and the next
// attempt repeats the event; receivers dedupe on webhook-id. See
// docs/webhooks.md.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/store"
)

// Event types emitted by Rightsize. Other packages add theirs with Register.
const (
	ContactCreated          = "contact.created"
	ContactUpdated          = "contact.updated"
	ContactLifecycleChanged = "contact.lifecycle_changed"
	ContactUnsubscribed     = "contact.unsubscribed"
	DealCreated             = "deal.created"
	DealUpdated             = "deal.updated"
	DealStageChanged        = "deal.stage_changed"
	DealWon                 = "deal.won"
	AccountRouted           = "account.routed"
	SequenceExited          = "sequence.exited"
	// TestEvent is sent only by the "send test event" button and API, to
	// one endpoint, whatever its filter.
	TestEvent = "webhook.test"
)

// EventType is an entry of the catalogue an admin picks filters from.
type EventType struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

var (
	catalogMu sync.RWMutex
	catalog   = map[string]string{
		ContactCreated:          "A contact was created (API, UI, form).",
		ContactUpdated:          "A contact's fields were changed through the API, the UI or a form.",
		ContactLifecycleChanged: "A contact moved to another lifecycle stage (data.from, data.to), by hand, by scoring, by the LDR desk or by automation.",
		ContactUnsubscribed:     "An address unsubscribed or complained; it is never mailed again.",
		DealCreated:             "A deal was created.",
		DealUpdated:             "A deal's fields were changed.",
		DealStageChanged:        "A deal moved to another stage or pipeline (data.from, data.to).",
		DealWon:                 "A deal became won.",
		AccountRouted:           "An account was routed or re-routed: its segment or motion was decided (data.decision says by which rule and why).",
		SequenceExited:          "A contact's nurture sequence enrollment ended early (reply, unsubscribe, bounce, raised hand, customer, manual).",
	}
)

// Register adds an event type to the catalogue admins pick endpoint filters
// from. Emit works for any well-formed type; an unregistered one reaches only
// endpoints that take every event. Call it from an init function.
func Register(name, description string) {
	if !ValidType(name) {
		panic("webhooks: bad event type name " + name)
	}
	catalogMu.Lock()
	defer catalogMu.Unlock()
	catalog[name] = description
}

// Types lists the catalogue by name.
func Types() []EventType {
	catalogMu.RLock()
	defer catalogMu.RUnlock()
	out := make([]EventType, 0, len(catalog))
	for n, d := range catalog {
		out = append(out, EventType{Name: n, Description: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func known(name string) bool {
	catalogMu.RLock()
	defer catalogMu.RUnlock()
	_, ok := catalog[name]
	return ok
}

// ValidType reports whether s is a well-formed event type name: two or more
// lower-case words (a-z first, then a-z, 0-9, _) joined by dots.
func ValidType(s string) bool {
	if len(s) == 0 || len(s) > 100 || !strings.Contains(s, ".") {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || part[0] < 'a' || part[0] > 'z' {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Service manages endpoints and delivers events.
type Service struct {
	St *store.Store
	// HTTP sends every request (deliveries and tests).
	HTTP *safehttp.Client
	// Key derives the key that seals signing secrets: the install's mail
	// secret (mail.Service.Secret).
	Key []byte
	// MaxInFlight is how many calls to one endpoint may run at once across
	// every process (default DefaultMaxInFlight).
	MaxInFlight int
	Log         *slog.Logger
	// Now is the clock (tests move it); nil is store.Now.
	Now func() time.Time
}

// DefaultMaxInFlight is the per-endpoint concurrency limit.
const DefaultMaxInFlight = 4

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

func (s *Service) maxInFlight() int {
	if s.MaxInFlight > 0 {
		return s.MaxInFlight
	}
	return DefaultMaxInFlight
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Endpoint is an endpoint as the API and UI show it. Secret is set only in
// the answer to its creation.
type Endpoint struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	EventTypes     []string   `json:"event_types"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Secret         string     `json:"secret,omitempty"`
}

func view(e store.WebhookEndpoint) Endpoint {
	return Endpoint{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, DisabledAt: e.DisabledAt, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// Input is a create or a partial update: absent fields stay.
type Input struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
}

func fe(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// apply validates in onto e.
func (s *Service) apply(e *store.WebhookEndpoint, in Input) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if _, err := s.HTTP.CheckURL(u); err != nil {
			return fe("url", "%s", err.Error())
		}
		e.URL = u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 500 {
			return fe("description", "is longer than 500 characters")
		}
		e.Description = d
	}
	if in.EventTypes != nil {
		ts := []string{}
		for i, t := range *in.EventTypes {
			t = strings.TrimSpace(t)
			switch {
			case !known(t):
				return fe(fmt.Sprintf("event_types[%d]", i), "%q is not an event type (see docs/webhooks.md; empty list: every event)", t)
			case slices.Contains(ts, t):
				return fe(fmt.Sprintf("event_types[%d]", i), "%q is listed twice", t)
			}
			ts = append(ts, t)
		}
		sort.Strings(ts)
		e.EventTypes = ts
	}
	if in.Enabled != nil {
		if *in.Enabled && !e.Enabled {
			e.DisabledReason, e.DisabledAt = "", nil
		}
		if !*in.Enabled && e.Enabled {
			now := store.Now()
			e.DisabledReason, e.DisabledAt = "disabled by an admin", &now
		}
		e.Enabled = *in.Enabled
	}
	if e.URL == "" {
		return fe("url", "is required")
	}
	return nil
}

func audit(ctx context.Context, q store.Q, act model.Actor, action string, id int64, detail any) error {
	raw, _ := json.Marshal(detail)
	ws := act.Workspace
	return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: action, TargetType: "webhook_endpoint", TargetID: &id, Detail: raw, IP: act.IP})
}

// Create adds an endpoint; the answer carries its signing secret, the only
// time it is shown.
func (s *Service) Create(ctx context.Context, act model.Actor, in Input) (Endpoint, error) {
	e := store.WebhookEndpoint{Enabled: true, EventTypes: []string{}, CreatedBy: act.Label}
	if in.URL == nil {
		return Endpoint{}, fe("url", "is required")
	}
	if err := s.apply(&e, in); err != nil {
		return Endpoint{}, err
	}
	secret := NewSecret()
	var err error
	if e.SecretEnc, err = s.seal(act.Workspace, secret); err != nil {
		return Endpoint{}, err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWebhookEndpoint(ctx, act.Workspace, &e); err != nil {
			return err
		}
		forget(q)
		return audit(ctx, q, act, "webhook_create", e.ID, map[string]any{"url": e.URL, "event_types": e.EventTypes})
	})
	if err != nil {
		return Endpoint{}, err
	}
	v := view(e)
	v.Secret = secret
	return v, nil
}

// Get loads one endpoint of ws.
func (s *Service) Get(ctx context.Context, ws, id int64) (Endpoint, error) {
	e, err := s.St.Read().GetWebhookEndpoint(ctx, ws, id, false)
	if err != nil {
		return Endpoint{}, err
	}
	return view(e), nil
}

// List returns ws's endpoints.
func (s *Service) List(ctx context.Context, ws int64) ([]Endpoint, error) {
	es, err := s.St.Read().WebhookEndpoints(ctx, ws, false)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, len(es))
	for i, e := range es {
		out[i] = view(e)
	}
	return out, nil
}

// Update applies a partial change. Enabling an endpoint clears the reason it
// was disabled for; deliveries it failed meanwhile stay failed (redeliver
// them by hand).
func (s *Service) Update(ctx context.Context, act model.Actor, id int64, in Input) (Endpoint, error) {
	var e store.WebhookEndpoint
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if e, err = q.GetWebhookEndpoint(ctx, act.Workspace, id, true); err != nil {
			return err
		}
		if err := s.apply(&e, in); err != nil {
			return err
		}
		if err := q.UpdateWebhookEndpoint(ctx, act.Workspace, &e); err != nil {
			return err
		}
		forget(q)
		return audit(ctx, q, act, "webhook_update", e.ID, map[string]any{"url": e.URL, "event_types": e.EventTypes, "enabled": e.Enabled})
	})
	if err != nil {
		return Endpoint{}, err
	}
	return view(e), nil
}

// Delete removes an endpoint with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		e, err := q.GetWebhookEndpoint(ctx, act.Workspace, id, true)
		if err != nil {
			return err
		}
		if err := q.DeleteWebhookEndpoint(ctx, act.Workspace, id); err != nil {
			return err
		}
		forget(q)
		return audit(ctx, q, act, "webhook_delete", id, map[string]any{"url": e.URL})
	})
}

// Deliveries lists the newest deliveries of endpoint id with their logs.
func (s *Service) Deliveries(ctx context.Context, ws, id int64, limit int) ([]store.WebhookDelivery, error) {
	return s.St.Read().WebhookDeliveries(ctx, ws, id, limit)
}

// ErrDeliveryBusy answers a redelivery of a delivery whose call is running.
var ErrDeliveryBusy = errors.New("the delivery is being sent right now; try again when its attempt has finished")

// Redeliver makes delivery deliveryID of endpoint id due now and starts a
// drain for it: one more attempt (logged as manual); when it fails and the
// delivery's retry window is over, it fails again without further retries.
func (s *Service) Redeliver(ctx context.Context, act model.Actor, id, deliveryID int64) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := q.GetWebhookEndpoint(ctx, act.Workspace, id, true); err != nil {
			return err
		}
		err := q.RedeliverWebhook(ctx, act.Workspace, id, deliveryID, s.now())
		if errors.Is(err, store.ErrConflict) {
			return ErrDeliveryBusy
		}
		if err != nil {
			return err
		}
		if err := enqueue(ctx, q, DrainArgs{Workspace: act.Workspace, Endpoint: id, Delivery: deliveryID}, time.Time{}); err != nil {
			return err
		}
		if d, err = q.GetWebhookDelivery(ctx, act.Workspace, deliveryID, false); err != nil {
			return err
		}
		return audit(ctx, q, act, "webhook_redeliver", id, map[string]any{"delivery_id": deliveryID, "event_id": d.MsgID})
	})
	return d, err
}
