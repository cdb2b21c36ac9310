// Package httpx holds what every HTTP surface shares: JSON and problem responses,
// the one place errors become status codes, and middleware (request id, access
// log, panic recovery, body limits, metrics).
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Problem is an RFC 9457 problem object with a stable machine code.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Code     string         `json:"code"`
	Detail   string         `json:"detail,omitempty"`
	Field    string         `json:"field,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// Sentinel errors handlers can return for common answers.
var (
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
)

// StatusError carries an explicit status and code.
type StatusError struct {
	Status int
	Code   string
	Msg    string
	Field  string
}

func (e *StatusError) Error() string { return e.Msg }

// Classify maps an error to a problem. Unknown errors are 500s and are logged by the
// caller (once), never shown in detail to the client.
func Classify(err error) Problem {
	var fe *store.FieldError
	var ce *store.ConflictError
	var se *StatusError
	var mbe *http.MaxBytesError
	var ge *model.GateError
	switch {
	case errors.As(err, &ge):
		return Problem{Status: 422, Code: "gate_unmet", Title: "Unprocessable Content", Detail: ge.Error(), Field: "stage",
			Extra: map[string]any{"deal_id": ge.DealID, "from": ge.From, "to": ge.To, "unmet": ge.Unmet}}
	case errors.As(err, &se):
		return Problem{Status: se.Status, Code: se.Code, Title: http.StatusText(se.Status), Detail: se.Msg, Field: se.Field}
	case errors.Is(err, store.ErrNotFound):
		return Problem{Status: 404, Code: "not_found", Title: "Not Found", Detail: "no such record"}
	case errors.As(err, &fe):
		return Problem{Status: 400, Code: "invalid_field", Title: "Bad Request", Detail: fe.Error(), Field: fe.Field}
	case errors.As(err, &ce):
		return Problem{Status: 409, Code: "conflict", Title: "Conflict", Detail: ce.Error(), Field: ce.Field}
	case errors.As(err, &mbe):
		return Problem{Status: 413, Code: "body_too_large", Title: "Content Too Large", Detail: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, ErrUnauthorized):
		return Problem{Status: 401, Code: "unauthenticated", Title: "Unauthorized", Detail: "sign in or send an API key (Authorization: Bearer rsk_…)"}
	case errors.Is(err, ErrForbidden):
		return Problem{Status: 403, Code: "forbidden", Title: "Forbidden", Detail: "your role may not do this"}
	case errors.Is(err, context.Canceled):
		return Problem{Status: 499, Code: "canceled", Title: "Client Closed Request"}
	case store.IsBusy(err):
		// Nothing was written; the same request a moment later will do.
		return Problem{Status: 503, Code: "database_busy", Title: "Service Unavailable", Detail: "the database is busy; nothing was changed — retry after " + BusyRetryAfter + " seconds"}
	}
	return Problem{Status: 500, Code: "internal", Title: "Internal Server Error", Detail: "an internal error occurred; it has been logged"}
}

// BusyRetryAfter is the Retry-After (seconds) of a 503 database_busy.
const BusyRetryAfter = "2"

// Error writes err as a problem JSON response, logging internal errors once.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	p := Classify(err)
	switch {
	case p.Code == "database_busy":
		slog.WarnContext(r.Context(), "request refused: database busy", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", RequestID(r.Context()))
		w.Header().Set("Retry-After", BusyRetryAfter)
	case p.Status >= 500:
		slog.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", RequestID(r.Context()))
	}
	p.Type = "https://rightsize.dev/problems/" + p.Code
	p.Instance = r.URL.Path
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MaxJSONDepth bounds how deeply a JSON request body may nest objects and
// arrays. No API body needs more than a few levels; the decoder's own limit is
// 10,000, which lets a 1 MiB body of brackets build a deep value for nothing.
const MaxJSONDepth = 32

// ErrJSONTooDeep answers a body nested past MaxJSONDepth.
var ErrJSONTooDeep = &StatusError{Status: http.StatusBadRequest, Code: "json_too_deep", Msg: fmt.Sprintf("JSON nested deeper than %d levels (the limit)", MaxJSONDepth)}

// depthReader passes JSON through, failing with ErrJSONTooDeep as soon as
// objects and arrays nest past MaxJSONDepth (brackets inside strings do not
// count), before the decoder builds anything.
type depthReader struct {
	r          io.Reader
	depth      int
	inStr, esc bool
}

func (d *depthReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		if d.inStr {
			switch {
			case d.esc:
				d.esc = false
			case c == '\\':
				d.esc = true
			case c == '"':
				d.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			d.inStr = true
		case '{', '[':
			if d.depth++; d.depth > MaxJSONDepth {
				return i, ErrJSONTooDeep
			}
		case '}', ']':
			d.depth--
		}
	}
	return n, err
}

// DecodeJSON reads a JSON object body into v, naming the field or the line:column of
// a syntax error.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(&depthReader{r: r.Body})
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, ErrJSONTooDeep):
			return ErrJSONTooDeep
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &se):
			return &StatusError{Status: 400, Code: "invalid_json", Msg: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
		case errors.As(err, &te):
			return &store.FieldError{Field: te.Field, Message: fmt.Sprintf("must be %s", te.Type)}
		case errors.Is(err, io.EOF):
			return &StatusError{Status: 400, Code: "invalid_json", Msg: "request body is empty"}
		}
		return &StatusError{Status: 400, Code: "invalid_json", Msg: "malformed JSON: " + err.Error()}
	}
	if dec.More() {
		return &StatusError{Status: 400, Code: "invalid_json", Msg: "request body has data after the JSON value"}
	}
	return checkStrings("", reflect.ValueOf(v))
}

// DecodeFields reads a JSON object into a map with numbers as float64 (records
// validate their own numbers).
func DecodeFields(r *http.Request) (map[string]any, error) {
	var raw map[string]any
	dec := json.NewDecoder(&depthReader{r: r.Body})
	if err := dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.Is(err, ErrJSONTooDeep):
			return nil, ErrJSONTooDeep
		case errors.As(err, &mbe):
			return nil, err
		case errors.As(err, &se):
			return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}
		case errors.As(err, &te):
			return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: "request body must be a JSON object"}
		case errors.Is(err, io.EOF):
			return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: "request body is empty"}
		}
		return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: "malformed JSON: " + err.Error()}
	}
	if raw == nil {
		return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: "request body must be a JSON object"}
	}
	if dec.More() {
		return nil, &StatusError{Status: 400, Code: "invalid_json", Msg: "request body has data after the JSON value"}
	}
	if err := checkStrings("", reflect.ValueOf(raw)); err != nil {
		return nil, err
	}
	return raw, nil
}

// PathID parses the {id} path value; a malformed id answers like a missing record.
func PathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, store.ErrNotFound
	}
	return n, nil
}

type rawBodyKey struct{}

// LiftBodyLimit replaces Wrap's default body limit with n on upload routes.
func LiftBodyLimit(w http.ResponseWriter, r *http.Request, n int64) {
	if raw, ok := r.Context().Value(rawBodyKey{}).(io.ReadCloser); ok {
		r.Body = http.MaxBytesReader(w, raw, n)
	}
}

// ReplaceBody gives r a new body that LiftBodyLimit also sees (middleware
// that had to read the body first hands the handler a copy).
func ReplaceBody(r *http.Request, body io.ReadCloser) *http.Request {
	r = r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, body))
	r.Body = body
	return r
}

type ctxKey int

const reqIDKey ctxKey = 1

// RequestID returns the request's id.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(reqIDKey).(string)
	return s
}

// ClientIP is the remote address without port (no proxy headers are trusted).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = 200
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Metrics are the HTTP server's Prometheus collectors.
type Metrics struct {
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rightsize_http_requests_total", Help: "HTTP requests by route pattern and status class."}, []string{"route", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rightsize_http_request_seconds", Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	reg.MustRegister(m.Requests, m.Duration)
	return m
}

// Request ids are a random per-process prefix and a counter: unique without
// a crypto/rand read per request (the open pixel answers tens of thousands a
// second).
var (
	reqPrefix = func() string {
		b := make([]byte, 5)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
	reqSeq atomic.Uint64
)

func newRequestID() string {
	var b [32]byte
	out := append(b[:0], reqPrefix...)
	out = append(out, '-')
	out = strconv.AppendUint(out, reqSeq.Add(1), 36)
	return string(out)
}

// quiet paths get no access log line (metrics still count them): static
// files, and the open pixel and click redirect, which answer tens of
// thousands of requests a second and carry a token in the path.
func quiet(path string) bool {
	return strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/o/") || strings.HasPrefix(path, "/c/")
}

// Wrap adds request id, nosniff, recovery, a body limit, access logging (to log) and metrics.
func Wrap(h http.Handler, m *Metrics, maxBody int64, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		ctx := context.WithValue(r.Context(), reqIDKey, id)
		w.Header().Set("X-Request-Id", id)
		// No response is ever to be content-sniffed (a JSON answer, a CSV
		// or an error text holding user data must not be read as HTML).
		w.Header().Set("X-Content-Type-Options", "nosniff")
		sw := &statusWriter{ResponseWriter: w}
		if r.Body != nil && r.Body != http.NoBody && maxBody > 0 {
			ctx = context.WithValue(ctx, rawBodyKey{}, r.Body)
			r = r.WithContext(ctx)
			r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
		} else {
			r = r.WithContext(ctx)
		}
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				log.ErrorContext(ctx, "panic", "panic", rec, "stack", string(debug.Stack()), "request_id", id)
				if sw.status == 0 {
					Error(sw, r, fmt.Errorf("panic: %v", rec))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if m != nil {
				m.Requests.WithLabelValues(route, strconv.Itoa(sw.status/100)+"xx").Inc()
				m.Duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			}
			if !quiet(r.URL.Path) {
				log.LogAttrs(ctx, slog.LevelInfo, "http", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Int("bytes", sw.bytes), slog.Duration("took", time.Since(start)), slog.String("request_id", id))
			}
		}()
		h.ServeHTTP(sw, r)
	})
}
