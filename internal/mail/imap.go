package mail

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/safehttp"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Reply mailbox polling (docs/mail.md, "Replies"): a workspace may name an IMAP
// mailbox that receives the replies to its mail (its Reply-To). A periodic job
// reads the UNSEEN messages, feeds each raw message to the same matching path
// as POST /hooks/mail/inbound (ReplyIn, limited to the workspace's own sends),
// and marks it seen. The reply's Message-ID keys mail_replies, so a message
// read twice (a crash before the \Seen flag was stored, or a client that marked
// it unseen again) is recorded once.

// IMAP TLS modes.
const (
	IMAPTLS      = "tls"      // implicit TLS (port 993)
	IMAPStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 143)
	IMAPNone     = "none"     // no encryption: loopback or a trusted network only
)

// IMAPModes lists the TLS modes a mailbox may use.
var IMAPModes = []string{IMAPTLS, IMAPStartTLS, IMAPNone}

const (
	// IMAPPerPoll caps the messages one poll reads from one mailbox; the rest
	// wait for the next poll.
	IMAPPerPoll = 200
	// imapTimeout bounds one mailbox's poll (dial, login, fetch, store).
	imapTimeout = 2 * time.Minute
	imapFetch   = 20 // messages per FETCH command
)

// IMAPInput is a PUT of the reply mailbox. Password nil keeps the stored one.
type IMAPInput struct {
	Enabled  *bool   `json:"enabled"`
	Host     string  `json:"host"`
	Port     int     `json:"port"`
	TLS      string  `json:"tls"`
	Username string  `json:"username"`
	Password *string `json:"password"`
	Mailbox  string  `json:"mailbox"`
}

// IMAPView is the mailbox as the API and UI show it: never the password.
type IMAPView struct {
	Configured  bool       `json:"configured"`
	Enabled     bool       `json:"enabled"`
	Host        string     `json:"host,omitempty"`
	Port        int        `json:"port,omitempty"`
	TLS         string     `json:"tls,omitempty"`
	Username    string     `json:"username,omitempty"`
	Mailbox     string     `json:"mailbox,omitempty"`
	PasswordSet bool       `json:"password_set"`
	LastPollAt  *time.Time `json:"last_poll_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastFetched int        `json:"last_fetched"`
	UpdatedBy   string     `json:"updated_by,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
}

func imapView(m store.MailIMAP) IMAPView {
	at := m.UpdatedAt
	return IMAPView{Configured: true, Enabled: m.Enabled, Host: m.Host, Port: m.Port, TLS: m.TLS, Username: m.Username, Mailbox: m.Mailbox,
		PasswordSet: m.PasswordEnc != "", LastPollAt: m.LastPollAt, LastError: m.LastError, LastFetched: m.LastFetched, UpdatedBy: m.UpdatedBy, UpdatedAt: &at}
}

// IMAP returns ws's reply mailbox (Configured false when none is saved).
func (s *Service) IMAP(ctx context.Context, ws int64) (IMAPView, error) {
	m, err := s.St.Read().GetMailIMAP(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return IMAPView{}, nil
	}
	if err != nil {
		return IMAPView{}, err
	}
	return imapView(m), nil
}

