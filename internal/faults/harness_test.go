package faults_test

// The fault-injection harness (issue 8, docs/reliability.md). It builds the
// rightsize binary once (-tags faultharness: webhooks may reach 127.0.0.1),
// runs `rightsize serve` as a subprocess on a fresh SQLite file and on a fresh
// PostgreSQL database, with a real SMTP server and a webhook receiver on
// loopback, drives work through the API, lets an armed fault point SIGKILL the
// process (RIGHTSIZE_FAULTS), starts it again and checks the invariants:
// nothing lost, nothing sent twice, ambiguous cases visible to an operator.
//
// `go test ./internal/faults` runs every scenario once per store. More runs,
// each with its own seed (which picks the hit a point kills at):
//
//	RIGHTSIZE_FAULT_RUNS=20 RIGHTSIZE_FAULT_SEED=1 RIGHTSIZE_FAULT_REPORT=/tmp/table.md \
//	  go test ./internal/faults -run TestFaultInjection -timeout 2h
//
// The report is the markdown table of docs/reliability.md.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/webhooks"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// ---- the binary ----------------------------------------------------------------------

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// binary builds cmd/rightsize once per test process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rightsize-faults-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		binPath = filepath.Join(dir, "rightsize")
		cmd := exec.Command("go", "build", "-tags", "faultharness", "-o", binPath, "./cmd/rightsize")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// ---- settings ------------------------------------------------------------------------

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// ---- the rig: one fresh database, SMTP server and workspace per run ------------------

const (
	// importBatch is the import batch size of the harness's serve processes
	// (production: 5,000), so an import has several batches in little time.
	importBatch = 200
	smtpConns   = 2
	sendGroup   = 10 // mail.Service.Group's default
	adminEmail  = "admin@faults.example"
	password    = "correct horse battery staple 8"
)

type rig struct {
	t    *testing.T
	kind store.Kind
	rng  *rand.Rand
	bin  string
	dsn  string
	dir  string
	smtp *smtptest.Server
	ws   int64
	key  string // admin API key
	st   *store.Store
	cur  *proc
	n    int
	t0   time.Time
}

// mark logs how long the run has taken so far (-v shows where time goes).
func (r *rig) mark(what string) { r.t.Logf("%6.2fs %s", time.Since(r.t0).Seconds(), what) }

// golden is a database seeded once per store and test process — a workspace,
// its sender, an admin and an API key — that every run copies (SQLite: the
// file; PostgreSQL: CREATE DATABASE … TEMPLATE), so a run does not pay for
// migrations and a password hash.
type golden struct {
	dsn   string
	admin string // PostgreSQL: the server's maintenance database URL
	ws    int64
	key   string
}

