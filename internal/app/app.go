// Package app is the composition root: it opens the store, builds the services and
// the River job client, mounts the HTTP surfaces, and starts and stops them in order.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rightsize/rightsize/internal/api"
	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/ops"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"github.com/rightsize/rightsize/internal/success"
	"github.com/rightsize/rightsize/internal/tracking"
	"github.com/rightsize/rightsize/internal/web"
	"github.com/rightsize/rightsize/internal/webhooks"
	"github.com/riverqueue/river"
)

// App is a running Rightsize: store, services, jobs and HTTP.
type App struct {
	Cfg     config.Config
	St      *store.Store
	Auth    *auth.Service
	CRM     *crm.Service
	Imports *importer.Service
	Routing *routing.Service
	Scoring *scoring.Service
	// Assignment picks reps and runs SLA clocks; Desk is the LDR desk on top of it.
	Assignment *assignment.Service
	Desk       *desk.Service
	Forms      *forms.Service
	// Mail is the sending layer (docs/mail.md).
	Mail *mail.Service
	// Tracking owns tracking sites and stitching; TrackingIngest is the
	// group-commit writer behind POST /t/e (docs/tracking.md).
	Tracking *tracking.Service
	// Pipeline owns pipelines, stage gates and buying committees; crm enforces
	// the gates on every deal write (docs/pipeline.md).
	Pipeline       *pipeline.Service
	TrackingIngest *tracking.Ingester
	// Sequences runs nurture sequences (docs/sequences.md).
	Sequences *sequences.Service
	// Webhooks sends the workspaces' events to their endpoints
	// (docs/webhooks.md); Sending is the pause a restore leaves
	// (docs/reliability.md).
	Webhooks *webhooks.Service
	Sending  *ops.Sending
	River    *river.Client[*sql.Tx]
	Reg      *prometheus.Registry
	Log      *slog.Logger
	// ConnState, when set, observes HTTP connection states (tests use it to know a
	// request is in flight).
	ConnState func(net.Conn, http.ConnState)
	// Timeouts bound slow clients (zero fields: DefaultTimeouts).
	Timeouts Timeouts
	ready    bool
	// workers: this process works River jobs (Open's withWorkers).
	workers     bool
	jobsStarted atomic.Int32

	// Econ keeps the unit economics inputs; Staffing the staffing planner
	// (docs/economics.md).
	Econ     *economics.Service
	Staffing *staffing.Service
	// Partners keeps outsourced partners, their statements and actual costs
	// (docs/economics.md, Partners); the staffing planner reads their actuals.
	Partners *partners.Service
	// Success opens the CSM handoff of a won deal and keeps customer health
	// (docs/success.md).
	Success *success.Service
	// Subscriptions keeps customers' subscriptions, MRR movements and
	// renewals (docs/subscriptions.md).
	Subscriptions *subscriptions.Service
}