// imapSettings validates in over the stored row (nil when none): the
// settings to save or test, and the plain password (the stored one when
// in.Password is nil).
func (s *Service) imapSettings(ws int64, in IMAPInput, old *store.MailIMAP) (store.MailIMAP, string, error) {
	in.Host, in.Username, in.Mailbox = strings.TrimSpace(in.Host), strings.TrimSpace(in.Username), strings.TrimSpace(in.Mailbox)
	in.TLS = strings.ToLower(strings.TrimSpace(in.TLS))
	if in.TLS == "" {
		in.TLS = IMAPTLS
	}
	if in.Mailbox == "" {
		in.Mailbox = "INBOX"
	}
	if in.Port == 0 {
		in.Port = 993
		if in.TLS != IMAPTLS {
			in.Port = 143
		}
	}
	switch {
	case in.Host == "" || len(in.Host) > 253 || strings.ContainsAny(in.Host, " /:@\r\n\t"):
		return store.MailIMAP{}, "", fieldErr("host", "want a host name or IP address like imap.example.com (no scheme or port)")
	case s.imapNet().CheckHost(in.Host) != nil:
		return store.MailIMAP{}, "", fieldErr("host", "refused: "+s.imapNet().CheckHost(in.Host).Error()+"; a reply mailbox must be a public mail server")
	case in.Port < 1 || in.Port > 65535:
		return store.MailIMAP{}, "", fieldErr("port", "want 1 to 65535 (993 for tls, 143 for starttls)")
	case !slices.Contains(IMAPModes, in.TLS):
		return store.MailIMAP{}, "", fieldErr("tls", "want one of "+strings.Join(IMAPModes, ", "))
	case in.Username == "" || len(in.Username) > 320 || strings.ContainsAny(in.Username, "\r\n"):
		return store.MailIMAP{}, "", fieldErr("username", "required, at most 320 characters on one line")
	case len(in.Mailbox) > 200 || strings.ContainsAny(in.Mailbox, "\r\n"):
		return store.MailIMAP{}, "", fieldErr("mailbox", "at most 200 characters on one line")
	case in.Password != nil && (len(*in.Password) > 1000 || strings.ContainsAny(*in.Password, "\r\n")):
		return store.MailIMAP{}, "", fieldErr("password", "at most 1000 characters on one line")
	}
	m := store.MailIMAP{Enabled: true, Host: in.Host, Port: in.Port, TLS: in.TLS, Username: in.Username, Mailbox: in.Mailbox}
	if old != nil {
		m.Enabled, m.PasswordEnc = old.Enabled, old.PasswordEnc
	}
	if in.Enabled != nil {
		m.Enabled = *in.Enabled
	}
	var pw string
	switch {
	case in.Password != nil && *in.Password != "":
		pw = *in.Password
		enc, err := s.sealPassword(ws, pw)
		if err != nil {
			return m, "", err
		}
		m.PasswordEnc = enc
	case m.PasswordEnc == "":
		return m, "", fieldErr("password", "required (it is stored encrypted and never shown again)")
	default:
		var err error
		if pw, err = s.openPassword(ws, m.PasswordEnc); err != nil {
			return m, "", fieldErr("password", err.Error())
		}
	}
	return m, pw, nil
}

// SaveIMAP validates and stores act's workspace reply mailbox, and audits it
// (never with the password).
func (s *Service) SaveIMAP(ctx context.Context, act model.Actor, in IMAPInput) (IMAPView, error) {
	ws := act.Workspace
	var out IMAPView
	err := s.St.InTx(ctx, func(q store.Q) error {
		var old *store.MailIMAP
		cur, err := q.GetMailIMAP(ctx, ws)
		switch {
		case err == nil:
			old = &cur
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		m, _, err := s.imapSettings(ws, in, old)
		if err != nil {
			return err
		}
		m.UpdatedBy = act.Label
		if err := q.SaveMailIMAP(ctx, ws, &m); err != nil {
			return err
		}
		if old != nil {
			m.LastPollAt, m.LastError, m.LastFetched = old.LastPollAt, old.LastError, old.LastFetched
		}
		out = imapView(m)
		return crm.Audit(ctx, q, act, "mail_imap_update", "mail_imap", nil, map[string]any{"host": m.Host, "port": m.Port, "tls": m.TLS, "username": m.Username,
			"mailbox": m.Mailbox, "enabled": m.Enabled, "password_changed": in.Password != nil && *in.Password != ""})
	})
	if err != nil {
		return IMAPView{}, fmt.Errorf("mail: save imap: %w", err)
	}
	return out, nil
}

// IMAPCheck is the answer of a connection test.
type IMAPCheck struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Messages int64  `json:"messages"`
	Unseen   int64  `json:"unseen"`
	Mailbox  string `json:"mailbox"`
}

