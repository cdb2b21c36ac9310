package httpx

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LeanRoute is a GET route with one path parameter, /prefix/{param}, served
// ahead of the generic stack (Lean).
type LeanRoute struct {
	// Prefix is the path up to the parameter, e.g. "/o/".
	Prefix string
	// Pattern is the route's ServeMux pattern, e.g. "GET /o/{token}": the
	// route label of its metrics, the same as through Wrap.
	Pattern string
	// Serve answers the request for the parameter's value and returns the
	// status it wrote.
	Serve func(w http.ResponseWriter, r *http.Request, param string) int
}

// Lean serves routes before next (the app's Wrap(cross-origin(mux)) stack)
// when a request is plainly theirs: method GET, the path the prefix and one
// clean, unescaped segment. Everything else — HEAD, an escaped or unclean
// path, another route — goes to next, which answers it as before.
//
// Why: the open pixel and click redirect answer tens of thousands of requests
// a second (docs/benchmarks.md, "Open pixel and click"). Through the generic
// stack each paid for a request id, two context values and a copy of the
// request, a status-recording writer, the cross-origin check and the mux's
// pattern match, and two label lookups in the metric vectors. Here they keep
// what matters: the same metrics (counters resolved once), panic recovery,
// and no access log line (as before: the token is in the path). They set no
// X-Request-Id: they log nothing it could be matched with.
func Lean(next http.Handler, m *Metrics, log *slog.Logger, routes ...LeanRoute) http.Handler {
	type lean struct {
		LeanRoute
		byClass  [6]prometheus.Counter
		duration prometheus.Observer
	}
	ls := make([]*lean, len(routes))
	for i, rt := range routes {
		l := &lean{LeanRoute: rt}
		if m != nil {
			for c := 1; c <= 5; c++ {
				l.byClass[c] = m.Requests.WithLabelValues(rt.Pattern, strconv.Itoa(c)+"xx")
			}
			l.duration = m.Duration.WithLabelValues(rt.Pattern)
		}
		ls[i] = l
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			p := r.URL.Path
			for _, l := range ls {
				if !strings.HasPrefix(p, l.Prefix) || r.URL.RawPath != "" {
					continue
				}
				param := p[len(l.Prefix):]
				if param == "" || strings.IndexByte(param, '/') >= 0 || param == "." || param == ".." {
					break
				}
				start := time.Now()
				status := 0
				func() {
					defer func() {
						if rec := recover(); rec != nil {
							if rec == http.ErrAbortHandler {
								panic(rec)
							}
							log.ErrorContext(r.Context(), "panic", "panic", rec, "stack", string(debug.Stack()), "route", l.Pattern)
							if status == 0 {
								status = http.StatusInternalServerError
								http.Error(w, "internal error", status)
							}
						}
					}()
					status = l.Serve(w, r, param)
				}()
				if c := status / 100; l.duration != nil && c >= 1 && c <= 5 {
					l.byClass[c].Inc()
					l.duration.Observe(time.Since(start).Seconds())
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