// Open opens and migrates the store and builds every service. withWorkers decides
// whether this process works jobs (serve) or only enqueues them (CLI commands).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, withWorkers bool) (*App, error) {
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Role == "" {
		cfg.Role = config.RoleAll
	}
	if cfg.Role != config.RoleAll && st.Kind != store.Postgres && withWorkers {
		st.Close()
		return nil, fmt.Errorf("role %q needs PostgreSQL: a SQLite file is served by one process, which runs HTTP and jobs (--role all)", cfg.Role)
	}
	// A web node inserts jobs but never works them.
	withWorkers = withWorkers && cfg.Role != config.RoleWeb
	a := &App{Cfg: cfg, St: st, Log: log, Reg: prometheus.NewRegistry(), workers: withWorkers}
	a.Auth = &auth.Service{St: st}
	// Accounts are routed (segment → motion) in the transaction that writes them,
	// whether through the API, the UI or an import (docs/routing.md).
	a.Routing = &routing.Service{St: st}
	// A contact that becomes an MQL (a scoring promotion or a lifecycle change
	// through crm) is handed to an LDR in the same transaction (docs/assignment.md).
	a.Assignment = &assignment.Service{St: st}
	a.CRM = &crm.Service{St: st, Router: a.Routing, MQL: a.Assignment}
	// Lifecycle changes and segment routing enrol contacts in sequences, and
	// becoming a customer exits them, in the same transaction. The mail layer
	// plans their emails and answers opened/clicked; tracking answers visited
	// (internal/app/wiring.go).
	a.Sequences = &sequences.Service{St: st, CRM: a.CRM, Assign: a.Assignment}
	a.CRM.Lifecycle, a.CRM.Segments = a.Sequences, a.Sequences
	// A deal won through crm opens its subscription (the account becomes a
	// customer) in the deal's transaction; an account merge carries the
	// loser's subscriptions over (docs/subscriptions.md).
	a.Subscriptions = &subscriptions.Service{St: st}
	a.CRM.Won = append(a.CRM.Won, a.Subscriptions)
	a.CRM.Merged = append(a.CRM.Merged, a.Subscriptions)
	a.Imports = &importer.Service{St: st, CRM: a.CRM, Router: a.Routing, Subs: a.Subscriptions, BatchSize: harnessImportBatch}
	a.Scoring = &scoring.Service{St: st, MQL: a.Assignment, Lifecycle: a.Sequences}
	a.Sequences.Scores = a.Scoring
	a.Desk = &desk.Service{St: st, CRM: a.CRM, Scoring: a.Scoring, Assignment: a.Assignment, Exits: a.Sequences}
	a.Tracking = &tracking.Service{St: st, Scoring: a.Scoring}
	a.Pipeline = &pipeline.Service{St: st}
	a.Econ = &economics.Service{St: st}
	a.Partners = &partners.Service{St: st, Econ: a.Econ}
	a.Staffing = &staffing.Service{St: st, Econ: a.Econ, Partners: a.Partners}
	// The economics recommendations compare the staffing planner's scenarios
	// (docs/economics.md); staffing imports economics, so the figures come in here.
	a.Econ.Scenarios = staffingCosts(a.Staffing)
	// A won deal opens its CSM handoff, checklist and first health score in
	// the deal's transaction (docs/success.md).
	a.Success = &success.Service{St: st, Assign: a.Assignment}
	a.CRM.Won = append(a.CRM.Won, a.Success)
	var tr *mail.Transport
	if cfg.SMTPHost != "" {
		if tr, err = mail.NewTransport(cfg); err != nil {
			st.Close()
			return nil, err
		}
	}
	if a.Mail, err = mail.New(ctx, st, mail.Options{Transport: tr, BaseURL: cfg.PublicURL(), Secret: cfg.MailSecret, HookSecret: cfg.MailHookSecret, Log: log.With("component", "mail")}); err != nil {
		st.Close()
		return nil, err
	}
	// The first human open/click of a send scores (docs/mail.md).
	a.Mail.Scoring = a.Scoring
	// Password reset links go out as system mail; DKIM keys stored before
	// sealing are sealed now (docs/security-sessions.md).
	if err := wireAuth(ctx, a); err != nil {
		st.Close()
		return nil, err
	}
	// Open/click requests are answered before their event is on disk, within
	// a bound (docs/mail.md "Open and click tracking").
	a.Mail.EngageEarlyAck = cfg.EngageEarlyAck
	if st.Kind == store.Postgres {
		// Open/click group commits: several in flight, so one batch's round
		// trips and commit overlap the others'.
		a.Mail.EngageWriters = 4
	}
	a.Sequences.Mailer, a.Sequences.Signals = sequencesMailer{a.Mail}, sequencesSignals{a.Mail}
	mailExits(a.Mail, a.Sequences)
	// Outgoing webhooks emit from the hook points set above, in their
	// transactions; wireWebhooks wraps those hooks, so it comes after them.
	// Signing secrets are sealed under the install's mail secret.
	a.Webhooks = &webhooks.Service{St: st, HTTP: safehttp.New(), Key: a.Mail.Secret, Log: log.With("component", "webhooks")}
	wireWebhooks(a)
	if harnessLoopbackWebhooks {
		a.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	a.Sending = &ops.Sending{St: st}
	// Sends left in smtp_started by a previous process become unknown (shown, never
	// re-sent). A SQLite file has one serving process, so when that process
	// starts every such row is stale; on PostgreSQL, or in a CLI command that
	// opens the file beside a running server, another process may be mid-send,
	// so only rows older than mail.RecoverStale are touched (the periodic drain
	// repeats this).
	cutoff := a.Mail.Now().Add(-mail.RecoverStale)
	ownsFile := st.Kind == store.SQLite && withWorkers
	if ownsFile {
		cutoff = a.Mail.Now()
	}
	if _, err := a.Mail.Recover(ctx, cutoff); err != nil {
		st.Close()
		return nil, err
	}
	if ownsFile {
		if err := a.recoverSQLite(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	// Public forms write the contact, score the submission and, for a raised
	// hand, open the AE's deal in one transaction (docs/forms.md).
	a.Forms = &forms.Service{St: st, CRM: a.CRM, Scoring: a.Scoring, Assignment: a.Assignment, BaseURL: cfg.PublicURL(), Stitcher: formsTracking{a.Tracking}, Confirmer: formsConfirmer{a.Mail},
		Exiter: sequencesExiter{a.Sequences}, Enroller: a.Sequences}
	label := cfg.Role
	if !withWorkers && cfg.Role == config.RoleAll {
		label = "client" // a CLI command or a test's setup: inserts jobs only
	}
	rcfg := &river.Config{Logger: log.With("component", "river"), ID: riverClientID(label)}
	if withWorkers {
		workers := river.NewWorkers()
		river.AddWorker(workers, &importer.Worker{Svc: a.Imports})
		// Scores whose decay crossed the MQL threshold (docs/scoring.md).
		river.AddWorker(workers, &scoring.DueWorker{Svc: a.Scoring})
		// Existing accounts after a routing rule change (docs/routing.md).
		river.AddWorker(workers, &routing.RerouteWorker{Svc: a.Routing})
		// Due sends, including deferred retries whose due time has come.
		river.AddWorker(workers, &mail.DeliverWorker{Svc: a.Mail})
		// Due sequence steps: a dispatch cuts them into ranges, one batch job
		// each, which any worker node runs (docs/sequences.md).
		river.AddWorker(workers, &sequences.DueWorker{Svc: a.Sequences})
		river.AddWorker(workers, &sequences.DueBatchWorker{Svc: a.Sequences})
		// Replies read from the workspaces' IMAP reply mailboxes (docs/mail.md).
		river.AddWorker(workers, &mail.IMAPPollWorker{Svc: a.Mail})
		// Delivery right after a send is planned (mail.Service.Kick).
		river.AddWorker(workers, &mail.DeliverNowWorker{Svc: a.Mail})
		// Lead scoring of first human opens and clicks (mail.Service.ScoreLater).
		river.AddWorker(workers, &mail.EngageScoreWorker{Svc: a.Mail})
		rcfg.PeriodicJobs = []*river.PeriodicJob{scoring.DuePeriodicJob(), mail.DeliverPeriodicJob(30 * time.Second), sequences.DuePeriodicJob()}
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, mail.IMAPPollPeriodicJob(mail.IMAPPollInterval))
		// Customer health: the daily recompute per workspace, and the
		// recompute after a settings change (docs/success.md).
		river.AddWorker(workers, &success.SweepWorker{Svc: a.Success})
		river.AddWorker(workers, &success.DailyWorker{Svc: a.Success})
		river.AddWorker(workers, &success.RecomputeWorker{Svc: a.Success})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, success.SweepPeriodicJob())
		// Renewals: an hourly sweep enqueues one job per workspace (docs/subscriptions.md).
		river.AddWorker(workers, &subscriptions.SweepWorker{Svc: a.Subscriptions})
		river.AddWorker(workers, &subscriptions.RenewalsWorker{Svc: a.Subscriptions})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, subscriptions.SweepPeriodicJob())
		// Webhook drains, the stale-claim sweep, and the Idempotency-Key
		// cleanup (docs/webhooks.md, docs/api.md).
		river.AddWorker(workers, &webhooks.DrainWorker{Svc: a.Webhooks})
		river.AddWorker(workers, &webhooks.SweepWorker{Svc: a.Webhooks})
		river.AddWorker(workers, &api.IdemCleanupWorker{St: st})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, webhooks.SweepPeriodicJob(time.Minute), api.IdemCleanupPeriodicJob(time.Hour))
		// Economics guardrails: an hourly sweep queues each workspace's
		// evaluation; input changes queue one in their transaction (docs/economics.md).
		river.AddWorker(workers, &economics.GuardrailSweepWorker{Svc: a.Econ})
		river.AddWorker(workers, &economics.GuardrailWorker{Svc: a.Econ})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, economics.GuardrailSweepPeriodicJob())
		// System mail delivery and the sweep of dead sessions, throttle
		// windows and reset tokens (docs/security-sessions.md).
		addAuthWorkers(a, workers, rcfg)
		rcfg.Workers = workers
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		rcfg.JobTimeout = time.Hour
		// SIGTERM cancels Serve's context, which starts River's soft stop:
		// running jobs get a third of the shutdown budget to finish what they
		// are doing, then their contexts end (a drain stops between send
		// groups and records what went out; an import batch rolls back and
		// resumes on the next start). Without it the signal would cancel
		// them at once.
		rcfg.SoftStopTimeout = max(cfg.ShutdownTimeout/3, time.Second)
	}
	rc, err := river.NewClient(st.RiverDriver(), rcfg)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("app: river client: %w", err)
	}
	a.River = rc
	a.Imports.River = rc
	a.Routing.River = rc
	a.Sequences.River = rc
	// First human opens and clicks score in a job enqueued with the events:
	// the writer's transaction takes a few INSERT rows, scoring runs on a
	// worker node. On SQLite they score in the writer's transaction: every
	// write shares the one write connection, so a job would only add its
	// insert, fetch and completion to the same work (docs/benchmarks.md).
	if st.Kind == store.Postgres {
		a.Mail.ScoreLater = func(ctx context.Context, q store.Q, args mail.EngageScoreArgs) error {
			_, err := rc.InsertTx(ctx, q.Tx(), args, nil)
			return err
		}
	}
	// A planned send starts a delivery run in its own transaction.
	a.Mail.Kick = func(ctx context.Context, q store.Q) error {
		if q.Tx() == nil {
			return nil
		}
		_, err := rc.InsertTx(ctx, q.Tx(), mail.DeliverNowArgs{}, nil)
		return err
	}
	a.Success.River = rc
	a.Mail.SystemKick = func(ctx context.Context, q store.Q) error {
		_, err := rc.InsertTx(ctx, q.Tx(), mail.SystemDeliverArgs{}, nil)
		return err
	}
	// Confirming a restored instance starts what waited: webhook drains for
	// overdue deliveries, a mail delivery run and a sequence dispatch.
	a.Sending.Resumed = func(ctx context.Context, q store.Q) error {
		if _, err := a.Webhooks.KickOverdueIn(ctx, q, store.Now()); err != nil {
			return err
		}
		if err := a.Mail.Kick(ctx, q); err != nil {
			return err
		}
		_, err := rc.InsertTx(ctx, q.Tx(), sequences.DueArgs{}, nil)
		return err
	}
	a.Econ.River = rc
	a.Reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range []struct {
		result string
		get    func(mail.EngageStats) int64
	}{
		{"recorded", func(s mail.EngageStats) int64 { return s.Recorded }},
		{"unknown_send", func(s mail.EngageStats) int64 { return s.Unknown }},
		{"dropped", func(s mail.EngageStats) int64 { return s.Dropped }},
	} {
		a.Reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "rightsize_mail_engage_events_total", Help: "Open pixel and click events by result: recorded (committed), unknown_send (valid token, no such send), dropped (queue full or write failed; the reader was still answered).",
			ConstLabels: prometheus.Labels{"result": c.result}}, func() float64 { return float64(c.get(a.Mail.EngageStats())) }))
	}
	// Every /t/e request waits for its events' commit; the writer runs until Close.
	a.TrackingIngest = tracking.NewIngester(a.Tracking, a.Reg)
	a.TrackingIngest.Log = log
	if st.Kind == store.Postgres {
		a.TrackingIngest.Writers = 2
	}
	if cfg.Role != config.RoleWorker {
		// A worker node serves no /t/e.
		a.TrackingIngest.Start()
	}
	a.ready = true
	return a, nil
}

