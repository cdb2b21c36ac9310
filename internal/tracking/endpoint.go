package tracking

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

//go:embed static/t.js
var scriptJS []byte

var scriptGz, scriptETag = func() ([]byte, string) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(scriptJS)
	_ = zw.Close()
	sum := sha256.Sum256(scriptJS)
	return b.Bytes(), `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// Endpoint serves the public tracking surface: GET /t.js and POST /t/e. Neither
// uses a login: the site key in the body names the workspace, and the request's
// Origin must be one of that site's allowed origins.
type Endpoint struct {
	Svc *Service
	In  *Ingester
	// Now stamps received_at (nil: store.Now).
	Now func() time.Time
	// Identify, when set, verifies the token a tracked email click adds to
	// its landing page (internal/mail) and returns its workspace and contact.
	Identify func(token string) (ws, contact int64, err error)
}

// Paths the endpoint serves; app.go exempts them from cross-origin protection.
const (
	ScriptPath = "/t.js"
	IngestPath = "/t/e"
)

// Register mounts the endpoint on mux.
func (e *Endpoint) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+ScriptPath, e.script)
	mux.HandleFunc("POST "+IngestPath, e.ingest)
	mux.HandleFunc("OPTIONS "+IngestPath, e.preflight)
}

func (e *Endpoint) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", scriptETag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if match := r.Header.Get("If-None-Match"); match != "" && (match == scriptETag || strings.Contains(match, scriptETag)) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := scriptJS
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = scriptGz
	}
	_, _ = w.Write(body)
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// preflight answers OPTIONS /t/e. The script never needs one (text/plain bodies
// are CORS-safelisted); a client that sends one names its site in ?site=, and the
// Origin is echoed only when that site allows it.
func (e *Endpoint) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	key := r.URL.Query().Get("site")
	if origin != "" && siteKeyRE.MatchString(key) {
		site, found, err := e.Svc.siteByKey(r.Context(), key)
		if err == nil && found && slices.Contains(site.AllowedOrigins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", "POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type")
			h.Set("Access-Control-Max-Age", "86400")
		}
	}
	w.Header().Add("Vary", "Origin")
	w.WriteHeader(http.StatusNoContent)
}

// IngestResult is the 202 answer: accepted + rejected = events sent.
// Identified says the request's identify token stitched the visitor.
type IngestResult struct {
	Accepted   int          `json:"accepted"`
	Rejected   int          `json:"rejected"`
	Errors     []EventError `json:"errors"`
	Identified bool         `json:"identified,omitempty"`
}

type problem struct {
	Code    string       `json:"code"`
	Field   string       `json:"field,omitempty"`
	Message string       `json:"message"`
	Errors  []EventError `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (e *Endpoint) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// ingest is POST /t/e: parse, find the site by its key, check the Origin, check
// consent, hand the valid events to the group-commit writer and answer 202 once
// they are committed.
func (e *Endpoint) ingest(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, problem{Code: "too_large", Field: "body", Message: "at most 512 KiB per request"})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, problem{Code: "bad_body", Field: "body", Message: "could not read the body"})
		return
	}
	body, err := Parse(buf.Bytes(), e.now())
	if err != nil {
		var fe *store.FieldError
		errors.As(err, &fe)
		// A request-level error: its events were never counted one by one.
		writeJSON(w, http.StatusBadRequest, problem{Code: "invalid", Field: fieldOf(fe), Message: err.Error()})
		return
	}
	site, found, err := e.Svc.siteByKey(r.Context(), body.Site)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, problem{Code: "unavailable", Message: "try again"})
		return
	}
	total := len(body.Events) + len(body.Errors)
	if !found {
		e.In.Rejected(total)
		writeJSON(w, http.StatusNotFound, problem{Code: "unknown_site", Field: "site", Message: "no tracking site has this key"})
		return
	}
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(site.AllowedOrigins, origin) {
		e.In.Rejected(total)
		writeJSON(w, http.StatusForbidden, problem{Code: "origin_not_allowed", Field: "Origin", Message: "this page's origin is not an allowed origin of the site"})
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	if site.ConsentMode == ConsentRequired && !body.Consent {
		e.In.Rejected(total)
		writeJSON(w, http.StatusForbidden, problem{Code: "consent_required", Field: "consent", Message: "this site tracks only after rightsize('consent', true)"})
		return
	}
	e.In.Rejected(len(body.Errors))
	res := IngestResult{Accepted: len(body.Events), Rejected: len(body.Errors), Errors: body.Errors}
	if res.Errors == nil {
		res.Errors = []EventError{}
	}
	if len(body.Events) == 0 {
		writeJSON(w, http.StatusBadRequest, problem{Code: "invalid", Field: body.Errors[0].Field, Message: "no valid event: " + body.Errors[0].Message, Errors: body.Errors})
		return
	}
	if body.Identify != "" && e.Identify != nil {
		// Before the events are queued, so they land on the contact too. A token
		// that fails (expired, tampered, another workspace's) identifies no one;
		// the events are still stored, anonymous.
		if ws, contact, err := e.Identify(body.Identify); err == nil && ws == site.WorkspaceID {
			err := e.Svc.St.InTx(r.Context(), func(q store.Q) error {
				_, err := e.Svc.Stitch(r.Context(), q, ws, body.Visitor, contact)
				return err
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, http.StatusServiceUnavailable, problem{Code: "unavailable", Message: "try again"})
				return
			}
			res.Identified = err == nil
		}
	}
	switch err := e.In.Submit(r.Context(), Batch{Workspace: site.WorkspaceID, Events: body.Events}); {
	case err == nil:
		writeJSON(w, http.StatusAccepted, res)
	case errors.Is(err, ErrFull):
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, problem{Code: "busy", Message: "too many events waiting to be written; retry after a second"})
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The client went away; the events are still written.
		writeJSON(w, http.StatusServiceUnavailable, problem{Code: "gone", Message: "client went away"})
	default:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, problem{Code: "unavailable", Message: "events not stored; try again"})
	}
}

func fieldOf(fe *store.FieldError) string {
	if fe == nil {
		return ""
	}
	return fe.Field
}
