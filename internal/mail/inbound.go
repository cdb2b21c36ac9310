package mail

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"strings"
	"unicode/utf8"

	"encoding/base64"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// ReplyHook runs, in the reply's transaction, for a human reply to a send:
// the nurture engine ends the contact's enrollments that exit on "replied".
type ReplyHook func(ctx context.Context, q store.Q, ws, contactID int64, send store.Send) error

// maxInbound caps a posted message (attachments included).
const maxInbound = 10 << 20

// ReplyResult is the inbound endpoint's answer.
type ReplyResult struct {
	Status    string `json:"status"` // recorded, auto_reply, duplicate or unmatched
	SendID    int64  `json:"send_id,omitempty"`
	ContactID int64  `json:"contact_id,omitempty"`
	Note      string `json:"note,omitempty"`
}

// inbound takes a raw MIME message posted by the mail provider (verified by
// the hook secret) and, when it answers one of our sends, records the reply.
func (s *Service) inbound(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.HookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.HookSecret)) != 1 {
		jsonErr(w, http.StatusUnauthorized, "unauthorized", "missing or wrong hook secret")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxInbound+1))
	if err != nil {
		jsonErr(w, http.StatusBadRequest, "invalid", "body: "+err.Error())
		return
	}
	if len(raw) > maxInbound {
		jsonErr(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body: larger than %d bytes", maxInbound))
		return
	}
	res, err := s.Reply(r.Context(), raw)
	var bad *InboundError
	switch {
	case errors.As(err, &bad):
		jsonErr(w, http.StatusBadRequest, "invalid", bad.Error())
		return
	case err != nil:
		s.Log.Error("mail: inbound reply", "err", err)
		jsonErr(w, http.StatusServiceUnavailable, "unavailable", "could not record the reply; retry")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// InboundError is a message the endpoint cannot read; it names what is wrong.
type InboundError struct{ Where, Msg string }

func (e *InboundError) Error() string { return e.Where + ": " + e.Msg }

// Reply records raw (an RFC 5322 message) when its In-Reply-To or References
// name one of our sends. A human reply becomes an email activity on the
// contact's timeline and a task for the contact's owner, fires ReplyHook, and is
// recorded once (a redelivery is a no-op). Auto-replies (RFC 3834 headers and
// the usual out-of-office subjects) are recorded as such and fire nothing.
func (s *Service) Reply(ctx context.Context, raw []byte) (ReplyResult, error) {
	return s.reply(ctx, 0, raw)
}

// ReplyIn is Reply for a message read from ws's own reply mailbox (IMAP): it
// matches only ws's sends, so one workspace's mailbox cannot record replies in
// another.
func (s *Service) ReplyIn(ctx context.Context, ws int64, raw []byte) (ReplyResult, error) {
	return s.reply(ctx, ws, raw)
}

// reply matches raw to a send (of any workspace when only is 0) and records it.
func (s *Service) reply(ctx context.Context, only int64, raw []byte) (ReplyResult, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ReplyResult{}, &InboundError{"message", "not an RFC 5322 message: " + err.Error()}
	}
	own := strings.TrimSpace(msg.Header.Get("Message-Id"))
	if own == "" {
		return ReplyResult{}, &InboundError{"Message-ID", "missing (needed to record the reply once)"}
	}
	refs := messageIDs(msg.Header.Get("In-Reply-To"))
	r := messageIDs(msg.Header.Get("References"))
	for i := len(r) - 1; i >= 0; i-- { // the last reference is the message answered
		refs = append(refs, r[i])
	}
	var send store.Send
	found := false
	for _, id := range refs {
		snd, err := s.St.Read().AdminSendByMessageID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return ReplyResult{}, err
		}
		if only != 0 && snd.Workspace != only {
			continue
		}
		send, found = snd, true
		break
	}
	if !found {
		return ReplyResult{Status: "unmatched", Note: "In-Reply-To/References name none of our messages"}, nil
	}
	ws := send.Workspace
	subject := decodeHeader(msg.Header.Get("Subject"))
	from := msg.Header.Get("From")
	if a, err := netmail.ParseAddress(from); err == nil {
		from = a.Address
	}
	auto, why := autoReply(msg.Header, subject)
	body := snippet(msg)
	res := ReplyResult{Status: "recorded", SendID: send.ID, ContactID: send.ContactID}
	err = s.St.InTx(ctx, func(q store.Q) error {
		rec := store.MailReply{MessageID: own, SendID: send.ID, ContactID: send.ContactID, FromAddress: from, Subject: subject, AutoReply: auto}
		fresh, err := q.InsertMailReply(ctx, ws, &rec)
		if err != nil {
			return err
		}
		if !fresh {
			res.Status = "duplicate"
			return nil
		}
		if auto {
			res.Status, res.Note = "auto_reply", why
			return nil
		}
		c, err := q.GetContact(ctx, ws, send.ContactID)
		if errors.Is(err, store.ErrNotFound) {
			res.Note = "the contact was deleted; the reply is recorded only"
			return nil
		}
		if err != nil {
			return err
		}
		act := model.Activity{Kind: "email", Subject: subject, Body: body, OccurredAt: s.Now(), ContactID: &c.ID, AccountID: c.AccountID,
			OwnerID: c.OwnerID, Participants: []string{from}, Custom: model.Custom{"direction": "inbound", "in_reply_to_send": fmt.Sprint(send.ID)}}
		if err := q.CreateActivity(ctx, ws, &act); err != nil {
			return err
		}
		if err := q.SetMailReplyActivity(ctx, ws, rec.ID, act.ID); err != nil {
			return err
		}
		task := model.Activity{Kind: "task", Subject: "Answer the reply from " + contactLabel(c) + ": " + subject, OccurredAt: s.Now(), ContactID: &c.ID, AccountID: c.AccountID,
			OwnerID: c.OwnerID, Participants: []string{}, Custom: model.Custom{}}
		if err := q.CreateActivity(ctx, ws, &task); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "contact", c.ID, "replied", map[string]any{"send_id": send.ID, "subject": subject, "activity_id": act.ID, "task_id": task.ID}, "mail"); err != nil {
			return err
		}
		if s.OnReply != nil {
			return s.OnReply(ctx, q, ws, c.ID, send)
		}
		return nil
	})
	if err != nil {
		return ReplyResult{}, fmt.Errorf("mail: record reply: %w", err)
	}
	return res, nil
}

