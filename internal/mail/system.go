package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/quotedprintable"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/secretbox"
	"github.com/rightsize/rightsize/internal/store"
)

// System mail is the install's own transactional mail to users (a password
// reset link), who are not contacts of a workspace: no footer, no unsubscribe,
// no tracking, no workspace sender. It has its own small ledger
// (system_mail): a row per message with a unique key, planned in the
// transaction that caused it, marked smtp_started before SMTP (a crash leaves
// it unknown, never re-sent), its body sealed with the install key and wiped
// once the row is finished, and an expiry after which it is not sent (a reset
// link is useless after an hour).

// SystemMessage is one transactional message to plan.
type SystemMessage struct {
	Key     string // unique: planning it again is a no-op
	Kind    string // "password_reset"
	To      string
	Subject string
	Text    string
	Expires time.Time
}

const systemLabel = "system-mail:v1"

// SystemFromAddress is the envelope and From address of system mail:
// SystemFrom when set (config mail_from), else no-reply at the base URL's host.
func (s *Service) SystemFromAddress() string {
	if s.SystemFrom != "" {
		return s.SystemFrom
	}
	host := "localhost"
	if u, err := url.Parse(s.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "no-reply@" + host
}

// PlanSystem records m in q's transaction and, when a row was created, asks
// for a delivery run in the same transaction (SystemKick).
func (s *Service) PlanSystem(ctx context.Context, q store.Q, m SystemMessage) error {
	if m.Key == "" || m.To == "" || strings.ContainsAny(m.To, "\r\n<>") {
		return fmt.Errorf("mail: system message needs a key and a plain address")
	}
	enc, err := secretbox.Seal(s.Secret, systemLabel, m.Key, []byte(m.Text))
	if err != nil {
		return err
	}
	created, err := q.PlanSystemMail(ctx, &store.SystemMail{DedupeKey: m.Key, Kind: m.Kind, ToEmail: m.To, Subject: m.Subject, BodyEnc: enc, ExpiresAt: m.Expires})
	if err != nil {
		return err
	}
	if created && s.SystemKick != nil {
		return s.SystemKick(ctx, q)
	}
	return nil
}

// SendPasswordReset plans the reset link email (auth.ResetMailer). The key is
// derived from the token's hash: the token itself is never stored in plain text.
func (s *Service) SendPasswordReset(ctx context.Context, q store.Q, to, token string, expires time.Time) error {
	h := sha256.Sum256([]byte(token))
	link := s.BaseURL + "/reset?token=" + url.QueryEscape(token)
	text := "Someone (we hope you) asked to reset the password of your Rightsize login " + to + ".\n\n" +
		"Open this link to choose a new password. It works once, until " + expires.UTC().Format("2006-01-02 15:04 MST") + ":\n\n" +
		link + "\n\n" +
		"Setting a new password signs you out everywhere. If you did not ask for this, ignore this message: your password stays as it is.\n"
	return s.PlanSystem(ctx, q, SystemMessage{Key: "password_reset:" + hex.EncodeToString(h[:16]), Kind: "password_reset", To: to,
		Subject: "Reset your Rightsize password", Text: text, Expires: expires})
}

// buildSystem renders a plain-text message.
func (s *Service) buildSystem(m store.SystemMail, text []byte, now time.Time) []byte {
	from := s.SystemFromAddress()
	var b bytes.Buffer
	b.WriteString("From: " + address("Rightsize", from) + "\r\n")
	b.WriteString("To: " + address("", m.ToEmail) + "\r\n")
	b.WriteString(EncodeHeader("Subject", m.Subject))
	b.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	b.WriteString("Message-ID: <" + hex.EncodeToString(id) + "." + m.Kind + "@" + domainOf(from) + ">\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	text = bytes.ReplaceAll(bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write(text)
	_ = qp.Close()
	return b.Bytes()
}

// SystemMaxAttempts bounds retries of a message refused for now (4xx, no
// connection); its expiry bounds them too.
const SystemMaxAttempts = 5

// DeliverSystem sends the due system mail. Without SMTP configured rows stay
// planned until they expire.
func (s *Service) DeliverSystem(ctx context.Context) (sent int, err error) {
	now := s.Now()
	if err := s.St.InTx(ctx, func(q store.Q) error {
		n, err := q.AdminRecoverSystemMail(ctx, now.Add(-RecoverStale))
		if n > 0 {
			s.Log.Warn("mail: system mail outcome unknown after a stop during SMTP; not re-sent", "messages", n)
		}
		return err
	}); err != nil {
		return 0, err
	}
	if s.Transport == nil {
		return 0, s.expireSystem(ctx, now)
	}
	var rows []store.SystemMail
	if err := s.St.InTx(ctx, func(q store.Q) (err error) {
		rows, err = q.ClaimSystemMail(ctx, now, 50)
		return err
	}); err != nil || len(rows) == 0 {
		return 0, err
	}
	// Outcomes are recorded even when ctx ends (shutdown): the messages went.
	wctx := context.WithoutCancel(ctx)
	finish := func(id int64, state string, code int, text string) error {
		return s.St.InTx(wctx, func(q store.Q) error { return q.FinishSystemMail(wctx, id, state, code, text, s.Now()) })
	}
	retry := func(m store.SystemMail, code int, text string) error {
		if m.Attempts >= SystemMaxAttempts || !now.Add(s.backoff(m.Attempts)).Before(m.ExpiresAt) {
			return finish(m.ID, store.SystemMailFailed, code, text)
		}
		return s.St.InTx(wctx, func(q store.Q) error {
			return q.RetrySystemMail(wctx, m.ID, now.Add(s.backoff(m.Attempts)), code, text, s.Now())
		})
	}
	var conn *Conn
	for _, m := range rows {
		if !now.Before(m.ExpiresAt) {
			if err := finish(m.ID, store.SystemMailExpired, 0, "expired before it could be sent"); err != nil {
				return sent, err
			}
			continue
		}
		text, err := secretbox.Open(s.Secret, systemLabel, m.DedupeKey, m.BodyEnc)
		if err != nil {
			if err := finish(m.ID, store.SystemMailFailed, 0, "not sent: "+err.Error()); err != nil {
				return sent, err
			}
			continue
		}
		if conn == nil {
			if conn, err = s.Transport.Get(ctx); err != nil {
				s.Log.Warn("mail: smtp unavailable for system mail; will retry", "err", err)
				if err := retry(m, 0, err.Error()); err != nil {
					return sent, err
				}
				conn = nil
				continue
			}
		}
		r := conn.Send(s.SystemFromAddress(), m.ToEmail, s.buildSystem(m, text, s.Now()))
		switch {
		case r.Delivered:
			err = finish(m.ID, store.SystemMailSent, r.Code, r.Text)
			sent++
		case r.Ambiguous:
			err = finish(m.ID, store.SystemMailUnknown, r.Code, "connection lost after the message body; it may or may not have gone out")
		case r.Code >= 500:
			err = finish(m.ID, store.SystemMailFailed, r.Code, r.Text)
		default:
			err = retry(m, r.Code, r.Text)
		}
		if err != nil {
			conn.Release(false)
			return sent, err
		}
		if r.Broken {
			conn.Release(false)
			conn = nil
		}
	}
	if conn != nil {
		conn.Release(true)
	}
	return sent, nil
}

// expireSystem finishes planned rows whose expiry passed (no SMTP to send them).
func (s *Service) expireSystem(ctx context.Context, now time.Time) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		_, err := q.AdminExpireSystemMail(ctx, now)
		return err
	})
}

// SystemDeliverArgs is a delivery run of system mail: inserted with the row
// (SystemKick) and periodically (recovery, retries, expiry).
type SystemDeliverArgs struct{}

// Kind names the job.
func (SystemDeliverArgs) Kind() string { return "system_mail_deliver" }

// InsertOpts: not unique, so a run asked for while another runs (after its
// claim) is not dropped; concurrent runs take disjoint rows.
func (SystemDeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// SystemDeliverWorker runs DeliverSystem.
type SystemDeliverWorker struct {
	river.WorkerDefaults[SystemDeliverArgs]
	Svc *Service
}

// Work sends what is due.
func (w *SystemDeliverWorker) Work(ctx context.Context, _ *river.Job[SystemDeliverArgs]) error {
	n, err := w.Svc.DeliverSystem(ctx)
	if n > 0 {
		w.Svc.Log.Info("mail: system mail sent", "messages", n)
	}
	return err
}

// SystemDeliverPeriodicJob runs DeliverSystem every interval.
func SystemDeliverPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return SystemDeliverArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "system_mail_deliver", RunOnStart: true})
}
