// Package bench is Rightsize's performance suite (`rightsize bench <workload>`,
// docs/benchmarks.md): every workload generates its own data in a fresh SQLite
// file or a fresh PostgreSQL database, runs the product's own code paths
// (services, the HTTP handler on a loopback listener), and reports figures next
// to the targets, with the machine's load average and the process's
// peak RSS. The go-test benchmarks share its data generators (gen.go).
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Options configure a run.
type Options struct {
	Store    string        // "sqlite" or "postgres"
	DSN      string        // PostgreSQL server URL; a fresh database is created on it and dropped after
	Rows     int           // workload size (0: the workload's default)
	Duration time.Duration // load workloads: how long to send requests
	Conns    int           // load workloads: concurrent keep-alive connections
	Hold     bool          // pixel/click: keep serving for an external load generator (wrk) until interrupted
	Keep     bool          // keep the generated database (its path/URL is printed)
	NoDrain  bool          // due: measure the dispatch only
	Log      *slog.Logger  // the app's log (default: discarded)
	Out      io.Writer     // progress lines (hold mode instructions)
	Exe      string        // this binary, for helper processes (SMTP sink, idle server)
	// CPUProfile, when set, is written with a CPU profile of the measured
	// phase only (not the data generation).
	CPUProfile string
	// EarlyAck, when set, is the app's engage_early_ack for pixel and click
	// (nil: the product's default).
	EarlyAck *int
	// Reference: pixel and click first drive a bare net/http server with the
	// same client for the same time (referenceLoad), the machine's floor in
	// the same minute.
	Reference bool
}

