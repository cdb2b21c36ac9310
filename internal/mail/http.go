package mail

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/rightsize/rightsize/internal/store"
)

// Register mounts the public mail endpoints: the unsubscribe page and one-click
// POST (RFC 8058), the inbound bounce/complaint hook, and the open pixel and
// click redirect (engage.go).
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	mux.HandleFunc("POST /hooks/mail/events", s.events)
	mux.HandleFunc("POST /hooks/mail/inbound", s.inbound)
	mux.HandleFunc("GET /o/{token}", s.openPixel)
	mux.HandleFunc("GET /c/{token}", s.click)
}

var pageT = template.Must(template.New("u").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title><style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style></head><body>
<h1>{{.Title}}</h1><p>{{.Body}}</p>{{if .Form}}<form method="post"><button type="submit">Unsubscribe {{.Email}}</button></form>{{end}}</body></html>`))

type page struct {
	Title, Body, Email string
	Form               bool
}

func render(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No script; the inline sheet only. The unsubscribe button must not be
	// framed (clickjacking) nor the page sniffed as anything but HTML.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageT.Execute(w, p)
}

// unsubscribePage only asks: link scanners fetch GET, so GET never unsubscribes.
func (s *Service) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	t, err := VerifyToken(s.Secret, r.PathValue("token"), s.Now())
	if err != nil {
		render(w, http.StatusNotFound, page{Title: "Link not valid", Body: err.Error()})
		return
	}
	render(w, http.StatusOK, page{Title: "Unsubscribe?", Body: "Stop receiving these emails at " + t.Email + "?", Email: t.Email, Form: true})
}

// unsubscribe is the one-click POST: no cookie, no login, idempotent.
func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	t, err := VerifyToken(s.Secret, r.PathValue("token"), s.Now())
	if err != nil {
		render(w, http.StatusNotFound, page{Title: "Link not valid", Body: err.Error()})
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4096))
	err = s.St.InTx(r.Context(), func(q store.Q) error {
		return s.suppress(r.Context(), q, t.Workspace, t.Email, store.SuppressUnsub, fmt.Sprintf("one-click link (contact %d)", t.Contact))
	})
	if err != nil {
		s.Log.Error("mail: unsubscribe", "workspace", t.Workspace, "err", err)
		render(w, http.StatusServiceUnavailable, page{Title: "Please try again", Body: "We could not record your request just now."})
		return
	}
	render(w, http.StatusOK, page{Title: "Unsubscribed", Body: t.Email + " will receive no more of these emails."})
}

// Event is one inbound delivery event (generic JSON from a mail provider).
type Event struct {
	Type       string `json:"type"` // bounce, complaint, auto_reply, delivered
	BounceType string `json:"bounce_type,omitempty"`
	MessageID  string `json:"message_id"`
	Code       int    `json:"code,omitempty"`
	Diagnostic string `json:"diagnostic,omitempty"`
}

// EventsResult counts what the hook did; applied + ignored = received.
type EventsResult struct {
	Received int      `json:"received"`
	Applied  int      `json:"applied"`
	Ignored  int      `json:"ignored"`
	Notes    []string `json:"notes,omitempty"`
}

func jsonErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// events applies bounces and complaints; the shared secret comes as a bearer
// token, compared in constant time.
func (s *Service) events(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.HookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.HookSecret)) != 1 {
		jsonErr(w, http.StatusUnauthorized, "unauthorized", "missing or wrong hook secret")
		return
	}
	var body struct {
		Events []Event `json:"events"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		jsonErr(w, http.StatusBadRequest, "invalid_json", "body: "+err.Error())
		return
	}
	for i, e := range body.Events {
		switch {
		case !oneOf(e.Type, "bounce", "complaint", "auto_reply", "delivered"):
			jsonErr(w, http.StatusBadRequest, "invalid", fmt.Sprintf("events[%d].type: want bounce, complaint, auto_reply or delivered", i))
			return
		case e.Type == "bounce" && !oneOf(e.BounceType, "hard", "soft"):
			jsonErr(w, http.StatusBadRequest, "invalid", fmt.Sprintf("events[%d].bounce_type: want hard or soft", i))
			return
		case strings.TrimSpace(e.MessageID) == "":
			jsonErr(w, http.StatusBadRequest, "invalid", fmt.Sprintf("events[%d].message_id: required", i))
			return
		}
	}
	res := EventsResult{Received: len(body.Events)}
	for i, e := range body.Events {
		note, applied, err := s.applyEvent(r, e)
		if err != nil {
			s.Log.Error("mail: event", "err", err)
			jsonErr(w, http.StatusServiceUnavailable, "unavailable", "could not record events; retry")
			return
		}
		if applied {
			res.Applied++
		} else {
			res.Ignored++
			res.Notes = append(res.Notes, fmt.Sprintf("events[%d]: %s", i, note))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func oneOf(v string, opts ...string) bool {
	for _, o := range opts {
		if v == o {
			return true
		}
	}
	return false
}

func (s *Service) applyEvent(r *http.Request, e Event) (string, bool, error) {
	if e.Type == "auto_reply" || e.Type == "delivered" {
		// An out-of-office answer is not a bounce.
		return e.Type + " is not a bounce", false, nil
	}
	mid := strings.TrimSpace(e.MessageID)
	if !strings.HasPrefix(mid, "<") {
		mid = "<" + mid + ">"
	}
	ctx := r.Context()
	snd, err := s.St.Read().AdminSendByMessageID(ctx, mid)
	if errors.Is(err, store.ErrNotFound) {
		return "unknown message_id", false, nil
	}
	if err != nil {
		return "", false, err
	}
	ws := snd.Workspace
	err = s.St.InTx(ctx, func(q store.Q) error {
		switch {
		case e.Type == "complaint":
			return s.suppress(ctx, q, ws, snd.ToEmail, store.SuppressCompl, "hook")
		case e.BounceType == "hard":
			if err := q.MarkSendBounced(ctx, ws, snd.ID, e.Code, e.Diagnostic); err != nil {
				return err
			}
			return s.suppress(ctx, q, ws, snd.ToEmail, store.SuppressHard, "hook")
		default:
			n, err := q.AddSoftBounce(ctx, ws, snd.ID, e.Code, e.Diagnostic)
			if err != nil {
				return err
			}
			if n >= s.MaxSoftBounces {
				err = s.suppress(ctx, q, ws, snd.ToEmail, store.SuppressSoftLim, "hook")
			}
			return err
		}
	})
	return "", err == nil, err
}
