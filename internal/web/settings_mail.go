package web

import (
	"net/http"
	"strconv"

	"github.com/rightsize/rightsize/internal/mail"
)

// mailForm is the sender identity form. The DKIM key is write-only: the page
// says whether one is stored, never shows it.
func mailForm(hasKey bool) *form {
	keyHint := "Paste a PEM private key (RSA or Ed25519) to sign with DKIM."
	if hasKey {
		keyHint = "A key is stored. Leave empty to keep it; paste a new one to replace it."
	}
	fields := []field{
		{Name: "from_name", Label: "From name", Type: "text", Placeholder: "Ada at Northwind"},
		{Name: "from_address", Label: "From address", Type: "email", Required: true, Placeholder: "ada@northwind.example"},
		{Name: "reply_to", Label: "Reply-to", Type: "email", Hint: "Where replies go; the reply hook matches them to the send."},
		{Name: "postal_address", Label: "Postal address", Type: "textarea", Required: true, Wide: true, Hint: "Printed in every footer (anti-spam laws require it)."},
		{Name: "rate_per_sec", Label: "Messages per second", Type: "number", Hint: "0 sends as fast as the server allows."},
		{Name: "track_engagement", Label: "Open and click tracking", Type: "select", Groups: []optGroup{{Options: []option{{"on", "On: count opens and clicks (scanners filtered out)"}, {"off", "Off: no pixel, links untouched"}}}}},
		{Name: "dkim_domain", Label: "DKIM domain", Type: "text", Placeholder: "northwind.example"},
		{Name: "dkim_selector", Label: "DKIM selector", Type: "text", Placeholder: "rs1"},
		{Name: "dkim_private_key", Label: "DKIM private key", Type: "textarea", Wide: true, Hint: keyHint},
	}
	if hasKey {
		fields = append(fields, field{Name: "dkim_remove", Label: "Remove the stored DKIM key", Type: "select", Groups: []optGroup{{Options: []option{{"", "No"}, {"yes", "Yes, stop signing"}}}}})
	}
	return newForm("/settings/mail", "Save sender", "/settings", fields)
}

type mailPage struct {
	F         *form
	Sender    mail.SenderView
	SMTPReady bool
	ReadOnly  bool
	// The reply mailbox section (IMAP polling).
	IF     *form
	IMAP   mail.IMAPView
	Check  *mail.IMAPCheck
	IMAPOK string
}

// imapForm is the reply mailbox form. The password is write-only: the page
// says whether one is stored and never puts it back into an input.
func imapForm(v mail.IMAPView) *form {
	pwHint := "Stored encrypted; never shown again."
	if v.PasswordSet {
		pwHint = "A password is stored. Leave empty to keep it."
	}
	f := newForm("/settings/mail/imap", "Save mailbox", "", []field{
		{Name: "host", Label: "IMAP host", Type: "text", Required: true, Placeholder: "imap.northwind.example"},
		{Name: "port", Label: "Port", Type: "number", Hint: "993 for TLS, 143 for STARTTLS (default by mode)."},
		{Name: "tls", Label: "Security", Type: "select", Groups: []optGroup{{Options: []option{{"tls", "TLS (port 993)"}, {"starttls", "STARTTLS (port 143)"}, {"none", "None (loopback or trusted network only)"}}}}},
		{Name: "username", Label: "Username", Type: "text", Required: true, Placeholder: "replies@northwind.example"},
		{Name: "password", Label: "Password", Type: "password", Hint: pwHint},
		{Name: "mailbox", Label: "Mailbox", Type: "text", Placeholder: "INBOX", Hint: "Use a mailbox for replies only: messages read are marked seen."},
		{Name: "enabled", Label: "Polling", Type: "select", Groups: []optGroup{{Options: []option{{"on", "On: read new replies every minute"}, {"off", "Off"}}}}},
	})
	f.Values = map[string]string{"host": v.Host, "tls": v.TLS, "username": v.Username, "mailbox": v.Mailbox, "enabled": "on"}
	if v.Port != 0 {
		f.Values["port"] = strconv.Itoa(v.Port)
	}
	if v.TLS == "" {
		f.Values["tls"] = mail.IMAPTLS
	}
	if v.Configured && !v.Enabled {
		f.Values["enabled"] = "off"
	}
	return f
}

// imapInput reads the posted mailbox form; a bad port is a field error.
func imapInput(f *form, r *http.Request) mail.IMAPInput {
	f.read(r)
	on := f.Values["enabled"] != "off"
	in := mail.IMAPInput{Enabled: &on, Host: f.Values["host"], TLS: f.Values["tls"], Username: f.Values["username"], Mailbox: f.Values["mailbox"]}
	if pw := r.PostFormValue("password"); pw != "" {
		in.Password = &pw
	}
	f.Values["password"] = "" // never echoed into the page
	if v := f.Values["port"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.Errors["port"] = "must be a whole number"
		}
		in.Port = n
	}
	return in
}

