package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/webhooks"
)

// Outgoing webhook endpoints, their delivery log and the sending pause
// (docs/webhooks.md, docs/reliability.md). Admins and managers only: an
// endpoint receives the workspace's records.

func listWebhooks(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	es, err := a.d.Webhooks.List(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[webhooks.Endpoint]{Items: es})
	return nil
}

func createWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in webhooks.Input
	if err := body(r, &in); err != nil {
		return err
	}
	e, err := a.d.Webhooks.Create(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/webhooks/%d", e.ID))
	httpx.JSON(w, http.StatusCreated, e)
	return nil
}

func getWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	e, err := a.d.Webhooks.Get(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

func updateWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in webhooks.Input
	if err := body(r, &in); err != nil {
		return err
	}
	e, err := a.d.Webhooks.Update(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

func deleteWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Webhooks.Delete(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testWebhook sends a webhook.test event now through the same client and
// signing as deliveries, and answers what the endpoint did.
func testWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	res, err := a.d.Webhooks.SendTest(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

// webhookDeliveriesMax bounds one page of the delivery log.
const webhookDeliveriesMax = 200

func listWebhookDeliveries(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := onlyParams(r, "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, 50, webhookDeliveriesMax)
	if err != nil {
		return err
	}
	ds, err := a.d.Webhooks.Deliveries(r.Context(), p.WorkspaceID, id, limit)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[store.WebhookDelivery]{Items: ds})
	return nil
}

func redeliverWebhook(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	did, err := httpx.PathID(r, "delivery_id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	d, err := a.d.Webhooks.Redeliver(r.Context(), p.Actor(httpx.ClientIP(r)), id, did)
	if errors.Is(err, webhooks.ErrDeliveryBusy) {
		return &httpx.StatusError{Status: http.StatusConflict, Code: "delivery_in_flight", Msg: err.Error()}
	}
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusAccepted, d)
	return nil
}

func getSending(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Sending.Status(r.Context())
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

// resumeSending is the admin's confirmation after a restore.
func resumeSending(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Sending.Confirm(r.Context(), p.Actor(httpx.ClientIP(r)))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

var (
	listWebhooksDoc  = op{id: "listWebhooks", tag: "webhooks", summary: "The workspace's webhook endpoints; secrets are never returned (admin)", resp: ok200("WebhookEndpointList")}
	createWebhookDoc = op{id: "createWebhook", tag: "webhooks",
		summary: "Add a webhook endpoint; the answer carries its whsec_ signing secret, the only time it is shown. The URL must be http(s) to a public address (docs/webhooks.md) (admin)",
		body:    []content{{"application/json", ref("WebhookEndpointCreate"), map[string]any{"url": "https://hooks.example.com/rightsize", "description": "CRM sync", "event_types": []string{"deal.won", "contact.lifecycle_changed"}}}},
		resp:    []resp{{http.StatusCreated, "application/json", "WebhookEndpointCreated", "", true}}}
	getWebhookDoc    = op{id: "getWebhook", tag: "webhooks", summary: "A webhook endpoint (admin)", resp: ok200("WebhookEndpoint")}
	updateWebhookDoc = op{id: "updateWebhook", tag: "webhooks", summary: "Change an endpoint's URL, description, event filter or enabled flag; absent fields stay. Enabling clears the reason it was disabled (admin)",
		body: jsonBody("WebhookEndpointUpdate"), resp: ok200("WebhookEndpoint")}
	deleteWebhookDoc = op{id: "deleteWebhook", tag: "webhooks", summary: "Delete an endpoint with its deliveries and their log (admin)",
		resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	testWebhookDoc = op{id: "testWebhook", tag: "webhooks", summary: "Send a signed webhook.test event to the endpoint now (also when disabled) with the same SSRF-safe client as deliveries, and answer what it did; logged, never retried (admin)",
		resp: ok200("WebhookTestResult")}
	listWebhookDeliveriesDoc = op{id: "listWebhookDeliveries", tag: "webhooks", summary: "The endpoint's newest deliveries, each with its attempt log: status, latency, a 1 kB escaped excerpt of the answer (admin)",
		params: []param{{name: "limit", desc: "how many deliveries, newest first", schema: js{"type": "integer", "minimum": 1, "maximum": webhookDeliveriesMax, "default": 50}}},
		resp:   ok200("WebhookDeliveryList")}
	redeliverWebhookDoc = op{id: "redeliverWebhook", tag: "webhooks", summary: "Send a delivery again now (the same webhook-id; logged as manual); 409 while its current attempt is in flight (admin)",
		resp: []resp{{http.StatusAccepted, "application/json", "WebhookDelivery", "queued; the delivery log shows the attempt", false}}}
	getSendingDoc = op{id: "getSending", tag: "sending", summary: "Whether sending is paused: after rightsize restore, no email, sequence step or webhook goes out until an admin confirms (admin)",
		resp: ok200("SendingStatus")}
	resumeSendingDoc = op{id: "resumeSending", tag: "sending", summary: "Confirm a restored instance: sending resumes for the whole install (audited in this workspace); nothing changes when it is not paused (admin)",
		resp: ok200("SendingStatus")}
)

func webhookSchemas(s js) {
	var types []string
	for _, t := range webhooks.Types() {
		types = append(types, t.Name)
	}
	props := func() js {
		return js{
			"id": tID, "url": str(0), "description": str(0),
			"event_types":     withDesc(arrayOf(enum(types...)), "the events sent; empty: every event"),
			"enabled":         js{"type": "boolean"},
			"disabled_reason": withDesc(str(0), "why delivery stopped: an admin, or the endpoint answered 410 Gone"),
			"disabled_at":     tTime, "created_by": str(0), "created_at": tTime, "updated_at": tTime,
		}
	}
	req := []string{"id", "url", "description", "event_types", "enabled", "created_by", "created_at", "updated_at"}
	s["WebhookEndpoint"] = object(req, props())
	created := props()
	created["secret"] = withDesc(js{"type": "string", "pattern": "^whsec_"}, "the signing secret; shown only in this response")
	s["WebhookEndpointCreated"] = object(append(append([]string{}, req...), "secret"), created)
	s["WebhookEndpointList"] = object([]string{"items"}, js{"items": arrayOf(ref("WebhookEndpoint"))})
	in := js{
		"url":         withDesc(str(safehttp.MaxURLLength), "http(s) URL of a public host: loopback, private, link-local, CGNAT, unique-local, metadata and numeric-notation hosts are refused (and checked again at every connection)"),
		"description": str(500),
		"event_types": withDesc(arrayOf(enum(types...)), "events to send; empty or left out: every event"),
		"enabled":     js{"type": "boolean"},
	}
	s["WebhookEndpointCreate"] = object([]string{"url"}, in)
	s["WebhookEndpointUpdate"] = object(nil, in)
	s["WebhookAttempt"] = object([]string{"attempt", "trigger", "started_at", "latency_ms", "status_code", "outcome", "response_excerpt"}, js{
		"attempt": tID, "trigger": enum("auto", "manual", "test"), "started_at": tTime, "latency_ms": tCount,
		"status_code":      withDesc(tCount, "HTTP status; 0 when no answer came"),
		"outcome":          enum("succeeded", "failed", "gone", "blocked", "error", "unknown"),
		"error":            str(0),
		"response_excerpt": withDesc(str(0), "at most 1 kB of the answer's body, control characters and invalid bytes escaped"),
	})
	s["WebhookDelivery"] = object([]string{"id", "endpoint_id", "event_id", "event_type", "state", "attempts", "give_up_at", "last_status", "created_at", "updated_at", "log"}, js{
		"id": tID, "endpoint_id": tID, "event_id": withDesc(str(0), "the webhook-id header; the same on every attempt"),
		"event_type": str(0), "state": enum(store.WebhookPending, store.WebhookSending, store.WebhookRetrying, store.WebhookSucceeded, store.WebhookFailed),
		"attempts": tCount, "next_attempt_at": tTime, "give_up_at": withDesc(tTime, "no automatic attempt after this (3 days after the event)"),
		"last_status": tCount, "last_error": str(0), "created_at": tTime, "updated_at": tTime, "finished_at": tTime,
		"log": withDesc(arrayOf(ref("WebhookAttempt")), "attempts, oldest first"),
	})
	s["WebhookDeliveryList"] = object([]string{"items"}, js{"items": arrayOf(ref("WebhookDelivery"))})
	s["WebhookTestResult"] = object([]string{"delivery_id", "event_id", "attempt"}, js{"delivery_id": tID, "event_id": str(0), "attempt": ref("WebhookAttempt")})
	s["SendingStatus"] = object([]string{"paused"}, js{
		"paused": js{"type": "boolean"}, "reason": withDesc(str(0), "what paused it (the restore and its backup file)"),
		"since": tTime, "set_by": str(0),
	})
}
