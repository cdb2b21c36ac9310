package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			for path, want := range map[string]string{
				"/healthz": `"status":"ok"`,
				"/readyz":  `"store":"` + string(kind) + `"`,
			} {
				code, body := e.Do(t, "", "GET", path, "")
				if code != 200 || !strings.Contains(string(body), want) {
					t.Errorf("%s: %d %s", path, code, body)
				}
			}
			e.Do(t, e.A.Keys["admin"], "GET", "/api/v1/contacts", "")
			code, body := e.Do(t, "", "GET", "/metrics", "")
			if code != 200 || !strings.Contains(string(body), `rightsize_http_requests_total{code="2xx",route="GET /api/v1/contacts"}`) || !strings.Contains(string(body), "go_goroutines") {
				t.Errorf("metrics: %d %.400s", code, body)
			}
		})
	}
}

// SIGTERM (context cancellation) lets a request that is still sending its body
// finish and be answered before Serve returns.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Defaults()
	cfg.DB = t.TempDir() + "/r.db"
	cfg.ShutdownTimeout = 20 * time.Second
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := model.Workspace{Name: "W", Slug: "w"}
	if err := a.St.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	_, key, err := a.Auth.CreateAPIKey(ctx, model.Actor{Workspace: w.ID}, "k", "admin")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	active := make(chan struct{}, 1)
	a.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateActive {
			select {
			case active <- struct{}{}:
			default:
			}
		}
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/imports?object=contacts&filename=slow.csv", pr)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "text/csv")
	type result struct {
		code int
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{code: resp.StatusCode}
	}()
	if _, err := pw.Write([]byte("email\n")); err != nil {
		t.Fatal(err)
	}
	<-active // the server has read the request headers: the request is in flight
	cancel() // shutdown begins while the upload is still being sent
	for i := 0; i < 100; i++ {
		fmt.Fprintf(pw, "p%d@x.io\n", i)
	}
	pw.Close()
	r := <-got
	if r.err != nil || r.code != http.StatusAccepted {
		t.Fatalf("in-flight request: %d %v", r.code, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