func (u *UI) mailPageData(r *http.Request, s *session, sender mail.SenderView) (mailPage, error) {
	iv, err := u.d.Mail.IMAP(r.Context(), s.WS())
	if err != nil {
		return mailPage{}, err
	}
	return mailPage{Sender: sender, SMTPReady: u.d.Mail.Transport != nil, ReadOnly: !s.CanAdmin, IMAP: iv, IF: imapForm(iv)}, nil
}

// imapSave stores the reply mailbox; imapTest tries the typed settings
// without saving them and shows what happened.
func (u *UI) imapSave(w http.ResponseWriter, r *http.Request, s *session) {
	u.imapPost(w, r, s, false)
}

func (u *UI) imapTest(w http.ResponseWriter, r *http.Request, s *session) {
	u.imapPost(w, r, s, true)
}

func (u *UI) imapPost(w http.ResponseWriter, r *http.Request, s *session, test bool) {
	sender, err := u.d.Mail.Sender(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d, err := u.mailPageData(r, s, sender)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.F = senderForm(sender)
	in := imapInput(d.IF, r)
	status := http.StatusUnprocessableEntity
	if len(d.IF.Errors) == 0 {
		if test {
			var chk mail.IMAPCheck
			if chk, err = u.d.Mail.TestIMAP(r.Context(), s.WS(), in); err == nil {
				d.Check, status = &chk, http.StatusOK
			}
		} else if _, err = u.d.Mail.SaveIMAP(r.Context(), s.Actor(), in); err == nil {
			redirect(w, r, "/settings/mail?notice=imap#imap")
			return
		}
		if err != nil && !d.IF.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, status, "settings_mail", view{Title: "Mail sender", Section: "settings", S: s, D: d})
}

// senderForm is the sender form filled from the stored sender.
func senderForm(v mail.SenderView) *form {
	f := mailForm(v.DKIMKey)
	f.Values = map[string]string{"from_name": v.FromName, "from_address": v.FromAddress, "reply_to": v.ReplyTo, "postal_address": v.PostalAddress,
		"rate_per_sec": strconv.FormatFloat(v.RatePerSec, 'f', -1, 64), "track_engagement": "on", "dkim_domain": v.DKIMDomain, "dkim_selector": v.DKIMSelector}
	if v.Configured && !v.TrackEngagement {
		f.Values["track_engagement"] = "off"
	}
	return f
}

func (u *UI) mailSettings(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := u.d.Mail.Sender(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d, err := u.mailPageData(r, s, v)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.F = senderForm(v)
	n := notice(r, "Sender")
	if r.URL.Query().Get("notice") == "imap" {
		n = "Reply mailbox saved. It is read every minute while polling is on."
	}
	u.render(w, r, http.StatusOK, "settings_mail", view{Title: "Mail sender", Section: "settings", S: s, D: d, Notice: n})
}

func (u *UI) mailSave(w http.ResponseWriter, r *http.Request, s *session) {
	cur, err := u.d.Mail.Sender(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := mailForm(cur.DKIMKey)
	f.read(r)
	in := mail.SenderInput{FromName: f.Values["from_name"], FromAddress: f.Values["from_address"], ReplyTo: f.Values["reply_to"], PostalAddress: f.Values["postal_address"],
		DKIMDomain: f.Values["dkim_domain"], DKIMSelector: f.Values["dkim_selector"]}
	track := f.Values["track_engagement"] != "off"
	in.TrackEngagement = &track
	if k := f.Values["dkim_private_key"]; k != "" {
		in.DKIMPrivateKey = &k
	} else if f.Values["dkim_remove"] == "yes" {
		empty := ""
		in.DKIMPrivateKey = &empty
	}
	if v := f.Values["rate_per_sec"]; v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.Errors["rate_per_sec"] = "must be a number"
		}
		in.RatePerSec = n
	}
	if len(f.Errors) == 0 {
		if _, err = u.d.Mail.SaveSender(r.Context(), s.Actor(), in); err == nil {
			redirect(w, r, "/settings/mail?notice=saved")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	f.Values["dkim_private_key"] = "" // never echo a key back into the page
	d, err := u.mailPageData(r, s, cur)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.F = f
	u.render(w, r, http.StatusUnprocessableEntity, "settings_mail", view{Title: "Mail sender", Section: "settings", S: s, D: d})
}
