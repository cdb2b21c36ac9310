package bench

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
	"time"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/store"
)

// SinkCommand is the hidden `rightsize bench` workload name that runs the
// loopback SMTP sink in its own process (so its CPU is not the sender's).
const SinkCommand = "_smtpsink"

// ServeSink runs a counting go-smtp server until stdin closes: it prints
// "READY addr", and answers "stats" with "count dups noid".
func ServeSink(ctx context.Context, out io.Writer, _ []string) error {
	s, err := smtptest.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s.Close()
	s.CountOnly = true
	fmt.Fprintln(out, "READY", s.Addr)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "stats" {
			fmt.Fprintln(out, s.Count(), s.Dups(), s.NoID())
		}
	}
	return nil
}

type sinkProc struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

func startSink(exe string) (*sinkProc, error) {
	cmd := exec.Command(exe, "bench", SinkCommand)
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start SMTP sink: %w", err)
	}
	s := &sinkProc{cmd: cmd, in: in, out: bufio.NewScanner(outp)}
	if !s.out.Scan() || !strings.HasPrefix(s.out.Text(), "READY ") {
		s.close()
		return nil, fmt.Errorf("SMTP sink did not start: %q", s.out.Text())
	}
	s.addr = strings.TrimPrefix(s.out.Text(), "READY ")
	return s, nil
}

func (s *sinkProc) close() { s.in.Close(); _ = s.cmd.Wait() }

func (s *sinkProc) stats() (count, dups, noid int64, err error) {
	fmt.Fprintln(s.in, "stats")
	if !s.out.Scan() {
		return 0, 0, 0, fmt.Errorf("SMTP sink gone")
	}
	_, err = fmt.Sscan(s.out.Text(), &count, &dups, &noid)
	return
}

const sendConns = 16

func sinkTransport(addr string) (*mail.Transport, error) {
	host, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	cfg := config.Defaults()
	cfg.SMTPHost, cfg.SMTPPort, cfg.SMTPTLS, cfg.SMTPConns = host, p, "none", sendConns
	return mail.NewTransport(cfg)
}

