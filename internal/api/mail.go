package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/store"
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

// sendStates are the ledger states a list can filter on.
var sendStates = []string{store.SendPlanned, store.SendClaimed, store.SendStarted, store.SendAccepted, store.SendDeferred, store.SendBounced, store.SendSuppressed, store.SendUnknown}

// listMailSends lists the send ledger, newest first; state=unknown is the
// operator's list of sends that may or may not have gone out after a crash.
func listMailSends(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "state", "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, store.DefaultPageSize, store.MaxPageSize)
	if err != nil {
		return err
	}
	state := v.Get("state")
	if state != "" && !slices.Contains(sendStates, state) {
		return badField("state", "want one of %s", strings.Join(sendStates, ", "))
	}
	sends, err := a.d.St.Read().ListSends(r.Context(), p.WorkspaceID, state, limit)
	if err != nil {
		return err
	}
	if sends == nil {
		sends = []store.Send{}
	}
	httpx.JSON(w, http.StatusOK, list[store.Send]{Items: sends})
	return nil
}

var (
	listMailSendsDoc = op{id: "listMailSends", tag: "mail", summary: "The send ledger, newest first; state=unknown lists sends whose outcome a crash left unknown (never re-sent)",
		params: append([]param{{name: "state", desc: "only sends in this state", schema: enum(sendStates...)}}, limitOnly...), resp: ok200("MailSendList")}
	getMailSenderDoc = op{id: "getMailSender", tag: "mail", summary: "The workspace's sender identity: from, reply-to, the postal address printed in every footer, rate limit and DKIM (the key itself is never returned)", resp: ok200("MailSender")}
	putMailSenderDoc = op{id: "putMailSender", tag: "mail", summary: "Replace the sender identity; dkim_private_key left out keeps the stored key, \"\" removes it (admin)", body: jsonBody("MailSenderInput"), resp: ok200("MailSender")}
)

func mailSchemas(s js) {
	s["MailSend"] = object([]string{"id", "dedupe_key", "contact_id", "template_id", "to_email", "message_id", "state", "attempts", "soft_bounces", "last_code", "last_text", "due_at", "created_at"}, js{
		"id": tID, "dedupe_key": str(0), "enrollment_id": tID, "step_id": tID, "contact_id": tID, "template_id": tID,
		"to_email": str(0), "message_id": str(0), "state": enum(sendStates...),
		"attempts": tCount, "soft_bounces": tCount, "last_code": withDesc(tCount, "last SMTP reply code; 0 when none"), "last_text": str(0),
		"due_at": tTime, "claimed_at": tTime, "started_at": tTime, "finished_at": tTime, "created_at": tTime,
	})
	s["MailSendList"] = object([]string{"items"}, js{"items": arrayOf(ref("MailSend"))})
	s["MailSender"] = object([]string{"configured"}, js{
		"configured": withDesc(js{"type": "boolean"}, "false until a sender is saved; nothing is sent before"),
		"from_name":  str(0), "from_address": str(0), "reply_to": str(0),
		"postal_address": str(0),
		"rate_per_sec":   withDesc(tNumber, "messages per second; 0 is unlimited"),
		"dkim_domain":    str(0), "dkim_selector": str(0),
		"dkim_key":         withDesc(js{"type": "boolean"}, "a DKIM private key is stored"),
		"track_engagement": withDesc(js{"type": "boolean"}, "open pixel and click tracking in sent mail (docs/mail.md)"),
		"updated_by":       str(0), "updated_at": tTime,
	})
	s["MailSenderInput"] = object([]string{"from_address", "postal_address"}, js{
		"from_name": str(200), "from_address": str(320), "reply_to": str(320),
		"postal_address": str(500),
		"rate_per_sec":   withDesc(tNumber, "0 (unlimited) to 10000"),
		"dkim_domain":    str(253), "dkim_selector": str(63),
		"dkim_private_key": nullable(withDesc(str(0), "PEM: RSA (PKCS#1/PKCS#8) or Ed25519 (PKCS#8)")),
		"track_engagement": nullable(withDesc(js{"type": "boolean"}, "open pixel and click tracking; left out keeps the setting (on for a new sender)")),
	})
}

// The workspace's reply mailbox (IMAP polling, docs/mail.md "Replies"). The
// password is write-only: password_set says whether one is stored.

func getMailIMAP(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	v, err := a.d.Mail.IMAP(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func putMailIMAP(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in mail.IMAPInput
	if err := body(r, &in); err != nil {
		return err
	}
	v, err := a.d.Mail.SaveIMAP(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

// testMailIMAP connects with the given settings (a left-out or empty password
// uses the stored one) and says whether login and the mailbox worked.
func testMailIMAP(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in mail.IMAPInput
	if err := body(r, &in); err != nil {
		return err
	}
	res, err := a.d.Mail.TestIMAP(r.Context(), p.WorkspaceID, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

var (
	getMailIMAPDoc = op{id: "getMailIMAP", tag: "mail", summary: "The workspace's reply mailbox (IMAP) that is polled for replies, and the outcome of the latest poll; the password is never returned", resp: ok200("MailIMAP")}
	putMailIMAPDoc = op{id: "putMailIMAP", tag: "mail", summary: "Set the reply mailbox; password left out keeps the stored one (required the first time). Stored encrypted (admin)",
		body: jsonBody("MailIMAPInput"), resp: ok200("MailIMAP")}
	testMailIMAPDoc = op{id: "testMailIMAP", tag: "mail", summary: "Connect, log in and open the mailbox with these settings, changing nothing; ok false with error naming the step that failed (admin)",
		body: jsonBody("MailIMAPInput"), resp: ok200("MailIMAPCheck")}
)

func mailIMAPSchemas(s js) {
	s["MailIMAP"] = object([]string{"configured", "enabled", "password_set", "last_fetched"}, js{
		"configured": withDesc(js{"type": "boolean"}, "false until a mailbox is saved"),
		"enabled":    withDesc(js{"type": "boolean"}, "polled every minute when true"),
		"host":       str(0), "port": js{"type": "integer"}, "tls": enum(mail.IMAPModes...), "username": str(0), "mailbox": str(0),
		"password_set": withDesc(js{"type": "boolean"}, "a password is stored (encrypted; never returned)"),
		"last_poll_at": tTime, "last_error": withDesc(str(0), "why the latest poll failed; absent when it worked"),
		"last_fetched": withDesc(tCount, "messages the latest poll read"),
		"updated_by":   str(0), "updated_at": tTime,
	})
	s["MailIMAPInput"] = object([]string{"host", "username"}, js{
		"enabled":  nullable(withDesc(js{"type": "boolean"}, "left out keeps the setting (on for a new mailbox)")),
		"host":     str(253),
		"port":     withDesc(js{"type": "integer"}, "default 993 with tls, 143 otherwise"),
		"tls":      withDesc(enum(mail.IMAPModes...), "tls (implicit, default), starttls or none"),
		"username": str(320), "mailbox": withDesc(str(200), "default INBOX"),
		"password": nullable(withDesc(str(1000), "left out (or empty in a test) keeps the stored password")),
	})
	s["MailIMAPCheck"] = object([]string{"ok", "messages", "unseen", "mailbox"}, js{
		"ok": js{"type": "boolean"}, "error": withDesc(str(0), "which step failed (connect, TLS, login, mailbox) and the server's answer"),
		"messages": tCount, "unseen": tCount, "mailbox": str(0),
	})
}
