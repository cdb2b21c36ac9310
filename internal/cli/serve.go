package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/store"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := e.flags("serve", "serve [--addr host:port] [--db path|postgres://…] [--role all|web|worker] [--demo]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, true)
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	start := time.Now()
	log := newLogger(cfg, e.stderr)
	slog.SetDefault(log) // errors logged outside a request (httpx.Error) use the default
	a, err := app.Open(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	if cfg.BaseURL != "" {
		url = cfg.BaseURL
	}
	if cfg.Demo {
		if err := demoLogin(ctx, e, a); err != nil {
			ln.Close()
			return err
		}
	}
	what := ""
	switch cfg.Role {
	case config.RoleWeb:
		what = ", role: web — HTTP only, jobs run on worker nodes"
	case config.RoleWorker:
		// No public URL on a worker: only health and metrics answer there.
		url = "http://" + ln.Addr().String()
		what = ", role: worker — jobs only, HTTP serves /healthz, /readyz and /metrics"
	}
	fmt.Fprintf(e.stdout, "Rightsize is running at %s (listening on %s, store: %s%s, ready in %s)\n", url, ln.Addr(), a.St.Kind, what, time.Since(start).Round(time.Millisecond))
	log.Info("serving", "url", url, "store", a.St.Kind, "role", cfg.Role)
	if cfg.MailSecret == "" {
		// The key that seals DKIM keys, IMAP passwords and webhook secrets then
		// sits in the database next to them (docs/security-sessions.md).
		log.Warn("mail_secret is not configured: secrets stored in the database are sealed with a generated key kept in the same database; set mail_secret (RIGHTSIZE_MAIL_SECRET) to keep the key out of it")
	}
	return a.Serve(ctx, ln)
}

// demoLogin seeds the demo workspace on an empty database, or gives the existing demo
// admin a fresh one-time password, and prints how to log in.
func demoLogin(ctx context.Context, e *env, a *app.App) error {
	n, err := a.St.Read().AdminCountWorkspaces(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		res, err := demo.Seed(ctx, a.St, demo.Options{})
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		fmt.Fprintf(e.stdout, "Demo workspace %q: %d accounts, %d contacts, %d deals, %d activities.\n", res.Workspace.Name, res.Accounts, res.Contacts, res.Deals, res.Activities)
		fmt.Fprintf(e.stdout, "Log in as %s with one-time password %s\n", res.AdminEmail, res.Password)
		return nil
	}
	const admin = "admin@demo.rightsize.local"
	pw := auth.GeneratePassword()
	err = a.Auth.ResetPassword(ctx, admin, pw)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintln(e.stdout, "The database already has workspaces and no demo admin; --demo left it as it is.")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Demo data already present. Log in as %s with one-time password %s\n", admin, pw)
	return nil
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := e.flags("migrate", "migrate [--db path|postgres://…]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(map[string]string{"status": "migrated", "store": string(st.Kind)})
	}
	fmt.Fprintf(e.stdout, "Migrated %s database.\n", st.Kind)
	return nil
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := e.flags("demo", "demo [--db …] [--slug demo] [--seed 42] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	slug := fs.String("slug", "demo", "slug of the new demo workspace")
	seed := fs.Uint64("seed", 42, "random seed; the same seed gives the same data")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	res, err := demo.Seed(ctx, a.St, demo.Options{Seed: *seed, Slug: *slug})
	if err != nil {
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			return fmt.Errorf("a workspace or user for slug %q exists already; pick another --slug", *slug)
		}
		return err
	}
	if *asJSON {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Created %q in %s: %d accounts, %d contacts, %d deals, %d activities.\nLog in as %s with one-time password %s\n",
		res.Workspace.Name, time.Since(start).Round(time.Millisecond), res.Accounts, res.Contacts, res.Deals, res.Activities, res.AdminEmail, res.Password)
	return nil
}
