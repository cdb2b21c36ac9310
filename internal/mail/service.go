// Package mail is the sending layer (issue 4, docs/mail.md): a send ledger with
// one row per send claimed before SMTP DATA, message building (HTML + text,
// footer, RFC 8058 headers, deterministic Message-ID, DKIM), a sandboxed
// template engine, one-click unsubscribe and bounce handling. Sequences call
// Plan; delivery runs as a River job that drains due rows.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/safehttp"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Service sends mail for every workspace.
type Service struct {
	St        *store.Store
	Transport *Transport // nil: SMTP not configured, sends stay planned
	BaseURL   string
	Secret    []byte // unsubscribe token key
	// HookSecret authenticates POST /hooks/mail/events and /hooks/mail/inbound;
	// "" refuses every call.
	HookSecret string
	// OnReply, when set, runs in a human reply's transaction (nurture exits).
	OnReply ReplyHook
	// OnSuppressed, when set, runs in the transaction that suppresses an
	// address (unsubscribe, bounce, complaint): the nurture engine exits the
	// contacts behind it.
	OnSuppressed SuppressHook
	Log          *slog.Logger
	// Now and Sleep are the clock; tests drive them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Batch is how many rows one claim transaction takes.
	Batch int
	// Group is how many claimed rows are marked smtp_started per transaction
	// (with the previous group's outcomes): a crash leaves at most Group rows
	// per connection unknown. Default 10; 0 or less: the whole batch.
	Group int
	// MaxSoftBounces: an address is suppressed after this many 4xx answers.
	MaxSoftBounces int
	// RetryBase is the first retry delay after a 4xx or a refused connection;
	// it doubles per attempt up to RetryMax.
	RetryBase, RetryMax time.Duration
	// BeforeData, when set, runs after rows are marked smtp_started and before
	// SMTP (tests use it to simulate a crash at the worst moment).
	BeforeData func(ids []int64) error
	// Scoring, when set, receives the first human open and click of a send
	// (email_open, email_click) in the transaction that records it.
	Scoring *scoring.Service
	// Kick, when set, enqueues a delivery run in q's transaction (the app
	// inserts a mail_deliver_now job): Plan and PlanBatch call it when they
	// planned a row, so mail leaves when it is planned rather than at the
	// next periodic drain.
	Kick func(ctx context.Context, q store.Q) error
	// SystemFrom is the From address of system mail (password resets);
	// "": no-reply at the base URL's host. SystemKick, when set, enqueues a
	// system mail delivery run in q's transaction (docs/security-sessions.md).
	SystemFrom string
	SystemKick func(ctx context.Context, q store.Q) error
	// IMAPTLSConfig, when set, is the TLS configuration reply mailboxes are
	// dialled with (tests trust their own certificate); nil: system roots.
	IMAPTLSConfig *tls.Config
	// IMAPNet checks a reply mailbox's host when it is saved and the address
	// it resolves to at every connection: a workspace admin must not reach
	// this machine or its network through the IMAP poller (SSRF). nil: a
	// default safehttp client.
	IMAPNet *safehttp.Client

	// EngageWriters is how many open/click transactions may be in flight
	// (default 1; the app sets 2 on PostgreSQL, where one batch's round trips
	// and commit overlap the next). EngageMaxPending bounds the queue
	// (default EngageMaxPending).
	EngageWriters    int
	EngageMaxPending int
	// EngageEarlyAck is how many answered open/click events may wait for
	// the disk: 0 (the default) answers a request only once its event is
	// durable; N > 0 answers at once while fewer than N answered events are
	// not yet durable — a crash loses at most those N (engage_writer.go).
	// The app sets it from its config (engage_early_ack, default
	// EngageEarlyAckDefault).
	EngageEarlyAck int
	// ScoreLater, when set, enqueues the scoring of first human opens and
	// clicks as an EngageScoreArgs job in the writer's transaction (the app
	// inserts a River job; EngageScoreWorker runs it). Unset: scored inline.
	ScoreLater func(ctx context.Context, q store.Q, args EngageScoreArgs) error
	engageOnce sync.Once
	ew         atomic.Pointer[engageWriter]

	claimer string
	// drainMu guards draining/again: one drain per process at a time; a
	// drain asked for while one runs makes the running one go round again.
	drainMu  sync.Mutex
	draining bool
	again    bool
	mu       sync.Mutex
	limits   map[int64]*limiter
	senders  map[int64]senderEntry
	tmpls    map[[2]int64]tmplEntry
	engage   *engageKeys
}