// recoverSQLite repairs, at the start of the one process that serves a
// SQLite file, what a previous process left when it was killed
// (docs/reliability.md): River jobs still running are handed back (River's
// own rescuer waits RescueStuckJobsAfter, two hours here, because on
// PostgreSQL another process may still be working them); webhook attempts
// still claimed are logged unknown and sent again; Idempotency-Key locks end,
// so a client's retry is answered at once.
func (a *App) recoverSQLite(ctx context.Context) error {
	now := store.Now()
	rescued, discarded, err := a.St.AdminRescueRunningJobs(ctx, now, "running when the previous serve process stopped; rescued at start (SQLite, one process)")
	if err != nil {
		return err
	}
	if rescued+discarded > 0 {
		a.Log.Warn("jobs left running by the previous process handed back", "available_again", rescued, "discarded", discarded)
	}
	if n, err := a.Webhooks.RecoverClaims(ctx, now); err != nil {
		return err
	} else if n > 0 {
		a.Log.Warn("webhooks: attempts in flight when the previous process stopped logged unknown; sent again (receivers dedupe on webhook-id)", "count", n)
	}
	var unlocked, lost int64
	err = a.St.InTx(ctx, func(q store.Q) error {
		unlocked, lost, err = q.AdminUnlockIdemKeys(ctx, now)
		return err
	})
	if err != nil {
		return err
	}
	if unlocked > 0 {
		a.Log.Warn("idempotency keys in progress when the previous process stopped: unlocked; those whose change had committed answer 422 idempotency_outcome_unknown, the others run on retry", "keys", unlocked, "took_effect", lost)
	}
	return nil
}

