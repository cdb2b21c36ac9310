package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rightsize/rightsize/internal/httpx"
)

// Lean serves a plain GET /o/{token} itself — with the same metrics labels
// as the generic stack, recovering a panic — and hands everything else
// (HEAD, escaped or unclean paths, other routes) to the next handler.
func TestLean(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := httpx.NewMetrics(reg)
	var got []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Next", "1")
		w.WriteHeader(http.StatusTeapot)
	})
	h := httpx.Lean(next, m, slog.New(slog.NewTextHandler(io.Discard, nil)),
		httpx.LeanRoute{Prefix: "/o/", Pattern: "GET /o/{token}", Serve: func(w http.ResponseWriter, r *http.Request, tok string) int {
			got = append(got, tok)
			if tok == "boom" {
				panic("boom")
			}
			w.WriteHeader(http.StatusOK)
			return http.StatusOK
		}})
	for _, c := range []struct {
		method, path string
		lean         bool
		status       int
	}{
		{"GET", "/o/abc.DEF-_", true, 200},
		{"GET", "/o/boom", true, 500},
		{"HEAD", "/o/abc", false, 418},
		{"POST", "/o/abc", false, 418},
		{"GET", "/o/", false, 418},
		{"GET", "/o/a/b", false, 418},
		{"GET", "/o/a%2Fb", false, 418},
		{"GET", "/o/%61bc", false, 418},
		{"GET", "/o/..", false, 418},
		{"GET", "/oo/abc", false, 418},
		{"GET", "/c/abc", false, 418},
	} {
		got = nil
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.status || (rec.Header().Get("X-Next") == "") == !c.lean || (len(got) == 1) != c.lean {
			t.Errorf("%s %s: status %d, next %q, lean saw %q", c.method, c.path, rec.Code, rec.Header().Get("X-Next"), got)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			key := mf.GetName() + " " + strings.Join(labels, " ")
			if h := s.GetHistogram(); h != nil {
				observed += h.GetSampleCount()
				counts[key] = float64(h.GetSampleCount())
			} else {
				counts[key] = s.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"rightsize_http_requests_total 2xx GET /o/{token}": 1,
		"rightsize_http_requests_total 5xx GET /o/{token}": 1,
		"rightsize_http_request_seconds GET /o/{token}":    2,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if observed != 2 {
		t.Errorf("%d durations observed, want 2", observed)
	}
}