// TestIMAP connects with in (a blank password uses the stored one), logs in
// and opens the mailbox without changing anything. A failure is an answer
// (OK false, Error saying which step failed and why), not an error; invalid
// settings are a field error.
func (s *Service) TestIMAP(ctx context.Context, ws int64, in IMAPInput) (IMAPCheck, error) {
	var old *store.MailIMAP
	cur, err := s.St.Read().GetMailIMAP(ctx, ws)
	switch {
	case err == nil:
		old = &cur
	case !errors.Is(err, store.ErrNotFound):
		return IMAPCheck{}, err
	}
	if in.Password != nil && *in.Password == "" {
		in.Password = nil
	}
	m, pw, err := s.imapSettings(ws, in, old)
	if err != nil {
		return IMAPCheck{}, err
	}
	out := IMAPCheck{Mailbox: m.Mailbox}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := s.dialIMAP(ctx, m, pw)
	if err != nil {
		out.Error = err.Error()
		return out, nil
	}
	defer c.Close()
	st, err := c.Status(m.Mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil {
		out.Error = fmt.Sprintf("mailbox %q: %s", m.Mailbox, imapText(err))
		return out, nil
	}
	if st.NumMessages != nil {
		out.Messages = int64(*st.NumMessages)
	}
	if st.NumUnseen != nil {
		out.Unseen = int64(*st.NumUnseen)
	}
	_ = c.Logout().Wait()
	out.OK = true
	return out, nil
}

// imapNet is the address policy for reply mailboxes.
func (s *Service) imapNet() *safehttp.Client {
	if s.IMAPNet == nil {
		return safehttp.New()
	}
	return s.IMAPNet
}

// dialIMAP connects and logs in; its errors name the step that failed (and
// never the password). The connection is closed when ctx ends.
func (s *Service) dialIMAP(ctx context.Context, m store.MailIMAP, pw string) (*imapclient.Client, error) {
	addr := net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
	tc := &tls.Config{ServerName: m.Host, MinVersion: tls.VersionTLS12}
	if s.IMAPTLSConfig != nil {
		tc = s.IMAPTLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = m.Host
		}
	}
	opts := &imapclient.Options{TLSConfig: tc, Dialer: s.imapNet().Dialer(15 * time.Second)}
	var c *imapclient.Client
	var err error
	switch m.TLS {
	case IMAPTLS:
		c, err = imapclient.DialTLS(addr, opts)
	case IMAPStartTLS:
		c, err = imapclient.DialStartTLS(addr, opts)
	default:
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %s", addr, m.TLS, imapText(err))
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	go func() {
		<-c.Closed()
		stop()
	}()
	if err := c.Login(m.Username, pw).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login as %q at %s refused: %s", m.Username, addr, imapText(err))
	}
	return c, nil
}

// imapText is an IMAP error without the library's prefixes.
func imapText(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		t := ie.Text
		if ie.Code != "" {
			t = "[" + string(ie.Code) + "] " + t
		}
		return t
	}
	return err.Error()
}

// IMAPPoll counts what one poll of a mailbox did.
type IMAPPoll struct {
	Fetched     int `json:"fetched"`
	Recorded    int `json:"recorded"`
	AutoReplies int `json:"auto_replies"`
	Duplicates  int `json:"duplicates"`
	Unmatched   int `json:"unmatched"`
	Skipped     int `json:"skipped"` // unreadable or too large; marked seen, not retried
}

// PollIMAP reads ws's reply mailbox once: every UNSEEN message (at most
// IMAPPerPoll) goes through ReplyIn and is then marked \Seen. A message the
// database could not record stays unseen, so the next poll retries it. The
// outcome is kept on the mailbox row for the settings page.
func (s *Service) PollIMAP(ctx context.Context, ws int64) (IMAPPoll, error) {
	m, err := s.St.Read().GetMailIMAP(ctx, ws)
	if err != nil {
		return IMAPPoll{}, err
	}
	res, perr := s.pollIMAP(ctx, ws, m)
	msg := ""
	if perr != nil {
		msg = perr.Error()
		s.Log.Warn("mail: imap poll", "workspace", ws, "host", m.Host, "username", m.Username, "err", msg)
	}
	wctx := context.WithoutCancel(ctx)
	if err := s.St.InTx(wctx, func(q store.Q) error { return q.RecordIMAPPoll(wctx, ws, s.Now(), res.Fetched, msg) }); err != nil {
		return res, errors.Join(perr, err)
	}
	return res, perr
}