func contactLabel(c model.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	return c.Email
}

// messageIDs splits a header holding <id> tokens.
func messageIDs(h string) []string {
	var out []string
	for {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			return out
		}
		out = append(out, h[i:i+j+1])
		h = h[i+j+1:]
	}
}

var wordDecoder = new(mime.WordDecoder)

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.TrimSpace(sanitize(v))
}

// autoReply tells out-of-office and other automatic answers from replies
// (RFC 3834 Auto-Submitted, the common vendor headers, usual subjects).
func autoReply(h netmail.Header, subject string) (bool, string) {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true, "Auto-Submitted: " + v
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if h.Get(k) != "" && k != "X-Auto-Response-Suppress" {
			return true, k + " header"
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "bulk", "junk", "list":
		return true, "Precedence: " + h.Get("Precedence")
	}
	ls := strings.ToLower(subject)
	for _, p := range []string{"auto:", "automatic reply", "autoreply", "auto-reply", "out of office", "out of the office", "abwesenheitsnotiz"} {
		if strings.HasPrefix(ls, p) {
			return true, "subject starts with " + p
		}
	}
	return false, ""
}

// snippet is the reply's text without the quoted message, at most 2,000 runes.
func snippet(msg *netmail.Message) string {
	text := plainBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	var b strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") {
			continue
		}
		if strings.HasPrefix(t, "On ") && strings.HasSuffix(t, "wrote:") {
			break // the quoted original follows
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	out := strings.TrimSpace(b.String())
	if utf8.RuneCountInString(out) > 2000 {
		out = string([]rune(out)[:2000]) + "…"
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

// plainBody finds the first text/plain part (depth-limited) and decodes it.
func plainBody(ctype, cte string, body io.Reader, depth int) string {
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" {
		mt, err = "text/plain", nil
	}
	if err != nil || depth > 5 {
		return ""
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if t := plainBody(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1); t != "" {
				return t
			}
		}
	}
	if mt != "text/plain" {
		return ""
	}
	var rd io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		rd = quotedprintable.NewReader(body)
	case "base64":
		rd = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{body})
	}
	b, _ := io.ReadAll(io.LimitReader(rd, 1<<20))
	return string(b)
}

// newlineSkipper drops CR and LF so a line-wrapped base64 body decodes.
type newlineSkipper struct{ r io.Reader }

func (n *newlineSkipper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// InboundSnippet is the text the inbound hook would keep of raw ("" when raw
// is not a message); exported for the fuzz test.
func InboundSnippet(raw []byte) string {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return snippet(msg)
}
