// Package cli implements the rightsize subcommands, one file per command. Each parses
// its flags through internal/config (defaults < file < env < flags), opens the app,
// and prints human output or, with --json, one JSON document for scripts.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Version is set at build time with -ldflags "-X .../cli.Version=…".
var Version = "dev"

type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

type env struct {
	stdout, stderr io.Writer
	name           string
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"serve":     {"run the web UI, REST API and background workers", runServe},
		"migrate":   {"apply database migrations and exit", runMigrate},
		"demo":      {"create a demo workspace with realistic data", runDemo},
		"workspace": {"create or list workspaces", runWorkspace},
		"user":      {"create users, reset passwords, grant roles, disable or enable users", runUser},
		"apikey":    {"create, list and revoke API keys", runAPIKey},
		"import":    {"import a CSV file of accounts, contacts, deals, activities or subscriptions (import spend file.csv: the spend ledger)", runImport},
		"export":    {"export records as CSV", runExport},
		"report":    {"print a report (funnel, pipeline) as a table or JSON", runReport},
		"economics": {"print the unit economics inputs and staffing comparison (--json); partner-statement: a partner's monthly statement", runEconomics},
		"version":   {"print the version", runVersion},
		"backup":    {"write a consistent copy of the database to a file", runBackup},
		"restore":   {"replace the database with a backup; sending stays paused until an admin confirms", runRestore},
		"bench":     {"run a workload of the performance suite on fresh data and print figures (docs/benchmarks.md)", runBench},
	}
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "rightsize: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, &env{stdout: stdout, stderr: stderr, name: args[0]}, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "rightsize %s: %v\n", args[0], err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "rightsize %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func usage(w io.Writer) {
	fmt.Fprintln(w, "rightsize — a revenue engine that fits the sales motion to the customer.")
	fmt.Fprintln(w, "\nUsage: rightsize <command> [flags]   (rightsize <command> --help for flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nSettings: defaults < --config file < RIGHTSIZE_* environment < flags.")
}

// flags makes a flag set whose usage names the command.
func (e *env) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: rightsize %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openApp loads config from fs and opens the app without job workers.
func (e *env) openApp(ctx context.Context, cfg config.Config) (*app.App, error) {
	log := newLogger(cfg, e.stderr)
	return app.Open(ctx, cfg, log, false)
}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// workspaceBySlug resolves --workspace.
func workspaceBySlug(ctx context.Context, a *app.App, slug string) (model.Workspace, error) {
	if slug == "" {
		return model.Workspace{}, usagef("--workspace is required (a workspace slug; see `rightsize workspace list`)")
	}
	w, err := a.St.Read().WorkspaceBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return w, fmt.Errorf("no workspace with slug %q", slug)
	}
	return w, err
}

// cliActor is what the CLI's writes are recorded as.
func cliActor(ws int64) model.Actor {
	host, _ := os.Hostname()
	return model.Actor{Workspace: ws, Label: "cli@" + host, Role: model.RoleAdmin}
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := e.flags("version", "version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "rightsize", Version)
	return nil
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

var _ = strings.TrimSpace