func (s *Service) pollIMAP(ctx context.Context, ws int64, m store.MailIMAP) (IMAPPoll, error) {
	var res IMAPPoll
	pw, err := s.openPassword(ws, m.PasswordEnc)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(ctx, imapTimeout)
	defer cancel()
	c, err := s.dialIMAP(ctx, m, pw)
	if err != nil {
		return res, err
	}
	defer c.Close()
	if _, err := c.Select(m.Mailbox, nil).Wait(); err != nil {
		return res, fmt.Errorf("mailbox %q: %s", m.Mailbox, imapText(err))
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("search unseen: %s", imapText(err))
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	if len(uids) > IMAPPerPoll {
		uids = uids[:IMAPPerPoll]
	}
	body := &imap.FetchItemBodySection{Peek: true} // BODY.PEEK[]: reading does not set \Seen
	for len(uids) > 0 {
		n := min(len(uids), imapFetch)
		chunk := uids[:n]
		uids = uids[n:]
		msgs, err := c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		if err != nil {
			return res, fmt.Errorf("fetch sizes: %s", imapText(err))
		}
		var read, big []imap.UID
		for _, msg := range msgs {
			if msg.RFC822Size > maxInbound {
				big = append(big, msg.UID)
			} else {
				read = append(read, msg.UID)
			}
		}
		res.Skipped += len(big)
		seen := big
		if len(read) > 0 {
			full, err := c.Fetch(imap.UIDSetNum(read...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
			if err != nil {
				return res, fmt.Errorf("fetch messages: %s", imapText(err))
			}
			for _, msg := range full {
				res.Fetched++
				r, err := s.ReplyIn(ctx, ws, msg.FindBodySection(body))
				var bad *InboundError
				switch {
				case errors.As(err, &bad):
					res.Skipped++
					s.Log.Info("mail: imap message skipped", "workspace", ws, "uid", msg.UID, "reason", bad.Error())
				case err != nil:
					// Not marked seen: the next poll tries it again.
					if len(seen) > 0 {
						_ = c.Store(imap.UIDSetNum(seen...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
					}
					return res, err
				default:
					switch r.Status {
					case "recorded":
						res.Recorded++
					case "auto_reply":
						res.AutoReplies++
					case "duplicate":
						res.Duplicates++
					default:
						res.Unmatched++
					}
				}
				seen = append(seen, msg.UID)
			}
		}
		if len(seen) > 0 {
			if err := c.Store(imap.UIDSetNum(seen...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				return res, fmt.Errorf("mark seen: %s", imapText(err))
			}
		}
	}
	_ = c.Logout().Wait()
	return res, nil
}

// PollAllIMAP polls every enabled reply mailbox in turn. One mailbox's
// failure is recorded on its row and does not stop the others.
func (s *Service) PollAllIMAP(ctx context.Context) error {
	wss, err := s.St.Read().AdminIMAPWorkspaces(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res, err := s.PollIMAP(ctx, ws)
		if err == nil && res.Fetched+res.Skipped > 0 {
			s.Log.Info("mail: imap poll", "workspace", ws, "fetched", res.Fetched, "recorded", res.Recorded, "auto_replies", res.AutoReplies,
				"duplicates", res.Duplicates, "unmatched", res.Unmatched, "skipped", res.Skipped)
		}
	}
	return nil
}

// ---- the password at rest ---------------------------------------------------

// The IMAP password is sealed with AES-256-GCM under a key derived from the
// install's mail secret (config mail_secret, else the generated secret in
// mail_secrets), with the workspace id as additional data: a row copied into
// another workspace does not open.

func (s *Service) imapKey() []byte {
	mac := hmac.New(sha256.New, s.Secret)
	mac.Write([]byte("imap-password:v1"))
	return mac.Sum(nil)
}

func (s *Service) sealPassword(ws int64, pw string) (string, error) {
	block, err := aes.NewCipher(s.imapKey())
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, []byte(pw), []byte(strconv.FormatInt(ws, 10)))
	return "v1:" + base64.RawStdEncoding.EncodeToString(out), nil
}

var errSealed = errors.New("the stored password cannot be decrypted (was the install's mail_secret changed?); enter the password again")

func (s *Service) openPassword(ws int64, enc string) (string, error) {
	raw, ok := strings.CutPrefix(enc, "v1:")
	if !ok {
		return "", errSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", errSealed
	}
	block, err := aes.NewCipher(s.imapKey())
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	if len(b) < gcm.NonceSize() {
		return "", errSealed
	}
	pt, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(strconv.FormatInt(ws, 10)))
	if err != nil {
		return "", errSealed
	}
	return string(pt), nil
}

// ---- the job ------------------------------------------------------------------

// IMAPPollArgs is the River job that polls the reply mailboxes.
type IMAPPollArgs struct{}

// Kind names the job.
func (IMAPPollArgs) Kind() string { return "mail_imap_poll" }

// InsertOpts keeps one poll queued or running at a time across every process
// (mail_replies makes a double read harmless, but it would be wasted work).
func (IMAPPollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// IMAPPollWorker polls every enabled reply mailbox.
type IMAPPollWorker struct {
	river.WorkerDefaults[IMAPPollArgs]
	Svc *Service
}

// Work polls the mailboxes.
func (w *IMAPPollWorker) Work(ctx context.Context, _ *river.Job[IMAPPollArgs]) error {
	return w.Svc.PollAllIMAP(ctx)
}

// IMAPPollInterval is how often the reply mailboxes are read.
const IMAPPollInterval = time.Minute

// IMAPPollPeriodicJob runs the poll every interval on the elected leader.
func IMAPPollPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return IMAPPollArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "mail_imap_poll", RunOnStart: true})
}
