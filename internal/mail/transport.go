package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"

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
	opts := []gomail.Option{gomail.WithTLSPolicy(policy), gomail.WithPort(cfg.SMTPPort)}
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
	t  *Transport
	sc *smtp.Client
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

// Send runs MAIL, RCPT and DATA for one message on c.
func (c *Conn) Send(from, to string, raw []byte) SendResult {
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

var _ io.Writer = (*limitWriter)(nil)
