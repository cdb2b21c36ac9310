package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/webhooks"
)

// Outgoing webhooks (docs/webhooks.md): admins and managers add endpoints,
// see each one's delivery log, send a test event and redeliver. The signing
// secret is shown once, on the page that answers the creation.

// webhookForm is what the create and edit forms hold.
type webhookForm struct {
	Action  string
	Submit  string
	URL     string
	Desc    string
	Types   []string // chosen event types; none: every event
	Enabled bool
	Errors  map[string]string
	Err     string
}

// Chosen reports whether event type t is ticked.
func (f *webhookForm) Chosen(t string) bool { return slices.Contains(f.Types, t) }

func (f *webhookForm) read(r *http.Request) webhooks.Input {
	_ = r.ParseForm()
	f.URL = strings.TrimSpace(r.PostFormValue("url"))
	f.Desc = strings.TrimSpace(r.PostFormValue("description"))
	f.Types = r.PostForm["event_types"]
	f.Enabled = r.PostFormValue("enabled") == "on"
	types := append([]string{}, f.Types...)
	return webhooks.Input{URL: &f.URL, Description: &f.Desc, EventTypes: &types, Enabled: &f.Enabled}
}

// setError puts a field error next to its input (event_types[i] goes next
// to the list).
func (f *webhookForm) setError(err error) bool {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return false
	}
	field := fe.Field
	if strings.HasPrefix(field, "event_types") {
		field = "event_types"
	}
	switch field {
	case "url", "description", "event_types":
		f.Errors[field] = fe.Message
	default:
		f.Err = humanize(fe.Field) + ": " + fe.Message
	}
	return true
}

type webhooksPage struct {
	Endpoints []webhooks.Endpoint
	F         *webhookForm
	Types     []webhooks.EventType
	New       *webhooks.Endpoint // just created: its secret is shown once
}

func newWebhookForm() *webhookForm {
	return &webhookForm{Action: "/settings/webhooks", Submit: "Add endpoint", Enabled: true, Errors: map[string]string{}}
}

func (u *UI) webhooksSettings(w http.ResponseWriter, r *http.Request, s *session) {
	u.showWebhooks(w, r, s, http.StatusOK, newWebhookForm(), nil)
}

func (u *UI) showWebhooks(w http.ResponseWriter, r *http.Request, s *session, status int, f *webhookForm, created *webhooks.Endpoint) {
	es, err := u.d.Webhooks.List(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	n := ""
	if r.URL.Query().Get("notice") == "deleted" {
		n = "Endpoint deleted with its delivery log."
	}
	u.render(w, r, status, "settings_webhooks", view{Title: "Webhooks", Section: "settings", S: s, Notice: n,
		D: webhooksPage{Endpoints: es, F: f, Types: webhooks.Types(), New: created}})
}

// webhookCreate shows the new secret on the answer itself: it is stored
// sealed and never shown again, so it cannot survive a redirect.
func (u *UI) webhookCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := newWebhookForm()
	in := f.read(r)
	e, err := u.d.Webhooks.Create(r.Context(), s.Actor(), in)
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showWebhooks(w, r, s, http.StatusUnprocessableEntity, f, nil)
		return
	}
	u.showWebhooks(w, r, s, http.StatusOK, newWebhookForm(), &e)
}

type webhookPage struct {
	E          webhooks.Endpoint
	F          *webhookForm
	Types      []webhooks.EventType
	Deliveries []store.WebhookDelivery
	Test       *webhooks.TestResult
}

func (u *UI) webhookForm(e webhooks.Endpoint) *webhookForm {
	return &webhookForm{Action: "/settings/webhooks/" + formatInt(e.ID), Submit: "Save endpoint", URL: e.URL, Desc: e.Description,
		Types: e.EventTypes, Enabled: e.Enabled, Errors: map[string]string{}}
}

func (u *UI) webhookShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	e, err := u.d.Webhooks.Get(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.showWebhook(w, r, s, http.StatusOK, e, u.webhookForm(e), nil, webhookNotice(r))
}

func webhookNotice(r *http.Request) string {
	switch r.URL.Query().Get("notice") {
	case "saved":
		return "Endpoint saved."
	case "redeliver":
		return "Delivery queued again. Its attempt appears in the log below."
	}
	return ""
}

func (u *UI) showWebhook(w http.ResponseWriter, r *http.Request, s *session, status int, e webhooks.Endpoint, f *webhookForm, test *webhooks.TestResult, notice string) {
	ds, err := u.d.Webhooks.Deliveries(r.Context(), s.WS(), e.ID, 50)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, status, "settings_webhook", view{Title: "Webhook endpoint", Section: "settings", S: s, Notice: notice,
		D: webhookPage{E: e, F: f, Types: webhooks.Types(), Deliveries: ds, Test: test}})
}

func (u *UI) webhookUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	cur, err := u.d.Webhooks.Get(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := u.webhookForm(cur)
	in := f.read(r)
	if _, err := u.d.Webhooks.Update(r.Context(), s.Actor(), id, in); err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showWebhook(w, r, s, http.StatusUnprocessableEntity, cur, f, nil, "")
		return
	}
	redirect(w, r, "/settings/webhooks/"+formatInt(id)+"?notice=saved")
}

// webhookTest sends the test event and shows what came back on the page.
func (u *UI) webhookTest(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	res, err := u.d.Webhooks.SendTest(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	e, err := u.d.Webhooks.Get(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.showWebhook(w, r, s, http.StatusOK, e, u.webhookForm(e), &res, "")
}

func (u *UI) webhookDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Webhooks.Delete(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/settings/webhooks?notice=deleted")
}

func (u *UI) webhookRedeliver(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	did, err := httpx.PathID(r, "delivery_id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	_, err = u.d.Webhooks.Redeliver(r.Context(), s.Actor(), id, did)
	if errors.Is(err, webhooks.ErrDeliveryBusy) {
		u.errorPage(w, r, s, http.StatusConflict, "Being sent right now", err.Error())
		return
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/settings/webhooks/"+formatInt(id)+"?notice=redeliver#deliveries")
}

// sendingResume is the admin banner's button after a restore.
func (u *UI) sendingResume(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := u.d.Sending.Confirm(r.Context(), s.Actor()); err != nil {
		u.fail(w, r, s, err)
		return
	}
	next, ok := localPath(r.PostFormValue("next"))
	if !ok {
		next = "/"
	}
	redirect(w, r, next)
}

// outcomeBadge is the tone of a delivery state or attempt outcome.
func deliveryTone(s string) string {
	switch s {
	case "succeeded":
		return "good"
	case "failed", "gone", "blocked":
		return "bad"
	case "retrying", "unknown", "error":
		return "warn"
	case "sending", "pending":
		return "accent"
	}
	return "neutral"
}
