package mail

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/secretbox"
	"github.com/rightsize/rightsize/internal/store"
)

// SenderInput is a PUT of the sender identity. DKIMPrivateKey nil keeps the
// stored key, "" removes it.
type SenderInput struct {
	FromName       string  `json:"from_name"`
	FromAddress    string  `json:"from_address"`
	ReplyTo        string  `json:"reply_to"`
	PostalAddress  string  `json:"postal_address"`
	RatePerSec     float64 `json:"rate_per_sec"`
	DKIMDomain     string  `json:"dkim_domain"`
	DKIMSelector   string  `json:"dkim_selector"`
	DKIMPrivateKey *string `json:"dkim_private_key"`
	// TrackEngagement switches the open pixel and click rewriting; nil keeps
	// the stored setting (on for a new sender).
	TrackEngagement *bool `json:"track_engagement"`
}

// SenderView is the sender as the API shows it: the key never leaves the server.
type SenderView struct {
	Configured bool `json:"configured"`
	store.MailSender
	DKIMKey         bool `json:"dkim_key"`
	TrackEngagement bool `json:"track_engagement"`
}

// Sender returns ws's sender (Configured false when none is saved).
func (s *Service) Sender(ctx context.Context, ws int64) (SenderView, error) {
	m, err := s.St.Read().GetMailSender(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return SenderView{}, nil
	}
	if err != nil {
		return SenderView{}, err
	}
	return SenderView{Configured: true, MailSender: m, DKIMKey: m.DKIMKeyPEM != "", TrackEngagement: !m.TrackOff}, nil
}

func fieldErr(f, msg string) error { return &store.FieldError{Field: f, Message: msg} }

// SaveSender validates and stores act's workspace sender, and audits it.
func (s *Service) SaveSender(ctx context.Context, act model.Actor, in SenderInput) (SenderView, error) {
	ws := act.Workspace
	in.FromName, in.FromAddress, in.ReplyTo = strings.TrimSpace(in.FromName), strings.TrimSpace(in.FromAddress), strings.TrimSpace(in.ReplyTo)
	in.PostalAddress, in.DKIMDomain, in.DKIMSelector = strings.TrimSpace(in.PostalAddress), strings.TrimSpace(strings.ToLower(in.DKIMDomain)), strings.TrimSpace(in.DKIMSelector)
	switch {
	case len(in.FromName) > 200 || strings.ContainsAny(in.FromName, "\r\n"):
		return SenderView{}, fieldErr("from_name", "at most 200 characters on one line")
	case !validAddress(in.FromAddress):
		return SenderView{}, fieldErr("from_address", "want an email address like news@example.com")
	case in.ReplyTo != "" && !validAddress(in.ReplyTo):
		return SenderView{}, fieldErr("reply_to", "want an email address or empty")
	case in.PostalAddress == "" || len(in.PostalAddress) > 500:
		return SenderView{}, fieldErr("postal_address", "required (it is printed in every footer), at most 500 characters")
	case in.RatePerSec < 0 || in.RatePerSec > 10000 || math.IsNaN(in.RatePerSec):
		return SenderView{}, fieldErr("rate_per_sec", "want 0 (unlimited) to 10000 messages per second")
	}
	var out SenderView
	err := s.St.InTx(ctx, func(q store.Q) error {
		old, err := q.GetMailSender(ctx, ws)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		m := store.MailSender{FromName: in.FromName, FromAddress: in.FromAddress, ReplyTo: in.ReplyTo, PostalAddress: in.PostalAddress, RatePerSec: in.RatePerSec,
			DKIMDomain: in.DKIMDomain, DKIMSelector: in.DKIMSelector, DKIMKeyPEM: old.DKIMKeyPEM, TrackOff: old.TrackOff, UpdatedBy: act.Label}
		if in.TrackEngagement != nil {
			m.TrackOff = !*in.TrackEngagement
		}
		// The key is stored sealed; one saved before sealing existed is plain
		// and gets sealed by this save.
		var key string
		if in.DKIMPrivateKey != nil {
			key = strings.TrimSpace(*in.DKIMPrivateKey)
		} else if key, err = s.openDKIM(ws, old.DKIMKeyPEM); err != nil {
			return fieldErr("dkim_private_key", "the stored key cannot be decrypted (was the install's mail_secret changed?); paste the key again")
		}
		m.DKIMKeyPEM = ""
		if key != "" {
			if m.DKIMDomain == "" {
				return fieldErr("dkim_domain", "required with a DKIM key")
			}
			if m.DKIMSelector == "" {
				return fieldErr("dkim_selector", "required with a DKIM key")
			}
			if _, err := NewSigner(m.DKIMDomain, m.DKIMSelector, key); err != nil {
				return fieldErr("dkim_private_key", err.Error())
			}
			if m.DKIMKeyPEM, err = s.sealDKIM(ws, key); err != nil {
				return err
			}
		}
		if err := q.SaveMailSender(ctx, ws, &m); err != nil {
			return err
		}
		out = SenderView{Configured: true, MailSender: m, DKIMKey: m.DKIMKeyPEM != "", TrackEngagement: !m.TrackOff}
		return crm.Audit(ctx, q, act, "mail_sender_update", "mail_sender", nil, map[string]any{"from_address": m.FromAddress, "dkim": m.DKIMKeyPEM != "", "rate_per_sec": m.RatePerSec, "track_engagement": !m.TrackOff})
	})
	if err != nil {
		return SenderView{}, fmt.Errorf("mail: save sender: %w", err)
	}
	s.mu.Lock()
	delete(s.senders, ws)
	s.mu.Unlock()
	return out, nil
}

