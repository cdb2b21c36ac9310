package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The delivery benchmark (docs/benchmarks.md, "Mail delivery (issue 4)"): b.N
// personalised ~5 kB messages into an SMTP sink running as a separate process
// (this test binary re-executed with RIGHTSIZE_SMTPSINK set) that only counts
// and checks Message-IDs. Sub-benchmarks: raw go-mail transport with
// pre-rendered messages and no database, then the full path (claim, render,
// DKIM off, send, record) with the ledger on SQLite and PostgreSQL.
//
//	RIGHTSIZE_TEST_PG=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -run '^$' -bench BenchmarkDelivery -benchtime 100000x ./internal/mail/

func init() {
	if addr := os.Getenv("RIGHTSIZE_SMTPSINK"); addr != "" {
		runSink(addr)
		os.Exit(0)
	}
}

// runSink serves until stdin closes; "stats" on stdin answers "count dups noid".
func runSink(addr string) {
	s, err := smtptest.Start(addr)
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	s.CountOnly = true
	fmt.Println("READY", s.Addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "stats" {
			fmt.Println(s.Count(), s.Dups(), s.NoID())
		}
	}
}

type sink struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

func startSink(b *testing.B) *sink {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), "RIGHTSIZE_SMTPSINK=127.0.0.1:0")
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &sink{cmd: cmd, in: in, out: bufio.NewScanner(outp)}
	if !s.out.Scan() || !strings.HasPrefix(s.out.Text(), "READY ") {
		b.Fatalf("sink did not start: %q", s.out.Text())
	}
	s.addr = strings.TrimPrefix(s.out.Text(), "READY ")
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	return s
}

func (s *sink) stats(b *testing.B) (count, dups, noid int64) {
	fmt.Fprintln(s.in, "stats")
	if !s.out.Scan() {
		b.Fatal("sink gone")
	}
	if _, err := fmt.Sscan(s.out.Text(), &count, &dups, &noid); err != nil {
		b.Fatal(err)
	}
	return
}

func benchTransport(b *testing.B, addr string, conns int) *mail.Transport {
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	cfg := config.Defaults()
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPConns = host, p, "none", conns
	tr, err := mail.NewTransport(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tr.Close)
	return tr
}

// benchHTML is a ~4.5 kB newsletter body with personalisation.
var benchHTML = bench.NewsletterHTML

const conns = 16

type usage struct {
	cpu time.Duration
	at  time.Time
}

func now() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return usage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), at: time.Now()}
}

func report(b *testing.B, start usage, n int) {
	end := now()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	secs := end.at.Sub(start.at).Seconds()
	b.ReportMetric(float64(n)/secs, "msgs/s")
	b.ReportMetric((end.cpu-start.cpu).Seconds()/float64(n)*1000, "cpu-s/1k")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MB")
}

func BenchmarkDelivery(b *testing.B) {
	s := startSink(b)
	var sent atomic.Int64
	check := func(b *testing.B, want int64) {
		count, dups, noid := s.stats(b)
		if count != want || dups != 0 || noid != 0 {
			b.Fatalf("sink counted %d (want %d), %d duplicate Message-IDs, %d without", count, want, dups, noid)
		}
	}
	raw := func(name string, send func(c *mail.Conn, from, to string, m []byte) mail.SendResult) {
		b.Run(name, func(b *testing.B) {
			tr := benchTransport(b, s.addr, conns)
			// 1,000 distinct rendered bodies; each send gets its own Message-ID line.
			tm, err := mail.Compile("Hello {{.Contact.FirstName}}", benchHTML, "")
			if err != nil {
				b.Fatal(err)
			}
			bodies := make([][]byte, 1000)
			for i := range bodies {
				d := sample()
				d.Contact.FirstName = fmt.Sprintf("N%d", i)
				r, err := tm.Render(context.Background(), d)
				if err != nil {
					b.Fatal(err)
				}
				m := mail.Message{From: "ada@sender.test", To: "x@rcpt.test", Subject: r.Subject, MessageID: "<x@y>", Date: time.Now(), UnsubscribeURL: "https://crm.test/u/x", HTML: r.HTML, Text: r.Text, PostalAddress: "1 Street"}
				var buf bytes.Buffer
				if err := m.Build(&buf); err != nil {
					b.Fatal(err)
				}
				bodies[i] = bytes.Replace(buf.Bytes(), []byte("Message-ID: <x@y>\r\n"), nil, 1)
			}
			b.SetBytes(int64(len(bodies[0])))
			base := sent.Load()
			var next atomic.Int64
			b.ResetTimer()
			start := now()
			var wg sync.WaitGroup
			for range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := tr.Get(context.Background())
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Release(true)
					var msg []byte
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						msg = append(append(msg[:0], fmt.Sprintf("Message-ID: <raw-%d-%d@bench>\r\n", base, i)...), bodies[i%1000]...)
						if r := send(c, "ada@sender.test", "x@rcpt.test", msg); !r.Delivered {
							b.Errorf("raw send: %+v", r)
							return
						}
					}
				}()
			}
			wg.Wait()
			report(b, start, b.N)
			b.StopTimer()
			sent.Add(int64(b.N))
			check(b, sent.Load())
		})
	}
	// go-mail's own command-by-command transaction, then the same with PIPELINING.
	raw("raw", (*mail.Conn).SendSequential)
	raw("raw_pipelined", (*mail.Conn).Send)
	for _, kind := range storetest.Kinds(b) {
		b.Run("ledger_"+string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ws := benchSetup(b, st, b.N)
			svc, err := mail.New(context.Background(), st, mail.Options{Transport: benchTransport(b, s.addr, conns), BaseURL: "https://crm.test"})
			if err != nil {
				b.Fatal(err)
			}
			svc.Batch = 100
			b.ResetTimer()
			start := now()
			stats, err := svc.Drain(context.Background())
			report(b, start, b.N)
			b.StopTimer()
			if err != nil || stats.Accepted != b.N {
				b.Fatalf("drain %+v %v", stats, err)
			}
			sent.Add(int64(b.N))
			check(b, sent.Load())
			left, _ := st.Read().ListSends(context.Background(), ws, store.SendPlanned, 1)
			if len(left) != 0 {
				b.Fatal("rows left planned")
			}
		})
	}
}

// benchSetup makes a workspace with a sender, a template and n contacts, each
// with one planned send (the generator `rightsize bench send` uses).
func benchSetup(b *testing.B, st *store.Store, n int) int64 {
	ctx := context.Background()
	w := model.Workspace{Name: "Bench", Slug: fmt.Sprintf("bench-%d", time.Now().UnixNano())}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		b.Fatal(err)
	}
	// Each run is a fresh database (workspace 1 again): a per-run domain keeps
	// Message-IDs unique at the shared sink.
	if _, err := bench.SeedPlannedSends(ctx, st, w.ID, n, fmt.Sprintf("run%d.sender.test", time.Now().UnixNano())); err != nil {
		b.Fatal(err)
	}
	return w.ID
}
