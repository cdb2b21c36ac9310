package mail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/rightsize/rightsize/internal/config"
)

// Transport holds a small pool of open SMTP connections made by go-mail (dial,
// EHLO, STARTTLS policy, AUTH); each connection carries many messages.
type Transport struct {
	c    *gomail.Client
	idle chan *smtp.Client
	// Conns is the pool size: how many messages are in flight at once.
	Conns int
}

// NewTransport configures go-mail from the SMTP settings.
func NewTransport(cfg config.Config) (*Transport, error) {
	policy := gomail.TLSMandatory
	switch cfg.SMTPTLS {
	case "none":
		policy = gomail.NoTLS
	case "starttls-opportunistic":
		policy = gomail.TLSOpportunistic
	}
	opts := []gomail.Option{gomail.WithTLSPolicy(policy), gomail.WithPort(cfg.SMTPPort), gomail.WithTimeout(SMTPTimeout)}
	if cfg.SMTPUsername != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(cfg.SMTPUsername), gomail.WithPassword(cfg.SMTPPassword))
	}
	c, err := gomail.NewClient(cfg.SMTPHost, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	n := max(cfg.SMTPConns, 1)
	return &Transport{c: c, idle: make(chan *smtp.Client, n), Conns: n}, nil
}

// Conn is one pooled SMTP connection.
type Conn struct {
	t    *Transport
	sc   *smtp.Client
	pipe int8 // 0 unknown, 1 PIPELINING offered, -1 not
}

// Get returns an idle connection or dials a new one.
func (t *Transport) Get(ctx context.Context) (*Conn, error) {
	select {
	case sc := <-t.idle:
		return &Conn{t: t, sc: sc}, nil
	default:
	}
	sc, err := t.c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("mail: connect: %w", err)
	}
	return &Conn{t: t, sc: sc}, nil
}

// Release returns a healthy connection to the pool, or closes a broken one.
func (c *Conn) Release(healthy bool) {
	if healthy {
		select {
		case c.t.idle <- c.sc:
			return
		default:
		}
	}
	_ = c.t.c.CloseWithSMTPClient(c.sc)
}

// Close closes every idle connection.
func (t *Transport) Close() {
	for {
		select {
		case sc := <-t.idle:
			_ = t.c.CloseWithSMTPClient(sc)
		default:
			return
		}
	}
}

// SMTPTimeout bounds one SMTP transaction (and the dial).
const SMTPTimeout = time.Minute

// SendResult classifies one SMTP transaction.
type SendResult struct {
	Code int
	Text string
	// Phase is where it ended: "mail", "rcpt", "data" or "done".
	Phase string
	// Delivered: the server answered 250 to the end of DATA.
	Delivered bool
	// Ambiguous: the connection failed after the message body went out and no
	// answer came back; the server may have accepted it.
	Ambiguous bool
	// Broken: the connection can no longer be used.
	Broken bool
}

// Send runs MAIL, RCPT and DATA for one message on c, pipelined (RFC 2920) when
// the server offers PIPELINING.
func (c *Conn) Send(from, to string, raw []byte) SendResult {
	if strings.ContainsAny(from, "\r\n<>") || strings.ContainsAny(to, "\r\n<>") {
		return SendResult{Phase: "mail", Text: "address with a line break or angle bracket", Code: 501}
	}
	// go-mail sets one deadline at dial; each transaction gets its own.
	if err := c.sc.UpdateDeadline(SMTPTimeout); err != nil {
		return SendResult{Phase: "mail", Text: err.Error(), Broken: true}
	}
	if c.pipelining() {
		return c.sendPipelined(from, to, raw)
	}
	return c.SendSequential(from, to, raw)
}

func (c *Conn) pipelining() bool {
	if c.pipe == 0 {
		c.pipe = -1
		if ok, _ := c.sc.Extension("PIPELINING"); ok {
			c.pipe = 1
		}
	}
	return c.pipe == 1
}

