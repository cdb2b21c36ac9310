package bench

import (
	"bufio"
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// measure starts the measured phase: the peak RSS is reset and, with
// --cpuprofile, profiling starts. The returned func ends it.
func measure(o Options) func() {
	resetPeakRSS()
	if o.CPUProfile == "" {
		return func() {}
	}
	f, err := os.Create(o.CPUProfile)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// procStatusKB reads a "Vm…:  123 kB" line of /proc/<pid>/status (pid "self"
// for this process); 0 when unavailable (not Linux).
func procStatusKB(pid, field string) float64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return n
		}
	}
	return 0
}

// peakRSSMB is this process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 { return procStatusKB("self", "VmHWM") / 1024 }

// rssMB is this process's resident set now (VmRSS) in MB.
func rssMB() float64 { return procStatusKB("self", "VmRSS") / 1024 }

// resetPeakRSS starts a new VmHWM measurement (Linux: writing 5 to
// clear_refs resets the peak to the current RSS), so the data a workload
// generated before its measured phase does not count. It reports whether the
// reset worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// loadAvg is the 1, 5 and 15 minute load average (zeros when unavailable).
func loadAvg() [3]float64 {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		out[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return out
}

// procCPU is the user+system CPU a process has used (from /proc/<pid>/stat,
// in clock ticks of 10 ms); false when the process is not visible.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command (which may hold spaces) start after ") ".
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// pgMeter measures the CPU of the PostgreSQL backends serving the bench
// database (a local server only): the sizing figure for docs/scaling.md.
type pgMeter struct {
	e     *env
	start map[int]time.Duration
	t0    time.Time
}

func (e *env) pgMeter(ctx context.Context) *pgMeter {
	if e == nil || e.App == nil || e.pg.name == "" {
		return nil
	}
	pids, err := e.App.St.BackendPIDs(ctx)
	if err != nil {
		return nil
	}
	m := &pgMeter{e: e, start: map[int]time.Duration{}, t0: time.Now()}
	for _, p := range pids {
		if c, ok := procCPU(p); ok {
			m.start[p] = c
		}
	}
	if len(m.start) == 0 {
		return nil // not a local server
	}
	return m
}

// stop adds the backends' CPU since start to r (units: what one unit of work
// is, for the per-1,000 figure; n: how many were done).
func (m *pgMeter) stop(ctx context.Context, r *Result, unit string, n int64) {
	if m == nil {
		return
	}
	pids, err := m.e.App.St.BackendPIDs(ctx)
	if err != nil {
		return
	}
	var cpu time.Duration
	for _, p := range pids {
		if c, ok := procCPU(p); ok {
			cpu += c - m.start[p]
		}
	}
	el := time.Since(m.t0)
	r.add(plain("PostgreSQL backends CPU", cpu.Seconds(), "cpu-s"))
	r.add(plain("PostgreSQL backends cores", cpu.Seconds()/el.Seconds(), "cores"))
	if n > 0 {
		r.add(plain("PostgreSQL CPU per 1,000 "+unit, cpu.Seconds()*1000/float64(n), "cpu-s"))
	}
	r.Notes = append(r.Notes, "PostgreSQL CPU: the backends serving the bench database, from /proc (not the WAL writer, checkpointer or autovacuum)")
}
