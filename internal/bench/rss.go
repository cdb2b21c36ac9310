package bench

import (
	"bufio"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
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
