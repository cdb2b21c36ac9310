package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// The example of the Standard Webhooks reference test suite.
func TestSignStandardVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,bm9wZQ== "+got)
	at := time.Unix(1614265330, 0)
	if err := Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232314}`), at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232315}`), at, 5*time.Minute); err == nil {
		t.Fatal("a changed body verified")
	}
	if err := Verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232314}`), at.Add(10*time.Minute), 5*time.Minute); err == nil {
		t.Fatal("an old timestamp verified")
	}
}

func TestBackoffSchedule(t *testing.T) {
	// 30 s doubling: 30s 1m 2m 4m 8m 16m 32m 64m 128m 256m 512m, then 12 h.
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
		64 * time.Minute, 128 * time.Minute, 256 * time.Minute, 512 * time.Minute, 12 * time.Hour, 12 * time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 200 {
		n := nextAttempt(1, now, now.Add(RetryWindow))
		if d := n.Sub(now); d < 24*time.Second || d > 36*time.Second {
			t.Fatalf("first retry after %v, want 30s ±20%%", d)
		}
	}
	giveUp := now.Add(time.Hour)
	if n := nextAttempt(12, now, giveUp); n == nil || !n.Equal(giveUp) {
		t.Fatalf("a retry past the window: %v, want the window's end %v", n, giveUp)
	}
	if n := nextAttempt(3, giveUp, giveUp); n != nil {
		t.Fatalf("retry scheduled at %v after the window ended", n)
	}
	// Without jitter the attempts of one delivery are: 1 at once, 12 while
	// the delay doubles (30 s … 512 min, then the first 12 h: 29 h 3.5 min
	// in), then 12 h steps at 41 h, 53 h, 65 h and the last at 72 h: 17.
	at, attempts := time.Duration(0), 1
	for n := 1; ; n++ {
		at += Backoff(n)
		if at > RetryWindow {
			attempts++ // the last, at the window's end
			break
		}
		attempts++
	}
	if attempts != 17 {
		t.Fatalf("%d attempts in the window, want 17", attempts)
	}
}

func TestExcerpt(t *testing.T) {
	got := Excerpt([]byte("ok\x00\x1b[31m\xff<script>\u2028\n"), false)
	if want := `ok\x00\x1b[31m\xff<script>\u2028` + "\n"; got != want {
		t.Fatalf("excerpt %q, want %q", got, want)
	}
	long := Excerpt([]byte(strings.Repeat("é", 2000)), false)
	if len(long) > ExcerptBytes+len("…")+2 || !strings.HasSuffix(long, "…") {
		t.Fatalf("excerpt of 4000 bytes is %d bytes: %q…", len(long), long[:20])
	}
}

// clock is the real time moved forward by what a test added (events are
// stamped with the real time when emitted).
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// hook is a loopback receiver recording what it got and answering status.
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	status atomic.Int64
	body   string
}

type received struct {
	header http.Header
	body   []byte
}

func newHook(t *testing.T) *hook {
	h := &hook{body: `{"ok":true}`}
	h.status.Store(200)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, received{r.Header.Clone(), b})
		h.mu.Unlock()
		w.WriteHeader(int(h.status.Load()))
		_, _ = io.WriteString(w, h.body)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

type fixture struct {
	st    *store.Store
	svc   *Service
	clk   *clock
	ws    int64
	other int64
	act   model.Actor
}

func testClient() *safehttp.Client {
	c := safehttp.New()
	c.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	c.Timeout = 5 * time.Second
	return c
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	ctx := context.Background()
	f := &fixture{st: st, clk: &clock{}}
	f.svc = &Service{St: st, HTTP: testClient(), Key: []byte("install secret"), Now: f.clk.now}
	var a, b model.Workspace
	err := st.InTx(ctx, func(q store.Q) error {
		a = model.Workspace{Name: "Alpha", Slug: "alpha", Currency: "USD"}
		b = model.Workspace{Name: "Beta", Slug: "beta", Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &a); err != nil {
			return err
		}
		return q.CreateWorkspace(ctx, &b)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ws, f.other = a.ID, b.ID
	f.act = model.Actor{Workspace: a.ID, Label: "user:admin@alpha.example", Role: model.RoleAdmin}
	return f
}

func (f *fixture) endpoint(t *testing.T, url string, types ...string) Endpoint {
	t.Helper()
	in := Input{URL: &url}
	if types != nil {
		in.EventTypes = &types
	}
	e, err := f.svc.Create(context.Background(), f.act, in)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) emit(t *testing.T, typ string, data any) {
	t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(q store.Q) error { return Emit(ctx, q, f.ws, typ, data) }); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) deliveries(t *testing.T, endpoint int64) []store.WebhookDelivery {
	t.Helper()
	ds, err := f.svc.Deliveries(context.Background(), f.ws, endpoint, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (f *fixture) drain(t *testing.T, endpoint int64) DrainStats {
	t.Helper()
	st, err := f.svc.Drain(context.Background(), f.ws, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// drainJobs counts the webhook_drain jobs waiting in River's table.
func drainJobs(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.R.QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind='webhook_drain'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEndpointsAndSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		bad := []struct {
			in    Input
			field string
		}{
			{Input{}, "url"},
			{Input{URL: ptr("http://169.254.169.254/latest")}, "url"},
			{Input{URL: ptr("http://0x7f.1/")}, "url"},
			{Input{URL: ptr("https://hooks.example.com/x"), EventTypes: &[]string{"contact.created", "contact.exploded"}}, "event_types[1]"},
			{Input{URL: ptr("https://hooks.example.com/x"), EventTypes: &[]string{"deal.won", "deal.won"}}, "event_types[1]"},
			{Input{URL: ptr("https://hooks.example.com/x"), Description: ptr(strings.Repeat("d", 501))}, "description"},
		}
		for _, b := range bad {
			_, err := f.svc.Create(ctx, f.act, b.in)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != b.field {
				t.Errorf("create %+v: %v, want a field error on %s", b.in, err, b.field)
			}
		}
		e := f.endpoint(t, "https://hooks.example.com/rightsize", "deal.won", "contact.created")
		if !strings.HasPrefix(e.Secret, SecretPrefix) || len(e.Secret) < 40 {
			t.Fatalf("secret %q", e.Secret)
		}
		if strings.Join(e.EventTypes, ",") != "contact.created,deal.won" {
			t.Fatalf("event types %v", e.EventTypes)
		}
		// Shown once: reads never carry it, the database holds it sealed.
		got, err := f.svc.Get(ctx, f.ws, e.ID)
		if err != nil || got.Secret != "" {
			t.Fatalf("get: %+v %v", got, err)
		}
		list, _ := f.svc.List(ctx, f.ws)
		if len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list: %+v", list)
		}
		raw, _ := st.Read().GetWebhookEndpoint(ctx, f.ws, e.ID, false)
		if strings.Contains(raw.SecretEnc, strings.TrimPrefix(e.Secret, SecretPrefix)) || !strings.HasPrefix(raw.SecretEnc, "v1:") {
			t.Fatalf("stored secret is not sealed: %q", raw.SecretEnc)
		}
		if s, err := f.svc.open(f.ws, raw.SecretEnc); err != nil || s != e.Secret {
			t.Fatalf("open: %q %v", s, err)
		}
		if _, err := f.svc.open(f.other, raw.SecretEnc); err == nil {
			t.Fatal("a secret sealed for one workspace opened in another")
		}
		other := &Service{St: st, HTTP: testClient(), Key: []byte("another install")}
		if _, err := other.open(f.ws, raw.SecretEnc); err == nil {
			t.Fatal("a secret opened under another install key")
		}
		// Another workspace sees nothing of it.
		if _, err := f.svc.Get(ctx, f.other, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign get: %v", err)
		}
		bAct := model.Actor{Workspace: f.other, Role: model.RoleAdmin, Label: "user:b"}
		if _, err := f.svc.Update(ctx, bAct, e.ID, Input{Description: ptr("hijacked")}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign update: %v", err)
		}
		if err := f.svc.Delete(ctx, bAct, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign delete: %v", err)
		}
		if _, err := f.svc.Deliveries(ctx, f.other, e.ID, 10); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign deliveries: %v", err)
		}
		up, err := f.svc.Update(ctx, f.act, e.ID, Input{Enabled: ptr(false), EventTypes: &[]string{}})
		if err != nil || up.Enabled || up.DisabledReason != "disabled by an admin" || len(up.EventTypes) != 0 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if err := f.svc.Delete(ctx, f.act, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Get(ctx, f.ws, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted endpoint: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestEmitDeliverSigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		h := newHook(t)
		all := f.endpoint(t, h.srv.URL+"/all")
		dealsOnly := f.endpoint(t, h.srv.URL+"/deals", DealWon)
		// No change, no event: a rolled back transaction leaves nothing.
		boom := errors.New("rolled back")
		err := st.InTx(ctx, func(q store.Q) error {
			if err := Emit(ctx, q, f.ws, ContactCreated, map[string]any{"id": 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || len(f.deliveries(t, all.ID)) != 0 || drainJobs(t, st) != 0 {
			t.Fatalf("a rolled back emit left deliveries or jobs (err %v)", err)
		}
		if err := Emit(ctx, st.Read(), f.ws, ContactCreated, nil); err == nil {
			t.Fatal("Emit outside a transaction did not fail")
		}
		// Two events in one transaction: one drain job for the endpoint.
		err = st.InTx(ctx, func(q store.Q) error {
			if err := Emit(ctx, q, f.ws, ContactCreated, map[string]any{"id": 7, "email": "ann@acme.example"}); err != nil {
				return err
			}
			return Emit(ctx, q, f.ws, ContactUpdated, map[string]any{"id": 7})
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := drainJobs(t, st); n != 1 {
			t.Fatalf("%d drain jobs, want 1 for one endpoint in one transaction", n)
		}
		if len(f.deliveries(t, dealsOnly.ID)) != 0 {
			t.Fatal("a deal.won-only endpoint got contact events")
		}
		// The other workspace's endpoint hears nothing of A's events.
		bAct := model.Actor{Workspace: f.other, Role: model.RoleAdmin}
		bEP, err := f.svc.Create(ctx, bAct, Input{URL: ptr(h.srv.URL + "/b")})
		if err != nil {
			t.Fatal(err)
		}
		if st := f.drain(t, all.ID); st.Succeeded != 2 {
			t.Fatalf("drain: %+v", st)
		}
		reqs := h.requests()
		if len(reqs) != 2 {
			t.Fatalf("receiver got %d requests, want 2", len(reqs))
		}
		types := map[string]bool{}
		for _, r := range reqs {
			if err := Verify(all.Secret, r.header, r.body, time.Now(), 5*time.Minute); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if !strings.HasPrefix(r.header.Get("webhook-id"), "msg_") || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("headers %v", r.header)
			}
			var env struct {
				Type      string         `json:"type"`
				Timestamp time.Time      `json:"timestamp"`
				Data      map[string]any `json:"data"`
			}
			if err := json.Unmarshal(r.body, &env); err != nil || env.Data["id"] != float64(7) || env.Timestamp.IsZero() {
				t.Fatalf("payload %s (%v)", r.body, err)
			}
			types[env.Type] = true
		}
		if !types[ContactCreated] || !types[ContactUpdated] {
			t.Fatalf("types %v", types)
		}
		ds := f.deliveries(t, all.ID)
		for _, d := range ds {
			if d.State != store.WebhookSucceeded || d.Attempts != 1 || len(d.Log) != 1 || d.Log[0].StatusCode != 200 || d.Log[0].Excerpt != `{"ok":true}` || d.Log[0].Trigger != "auto" {
				t.Fatalf("delivery %+v", d)
			}
		}
		if bd, err := f.svc.Deliveries(ctx, f.other, bEP.ID, 10); err != nil || len(bd) != 0 {
			t.Fatalf("workspace B's endpoint got workspace A's events: %v %v", bd, err)
		}
		// Nothing due: another drain sends nothing.
		if st := f.drain(t, all.ID); st.Attempts != 0 {
			t.Fatalf("second drain: %+v", st)
		}
		// Redelivery: the same webhook-id again, logged as manual.
		d0 := ds[0]
		if _, err := f.svc.Redeliver(ctx, f.act, all.ID, d0.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Redeliver(ctx, bAct, all.ID, d0.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign redeliver: %v", err)
		}
		f.drain(t, all.ID)
		reqs = h.requests()
		if len(reqs) != 3 || reqs[2].header.Get("webhook-id") != d0.MsgID {
			t.Fatalf("redelivery: %d requests, last id %s want %s", len(reqs), reqs[len(reqs)-1].header.Get("webhook-id"), d0.MsgID)
		}
		d, _ := st.Read().WebhookDeliveryLog(ctx, f.ws, d0.ID)
		if len(d) != 2 || d[1].Trigger != "manual" || d[1].Attempt != 2 {
			t.Fatalf("log after redelivery: %+v", d)
		}
	})
}

func TestRetryThenGiveUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		h := newHook(t)
		h.status.Store(503)
		h.body = "down\x07 for <maintenance>"
		e := f.endpoint(t, h.srv.URL+"/flaky")
		f.emit(t, DealWon, map[string]any{"id": 3})
		f.drain(t, e.ID)
		d := f.deliveries(t, e.ID)[0]
		if d.State != store.WebhookRetrying || d.Attempts != 1 || d.NextAttemptAt == nil || len(d.Log) != 1 {
			t.Fatalf("after a 503: %+v", d)
		}
		if wait := d.NextAttemptAt.Sub(d.Log[0].StartedAt); wait < 24*time.Second || wait > 37*time.Second {
			t.Fatalf("next attempt in %v, want 30s ±20%%", wait)
		}
		if a := d.Log[0]; a.StatusCode != 503 || a.Outcome != "failed" || a.Excerpt != `down\x07 for <maintenance>` {
			t.Fatalf("log %+v", a)
		}
		// Not due yet: nothing is sent.
		if st := f.drain(t, e.ID); st.Attempts != 0 || len(h.requests()) != 1 {
			t.Fatalf("an early drain sent: %+v", st)
		}
		f.clk.add(40 * time.Second)
		f.drain(t, e.ID)
		if d = f.deliveries(t, e.ID)[0]; d.Attempts != 2 || d.State != store.WebhookRetrying {
			t.Fatalf("second attempt: %+v", d)
		}
		// After the window: the last failure is final.
		f.clk.add(RetryWindow)
		f.drain(t, e.ID)
		d = f.deliveries(t, e.ID)[0]
		if d.State != store.WebhookFailed || d.Attempts != 3 || d.FinishedAt == nil || len(d.Log) != 3 {
			t.Fatalf("after the window: %+v", d)
		}
		if n := len(h.requests()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
		// The same webhook-id on every attempt.
		for _, r := range h.requests() {
			if r.header.Get("webhook-id") != d.MsgID {
				t.Fatalf("attempt with id %s, want %s", r.header.Get("webhook-id"), d.MsgID)
			}
		}
	})
}

func TestGoneDisablesEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		h := newHook(t)
		h.status.Store(410)
		e := f.endpoint(t, h.srv.URL+"/gone")
		f.svc.MaxInFlight = 1
		f.emit(t, ContactCreated, map[string]any{"id": 1})
		f.emit(t, ContactCreated, map[string]any{"id": 2})
		f.drain(t, e.ID)
		got, _ := f.svc.Get(ctx, f.ws, e.ID)
		if got.Enabled || !strings.Contains(got.DisabledReason, "410 Gone") || got.DisabledAt == nil {
			t.Fatalf("after a 410: %+v", got)
		}
		ds := f.deliveries(t, e.ID)
		if len(ds) != 2 || len(h.requests()) != 1 {
			t.Fatalf("%d deliveries, %d requests: the second should fail without a call", len(ds), len(h.requests()))
		}
		for _, d := range ds {
			if d.State != store.WebhookFailed {
				t.Fatalf("delivery %+v", d)
			}
		}
		if !strings.Contains(ds[0].LastError, "endpoint disabled") || ds[0].Attempts != 0 {
			t.Fatalf("the queued delivery: %+v", ds[0])
		}
		// A disabled endpoint gets no new events.
		f.emit(t, ContactCreated, map[string]any{"id": 3})
		if n := len(f.deliveries(t, e.ID)); n != 2 {
			t.Fatalf("%d deliveries after another event", n)
		}
		// The test button still reaches it (to check it before enabling).
		h.status.Store(204)
		res, err := f.svc.SendTest(ctx, f.ws, e.ID)
		if err != nil || res.Attempt.Outcome != "succeeded" || res.Attempt.StatusCode != 204 {
			t.Fatalf("test: %+v %v", res, err)
		}
		var env Envelope
		_ = json.Unmarshal(h.requests()[1].body, &env)
		if env.Type != TestEvent || Verify(e.Secret, h.requests()[1].header, h.requests()[1].body, time.Now(), time.Minute) != nil {
			t.Fatalf("test event %s", h.requests()[1].body)
		}
	})
}

// TestDefaultClientRefusesLoopbackEndpoint: with the production client (no
// test allow-list) an endpoint on loopback is never called, by a delivery or
// by the test button.
func TestDefaultClientRefusesLoopbackEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		h := newHook(t)
		e := f.endpoint(t, h.srv.URL+"/x")
		f.svc.HTTP = safehttp.New()
		if _, err := f.svc.Create(ctx, f.act, Input{URL: ptr(h.srv.URL + "/y")}); err == nil {
			t.Fatal("the default client accepted a loopback URL")
		}
		res, err := f.svc.SendTest(ctx, f.ws, e.ID)
		if err != nil || res.Attempt.Outcome != "blocked" {
			t.Fatalf("test: %+v %v", res, err)
		}
		f.emit(t, ContactCreated, map[string]any{"id": 1})
		f.drain(t, e.ID)
		d := f.deliveries(t, e.ID)[0]
		if d.Log[0].Outcome != "blocked" || d.State != store.WebhookRetrying {
			t.Fatalf("delivery: %+v", d)
		}
		if n := len(h.requests()); n != 0 {
			t.Fatalf("the loopback receiver got %d requests", n)
		}
	})
}

// TestConcurrencyLimit: two drains of one endpoint (two processes) hold at
// most MaxInFlight calls at once, and every delivery is sent exactly once.
func TestConcurrencyLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc.MaxInFlight = 2
		var inflight, peak atomic.Int64
		arrived := make(chan string, 16)
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inflight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			arrived <- r.Header.Get("webhook-id")
			<-release
			inflight.Add(-1)
			w.WriteHeader(200)
		}))
		defer srv.Close()
		e := f.endpoint(t, srv.URL+"/slow")
		const events = 6
		for i := range events {
			f.emit(t, ContactCreated, map[string]any{"id": i})
		}
		other := &Service{St: st, HTTP: testClient(), Key: f.svc.Key, Now: f.clk.now, MaxInFlight: 2}
		done := make(chan error, 2)
		for _, s := range []*Service{f.svc, other} {
			go func() { _, err := s.Drain(context.Background(), f.ws, e.ID); done <- err }()
		}
		seen := map[string]int{}
		seen[<-arrived]++
		seen[<-arrived]++ // two in flight: the limit
		for received := 2; received < events; received++ {
			release <- struct{}{}
			seen[<-arrived]++
		}
		release <- struct{}{}
		release <- struct{}{}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if p := peak.Load(); p != 2 {
			t.Fatalf("peak of %d calls in flight, want 2", p)
		}
		if len(seen) != events {
			t.Fatalf("%d distinct events received, want %d: %v", len(seen), events, seen)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("event %s sent %d times", id, n)
			}
		}
		for _, d := range f.deliveries(t, e.ID) {
			if d.State != store.WebhookSucceeded || d.Attempts != 1 {
				t.Fatalf("delivery %+v", d)
			}
		}
	})
}

// TestStaleClaimIsUnknownThenRetried: a worker that claimed an attempt and
// died before the call leaves the delivery in sending; the sweep logs that
// attempt as unknown and the delivery is sent by a later attempt. Nothing was
// sent for the dead attempt, and the next one is attempt 2.
func TestStaleClaimIsUnknownThenRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		h := newHook(t)
		e := f.endpoint(t, h.srv.URL+"/x")
		f.emit(t, ContactCreated, map[string]any{"id": 1})
		c, err := f.svc.claimNext(ctx, f.ws, e.ID) // …and the process dies here
		if err != nil || c == nil {
			t.Fatalf("claim: %v %v", c, err)
		}
		// A drain meanwhile finds nothing to send (the claim holds it).
		if st := f.drain(t, e.ID); st.Attempts != 0 {
			t.Fatalf("a claimed delivery was sent again: %+v", st)
		}
		if s, _ := f.svc.Sweep(ctx); s.Unknown != 0 {
			t.Fatal("a fresh claim was swept")
		}
		f.clk.add(f.svc.HTTP.Timeout + StaleGrace + time.Second)
		s, err := f.svc.Sweep(ctx)
		if err != nil || s.Unknown != 1 {
			t.Fatalf("sweep: %+v %v", s, err)
		}
		d := f.deliveries(t, e.ID)[0]
		if d.State != store.WebhookRetrying || d.Log[0].Outcome != "unknown" || d.Log[0].Attempt != 1 {
			t.Fatalf("after the sweep: %+v", d)
		}
		// The dead worker's late finish changes nothing.
		if err := f.svc.finish(ctx, c, store.WebhookAttempt{Attempt: 1, Outcome: "succeeded", StatusCode: 200}); err != nil {
			t.Fatal(err)
		}
		if d2 := f.deliveries(t, e.ID)[0]; d2.State != store.WebhookRetrying || len(d2.Log) != 1 {
			t.Fatalf("a swept claim was finished: %+v", d2)
		}
		f.clk.add(time.Minute)
		f.drain(t, e.ID)
		d = f.deliveries(t, e.ID)[0]
		if d.State != store.WebhookSucceeded || d.Attempts != 2 || len(h.requests()) != 1 {
			t.Fatalf("after the retry: %+v, %d requests", d, len(h.requests()))
		}
		// A redelivery of a delivery being sent is refused.
		f.emit(t, ContactCreated, map[string]any{"id": 2})
		c2, _ := f.svc.claimNext(ctx, f.ws, e.ID)
		if _, err := f.svc.Redeliver(ctx, f.act, e.ID, c2.delivery.ID); !errors.Is(err, ErrDeliveryBusy) {
			t.Fatalf("redeliver while sending: %v", err)
		}
	})
}

func TestPausedSendsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		h := newHook(t)
		e := f.endpoint(t, h.srv.URL+"/x")
		f.emit(t, ContactCreated, map[string]any{"id": 1})
		err := st.InTx(ctx, func(q store.Q) error {
			return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, Value: "restored", SetAt: store.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := f.drain(t, e.ID); !s.Paused || len(h.requests()) != 0 {
			t.Fatalf("paused drain: %+v, %d requests", s, len(h.requests()))
		}
		_ = st.InTx(ctx, func(q store.Q) error { _, err := q.AdminClearFlag(ctx, store.FlagSendingPaused); return err })
		if n, err := f.svc.KickOverdue(ctx, f.clk.now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("kick: %d %v", n, err)
		}
		if s := f.drain(t, e.ID); s.Succeeded != 1 {
			t.Fatalf("after resuming: %+v", s)
		}
	})
}
