package mail_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func init() {
	if v := os.Getenv("RIGHTSIZE_MAILCHILD"); v != "" {
		os.Exit(runChild(v))
	}
}

const childApp = "rs_mailchild"

func sep(dsn string) string {
	if strings.Contains(dsn, "?") {
		return "&"
	}
	return "?"
}

// endBackends terminates the killed child's PostgreSQL backends, each call
// waiting (up to 10 s) for them to exit, until none is left. A backend that
// exits on its own between the listing and the termination makes
// pg_terminate_backend answer false, so the answer is not the test: the
// listing coming back empty is.
func endBackends(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 20 {
		var left int
		if err := db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, childApp).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return
		}
		if _, err := db.Exec(`SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`, childApp); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the killed child's PostgreSQL backends did not go away")
}

// runChild is a sending process: it drains the database dsn into the SMTP
// server at addr until it is killed.
func runChild(v string) int {
	dsn, addr, _ := strings.Cut(v, "|")
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	cfg := config.Defaults()
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPConns = host, p, "none", 4
	tr, err := mail.NewTransport(cfg)
	if err != nil {
		return 2
	}
	svc, err := mail.New(ctx, st, mail.Options{Transport: tr, BaseURL: "https://crm.test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	svc.Batch = 25
	if _, err := svc.Drain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// SIGKILL a sending process in the middle of a 2,000-message run, start again,
// finish: every row ends accepted or unknown, the server saw no Message-ID
// twice, and every accepted row's message arrived.
func TestKillMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		const total = 2000
		f := setup(t, st, total)
		keys := make([]int, total)
		for i := range keys {
			keys[i] = i
		}
		f.plan(t, keys...)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run", "^$")
		dsn := st.DSN
		if st.Kind == store.Postgres {
			dsn += sep(dsn) + "application_name=" + childApp // so the restart can wait for its backends
		}
		cmd.Env = append(os.Environ(), "RIGHTSIZE_MAILCHILD="+dsn+"|"+f.srv.Addr)
		cmd.Stderr = os.Stderr
		var once sync.Once
		killed := make(chan struct{})
		f.srv.OnData = func(n int64) {
			if n >= 700 {
				once.Do(func() { close(killed); _ = cmd.Process.Kill() }) // closed first: Wait may return before this goroutine resumes
			}
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		select {
		case <-killed:
		default:
			t.Fatal("the child finished before it was killed")
		}
		f.srv.OnData = nil
		mid := f.srv.Count()
		if st.Kind == store.Postgres {
			// The killed process's server side may still be committing what it
			// sent last (a claim): end its backends, waiting for each to exit, so
			// the restart sees the final state — as a real restart would after
			// PostgreSQL noticed the dead connections.
			endBackends(t, st.DSN)
		}
		// The restart: recovery at open, then the drain finishes the run.
		f.svc = f.newService(t)
		f.now = store.Now().Add(time.Second)
		unknown, err := f.svc.Recover(context.Background(), f.now)
		if err != nil {
			t.Fatal(err)
		}
		f.drain(t)
		rows, err := st.Read().ListSends(context.Background(), f.ws, "", total+1)
		if err != nil || len(rows) != total {
			t.Fatalf("%d rows, %v", len(rows), err)
		}
		ids := f.srv.IDs()
		states := map[string]int{}
		for _, r := range rows {
			states[r.State]++
			if r.State == store.SendAccepted && ids[r.MessageID] != 1 {
				t.Fatalf("accepted row %d arrived %d times", r.ID, ids[r.MessageID])
			}
		}
		// The child sends on 4 connections in groups of 10: a kill leaves at
		// most one started group per connection unknown, not whole batches.
		if len(unknown) > 4*10 {
			t.Fatalf("%d rows unknown after the kill; at most 40 (4 connections × a group of 10) may be", len(unknown))
		}
		if states[store.SendAccepted]+states[store.SendUnknown] != total || states[store.SendUnknown] != len(unknown) {
			t.Fatalf("states %v, %d recovered unknown", states, len(unknown))
		}
		if f.srv.Dups() != 0 || int(f.srv.Count()) > total {
			t.Fatalf("server: %d messages, %d duplicates", f.srv.Count(), f.srv.Dups())
		}
		t.Logf("killed after %d messages; %d unknown (in flight at the kill), %d accepted", mid, len(unknown), states[store.SendAccepted])
	})
}