// Set only in a binary built with -tags faultharness (harness_loopback.go):
// webhooks may reach 127.0.0.1; imports write batches of this many rows.
var (
	harnessLoopbackWebhooks bool
	harnessImportBatch      int
)

// riverClientID names this process in River's attempted_by and leader
// election: host, role and pid, so an operator (and the scale-out test) can
// tell which node ran a job.
func riverClientID(role string) string {
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "_", "-", "_").Replace(host)
	if host == "" {
		host = "host"
	}
	if len(host) > 40 {
		host = host[:40]
	}
	return fmt.Sprintf("%s_%s_%d_%s", host, role, os.Getpid(), strings.Replace(time.Now().UTC().Format("20060102T150405.000000"), ".", "_", 1))
}

// Close writes the tracking and open/click events still queued, releases idle SMTP
// connections, then the store.
func (a *App) Close() error {
	if a.TrackingIngest != nil {
		a.TrackingIngest.Close()
	}
	if a.Mail != nil {
		a.Mail.Close()
	}
	if a.Mail != nil && a.Mail.Transport != nil {
		a.Mail.Transport.Close()
	}
	return a.St.Close()
}

// health mounts what a load balancer and Prometheus ask every node, whatever
// its role: /healthz (the process answers), /readyz (the store answers and,
// on a node that works jobs, the job client runs) and /metrics.
func (a *App) health(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.JSON(w, 200, map[string]string{"status": "ok", "role": a.Cfg.Role})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.St.Ping(ctx); err != nil || !a.ready || (a.workers && a.jobsStarted.Load() == 0) {
			httpx.JSON(w, 503, map[string]string{"status": "unavailable", "store": string(a.St.Kind), "role": a.Cfg.Role})
			return
		}
		httpx.JSON(w, 200, map[string]string{"status": "ready", "store": string(a.St.Kind), "role": a.Cfg.Role})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Reg, promhttp.HandlerOpts{}))
}

