// Package faults holds the named fault points compiled into the risky spots of
// Rightsize (between a database commit and the side effect it stands for, or
// the other way round) and the switch that arms them. The fault-injection
// harness (harness_test.go, docs/reliability.md) arms one point in a `rightsize
// serve` process through RIGHTSIZE_FAULTS, lets the process SIGKILL itself
// there, restarts it and checks that nothing was lost or done twice.
//
// Unarmed (the environment variable unset, as in production), Point is one
// atomic load.
package faults

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// EnvVar arms points: a comma-separated list of name:n, each killing the
// process (SIGKILL, no cleanup, no deferred functions) on the nth time the
// point is reached, counted from the process start. n defaults to 1.
const EnvVar = "RIGHTSIZE_FAULTS"

// The fault points. Each sits where a crash is the most awkward for the
// invariant next to it.
const (
	// SendClaimed: a batch of sends is claimed in the ledger (committed),
	// nothing is marked started yet. Expected: the rows return to planned at
	// recovery and are sent once.
	SendClaimed = "send.claimed"
	// SendBeforeSMTP: a group of sends is marked smtp_started (committed),
	// the first SMTP command is not written yet. Expected: the group is
	// unknown after recovery (never re-sent), at most one group per
	// connection.
	SendBeforeSMTP = "send.before_smtp"
	// SendAfterSMTP: the SMTP server accepted a message (250 after DATA) and
	// the ledger has not recorded it. Expected: unknown, never re-sent.
	SendAfterSMTP = "send.after_smtp"
	// ImportAfterBatch: an import batch committed (rows and running counts),
	// the next one not started. Expected: the import resumes after the
	// committed rows; counts reconcile with the file.
	ImportAfterBatch = "import.after_batch"
	// IdemAfterCommit: a POST with Idempotency-Key ran its handler (its
	// transaction committed), the answer is neither stored nor sent.
	// Expected: one record; a retry with the key does not run it again.
	IdemAfterCommit = "idem.after_commit"
	// WebhookAfterCall: a webhook HTTP call returned, its outcome is not
	// recorded. Expected: the attempt is logged unknown and the delivery is
	// sent again with the same webhook-id (at least once).
	WebhookAfterCall = "webhook.after_call"
)

// Names lists every point (the harness and the parser use it).
var Names = []string{SendClaimed, SendBeforeSMTP, SendAfterSMTP, ImportAfterBatch, IdemAfterCommit, WebhookAfterCall}

var (
	armed  atomic.Bool
	mu     sync.Mutex
	points map[string]*point
	// kill ends the process; tests of this package replace it.
	kill = func() {
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			_ = p.Kill() // SIGKILL on Unix
		}
		select {} // the signal is on its way
	}
)

type point struct {
	at   int64
	hits atomic.Int64
}

func init() {
	if v := os.Getenv(EnvVar); v != "" {
		if err := Arm(v); err != nil {
			// A typo must not leave a harness run without its fault.
			fmt.Fprintf(os.Stderr, "faults: %s: %v\n", EnvVar, err)
			os.Exit(2)
		}
	}
}

// Arm parses spec (name:n,...) and arms those points, replacing what was
// armed before; "" disarms everything.
func Arm(spec string) error {
	ps := map[string]*point{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, nth, hasN := strings.Cut(part, ":")
		if !known(name) {
			return fmt.Errorf("unknown fault point %q (known: %s)", name, strings.Join(Names, ", "))
		}
		n := int64(1)
		if hasN {
			var err error
			if n, err = strconv.ParseInt(nth, 10, 64); err != nil || n < 1 {
				return fmt.Errorf("fault point %s: %q is not a hit count ≥ 1", name, nth)
			}
		}
		ps[name] = &point{at: n}
	}
	mu.Lock()
	points = ps
	mu.Unlock()
	armed.Store(len(ps) > 0)
	return nil
}

func known(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}

// Point marks fault point name. Armed for name, it counts the hit and, on the
// armed one, writes "faults: SIGKILL at NAME (hit N)" to stderr and kills
// the process.
func Point(name string) {
	if !armed.Load() {
		return
	}
	mu.Lock()
	p := points[name]
	mu.Unlock()
	if p == nil {
		return
	}
	if n := p.hits.Add(1); n == p.at {
		fmt.Fprintf(os.Stderr, "faults: SIGKILL at %s (hit %d)\n", name, n)
		kill()
	}
}

// Hits reports how often name was reached while armed (tests).
func Hits(name string) int64 {
	mu.Lock()
	defer mu.Unlock()
	if p := points[name]; p != nil {
		return p.hits.Load()
	}
	return 0
}