type limiter struct {
	rate float64
	l    *rate.Limiter
}

type senderEntry struct {
	s      store.MailSender
	signer *Signer
	at     time.Time
}

type tmplEntry struct {
	t         *Template
	updatedAt time.Time
	checked   time.Time
	err       error
}

// Options configure New.
type Options struct {
	Transport  *Transport
	BaseURL    string
	Secret     string // "" : a generated secret kept in the database
	HookSecret string
	Log        *slog.Logger
}

// New builds the service and loads (or creates) the install secret.
func New(ctx context.Context, st *store.Store, o Options) (*Service, error) {
	secret := o.Secret
	if secret == "" {
		err := st.InTx(ctx, func(q store.Q) (err error) {
			secret, err = q.InstallSecret(ctx, "unsubscribe", func() string {
				b := make([]byte, 32)
				_, _ = rand.Read(b)
				return hex.EncodeToString(b)
			})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	host := make([]byte, 6)
	_, _ = rand.Read(host)
	return &Service{St: st, Transport: o.Transport, BaseURL: strings.TrimRight(o.BaseURL, "/"), Secret: []byte(secret), HookSecret: o.HookSecret, Log: log,
		Now: store.Now, Sleep: sleepCtx, Batch: 100, Group: 10, MaxSoftBounces: 5, RetryBase: time.Minute, RetryMax: time.Hour,
		IMAPNet: safehttp.New(), claimer: "mail-" + hex.EncodeToString(host)}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrNoSender means the workspace has no sender identity yet.
var ErrNoSender = errors.New("mail: the workspace has no sender configured (PUT /api/v1/mail/sender)")

// SuppressHook is told an address of ws was suppressed and why (a
// store.Suppress* reason).
type SuppressHook func(ctx context.Context, q store.Q, ws int64, email, reason string) error

// suppress adds email to ws's suppression list and tells OnSuppressed.
func (s *Service) suppress(ctx context.Context, q store.Q, ws int64, email, reason, source string) error {
	if _, err := q.Suppress(ctx, ws, email, reason, source); err != nil {
		return err
	}
	if s.OnSuppressed != nil {
		return s.OnSuppressed(ctx, q, ws, email, reason)
	}
	return nil
}

// PlanRequest is what a caller (the sequence engine) asks to send.
type PlanRequest struct {
	DedupeKey    string // unique per workspace, e.g. "enrollment:12:step:3"
	EnrollmentID *int64
	StepID       *int64
	ContactID    int64
	TemplateID   int64
	DueAt        time.Time
	// Vars are per-send template variables ({{.Vars.confirm_url}}).
	Vars map[string]string
}

// Plan records a send in q's transaction (so it commits with the caller's own
// change). Planning the same dedupe key twice returns the existing row.
func (s *Service) Plan(ctx context.Context, q store.Q, ws int64, r PlanRequest) (store.Send, bool, error) {
	if strings.TrimSpace(r.DedupeKey) == "" {
		return store.Send{}, false, &store.FieldError{Field: "dedupe_key", Message: "required"}
	}
	snd, err := q.GetMailSender(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return store.Send{}, false, ErrNoSender
	}
	if err != nil {
		return store.Send{}, false, err
	}
	c, err := q.GetContact(ctx, ws, r.ContactID)
	if err != nil {
		return store.Send{}, false, fmt.Errorf("mail: plan: contact %d: %w", r.ContactID, err)
	}
	if _, err := q.GetMailTemplate(ctx, ws, r.TemplateID); err != nil {
		return store.Send{}, false, fmt.Errorf("mail: plan: template %d: %w", r.TemplateID, err)
	}
	row := store.Send{DedupeKey: r.DedupeKey, EnrollmentID: r.EnrollmentID, StepID: r.StepID, ContactID: c.ID, TemplateID: r.TemplateID, Vars: r.Vars,
		ToEmail: c.Email, MessageID: MessageID(ws, r.DedupeKey, domainOf(snd.FromAddress)), DueAt: r.DueAt}
	created, err := q.PlanSend(ctx, ws, &row)
	if err == nil && created && s.Kick != nil {
		err = s.Kick(ctx, q)
	}
	return row, created, err
}

// PlanBatch is Plan for many sends of ws in the caller's transaction (a nurture
// batch): the sender and each template are read once and the contacts in one
// query; each row is one insert. planned[i] answers reqs[i] as Plan would.
func (s *Service) PlanBatch(ctx context.Context, q store.Q, ws int64, reqs []PlanRequest) ([]bool, error) {
	snd, err := q.GetMailSender(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSender
	}
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(reqs))
	seenT := map[int64]bool{}
	for _, r := range reqs {
		if strings.TrimSpace(r.DedupeKey) == "" {
			return nil, &store.FieldError{Field: "dedupe_key", Message: "required"}
		}
		ids = append(ids, r.ContactID)
		if !seenT[r.TemplateID] {
			seenT[r.TemplateID] = true
			if _, err := q.GetMailTemplate(ctx, ws, r.TemplateID); err != nil {
				return nil, fmt.Errorf("mail: plan: template %d: %w", r.TemplateID, err)
			}
		}
	}
	cs, err := q.ContactsByIDs(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	domain := domainOf(snd.FromAddress)
	out := make([]bool, len(reqs))
	for i, r := range reqs {
		c := cs[r.ContactID]
		if c == nil {
			return nil, fmt.Errorf("mail: plan: contact %d: %w", r.ContactID, store.ErrNotFound)
		}
		row := store.Send{DedupeKey: r.DedupeKey, EnrollmentID: r.EnrollmentID, StepID: r.StepID, ContactID: c.ID, TemplateID: r.TemplateID, Vars: r.Vars,
			ToEmail: c.Email, MessageID: MessageID(ws, r.DedupeKey, domain), DueAt: r.DueAt}
		if out[i], err = q.PlanSend(ctx, ws, &row); err != nil {
			return nil, err
		}
	}
	if s.Kick != nil && slices.Contains(out, true) {
		if err := s.Kick(ctx, q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// UnsubscribeURL is the one-click link for a contact's address in ws, and
// its token. Compose calls it for every message: the token is signed with
// the service's pooled keyed HMAC (SignToken keys one per call).
func (s *Service) UnsubscribeURL(ws, contact int64, email string) (string, string) {
	k := s.signers()
	g := k.pool.Get().(*engageSigner)
	defer k.pool.Put(g)
	u := append(append(make([]byte, 0, len(s.BaseURL)+3+len(email)*2+96), s.BaseURL...), "/u/"...)
	u = g.appendUnsubToken(u, Token{Workspace: ws, Contact: contact, Email: email, Issued: s.Now()})
	url := string(u)
	return url, url[len(s.BaseURL)+3:]
}

// sender loads (and caches briefly) ws's sender and DKIM signer.
func (s *Service) sender(ctx context.Context, ws int64) (senderEntry, error) {
	now := time.Now()
	s.mu.Lock()
	if s.senders == nil {
		s.senders = map[int64]senderEntry{}
	}
	e, ok := s.senders[ws]
	s.mu.Unlock()
	if ok && now.Sub(e.at) < 10*time.Second {
		return e, nil
	}
	snd, err := s.St.Read().GetMailSender(ctx, ws)
	if err != nil {
		return e, err
	}
	e = senderEntry{s: snd, at: now}
	if snd.DKIMKeyPEM != "" {
		key, err := s.openDKIM(ws, snd.DKIMKeyPEM)
		if err != nil {
			return e, fmt.Errorf("mail: DKIM key of workspace %d: %w", ws, err)
		}
		if e.signer, err = NewSigner(snd.DKIMDomain, snd.DKIMSelector, key); err != nil {
			return e, err
		}
	}
	// The cached entry keeps no key material beyond the signer.
	e.s.DKIMKeyPEM = ""
	s.mu.Lock()
	s.senders[ws] = e
	s.mu.Unlock()
	return e, nil
}

// template loads and compiles a template. The compiled form is kept for a few
// seconds (a batch renders it many times), then re-read and recompiled only
// when it changed.
func (s *Service) template(ctx context.Context, ws, id int64) (*Template, error) {
	key := [2]int64{ws, id}
	now := time.Now()
	s.mu.Lock()
	if s.tmpls == nil {
		s.tmpls = map[[2]int64]tmplEntry{}
	}
	e, ok := s.tmpls[key]
	s.mu.Unlock()
	if ok && now.Sub(e.checked) < 5*time.Second {
		return e.t, e.err
	}
	t, err := s.St.Read().GetMailTemplate(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	if !ok || !e.updatedAt.Equal(t.UpdatedAt) {
		e.t, e.err = Compile(t.Subject, t.HTML, t.Text)
		e.updatedAt = t.UpdatedAt
	}
	e.checked = now
	s.mu.Lock()
	s.tmpls[key] = e
	s.mu.Unlock()
	return e.t, e.err
}

// wait applies ws's rate limit (messages per second; 0 is unlimited).
func (s *Service) wait(ctx context.Context, ws int64, perSec float64) error {
	if perSec <= 0 {
		return nil
	}
	s.mu.Lock()
	if s.limits == nil {
		s.limits = map[int64]*limiter{}
	}
	l := s.limits[ws]
	if l == nil || l.rate != perSec {
		l = &limiter{rate: perSec, l: rate.NewLimiter(rate.Limit(perSec), max(1, int(perSec)))}
		s.limits[ws] = l
	}
	r := l.l.ReserveN(s.Now(), 1)
	s.mu.Unlock()
	return s.Sleep(ctx, r.DelayFrom(s.Now()))
}

// Compose renders one claimed row into a finished (and signed) message.
func (s *Service) Compose(ctx context.Context, cs *store.ClaimedSend) ([]byte, string, error) {
	return s.composeInto(ctx, cs, new(bytes.Buffer))
}

// composeInto is Compose building the message in b: the message returned
// may be b's bytes, so b must not be reused while the message is in use.
func (s *Service) composeInto(ctx context.Context, cs *store.ClaimedSend, b *bytes.Buffer) ([]byte, string, error) {
	se, err := s.sender(ctx, cs.Workspace)
	if err != nil {
		return nil, "", err
	}
	t, err := s.template(ctx, cs.Workspace, cs.TemplateID)
	if err != nil {
		return nil, "", err
	}
	unsub, tok := s.UnsubscribeURL(cs.Workspace, cs.ContactID, cs.ToEmail)
	d := dataFor(cs, unsub, se.s.PostalAddress)
	r, err := t.Render(ctx, d)
	if err != nil {
		return nil, "", err
	}
	if !se.s.TrackOff && cs.ID != 0 {
		r.HTML = s.track(cs.Workspace, cs.ID, r.HTML, unsub)
	}
	m := Message{FromName: se.s.FromName, From: se.s.FromAddress, ReplyTo: se.s.ReplyTo, To: cs.ToEmail, Subject: r.Subject,
		MessageID: cs.MessageID, Date: s.Now(), UnsubscribeURL: unsub, HTML: r.HTML, Text: r.Text, PostalAddress: se.s.PostalAddress,
		UnsubscribeMailto: "mailto:" + se.s.FromAddress + "?subject=" + url.QueryEscape("unsubscribe "+tok)}
	b.Grow(buildSize(len(r.HTML), len(r.Text)))
	if err := m.Build(b); err != nil {
		return nil, "", err
	}
	raw := b.Bytes()
	if se.signer != nil {
		if raw, err = se.signer.Sign(raw); err != nil {
			return nil, "", err
		}
	}
	return raw, se.s.FromAddress, nil
}

func dataFor(cs *store.ClaimedSend, unsub, postal string) *Data {
	c, a := cs.Contact, cs.Account
	return &Data{Contact: ContactData{FirstName: c.FirstName, LastName: c.LastName, Email: cs.ToEmail, Title: c.Title, Phone: c.Phone, LifecycleStage: c.LifecycleStage, Custom: map[string]any(c.Custom)},
		Account: AccountData{Name: a.Name, Domain: a.Domain, Industry: a.Industry, Region: a.Region}, UnsubscribeURL: unsub, PostalAddress: postal, Vars: cs.Vars}
}
