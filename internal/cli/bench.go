package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/rightsize/rightsize/internal/bench"
)

// runBench runs one workload of the performance suite (internal/bench,
// docs/benchmarks.md) on a fresh SQLite file or PostgreSQL database.
func runBench(ctx context.Context, e *env, args []string) error {
	var lines []string
	for _, w := range bench.Workloads() {
		lines = append(lines, fmt.Sprintf("  %-10s %s", w[0], w[1]))
	}
	fs := e.flags("bench", "bench <workload> [--store sqlite|postgres] [--dsn postgres://…] [--rows N] [--duration 15s] [--conns 64] [--json]\n\nWorkloads:\n"+strings.Join(lines, "\n"))
	var o bench.Options
	fs.StringVar(&o.Store, "store", "sqlite", "sqlite (a temporary file) or postgres (a fresh database on --dsn, dropped afterwards)")
	fs.StringVar(&o.DSN, "dsn", bench.DefaultDSN(), "PostgreSQL server URL for --store postgres (env RIGHTSIZE_TEST_PG)")
	fs.IntVar(&o.Rows, "rows", 0, "workload size: contacts, messages, enrollments or sends (0: the workload's default)")
	fs.DurationVar(&o.Duration, "duration", 0, "load workloads: how long to send requests (default 15s)")
	fs.IntVar(&o.Conns, "conns", 64, "load workloads: concurrent keep-alive connections")
	fs.BoolVar(&o.Hold, "hold", false, "pixel, click: keep serving for an external load generator (prints a wrk command) until Ctrl-C")
	fs.BoolVar(&o.Keep, "keep", false, "keep the generated database and print where it is")
	fs.BoolVar(&o.Reference, "reference", true, "pixel, click: first measure a bare net/http server answering the same way, with the same client and duration (the machine's floor right now)")
	drain := fs.Bool("drain", true, "due: after the dispatch, run every enqueued range in this process")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	logLevel := fs.String("log-level", "", "show the app's log at this level (default: discarded)")
	earlyAck := fs.Int("early-ack", -1, "pixel, click: engage_early_ack, answered events that may wait for the disk (-1: the product's default; 0: answer only once stored)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured phase to this file (go tool pprof)")
	// The workload name comes first; flags follow it.
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := fs.Parse(args); err != nil {
			return err
		}
		fs.Usage()
		return usagef("name a workload")
	}
	name := args[0]
	if name == bench.SinkCommand {
		return bench.ServeSink(ctx, e.stdout, args[1:])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q after the workload", fs.Arg(0))
	}
	if o.Store != "sqlite" && o.Store != "postgres" {
		return usagef("--store %q: want sqlite or postgres", o.Store)
	}
	if *logLevel != "" {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
			return usagef("--log-level %q: want debug, info, warn or error", *logLevel)
		}
		o.Log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	} else {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	switch {
	case *earlyAck < -1 || *earlyAck > 50000:
		return usagef("--early-ack %d: want -1 (the default) or 0..50000", *earlyAck)
	case *earlyAck >= 0:
		o.EarlyAck = earlyAck
	}
	o.Out = e.stderr
	o.NoDrain = !*drain
	res, err := bench.Run(ctx, name, o)
	if res == nil {
		return err
	}
	if err != nil {
		res.Unfinished = err.Error()
	}
	if *asJSON {
		if perr := e.printJSON(res); perr != nil {
			return perr
		}
	} else {
		res.Print(e.stdout)
	}
	return err
}