// Preview renders a template for a sample contact without sending or touching
// the ledger.
func (s *Service) Preview(ctx context.Context, ws int64, subject, html, text string, c model.Contact, a model.Account) (*Rendered, error) {
	t, err := Compile(subject, html, text)
	if err != nil {
		return nil, err
	}
	snd, _ := s.St.Read().GetMailSender(ctx, ws)
	unsub, _ := s.UnsubscribeURL(ws, c.ID, c.Email)
	cs := &store.ClaimedSend{Send: store.Send{ToEmail: c.Email}, Contact: c, Account: a}
	return t.Render(ctx, dataFor(cs, unsub, snd.PostalAddress))
}

// The DKIM private key at rest: sealed (internal/secretbox) under the install
// key with its own label and the workspace id as additional data, like the
// IMAP password. A row saved before sealing holds the PEM in plain text: it
// keeps working, and SealPlainDKIMKeys (at start-up) or the next save seals it.
const dkimLabel = "dkim-key:v1"

func (s *Service) sealDKIM(ws int64, pem string) (string, error) {
	return secretbox.Seal(s.Secret, dkimLabel, strconv.FormatInt(ws, 10), []byte(pem))
}

// openDKIM returns the PEM of a stored key ("" for none; plain rows as they are).
func (s *Service) openDKIM(ws int64, stored string) (string, error) {
	if stored == "" || !secretbox.Sealed(stored) {
		return stored, nil
	}
	b, err := secretbox.Open(s.Secret, dkimLabel, strconv.FormatInt(ws, 10), stored)
	return string(b), err
}

// SealPlainDKIMKeys seals every DKIM key still stored in plain text (rows from
// before sealing); the app runs it at start-up. It answers how many it sealed.
func (s *Service) SealPlainDKIMKeys(ctx context.Context) (int, error) {
	n := 0
	err := s.St.InTx(ctx, func(q store.Q) error {
		plain, err := q.AdminPlainDKIMKeys(ctx)
		if err != nil {
			return err
		}
		for ws, pem := range plain {
			enc, err := s.sealDKIM(ws, pem)
			if err != nil {
				return err
			}
			if err := q.SetDKIMKey(ctx, ws, pem, enc); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mail: seal DKIM keys: %w", err)
	}
	s.mu.Lock()
	s.senders = nil
	s.mu.Unlock()
	return n, nil
}