func makeGolden(t *testing.T, kind store.Kind) *golden {
	t.Helper()
	g := &golden{}
	if kind == store.SQLite {
		g.dsn = filepath.Join(t.TempDir(), "golden.db")
	} else {
		g.dsn = storetest.NewPostgresDSN(t)
		u, err := url.Parse(g.dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/postgres"
		g.admin = u.String()
	}
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DB = g.dsn
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ws := model.Workspace{Name: "Faults", Slug: "faults", Currency: "USD"}
	err = a.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &ws); err != nil {
			return err
		}
		return q.SaveMailSender(ctx, ws.ID, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.example", PostalAddress: "1 Engine St"})
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Auth.CreateUser(ctx, adminEmail, "Admin", password, ws.ID, model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	uid := u.ID
	if _, g.key, err = a.Auth.CreateAPIKey(ctx, model.Actor{Workspace: ws.ID, UserID: &uid}, "faults", model.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	g.ws = ws.ID
	return g
}

// copyTo makes a run's own database from g.
func (g *golden) copyTo(t *testing.T, kind store.Kind, dir string) string {
	t.Helper()
	if kind == store.SQLite {
		// The seeding app closed its connections: the WAL is checkpointed
		// into the file, which is the whole database.
		b, err := os.ReadFile(g.dsn)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "rightsize.db")
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if wal, err := os.ReadFile(g.dsn + "-wal"); err == nil && len(wal) > 0 {
			if err := os.WriteFile(dst+"-wal", wal, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dst
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, g.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	gu, _ := url.Parse(g.dsn)
	name := fmt.Sprintf("rs_test_faults_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+strings.TrimPrefix(gu.Path, "/")); err != nil {
		t.Fatalf("create run database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), g.admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	gu.Path = "/" + name
	return gu.String()
}

var dbSeq atomic.Int64

func newRig(t *testing.T, kind store.Kind, seed uint64, g *golden) *rig {
	t.Helper()
	r := &rig{t: t, kind: kind, rng: rand.New(rand.NewPCG(seed, 0x5eed)), bin: binary(t), dir: t.TempDir(), t0: time.Now(), ws: g.ws, key: g.key}
	r.dsn = g.copyTo(t, kind, r.dir)
	srv, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r.smtp = srv
	// The test's own handle, for reading state (and, on PostgreSQL, for
	// moving time on; see age).
	if r.st, err = store.Open(context.Background(), r.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	r.mark("database ready")
	return r
}

// seedApp opens the app in this process (no workers) for seeding; only while
// no serve process runs.
func (r *rig) seedApp() *app.App {
	r.t.Helper()
	if r.cur != nil && !r.cur.exited() {
		r.t.Fatal("seedApp while a serve process runs")
	}
	cfg := config.Defaults()
	cfg.DB = r.dsn
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// ---- serve processes -------------------------------------------------------------------

type proc struct {
	cmd  *exec.Cmd
	url  string
	name string // PostgreSQL application_name
	log  *syncBuf
	done chan struct{}
	err  error
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start runs `rightsize serve` with the fault spec armed ("" = none) and
// waits until /readyz answers.
func (r *rig) start(spec string) *proc {
	r.t.Helper()
	r.n++
	p := &proc{name: fmt.Sprintf("rs_faults_%d_%d", os.Getpid(), r.n), log: &syncBuf{}, done: make(chan struct{})}
	dsn := r.dsn
	if r.kind == store.Postgres {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "application_name=" + p.name
	}
	host, port, _ := strings.Cut(r.smtp.Addr, ":")
	cmd := exec.Command(r.bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--workers", "4", "--log-level", "info")
	cmd.Env = append(os.Environ(), "RIGHTSIZE_CONFIG=", faults.EnvVar+"="+spec, "RIGHTSIZE_HARNESS_LOOPBACK_WEBHOOKS=1", "RIGHTSIZE_HARNESS_IMPORT_BATCH="+strconv.Itoa(importBatch),
		"RIGHTSIZE_SMTP_HOST="+host, "RIGHTSIZE_SMTP_PORT="+port, "RIGHTSIZE_SMTP_TLS=none", "RIGHTSIZE_SMTP_CONNS="+strconv.Itoa(smtpConns),
		"RIGHTSIZE_BASE_URL=https://crm.faults.example")
	cmd.Stderr = p.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	p.cmd = cmd
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Rightsize is running at "); ok && !sent {
				_, after, _ := strings.Cut(rest, "(listening on ")
				addr, _, _ := strings.Cut(after, ",")
				ready <- "http://" + addr
				sent = true
			}
		}
		if !sent {
			close(ready)
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	r.t.Cleanup(func() {
		if !p.exited() {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if r.t.Failed() {
			r.t.Logf("serve %s log:\n%s", p.name, p.log.String())
		}
	})
	select {
	case u, ok := <-ready:
		if !ok {
			<-p.done
			r.t.Fatalf("serve exited before it was ready (%v):\n%s", p.err, p.log.String())
		}
		p.url = u
	case <-time.After(time.Minute):
		r.t.Fatalf("serve not ready within a minute:\n%s", p.log.String())
	}
	r.poll("serve /readyz", time.Minute, func() bool {
		res, err := http.Get(p.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	r.cur = p
	r.mark("serve ready " + spec)
	return p
}

// waitKilled waits for the armed point to kill p and checks it was that.
func (r *rig) waitKilled(p *proc, point string, within time.Duration) {
	r.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		r.t.Fatalf("serve was not killed at %s within %s:\n%s", point, within, p.log.String())
	}
	var ee *exec.ExitError
	ws, ok := syscall.WaitStatus(0), false
	if errors.As(p.err, &ee) {
		ws, ok = ee.Sys().(syscall.WaitStatus)
	}
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL || !strings.Contains(p.log.String(), "faults: SIGKILL at "+point) {
		r.t.Fatalf("serve ended with %v, want a SIGKILL at %s:\n%s", p.err, point, p.log.String())
	}
	if r.kind == store.Postgres {
		r.endBackends(p.name)
	}
	r.mark("killed at " + point)
}

// stop sends SIGTERM and returns the exit code.
func (r *rig) stop(p *proc, within time.Duration) int {
	r.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(within):
		r.t.Fatalf("serve did not exit within %s of SIGTERM:\n%s", within, p.log.String())
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	r.t.Fatal(p.err)
	return -1
}

// endBackends waits until the killed process's PostgreSQL backends are gone
// (terminating them), so what it sent last is settled before the next start,
// as after PostgreSQL noticed the dead connections.
func (r *rig) endBackends(name string) {
	r.t.Helper()
	for range 50 {
		var left int
		if err := r.st.R.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&left); err != nil {
			r.t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if _, err := r.st.R.Exec(`SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`, name); err != nil {
			r.t.Fatal(err)
		}
	}
	r.t.Fatal("the killed process's PostgreSQL backends did not go away")
}

// age moves PostgreSQL's clock past the waits another process makes before it
// may assume a dead one is dead: River's leader lease and stuck-job rescue
// (RescueStuckJobsAfter, 2 h here), the send ledger's RecoverStale (10 min),
// the webhook claim timeout and the Idempotency-Key lock (10 min). On SQLite
// nothing is aged: one process owns the file, and its start repairs
// everything at once (that is what the SQLite runs test).
func (r *rig) age() {
	r.t.Helper()
	if r.kind != store.Postgres {
		return
	}
	for _, q := range []string{
		`DELETE FROM river_leader`,
		`UPDATE river_job SET attempted_at = attempted_at - interval '3 hours' WHERE state = 'running'`,
		`UPDATE send_ledger SET claimed_at = claimed_at - interval '1 hour', started_at = started_at - interval '1 hour' WHERE state IN ('claimed', 'smtp_started')`,
		`UPDATE webhook_deliveries SET claimed_at = claimed_at - interval '1 hour' WHERE state = 'sending'`,
		`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE status = 0`,
	} {
		if _, err := r.st.W.Exec(q); err != nil {
			r.t.Fatalf("age: %s: %v", q, err)
		}
	}
	// The periodic ticks that time would bring (the mail drain with its
	// recovery every 30 s, the webhook sweep every minute), due now.
	r.kick(mail.DeliverArgs{})
	r.kick(webhooks.SweepArgs{})
}

// kick inserts a job as its periodic schedule would (the harness does not
// wait 30 s or a minute for the tick).
func (r *rig) kick(args river.JobArgs) {
	r.t.Helper()
	rc, err := river.NewClient(r.st.RiverDriver(), &river.Config{})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := rc.Insert(context.Background(), args, nil); err != nil {
		r.t.Fatal(err)
	}
}

// retryDeferredNow makes deferred sends due now and starts a delivery run: the
// retry after the backoff, without waiting a minute.
func (r *rig) retryDeferredNow() {
	r.t.Helper()
	if _, err := r.st.W.Exec(`UPDATE send_ledger SET due_at = $1 WHERE state = 'deferred'`, store.Now().Add(-time.Second)); err != nil {
		r.t.Fatal(err)
	}
	r.kick(mail.DeliverNowArgs{})
}

func (r *rig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.st.R.QueryRow(q, args...).Scan(&n); err != nil {
		r.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// poll checks cond every 50 ms until it holds, failing at the deadline (the
// wait is for another process; there is nothing to signal on).
func (r *rig) poll(what string, within time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			if r.cur != nil {
				r.t.Logf("serve log:\n%s", r.cur.log.String())
			}
			r.t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- the API ---------------------------------------------------------------------------

var client = &http.Client{Timeout: time.Minute}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// call sends an API request with the admin key; hdr are extra header pairs.
func (r *rig) call(method, path, ctype string, body io.Reader, hdr ...string) (answer, error) {
	req, err := http.NewRequest(method, r.cur.url+path, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b}, err
}

// must is call that fails the test on a transport error or another status.
func (r *rig) must(method, path, body string, want int, hdr ...string) answer {
	r.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	a, err := r.call(method, path, "application/json", rd, hdr...)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	if a.status != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, a.status, a.body, want)
	}
	return a
}

// ---- the report ------------------------------------------------------------------------

// outcome is what one run of a scenario found: its figures (summed or
// ranged in the table) and a failure, if any.
type outcome struct {
	figures map[string]int
	failed  bool
}

type reportKey struct{ scenario, store string }

var (
	reportMu sync.Mutex
	report   = map[reportKey][]outcome{}
)

func record(scenario string, kind store.Kind, o outcome) {
	reportMu.Lock()
	defer reportMu.Unlock()
	k := reportKey{scenario, string(kind)}
	report[k] = append(report[k], o)
}

// writeReport writes the scenario × store × runs × outcome table.
func writeReport(path string, order []scenario, runs int, seed int, took time.Duration) error {
	reportMu.Lock()
	defer reportMu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "| scenario | store | runs | passed | outcome (figures over the runs: min–max, or total) |\n|---|---|---|---|---|\n")
	for _, sc := range order {
		for _, kind := range []string{"sqlite", "postgres"} {
			outs := report[reportKey{sc.name, kind}]
			if len(outs) == 0 {
				continue
			}
			passed := 0
			for _, o := range outs {
				if !o.failed {
					passed++
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %s |\n", sc.title, kind, len(outs), passed, summarize(outs, sc.figures))
		}
	}
	fmt.Fprintf(&b, "\n%d run(s) per scenario and store, seeds %d–%d, %s.\n", runs, seed, seed+runs-1, took.Round(time.Second))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// summarize renders the named figures of a scenario's runs: "name a–b" for a
// figure that varies, "name a" for one that does not; a name ending in "+"
// is totalled instead.
func summarize(outs []outcome, names []string) string {
	var parts []string
	for _, name := range names {
		total := strings.HasSuffix(name, "+")
		key := strings.TrimSuffix(name, "+")
		lo, hi, sum, seen := 0, 0, 0, false
		for _, o := range outs {
			v, ok := o.figures[key]
			if !ok {
				continue
			}
			if !seen || v < lo {
				lo = v
			}
			if !seen || v > hi {
				hi = v
			}
			sum += v
			seen = true
		}
		switch {
		case !seen:
		case total:
			parts = append(parts, fmt.Sprintf("%s %d (total)", key, sum))
		case lo == hi:
			parts = append(parts, fmt.Sprintf("%s %d", key, lo))
		default:
			parts = append(parts, fmt.Sprintf("%s %d–%d", key, lo, hi))
		}
	}
	return strings.Join(parts, "; ")
}

// ---- the test --------------------------------------------------------------------------

// scenario is one fault; run drives it on a fresh rig and returns its
// figures (failing the test on a broken invariant).
type scenario struct {
	name, title string
	// extended: only with RIGHTSIZE_FAULT_RUNS set (the report's runs), not
	// in every `go test`.
	extended bool
	// figures named in the table, in order.
	figures []string
	run     func(r *rig) map[string]int
}

func TestFaultInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and SIGKILLs serve processes")
	}
	runs := envInt("RIGHTSIZE_FAULT_RUNS", 1)
	seed := envInt("RIGHTSIZE_FAULT_SEED", 1)
	started := time.Now()
	binary(t)
	t.Cleanup(func() {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
	})
	scs := scenarios()
	if os.Getenv("RIGHTSIZE_FAULT_RUNS") == "" {
		var keep []scenario
		for _, sc := range scs {
			if !sc.extended {
				keep = append(keep, sc)
			}
		}
		scs = keep
	}
	if only := os.Getenv("RIGHTSIZE_FAULT_ONLY"); only != "" {
		var keep []scenario
		for _, sc := range scs {
			if strings.Contains(","+only+",", ","+sc.name+",") {
				keep = append(keep, sc)
			}
		}
		scs = keep
	}
	t.Run("group", func(t *testing.T) {
		for _, kind := range []store.Kind{store.SQLite, store.Postgres} {
			t.Run(string(kind), func(t *testing.T) {
				if kind == store.Postgres {
					// Skips with the reason when no PostgreSQL answers.
					storetest.NewPostgresDSN(t)
				}
				t.Parallel()
				g := makeGolden(t, kind)
				for _, sc := range scs {
					for i := range runs {
						s := uint64(seed + i)
						t.Run(fmt.Sprintf("%s/seed%d", sc.name, s), func(t *testing.T) {
							o := outcome{}
							defer func() {
								o.failed = t.Failed()
								record(sc.name, kind, o)
							}()
							o.figures = sc.run(newRig(t, kind, s, g))
							t.Logf("%s %s seed %d: %v", sc.name, kind, s, o.figures)
						})
					}
				}
			})
		}
	})
	if path := os.Getenv("RIGHTSIZE_FAULT_REPORT"); path != "" {
		if err := writeReport(path, scs, runs, seed, time.Since(started)); err != nil {
			t.Fatal(err)
		}
	}
}
