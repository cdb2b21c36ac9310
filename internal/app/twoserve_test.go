package app_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Two `rightsize serve` processes on one PostgreSQL database (issue 4 Checks):
// 1,500 enrollments of a sequence whose first step is an email are made due
// while both run; both claim due steps and deliver. Every (enrollment, step)
// has exactly one ledger row, accepted; the SMTP server saw each Message-ID
// once and 1,500 messages in all; and both processes did work (two River
// clients ran sequences_due jobs, two mail claimers sent).
func TestTwoServeProcessesOnePostgres(t *testing.T) {
	if os.Getenv("RIGHTSIZE_TEST_PG") == "" || os.Getenv("RIGHTSIZE_TEST_PG") == "off" {
		t.Skip("needs PostgreSQL: set RIGHTSIZE_TEST_PG (two serve processes share one database)")
	}
	if testing.Short() {
		t.Skip("builds the binary and starts two processes")
	}
	const total = 1500
	bin := filepath.Join(t.TempDir(), "rightsize")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rightsize")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dsn := storetest.NewPostgresDSN(t)
	srv, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.CountOnly = true
	all := make(chan struct{})
	var once sync.Once
	srv.OnData = func(n int64) {
		if n >= total {
			once.Do(func() { close(all) })
		}
	}

	// The data, written by this process (jobs inserted, none worked here).
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DB = dsn
	setup, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	ws := model.Workspace{Name: "Two", Slug: "two", Currency: "USD"}
	var contacts []int64
	err = setup.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &ws); err != nil {
			return err
		}
		if err := q.SaveMailSender(ctx, ws.ID, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.example", PostalAddress: "1 Engine St"}); err != nil {
			return err
		}
		for i := range total {
			c := model.Contact{Email: fmt.Sprintf("c%04d@rcpt.example", i), FirstName: fmt.Sprintf("C%d", i), LifecycleStage: "lead"}
			if err := q.CreateContact(ctx, ws.ID, &c); err != nil {
				return err
			}
			contacts = append(contacts, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := setup.Sequences.Create(ctx, ws.ID, model.Sequence{Name: "Welcome", Status: "active", Trigger: model.SequenceTrigger{Kind: "manual"},
		ExitRules: []string{"replied"}, Steps: []model.SequenceStep{{Kind: "send_email", Subject: "Hello {{.Contact.FirstName}}", HTML: "<p>Hi {{.Contact.FirstName}}</p>"},
			{Kind: "wait", Duration: "3d"}, {Kind: "send_email", Subject: "Again", HTML: "<p>Again</p>"}}})
	if err != nil {
		t.Fatal(err)
	}

	// Two serve processes, each with its own log.
	type proc struct {
		cmd *exec.Cmd
		log *syncWriter
	}
	host, port, _ := strings.Cut(srv.Addr, ":")
	var procs []proc
	for i := range 2 {
		cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--workers", "1", "--log-level", "info")
		cmd.Env = append(os.Environ(), "RIGHTSIZE_SMTP_HOST="+host, "RIGHTSIZE_SMTP_PORT="+port, "RIGHTSIZE_SMTP_TLS=none", "RIGHTSIZE_SMTP_CONNS=4",
			"RIGHTSIZE_BASE_URL=https://crm.example", "RIGHTSIZE_CONFIG=")
		logBuf := &syncWriter{w: &bytes.Buffer{}}
		cmd.Stderr = logBuf
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		})
		ready := make(chan error, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "Rightsize is running") {
					ready <- nil
					_, _ = io.Copy(io.Discard, out)
					return
				}
			}
			ready <- fmt.Errorf("process %d exited before it was ready: %s", i, logBuf.String())
		}()
		select {
		case err := <-ready:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("process %d not ready within a minute: %s", i, logBuf.String())
		}
		procs = append(procs, proc{cmd, logBuf})
	}

	// Make the steps due while both run: 15 enrolments of 100 contacts, each
	// inserting a due-steps job that either process may take.
	for i := 0; i < total; i += 100 {
		res, err := setup.Sequences.Enroll(ctx, ws.ID, seq.ID, contacts[i:i+100], "api")
		if err != nil || len(res.Enrolled) != 100 {
			t.Fatalf("enrol %d: %+v %v", i, res, err)
		}
	}
	select {
	case <-all:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the SMTP server got %d of %d messages in 3 minutes", srv.Count(), total)
	}
	// The last outcomes are recorded just after the server accepted them.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var accepted int
		if err := db.QueryRow(`SELECT COUNT(*) FROM send_ledger WHERE workspace_id=$1 AND state='accepted'`, ws.ID).Scan(&accepted); err != nil {
			t.Fatal(err)
		}
		if accepted == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sends accepted after a minute", accepted, total)
		}
		<-tick.C
	}
	var rows, enrollments, keys int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT enrollment_id), COUNT(DISTINCT dedupe_key) FROM send_ledger WHERE workspace_id=$1`, ws.ID).Scan(&rows, &enrollments, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != total || enrollments != total || keys != total {
		t.Fatalf("ledger: %d rows, %d enrollments, %d keys; want %d each (one per (enrollment, step))", rows, enrollments, keys, total)
	}
	if srv.Count() != total || srv.Dups() != 0 || srv.NoID() != 0 {
		t.Fatalf("SMTP server: %d messages, %d repeated Message-IDs, %d without one", srv.Count(), srv.Dups(), srv.NoID())
	}
	var sent, dup int
	if err := db.QueryRow(`SELECT COUNT(*) FILTER (WHERE outcome='sent'), COUNT(*) FILTER (WHERE outcome='duplicate') FROM sequence_step_log WHERE workspace_id=$1`, ws.ID).Scan(&sent, &dup); err != nil {
		t.Fatal(err)
	}
	// Both processes worked: River clients that ran due-steps jobs, and mail
	// claimers that sent.
	clients := map[string]int{}
	r, err := db.Query(`SELECT c, COUNT(*) FROM river_job, unnest(attempted_by) AS c WHERE kind IN ('sequences_due', 'sequences_due_batch') AND state='completed' GROUP BY c`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var c string
		var n int
		if err := r.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		clients[c] = n
	}
	r.Close()
	claimers := map[string]int{}
	r, err = db.Query(`SELECT claimed_by, COUNT(*) FROM send_ledger WHERE workspace_id=$1 GROUP BY claimed_by`, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var c string
		var n int
		if err := r.Scan(&c, &n); err != nil {
			t.Fatal(err)
		}
		claimers[c] = n
	}
	r.Close()
	t.Logf("sequences_due jobs by River client: %v; sends by claimer: %v; step log: %d sent, %d duplicate", clients, claimers, sent, dup)
	// Both processes must have done some of the work, or the run proved
	// nothing about two processes: due-step jobs on both, or sends from both.
	// Which one takes what is up to timing (one process can drain every send
	// while the other runs due-step batches), so either split counts.
	if len(clients) != 2 && len(claimers) != 2 {
		for i, p := range procs {
			t.Logf("process %d log:\n%s", i, p.log.String())
		}
		t.Fatalf("want both processes to have worked: %d River clients ran due steps, %d claimers sent", len(clients), len(claimers))
	}
	if sent != total {
		t.Fatalf("step log: %d sent, want %d", sent, total)
	}
}

// syncWriter lets a process write its log while the test reads it.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
