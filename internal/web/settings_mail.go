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
}

func (u *UI) mailSettings(w http.ResponseWriter, r *http.Request, s *session) {
	v, err := u.d.Mail.Sender(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := mailForm(v.DKIMKey)
	f.Values = map[string]string{"from_name": v.FromName, "from_address": v.FromAddress, "reply_to": v.ReplyTo, "postal_address": v.PostalAddress,
		"rate_per_sec": strconv.FormatFloat(v.RatePerSec, 'f', -1, 64), "track_engagement": "on", "dkim_domain": v.DKIMDomain, "dkim_selector": v.DKIMSelector}
	if v.Configured && !v.TrackEngagement {
		f.Values["track_engagement"] = "off"
	}
	u.render(w, r, http.StatusOK, "settings_mail", view{Title: "Mail sender", Section: "settings", S: s, D: mailPage{F: f, Sender: v, SMTPReady: u.d.Mail.Transport != nil, ReadOnly: !s.IsAdmin}, Notice: notice(r, "Sender")})
}

func (u *UI) mailSave(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.IsAdmin {
		u.forbidden(w, r, s)
		return
	}
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
	u.render(w, r, http.StatusUnprocessableEntity, "settings_mail", view{Title: "Mail sender", Section: "settings", S: s, D: mailPage{F: f, Sender: cur, SMTPReady: u.d.Mail.Transport != nil}})
}