// WorkerHandler is a worker node's whole HTTP surface: health and metrics.
func (a *App) WorkerHandler() http.Handler {
	mux := http.NewServeMux()
	a.health(mux)
	return httpx.Wrap(mux, httpx.NewMetrics(a.Reg), a.Cfg.MaxBodyBytes, a.Log)
}

// Handler builds the whole HTTP surface.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	a.health(mux)
	api.New(api.Deps{
		St: a.St, Auth: a.Auth, CRM: a.CRM, Imports: a.Imports, Scoring: a.Scoring, Routing: a.Routing, Desk: a.Desk,
		Assignment:     a.Assignment,
		Forms:          a.Forms,
		Mail:           a.Mail,
		Tracking:       a.Tracking,
		Sequences:      a.Sequences,
		Pipeline:       a.Pipeline,
		Success:        a.Success,
		Subscriptions:  a.Subscriptions,
		MaxUploadBytes: a.Cfg.MaxUploadBytes,
		Econ:           a.Econ,
		Staffing:       a.Staffing,
		Partners:       a.Partners,
		Webhooks:       a.Webhooks,
		Sending:        a.Sending,
	}).Register(mux)
	(&forms.Public{Svc: a.Forms, Visitors: formsTracking{a.Tracking}}).Register(mux)
	a.Mail.Register(mux)
	// A tracked email click's landing page identifies its visitor with a
	// token the mail layer signed.
	(&tracking.Endpoint{Svc: a.Tracking, In: a.TrackingIngest, Identify: a.Mail.VerifyIdentify}).Register(mux)
	web.New(web.Deps{
		St: a.St, Auth: a.Auth, CRM: a.CRM, Imports: a.Imports, SecureCookies: a.Cfg.SecureCookies(), MaxUploadBytes: a.Cfg.MaxUploadBytes,
		Routing: a.Routing, Desk: a.Desk,
		Scoring: a.Scoring, Assignment: a.Assignment,
		Forms: a.Forms, BaseURL: a.Cfg.BaseURL,
		Tracking: a.Tracking, Sequences: a.Sequences, Mail: a.Mail, Subscriptions: a.Subscriptions,
		Pipeline: a.Pipeline,
		Econ:     a.Econ, Staffing: a.Staffing, Partners: a.Partners,
		Success:  a.Success,
		Webhooks: a.Webhooks, Sending: a.Sending,
	}).Register(mux)
	// Browsers send Sec-Fetch-Site/Origin; a state-changing request from another
	// origin is refused before any handler runs. Non-browser clients (API keys) pass.
	cop := http.NewCrossOriginProtection()
	// Public form posts come from customers' sites by design.
	for _, p := range forms.BypassPatterns {
		cop.AddInsecureBypassPattern(p)
	}
	// RFC 8058 one-click unsubscribes are POSTed by mail providers and from mail
	// clients (another origin by design); the token alone authorises them.
	cop.AddInsecureBypassPattern("POST /u/{token}")
	cop.AddInsecureBypassPattern("POST /hooks/mail/events")
	cop.AddInsecureBypassPattern("POST /hooks/mail/inbound")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.Error(w, r, &httpx.StatusError{Status: http.StatusForbidden, Code: "cross_origin", Msg: "cross-origin request refused (CSRF protection)"})
	}))
	// The tracking endpoint is called from customers' pages by design; it uses no
	// cookie or login and checks the Origin against the site's allowed origins.
	cop.AddInsecureBypassPattern(tracking.IngestPath)
	cop.AddInsecureBypassPattern(tracking.ScriptPath)
	m := httpx.NewMetrics(a.Reg)
	// The open pixel and the click redirect go ahead of the generic stack
	// (same metrics, no request id or access log; docs/benchmarks.md, "Open
	// pixel and click"); anything not plainly theirs falls through to it.
	return httpx.Lean(httpx.Wrap(cop.Handler(mux), m, a.Cfg.MaxBodyBytes, a.Log), m, a.Log,
		httpx.LeanRoute{Prefix: "/o/", Pattern: "GET /o/{token}", Serve: a.Mail.ServeOpen},
		httpx.LeanRoute{Prefix: "/c/", Pattern: "GET /c/{token}", Serve: a.Mail.ServeClick})
}

