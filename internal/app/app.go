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
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"github.com/rightsize/rightsize/internal/success"
	"github.com/rightsize/rightsize/internal/tracking"
	"github.com/rightsize/rightsize/internal/web"
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
	River     *river.Client[*sql.Tx]
	Reg       *prometheus.Registry
	Log       *slog.Logger
	// ConnState, when set, observes HTTP connection states (tests use it to know a
	// request is in flight).
	ConnState func(net.Conn, http.ConnState)
	ready     bool

	// Econ keeps the unit economics inputs; Staffing the staffing planner
	// (docs/economics.md).
	Econ     *economics.Service
	Staffing *staffing.Service
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
	a := &App{Cfg: cfg, St: st, Log: log, Reg: prometheus.NewRegistry()}
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
	a.Imports = &importer.Service{St: st, CRM: a.CRM, Router: a.Routing, Subs: a.Subscriptions}
	a.Scoring = &scoring.Service{St: st, MQL: a.Assignment, Lifecycle: a.Sequences}
	a.Sequences.Scores = a.Scoring
	a.Desk = &desk.Service{St: st, CRM: a.CRM, Scoring: a.Scoring, Assignment: a.Assignment, Exits: a.Sequences}
	a.Tracking = &tracking.Service{St: st, Scoring: a.Scoring}
	a.Pipeline = &pipeline.Service{St: st}
	a.Econ = &economics.Service{St: st}
	a.Staffing = &staffing.Service{St: st, Econ: a.Econ}
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
	a.Sequences.Mailer, a.Sequences.Signals = sequencesMailer{a.Mail}, sequencesSignals{a.Mail}
	mailExits(a.Mail, a.Sequences)
	// Sends left in smtp_started by a previous process become unknown (shown, never
	// re-sent). SQLite has one serving process, so every such row is stale now; on
	// PostgreSQL another process may be mid-send, so only rows older than
	// mail.RecoverStale are touched (the periodic drain repeats this).
	cutoff := a.Mail.Now()
	if st.Kind == store.Postgres {
		cutoff = cutoff.Add(-mail.RecoverStale)
	}
	if _, err := a.Mail.Recover(ctx, cutoff); err != nil {
		st.Close()
		return nil, err
	}
	// Public forms write the contact, score the submission and, for a raised
	// hand, open the AE's deal in one transaction (docs/forms.md).
	a.Forms = &forms.Service{St: st, CRM: a.CRM, Scoring: a.Scoring, Assignment: a.Assignment, BaseURL: cfg.PublicURL(), Stitcher: formsTracking{a.Tracking}, Confirmer: formsConfirmer{a.Mail},
		Exiter: sequencesExiter{a.Sequences}, Enroller: a.Sequences}
	rcfg := &river.Config{Logger: log.With("component", "river")}
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
		// Economics guardrails: an hourly sweep queues each workspace's
		// evaluation; input changes queue one in their transaction (docs/economics.md).
		river.AddWorker(workers, &economics.GuardrailSweepWorker{Svc: a.Econ})
		river.AddWorker(workers, &economics.GuardrailWorker{Svc: a.Econ})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, economics.GuardrailSweepPeriodicJob())
		rcfg.Workers = workers
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		rcfg.JobTimeout = time.Hour
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
	// A planned send starts a delivery run in its own transaction.
	a.Mail.Kick = func(ctx context.Context, q store.Q) error {
		if q.Tx() == nil {
			return nil
		}
		_, err := rc.InsertTx(ctx, q.Tx(), mail.DeliverNowArgs{}, nil)
		return err
	}
	a.Success.River = rc
	a.Econ.River = rc
	a.Reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every /t/e request waits for its events' commit; the writer runs until Close.
	a.TrackingIngest = tracking.NewIngester(a.Tracking, a.Reg)
	a.TrackingIngest.Log = log
	if st.Kind == store.Postgres {
		a.TrackingIngest.Writers = 2
	}
	a.TrackingIngest.Start()
	a.ready = true
	return a, nil
}

// Close writes the tracking events still queued, releases idle SMTP
// connections, then the store.
func (a *App) Close() error {
	if a.TrackingIngest != nil {
		a.TrackingIngest.Close()
	}
	if a.Mail != nil && a.Mail.Transport != nil {
		a.Mail.Transport.Close()
	}
	return a.St.Close()
}

// Handler builds the whole HTTP surface.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.JSON(w, 200, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.St.Ping(ctx); err != nil || !a.ready {
			httpx.JSON(w, 503, map[string]string{"status": "unavailable", "store": string(a.St.Kind)})
			return
		}
		httpx.JSON(w, 200, map[string]string{"status": "ready", "store": string(a.St.Kind)})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Reg, promhttp.HandlerOpts{}))
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
		Econ:     a.Econ, Staffing: a.Staffing,
		Success: a.Success,
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
	return httpx.Wrap(cop.Handler(mux), httpx.NewMetrics(a.Reg), a.Cfg.MaxBodyBytes, a.Log)
}

// Serve runs HTTP and the job workers on ln until ctx is cancelled, then shuts down
// in order: stop accepting, let in-flight requests finish, let running jobs finish.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // uploads
		WriteTimeout:      5 * time.Minute, // exports stream
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		ConnState:         a.ConnState,
	}
	if err := a.River.Start(ctx); err != nil {
		return fmt.Errorf("app: start jobs: %w", err)
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
	jerr := a.River.Stop(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(herr, jerr)
}