// Figure is one measured value, with the target when it has one.
type Figure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"` // e.g. "≥ 100000"
	Met    *bool   `json:"met,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Result is one workload run.
type Result struct {
	Workload   string     `json:"workload"`
	Store      string     `json:"store"`
	Size       int        `json:"size,omitempty"`
	Started    time.Time  `json:"started"`
	Seconds    float64    `json:"seconds"`
	LoadStart  [3]float64 `json:"load_average_start"`
	LoadEnd    [3]float64 `json:"load_average_end"`
	PeakRSSMB  float64    `json:"peak_rss_mb"` // VmHWM of the bench process since the measured phase began
	Cores      int        `json:"cores"`
	GoVersion  string     `json:"go_version"`
	Figures    []Figure   `json:"figures"`
	Notes      []string   `json:"notes,omitempty"`
	Database   string     `json:"database,omitempty"` // kept database (--keep)
	Unfinished string     `json:"unfinished,omitempty"`
}

func (r *Result) add(f Figure) { r.Figures = append(r.Figures, f) }

// atLeast and below make a figure with a target.
func atLeast(name string, v float64, unit string, target float64) Figure {
	met := v >= target
	return Figure{Name: name, Value: v, Unit: unit, Target: "≥ " + num(target), Met: &met}
}

func below(name string, v float64, unit string, target float64) Figure {
	met := v < target
	return Figure{Name: name, Value: v, Unit: unit, Target: "< " + num(target), Met: &met}
}

func plain(name string, v float64, unit string) Figure {
	return Figure{Name: name, Value: v, Unit: unit}
}

type workload struct {
	summary string
	run     func(ctx context.Context, o Options, r *Result) error
	store   bool // runs against a store (--store applies)
}

var workloads = map[string]workload{
	"import":    {"CSV import of --rows contacts (default 100,000) through the importer, end to end", runImport, true},
	"ingest":    {"tracking ingest over HTTP: POST /t/e, 50 events a request, --conns clients for --duration", runIngest, true},
	"send":      {"--rows emails into a loopback SMTP sink: raw go-mail, pipelined, then the ledger path", runSend, true},
	"due":       {"--rows due nurture enrollments (default 1,000,000): dispatch into batch jobs, then drain", runDue, true},
	"list":      {"list + filter + exact count over --rows contacts (default 1,000,000)", runList, true},
	"pixel":     {"GET /o/{token} (open pixel) under load: --conns connections for --duration", runPixel, true},
	"click":     {"GET /c/{token} (click redirect) under load: --conns connections for --duration", runClick, true},
	"idle":      {"RSS of `rightsize serve` on an empty database after start-up", runIdle, true},
	"forecast":  {"forecast.Report and the pipeline report over --rows deals (default 100,000)", runForecast, true},
	"economics": {"economics recompute over --rows customers (default 100,000) and ten MRR movements each", runEconomics, true},
}

// Workloads lists the workload names with one line each, sorted.
func Workloads() [][2]string {
	var out [][2]string
	for n, w := range workloads {
		out = append(out, [2]string{n, w.summary})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Run runs one workload.
func Run(ctx context.Context, name string, o Options) (*Result, error) {
	w, ok := workloads[name]
	if !ok {
		var names []string
		for _, n := range Workloads() {
			names = append(names, n[0])
		}
		return nil, fmt.Errorf("unknown workload %q (one of %s)", name, strings.Join(names, ", "))
	}
	if o.Store == "" {
		o.Store = "sqlite"
	}
	if o.Store != "sqlite" && o.Store != "postgres" {
		return nil, fmt.Errorf("--store %q: want sqlite or postgres", o.Store)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Conns <= 0 {
		o.Conns = 64
	}
	if o.Duration <= 0 {
		o.Duration = 15 * time.Second
	}
	if o.Exe == "" {
		o.Exe, _ = os.Executable()
	}
	r := &Result{Workload: name, Store: o.Store, Started: time.Now().UTC(), LoadStart: loadAvg(), Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if !w.store {
		r.Store = ""
	}
	start := time.Now()
	err := w.run(ctx, o, r)
	r.Seconds = time.Since(start).Seconds()
	r.LoadEnd = loadAvg()
	if r.PeakRSSMB == 0 {
		r.PeakRSSMB = peakRSSMB()
	}
	return r, err
}

// Print writes r for a person.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "workload %s", r.Workload)
	if r.Store != "" {
		fmt.Fprintf(w, " on %s", r.Store)
	}
	if r.Size > 0 {
		fmt.Fprintf(w, ", size %s", num(float64(r.Size)))
	}
	fmt.Fprintf(w, " — %s, %d cores, %s\n", r.Started.Format("2006-01-02 15:04 UTC"), r.Cores, r.GoVersion)
	fmt.Fprintf(w, "load average %.2f %.2f %.2f at start, %.2f %.2f %.2f at end (1/5/15 min)\n", r.LoadStart[0], r.LoadStart[1], r.LoadStart[2], r.LoadEnd[0], r.LoadEnd[1], r.LoadEnd[2])
	width := 0
	for _, f := range r.Figures {
		width = max(width, len(f.Name))
	}
	for _, f := range r.Figures {
		line := fmt.Sprintf("  %-*s  %14s %s", width, f.Name, num(f.Value), f.Unit)
		if f.Target != "" {
			verdict := "MISSED"
			if f.Met != nil && *f.Met {
				verdict = "met"
			}
			line += fmt.Sprintf("   (target %s %s: %s)", f.Target, f.Unit, verdict)
		}
		if f.Note != "" {
			line += "   " + f.Note
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "  %-*s  %14s MB   (VmHWM of the measured process, from the start of the measured phase)\n", width, "peak RSS", num(r.PeakRSSMB))
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	if r.Database != "" {
		fmt.Fprintln(w, "database kept: "+r.Database)
	}
}

// JSON writes r as one JSON document.
func (r *Result) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// num formats with thousands separators and at most 3 significant decimals.
func num(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	var s string
	switch {
	case v >= 1000 || v == float64(int64(v)):
		s = fmt.Sprintf("%.0f", v)
	case v >= 100:
		s = fmt.Sprintf("%.1f", v)
	case v >= 1:
		s = fmt.Sprintf("%.2f", v)
	default:
		s = fmt.Sprintf("%.3f", v)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