// Timeouts bound how long a client may take (docs/security-sessions.md).
type Timeouts struct {
	ReadHeader time.Duration // request line and headers: a slowloris client is cut off here
	Read       time.Duration // the whole request, body included
	Write      time.Duration // the whole response
	Idle       time.Duration // a kept-alive connection between requests
}

// DefaultTimeouts: headers in 10 s; whole requests and responses in 5 minutes
// (a 512 MiB upload or a large export over a slow line); idle connections 2
// minutes.
var DefaultTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 5 * time.Minute, Write: 5 * time.Minute, Idle: 2 * time.Minute}

// MaxHeaderBytes bounds request headers (431 past it).
const MaxHeaderBytes = 64 << 10

func (t Timeouts) withDefaults() Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = DefaultTimeouts.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = DefaultTimeouts.Read
	}
	if t.Write <= 0 {
		t.Write = DefaultTimeouts.Write
	}
	if t.Idle <= 0 {
		t.Idle = DefaultTimeouts.Idle
	}
	return t
}

// Serve runs HTTP and the job workers on ln until ctx is cancelled, then shuts down
// in order: stop accepting, let in-flight requests finish, let running jobs finish.
// The role decides what runs: all (HTTP and jobs), web (HTTP; jobs are only
// inserted), worker (jobs; HTTP serves health and metrics only).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	var h http.Handler
	if a.Cfg.Role == config.RoleWorker {
		h = a.WorkerHandler()
	} else {
		h = a.Handler()
	}
	to := a.Timeouts.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		ConnState:         a.ConnState,
	}
	if a.workers {
		if err := a.River.Start(ctx); err != nil {
			return fmt.Errorf("app: start jobs: %w", err)
		}
		a.jobsStarted.Store(1)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining HTTP requests and jobs")
	sctx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer cancel()
	herr := srv.Shutdown(sctx)
	var jerr error
	if a.workers {
		jerr = a.River.Stop(sctx)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(herr, jerr)
}
