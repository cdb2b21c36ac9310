package api

import (
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/mail"
)

// The workspace's sender identity for outgoing mail (docs/mail.md).

func getMailSender(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	v, err := a.d.Mail.Sender(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	if !v.Configured {
		httpx.JSON(w, http.StatusOK, map[string]bool{"configured": false})
		return nil
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func putMailSender(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in mail.SenderInput
	if err := body(r, &in); err != nil {
		return err
	}
	v, err := a.d.Mail.SaveSender(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

var (
	getMailSenderDoc = op{id: "getMailSender", tag: "mail", summary: "The workspace's sender identity: from, reply-to, the postal address printed in every footer, rate limit and DKIM (the key itself is never returned)", resp: ok200("MailSender")}
	putMailSenderDoc = op{id: "putMailSender", tag: "mail", summary: "Replace the sender identity; dkim_private_key left out keeps the stored key, \"\" removes it (admin, manager)", body: jsonBody("MailSenderInput"), resp: ok200("MailSender")}
)

func mailSchemas(s js) {
	s["MailSender"] = object([]string{"configured"}, js{
		"configured": withDesc(js{"type": "boolean"}, "false until a sender is saved; nothing is sent before"),
		"from_name":  str(0), "from_address": str(0), "reply_to": str(0),
		"postal_address": str(0),
		"rate_per_sec":   withDesc(tNumber, "messages per second; 0 is unlimited"),
		"dkim_domain":    str(0), "dkim_selector": str(0),
		"dkim_key":   withDesc(js{"type": "boolean"}, "a DKIM private key is stored"),
		"updated_by": str(0), "updated_at": tTime,
	})
	s["MailSenderInput"] = object([]string{"from_address", "postal_address"}, js{
		"from_name": str(200), "from_address": str(320), "reply_to": str(320),
		"postal_address": str(500),
		"rate_per_sec":   withDesc(tNumber, "0 (unlimited) to 10000"),
		"dkim_domain":    str(253), "dkim_selector": str(63),
		"dkim_private_key": nullable(withDesc(str(0), "PEM: RSA (PKCS#1/PKCS#8) or Ed25519 (PKCS#8)")),
	})
}
