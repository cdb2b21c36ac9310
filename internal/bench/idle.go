package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// runIdle: `rightsize serve` (this binary, role all, 4 job workers) started as
// its own process on a fresh, empty database; once /readyz answers, its
// resident set is sampled every 100 ms for 3 s. The figure is the serve
// process's, not the bench's.
func runIdle(ctx context.Context, o Options, r *Result) error {
	e, err := newDB(ctx, o)
	if err != nil {
		return err
	}
	defer e.close(r)
	cmd := exec.CommandContext(ctx, o.Exe, "serve", "--db", e.DB, "--addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "RIGHTSIZE_CONFIG=", "RIGHTSIZE_ROLE=all", "RIGHTSIZE_DEMO=false")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Rightsize is running at "); ok {
				urlc <- listenURL(rest)
			}
		}
		close(urlc)
	}()
	var url string
	select {
	case u, ok := <-urlc:
		if !ok {
			return fmt.Errorf("serve exited before it was running")
		}
		url = u
	case <-time.After(time.Minute):
		return fmt.Errorf("serve not running within a minute")
	}
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := http.Get(url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("serve not ready within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ready := time.Since(t0)
	pid := strconv.Itoa(cmd.Process.Pid)
	var last, most float64
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		last = procStatusKB(pid, "VmRSS") / 1024
		most = max(most, last)
	}
	hwm := procStatusKB(pid, "VmHWM") / 1024
	r.add(below("idle RSS after start-up", last, "MB", 60))
	r.add(plain("highest RSS sampled over 3 s", most, "MB"))
	r.add(plain("serve peak RSS (VmHWM, incl. migrations)", hwm, "MB"))
	r.add(plain("start to ready (migrate an empty database, start jobs)", ready.Seconds(), "s"))
	r.PeakRSSMB = hwm
	r.Notes = append(r.Notes, "measured on the `rightsize serve` child process (role all, 4 workers), not the bench process")
	return nil
}

// listenURL takes the "(listening on host:port, …" part of serve's ready line.
func listenURL(rest string) string {
	_, after, ok := strings.Cut(rest, "(listening on ")
	if !ok {
		return strings.Fields(rest)[0]
	}
	addr, _, _ := strings.Cut(after, ",")
	return "http://" + addr
}