// sendPipelined writes MAIL, RCPT and DATA in one flush, reads the three
// answers, then sends the body: two round trips per message instead of four.
func (c *Conn) sendPipelined(from, to string, raw []byte) SendResult {
	tc := c.sc.Text
	if _, err := fmt.Fprintf(tc.W, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, to); err != nil {
		return SendResult{Phase: "mail", Text: err.Error(), Broken: true}
	}
	if err := tc.W.Flush(); err != nil {
		return SendResult{Phase: "mail", Text: err.Error(), Broken: true}
	}
	type answer struct {
		code int
		msg  string
		err  error
	}
	var ans [3]answer
	for i, want := range []int{250, 25, 354} {
		code, msg, err := tc.ReadResponse(want)
		ans[i] = answer{code, msg, err}
		var te *textproto.Error
		if err != nil && !errors.As(err, &te) {
			return SendResult{Phase: [3]string{"mail", "rcpt", "data"}[i], Text: err.Error(), Broken: true}
		}
	}
	if ans[2].err == nil && (ans[0].err != nil || ans[1].err != nil) {
		// DATA was accepted although the envelope failed: end it empty-handed.
		if _, err := tc.W.WriteString(".\r\n"); err != nil || tc.W.Flush() != nil {
			return SendResult{Phase: "data", Broken: true}
		}
		_, _, _ = tc.ReadResponse(250)
	}
	for i, a := range ans {
		if a.err != nil {
			r := SendResult{Code: a.code, Text: a.msg, Phase: [3]string{"mail", "rcpt", "data"}[i]}
			if err := c.sc.Reset(); err != nil {
				r.Broken = true
			}
			return r
		}
	}
	if err := writeDotted(tc.W, raw); err != nil {
		return SendResult{Phase: "data", Text: err.Error(), Broken: true, Ambiguous: true}
	}
	code, msg, err := tc.ReadResponse(250)
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			return SendResult{Code: code, Text: msg, Phase: "data"}
		}
		return SendResult{Phase: "data", Text: err.Error(), Broken: true, Ambiguous: true}
	}
	return SendResult{Code: code, Text: msg, Phase: "done", Delivered: true}
}

// SendSequential is go-mail's own command-by-command transaction (the
// benchmark's raw baseline, and servers without PIPELINING).
func (c *Conn) SendSequential(from, to string, raw []byte) SendResult {
	if err := c.sc.UpdateDeadline(SMTPTimeout); err != nil {
		return SendResult{Phase: "mail", Text: err.Error(), Broken: true}
	}
	from, to = "<"+from+">", "<"+to+">"
	fail := func(phase string, err error, afterBody bool) SendResult {
		var te *textproto.Error
		if errors.As(err, &te) {
			r := SendResult{Code: te.Code, Text: te.Msg, Phase: phase}
			if phase != "data" || !afterBody {
				// A refused envelope leaves a half transaction: reset it.
				if rerr := c.sc.Reset(); rerr != nil {
					r.Broken = true
				}
			}
			return r
		}
		return SendResult{Phase: phase, Text: err.Error(), Broken: true, Ambiguous: afterBody}
	}
	if err := c.sc.Mail(from); err != nil {
		return fail("mail", err, false)
	}
	if err := c.sc.Rcpt(to); err != nil {
		return fail("rcpt", err, false)
	}
	w, err := c.sc.Data()
	if err != nil {
		return fail("data", err, false)
	}
	if _, err := w.Write(raw); err != nil {
		_ = w.Close()
		return SendResult{Phase: "data", Text: err.Error(), Broken: true, Ambiguous: true}
	}
	if err := w.Close(); err != nil {
		return fail("data", err, true)
	}
	resp := ""
	if dc, ok := w.(interface{ ServerResponse() string }); ok {
		resp = dc.ServerResponse()
	}
	return SendResult{Code: 250, Text: resp, Phase: "done", Delivered: true}
}

// writeDotted writes raw (CRLF line ends) as SMTP DATA: a leading "." on a line
// is doubled and ".\r\n" ends it. It copies runs between line starts instead
// of going byte by byte like textproto's DotWriter.
func writeDotted(w *bufio.Writer, raw []byte) error {
	if len(raw) > 0 && raw[0] == '.' {
		w.WriteByte('.')
	}
	for {
		k := bytes.Index(raw, []byte("\n."))
		if k < 0 {
			break
		}
		w.Write(raw[:k+2])
		w.WriteByte('.')
		raw = raw[k+2:]
	}
	w.Write(raw)
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		w.WriteString("\r\n")
	}
	w.WriteString(".\r\n")
	return w.Flush()
}