// runSend: --rows personalised ~5 kB messages (default 20,000) into a
// loopback SMTP sink in its own process, which counts them and checks
// Message-IDs. In one run: go-mail's transport alone with pre-rendered
// messages (sequential MAIL/RCPT/DATA, then pipelined), then the product's
// path — claim 100 rows a transaction, render, mark smtp_started, send, record
// — with the ledger on the chosen store. 16 connections each.
func runSend(ctx context.Context, o Options, r *Result) error {
	n := o.Rows
	if n <= 0 {
		n = 20000
	}
	r.Size = n
	sink, err := startSink(o.Exe)
	if err != nil {
		return err
	}
	defer sink.close()
	var sent int64
	check := func(phase string) error {
		count, dups, noid, err := sink.stats()
		if err != nil {
			return err
		}
		if count != sent || dups != 0 || noid != 0 {
			return fmt.Errorf("%s: the sink counted %d messages (want %d), %d repeated Message-IDs, %d without one", phase, count, sent, dups, noid)
		}
		return nil
	}
	tm, err := mail.Compile("Hello {{.Contact.FirstName}}", NewsletterHTML, "")
	if err != nil {
		return err
	}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		d := &mail.Data{Contact: mail.ContactData{FirstName: fmt.Sprintf("N%d", i), LastName: "Lovelace", Email: "x@rcpt.test"}, Account: mail.AccountData{Name: "Acme & Co"}, UnsubscribeURL: "https://crm.test/u/t", PostalAddress: "1 Street"}
		rr, err := tm.Render(ctx, d)
		if err != nil {
			return err
		}
		m := mail.Message{From: "ada@sender.test", To: "x@rcpt.test", Subject: rr.Subject, MessageID: "<x@y>", Date: time.Now(), UnsubscribeURL: "https://crm.test/u/x", HTML: rr.HTML, Text: rr.Text, PostalAddress: "1 Street"}
		var buf bytes.Buffer
		if err := m.Build(&buf); err != nil {
			return err
		}
		bodies[i] = bytes.Replace(buf.Bytes(), []byte("Message-ID: <x@y>\r\n"), nil, 1)
	}
	runID := time.Now().UnixNano()
	raw := func(name string, send func(c *mail.Conn, from, to string, m []byte) mail.SendResult) (float64, error) {
		tr, err := sinkTransport(sink.addr)
		if err != nil {
			return 0, err
		}
		defer tr.Close()
		var next atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		cpu0, t0 := cpuTime(), time.Now()
		for range sendConns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := tr.Get(ctx)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				defer c.Release(true)
				var msg []byte
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					msg = append(append(msg[:0], fmt.Sprintf("Message-ID: <%s-%d-%d@bench>\r\n", name, runID, i)...), bodies[i%1000]...)
					if res := send(c, "ada@sender.test", "x@rcpt.test", msg); !res.Delivered {
						mu.Lock()
						firstErr = fmt.Errorf("%s send: %+v", name, res)
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		el, cpu := time.Since(t0), cpuTime()-cpu0
		if firstErr != nil {
			return 0, firstErr
		}
		sent += int64(n)
		if err := check(name); err != nil {
			return 0, err
		}
		rate := float64(n) / el.Seconds()
		r.add(plain(name+" msgs/s", rate, "msgs/s"))
		r.add(plain(name+" CPU per 1,000", cpu.Seconds()*1000/float64(n), "cpu-s"))
		return rate, nil
	}
	rawRate, err := raw("raw go-mail (sequential, pre-rendered, no DB)", (*mail.Conn).SendSequential)
	if err != nil {
		return err
	}
	pipeRate, err := raw("raw pipelined (pre-rendered, no DB)", (*mail.Conn).Send)
	if err != nil {
		return err
	}

	e, err := newDB(ctx, o)
	if err != nil {
		return err
	}
	defer e.close(r)
	if err := e.openApp(ctx, "https://crm.test"); err != nil {
		return err
	}
	a := e.App
	if _, err := SeedPlannedSends(ctx, a.St, e.WS.ID, n, fmt.Sprintf("run%d.sender.test", runID)); err != nil {
		return err
	}
	tr, err := sinkTransport(sink.addr)
	if err != nil {
		return err
	}
	defer tr.Close()
	a.Mail.Transport = tr
	a.Mail.Batch = 100
	done := measure(o)
	pg := e.pgMeter(ctx)
	cpu0, t0 := cpuTime(), time.Now()
	stats, err := a.Mail.Drain(ctx)
	el, cpu := time.Since(t0), cpuTime()-cpu0
	done()
	pg.stop(ctx, r, "messages", int64(stats.Accepted))
	if err != nil {
		return err
	}
	if stats.Accepted != n {
		return fmt.Errorf("ledger path: %+v, want %d accepted", stats, n)
	}
	sent += int64(n)
	if err := check("ledger"); err != nil {
		return err
	}
	left, err := a.St.Read().ListSends(ctx, e.WS.ID, store.SendPlanned, 1)
	if err != nil {
		return err
	}
	if len(left) != 0 {
		return fmt.Errorf("ledger path: rows left planned")
	}
	rate := float64(n) / el.Seconds()
	r.add(plain("ledger path msgs/s", rate, "msgs/s"))
	r.add(plain("ledger path CPU per 1,000", cpu.Seconds()*1000/float64(n), "cpu-s"))
	r.add(atLeast("ledger ÷ raw go-mail", 100*rate/rawRate, "%", 85))
	r.add(plain("ledger ÷ raw pipelined", 100*rate/pipeRate, "%"))
	r.Notes = append(r.Notes, "the sink runs in its own process; CPU figures are the bench process's (sender) only; engagement tracking on (pixel in every message)")
	return nil
}
