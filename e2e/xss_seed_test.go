package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// xssPayloads is the stored-XSS corpus. Every payload that could run calls
// xss(N) or alert/confirm, which the test's browser records (window.__xss,
// a hit on a local counter, a dialog): if any of them ever runs, the test
// names it. They are short enough for a name field (≤ 64 bytes).
var xssPayloads = []string{
	`<script>xss(0)</script>`,
	`<img src=x onerror=xss(1)>`,
	`<svg onload=xss(2)>`,
	`"><img src=x onerror=xss(3)>`,
	`'><svg/onload=xss(4)>`,
	`</title><script>xss(5)</script>`,
	`</script><script>xss(6)</script>`,
	"`${xss(7)}`",
	`"};xss(8);//`,
	`</textarea><img src=x onerror=xss(9)>`,
	`javascript:xss(10)`,
	`&lt;img src=x onerror=xss(11)&gt;`,
	`\u003cimg src=x onerror=xss(12)\u003e`,
	`<a href="javascript:xss(13)">click</a>`,
	`<iframe srcdoc="<script>parent.xss(14)</script>">`,
	`" autofocus onfocus="xss(15)" x="`,
	`<details open ontoggle=xss(16)>`,
	`＜script＞xss(17)＜/script＞`,
	`<math><mtext><table><mglyph><style><img src=x onerror=xss(18)>`,
	`%3Cscript%3Exss(19)%3C/script%3E`,
	`<base href="//xss20.invalid/">`,
	`<meta http-equiv=refresh content="0;url=javascript:xss(21)">`,
	`{{constructor.constructor('xss(22)')()}}`,
	`<img src=x onerror=alert(23)>`,
	`<svg><script>confirm(24)</script></svg>`,
	`'-xss(25)-'`,
	`<object data="javascript:xss(26)">`,
	`<body onload=xss(27)>`,
}

// xssURLs go where only an absolute http(s) URL is accepted.
var xssURLs = []string{
	`https://xss.example/p?q="><script>xss(40)</script>`,
	`https://xss.example/#<img src=x onerror=xss(41)>`,
	`https://xss.example/'onmouseover='xss(42)'`,
}

// xssSeed is what the seeding left behind: the ids the pages are opened with.
type xssSeed struct {
	Account, Account2, Contact, Contact2, FormContact, Deal, LostDeal int64
	Form, GatedForm, Asset, FileAsset, Sequence, Import, Webhook      int64
	LDR, OptinContact, Partner                                        int64
	CustomFieldCount                                                  int
	FormKey, GatedKey, ConfirmToken, UnsubToken, DownloadURL          string
	// What single ingresses stored, which their pages must show.
	AssetTitle, TrackTitle, FormAnswer, ReplySubject, ImportFile, ImportBad string
	MarketSource, DeskName, HookAnswer, PartnerName                         string
	FormLabels                                                              []string
	// The webhook receiver's hit count.
	WebhookHits *atomic.Int64
}

type xssSeeder struct {
	t    *testing.T
	e    *apptest.Env
	key  string
	n    int
	seed *xssSeed
}

// p returns the next payload of the corpus, round robin, so every field gets
// a different one and every payload lands in several fields.
func (s *xssSeeder) p() string {
	v := xssPayloads[s.n%len(xssPayloads)]
	s.n++
	return v
}

// call sends a JSON request with the admin key and fails the test on anything
// but 2xx; it returns the decoded object (nil for an empty body).
func (s *xssSeeder) call(method, path string, body any) map[string]any {
	s.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			s.t.Fatal(err)
		}
	}
	code, out := s.e.Do(s.t, s.key, method, path, string(raw))
	if code/100 != 2 {
		s.t.Fatalf("%s %s: %d %s\nrequest: %s", method, path, code, out, raw)
	}
	var m map[string]any
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &m); err != nil {
			s.t.Fatalf("%s %s: %v in %s", method, path, err, out)
		}
	}
	return m
}

func id(m map[string]any) int64 {
	f, _ := m["id"].(float64)
	return int64(f)
}

// raw sends a request with its own content type and headers; it fails the
// test unless the answer is want.
func (s *xssSeeder) raw(method, path, ctype string, body []byte, hdr map[string]string, want int) []byte {
	s.t.Helper()
	req, err := http.NewRequest(method, s.e.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		s.t.Fatalf("%s %s: %d (want %d) %s", method, path, res.StatusCode, want, out)
	}
	return out
}

func csvOf(t *testing.T, rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// seedXSS sends the corpus through every ingress that stores text, into
// workspace A, and returns the ids of the records it made.
func seedXSS(t *testing.T, e *apptest.Env) *xssSeed {
	t.Helper()
	ctx := context.Background()
	s := &xssSeeder{t: t, e: e, key: e.A.Keys[model.RoleAdmin], seed: &xssSeed{WebhookHits: &atomic.Int64{}}}
	out := s.seed
	t0 := time.Now()
	lap := func(what string) { t.Logf("seed: %s done at %s", what, time.Since(t0).Round(time.Millisecond)) }
	e.App.Mail.HookSecret = "xss-hook-secret"
	e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

	// A user whose display name is a payload (the CLI's `user create` path):
	// owner pickers, pools and record headers show it.
	payloadUser, err := e.App.Auth.CreateUser(ctx, "payload.user@xss.example", s.p(), apptest.Password, e.A.ID, model.RoleAE)
	if err != nil {
		t.Fatal(err)
	}

	ldr, err := e.App.Auth.CreateUser(ctx, "payload.ldr@xss.example", s.p(), apptest.Password, e.A.ID, model.RoleLDR)
	if err != nil {
		t.Fatal(err)
	}
	out.LDR = ldr.ID

	// API: custom fields (a label and enum options) on every object.
	for _, obj := range []string{"account", "contact", "deal", "activity"} {
		s.call("POST", "/api/v1/custom-fields", map[string]any{"object_type": obj, "key": "xss_note", "label": s.p(), "type": "text"})
		s.call("POST", "/api/v1/custom-fields", map[string]any{"object_type": obj, "key": "xss_pick", "label": s.p(), "type": "enum", "options": []string{xssPayloads[1], xssPayloads[3]}})
		out.CustomFieldCount += 2
	}
	custom := func() map[string]any { return map[string]any{"xss_note": s.p(), "xss_pick": xssPayloads[1]} }

	// API: pipelines (pipeline and stage names), routing, scoring, pools,
	// mail sender, API keys, success checklists, economics.
	pl := s.call("GET", "/api/v1/pipelines", nil)
	for _, p := range pl["pipelines"].([]any) {
		pm := p.(map[string]any)
		pm["name"] = s.p()
		for _, st := range pm["stages"].([]any) {
			st.(map[string]any)["name"] = s.p()
		}
	}
	delete(pl, "default")
	s.call("PUT", "/api/v1/pipelines", pl)
	sc := s.call("GET", "/api/v1/scoring/config", nil)
	sc["fit_rules"] = []any{map[string]any{"field": "industry", "op": "eq", "value": s.p(), "label": s.p(), "points": 5}}
	delete(sc, "updated_at")
	delete(sc, "updated_by")
	s.call("PUT", "/api/v1/scoring/config", sc)
	rr := s.call("GET", "/api/v1/routing/rules", nil)
	rr["default_routing_rules"], rr["default_segment_rules"] = false, false
	for _, r := range rr["routing_rules"].([]any) {
		r.(map[string]any)["team"] = s.p()
	}
	s.call("PUT", "/api/v1/routing/rules", rr)
	pool := s.call("POST", "/api/v1/pools", map[string]any{"name": s.p(), "role": "ae", "team": s.p(), "regions": []string{}, "industries": []string{}, "capacity": 10})
	s.call("PUT", fmt.Sprintf("/api/v1/pools/%d/members/%d", id(pool), payloadUser.ID), map[string]any{"active": true, "regions": []string{}, "industries": []string{}})
	s.call("PUT", "/api/v1/mail/sender", map[string]any{"from_name": s.p(), "from_address": "ada@xss.example", "reply_to": "replies@xss.example", "postal_address": s.p() + "\n" + s.p(), "rate_per_sec": 10})
	s.call("POST", "/api/v1/api-keys", map[string]any{"name": s.p(), "role": "ae"})
	s.call("PUT", "/api/v1/success/checklists", map[string]any{"templates": map[string]any{
		"digital":    []any{map[string]any{"key": "xss_one", "title": s.p()}},
		"high_touch": []any{map[string]any{"key": "xss_two", "title": s.p()}},
	}})
	s.call("POST", "/api/v1/spend", map[string]any{"month": time.Now().UTC().AddDate(0, -1, 0).Format("2006-01"), "amount": 120000, "currency": "USD", "category": "ads", "channel": "paid_search", "note": s.p(), "external_id": s.p()})
	out.MarketSource = s.p()
	s.call("PUT", "/api/v1/economics/market-sizing", map[string]any{"currency": "USD", "segments": []any{
		map[string]any{"segment": "smb", "accounts": 1000, "annual_spend_per_account": 120000, "serviceable_share": 0.5, "obtainable_share": 0.1, "source": out.MarketSource}}})
	out.PartnerName = s.p()
	out.Partner = id(s.call("POST", "/api/v1/partners", map[string]any{"name": out.PartnerName, "currency": "USD", "retainer_monthly": 400000, "fee_per_meeting": 15000,
		"start_month": time.Now().UTC().AddDate(0, -3, 0).Format("2006-01"), "user_ids": []int64{}}))
	prof := s.call("POST", "/api/v1/cost-profiles", map[string]any{"name": s.p(), "role": "ldr", "currency": "USD", "base_salary": 6000000, "loaded_multiplier": 1.5, "time_split": map[string]any{"digital": 1}})
	s.call("POST", "/api/v1/staffing/scenarios", map[string]any{"name": s.p(), "kind": "in_house", "segment": "smb", "motion": "digital", "currency": "USD", "reps": 2,
		"lead_time_months": 1, "ramp_months": 2, "meetings_per_month": 10, "sqls_per_month": 5, "sql_to_won": 0.2, "arpa": 50000, "monthly_churn": 0.02, "cost_profile_id": id(prof), "tenure_months": 12})

	lap("settings")
	// API: CRM records, every text field.
	acc := s.call("POST", "/api/v1/accounts", map[string]any{"name": s.p(), "domain": "xss.example", "industry": s.p(), "region": s.p(), "external_id": s.p(),
		"employees": 40, "currency": "USD", "owner_id": payloadUser.ID, "custom": custom()})
	out.Account = id(acc)
	acc2 := s.call("POST", "/api/v1/accounts", map[string]any{"name": s.p(), "domain": "xss2.example", "industry": s.p(), "employees": 5000, "currency": "USD"})
	out.Account2 = id(acc2)
	contact := func(email string, acct int64) int64 {
		return id(s.call("POST", "/api/v1/contacts", map[string]any{"email": email, "first_name": s.p(), "last_name": s.p(), "title": s.p(), "phone": s.p(),
			"source": s.p(), "utm_source": s.p(), "utm_medium": s.p(), "utm_campaign": s.p(), "consent_basis": "consent", "consent_source": s.p(),
			"external_id": s.p(), "account_id": acct, "lifecycle_stage": "mql", "owner_id": payloadUser.ID, "custom": custom()}))
	}
	out.Contact = contact("o'neil+xss=1@xss.example", out.Account)
	out.Contact2 = contact("second@xss2.example", out.Account2)
	third := contact("third@xss.example", out.Account)
	out.DeskName = s.p()
	s.call("POST", "/api/v1/contacts", map[string]any{"email": "desk@xss.example", "first_name": out.DeskName, "last_name": s.p(), "title": s.p(),
		"account_id": out.Account, "lifecycle_stage": "mql", "owner_id": out.LDR})
	s.call("PATCH", fmt.Sprintf("/api/v1/contacts/%d", out.Contact), map[string]any{"title": s.p()}) // a history entry with old and new values
	s.call("POST", fmt.Sprintf("/api/v1/contacts/%d/qualify", out.Contact2), map[string]any{"budget": s.p(), "authority": s.p(), "need": s.p(), "timeline": s.p(), "note": s.p()})
	s.call("POST", fmt.Sprintf("/api/v1/contacts/%d/disqualify", third), map[string]any{"reason": "other", "note": s.p()})
	s.call("POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", out.Contact), map[string]any{"at": time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339), "subject": s.p(), "note": s.p()})
	deal := s.call("POST", "/api/v1/deals", map[string]any{"name": s.p(), "account_id": out.Account2, "amount": 2500000, "currency": "USD", "pipeline": "high_touch", "stage": "suspect",
		"owner_id": payloadUser.ID, "expected_close_date": time.Now().UTC().AddDate(0, 1, 0).Format("2006-01-02"), "external_id": s.p(), "custom": custom()})
	out.Deal = id(deal)
	lost := s.call("POST", "/api/v1/deals", map[string]any{"name": s.p(), "account_id": out.Account, "amount": 90000, "currency": "USD", "pipeline": "digital", "stage": "qualified"})
	out.LostDeal = id(lost)
	s.call("PATCH", fmt.Sprintf("/api/v1/deals/%d", out.LostDeal), map[string]any{"outcome": "lost", "loss_reason": s.p()})
	won := s.call("POST", "/api/v1/deals", map[string]any{"name": s.p(), "account_id": out.Account, "amount": 300000, "currency": "USD", "pipeline": "digital", "stage": "qualified"})
	s.call("PATCH", fmt.Sprintf("/api/v1/deals/%d", id(won)), map[string]any{"outcome": "won"})
	s.call("PUT", fmt.Sprintf("/api/v1/deals/%d/committee/%d", out.Deal, out.Contact2), map[string]any{"role": "economic_buyer", "note": s.p(), "signoff": "pending"})
	for _, kind := range []string{"note", "call", "meeting", "task"} {
		s.call("POST", "/api/v1/activities", map[string]any{"kind": kind, "subject": s.p(), "body": s.p() + "\n" + s.p(), "participants": []string{s.p(), s.p()},
			"contact_id": out.Contact, "account_id": out.Account, "deal_id": out.Deal, "owner_id": payloadUser.ID, "custom": custom(),
			"occurred_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)})
	}
	sub := s.call("POST", "/api/v1/subscriptions", map[string]any{"account_id": out.Account, "plan": s.p(), "unit_price": 9900, "quantity": 3, "interval": "month", "currency": "USD",
		"start_date": time.Now().UTC().AddDate(0, -2, 0).Format("2006-01-02"), "external_id": s.p()})
	s.call("PATCH", fmt.Sprintf("/api/v1/subscriptions/%d", id(sub)), map[string]any{"quantity": 4, "note": s.p()})
	s.call("POST", fmt.Sprintf("/api/v1/customers/%d/nps", out.Account), map[string]any{"score": 4, "comment": s.p(), "contact_id": out.Contact, "responded_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)})
	s.call("PUT", fmt.Sprintf("/api/v1/customers/%d/sentiment", out.Account), map[string]any{"sentiment": "negative", "note": s.p()})
	if code, body := e.Do(t, s.key, "PATCH", fmt.Sprintf("/api/v1/customers/%d/handoff", out.Account), mustJSON(t, map[string]any{"goals": s.p(), "risks": s.p(), "stakeholders": s.p()})); code != 200 {
		t.Logf("handoff: %d %s", code, body)
	}

	lap("CRM records")
	// API: content (a linked item and an uploaded HTML file), a form for
	// each, a tracking site, a sequence with the contact enrolled.
	out.AssetTitle = s.p()
	out.Asset = id(s.call("POST", "/api/v1/content", map[string]any{"title": out.AssetTitle, "url": xssURLs[0], "type": "guide", "topic": s.p(), "stage": "awareness", "segment": "smb"}))
	// HTML files are refused at upload; text that a sniffing browser could
	// take for HTML is the case left.
	out.FileAsset = s.uploadAsset("Notes\n<html><script>xss(70)</script><img src=x onerror=xss(71)></html>")
	out.FormLabels = []string{s.p(), s.p(), s.p(), s.p()}
	f := s.call("POST", "/api/v1/forms", map[string]any{"name": s.p(), "kind": "contact_sales",
		"fields": []any{map[string]any{"field": "email", "label": out.FormLabels[0], "required": true}, map[string]any{"field": "first_name", "label": out.FormLabels[1]},
			map[string]any{"field": "last_name", "label": out.FormLabels[2]}, map[string]any{"field": "title", "label": out.FormLabels[3]}},
		"progressive":  []any{map[string]any{"field": "phone", "label": s.p()}},
		"consent_text": s.p(), "consent_version": "v1", "asset_id": out.FileAsset, "allowed_origins": []string{}})
	out.Form, out.FormKey = id(f), f["key"].(string)
	g := s.call("POST", "/api/v1/forms", map[string]any{"name": s.p(), "kind": "gated_content", "double_opt_in": true,
		"fields":       []any{map[string]any{"field": "email", "label": s.p(), "required": true}},
		"consent_text": s.p(), "consent_version": "v2", "asset_id": out.Asset})
	out.GatedForm, out.GatedKey = id(g), g["key"].(string)
	site := s.call("POST", "/api/v1/tracking/sites", map[string]any{"name": s.p(), "allowed_origins": []string{"https://xss.example"}, "consent_mode": "none"})
	seq := s.call("POST", "/api/v1/sequences", map[string]any{"name": s.p(), "status": "active", "trigger": map[string]any{"kind": "manual"},
		"steps": []any{
			map[string]any{"kind": "send_email", "subject": s.p(), "html": "<p>Hi " + s.p() + "</p>"},
			map[string]any{"kind": "wait", "duration": "2d"},
			map[string]any{"kind": "create_task", "task_subject": s.p()},
		}})
	out.Sequence = id(seq)
	s.call("POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", out.Sequence), map[string]any{"contact_ids": []int64{out.Contact, out.Contact2}})

	lap("content, forms, sequence")
	// Tracking ingest: page URL, title, referrer, UTM props, content name.
	vid := "xssvisitor0001"
	out.TrackTitle = s.p()
	tr := map[string]any{"site": site["public_key"], "visitor": vid, "events": []any{
		map[string]any{"kind": "page_view", "url": xssURLs[0], "title": out.TrackTitle, "referrer": "javascript:xss(43)", "props": map[string]any{"utm_source": s.p(), "utm_campaign": s.p()}},
		map[string]any{"kind": "page_view", "url": xssURLs[1], "title": s.p(), "referrer": xssURLs[2]},
		map[string]any{"kind": "content_view", "url": xssURLs[2], "asset": s.p()},
	}}
	s.raw("POST", "/t/e", "text/plain", []byte(mustJSON(t, tr)), map[string]string{"Origin": "https://xss.example"}, http.StatusAccepted)
	pollUntil(t, "tracked events stored", func() bool {
		evs, err := e.App.St.Read().VisitorWebEvents(ctx, e.A.ID, vid, 10)
		return err == nil && len(evs) == 3
	})

	lap("tracking")
	// Public form: a submission with payload answers and UTMs, stitched to
	// the tracked visitor; the contact-sales form raises a deal.
	out.FormAnswer = s.p()
	sv := map[string]any{"email": "form.lead@xss.example", "first_name": out.FormAnswer, "last_name": s.p(), "title": s.p(), "consent": "yes", "_vid": vid,
		"utm_source": s.p(), "utm_medium": s.p(), "utm_campaign": s.p()}
	res := s.raw("POST", "/f/"+out.FormKey, "application/json", []byte(mustJSON(t, sv)), nil, http.StatusOK)
	var sr struct {
		AssetURL string `json:"asset_url"`
	}
	_ = json.Unmarshal(res, &sr)
	out.DownloadURL = sr.AssetURL
	fc, err := e.App.St.Read().ContactByEmail(ctx, e.A.ID, "form.lead@xss.example")
	if err != nil {
		t.Fatal(err)
	}
	out.FormContact = fc.ID
	// The hosted (HTML) post of the same form.
	hv := url.Values{"email": {"hosted.lead@xss.example"}, "first_name": {s.p()}, "last_name": {s.p()}, "consent": {"yes"}}
	s.raw("POST", "/f/"+out.FormKey, "application/x-www-form-urlencoded", []byte(hv.Encode()), nil, http.StatusOK)
	// Double opt-in: the confirmation send carries the token; the mail
	// hooks then bounce it and record a reply to it.
	s.raw("POST", "/f/"+out.GatedKey, "application/json", []byte(mustJSON(t, map[string]any{"email": "optin@xss.example", "consent": "yes"})), nil, http.StatusOK)
	sends, err := e.App.St.Read().ListSends(ctx, e.A.ID, "planned", 10)
	if err != nil {
		t.Fatal(err)
	}
	var confirm store.Send
	for _, sd := range sends {
		if strings.HasPrefix(sd.DedupeKey, "confirm:") {
			confirm = sd
		}
	}
	if confirm.ID == 0 {
		t.Fatalf("no confirmation send among %+v", sends)
	}
	_, out.ConfirmToken, _ = strings.Cut(confirm.DedupeKey, "/subscribe/confirm/")
	hook := map[string]string{"Authorization": "Bearer xss-hook-secret"}
	s.raw("POST", "/hooks/mail/events", "application/json", []byte(mustJSON(t, map[string]any{"events": []any{
		map[string]any{"type": "bounce", "bounce_type": "soft", "message_id": confirm.MessageID, "code": 450, "diagnostic": s.p() + " " + s.p()},
	}})), hook, http.StatusOK)
	out.ReplySubject = s.p()
	reply := fmt.Sprintf("From: optin@xss.example\r\nTo: replies@xss.example\r\nSubject: %s\r\nMessage-ID: <xss-reply-1@client.example>\r\nIn-Reply-To: %s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s\r\n<p>%s</p>\r\n",
		out.ReplySubject, confirm.MessageID, s.p(), s.p())
	if body := s.raw("POST", "/hooks/mail/inbound", "message/rfc822", []byte(reply), hook, http.StatusOK); !strings.Contains(string(body), `"recorded"`) {
		t.Fatalf("inbound reply not recorded: %s", body)
	}
	oc, err := e.App.St.Read().ContactByEmail(ctx, e.A.ID, "optin@xss.example")
	if err != nil {
		t.Fatal(err)
	}
	out.OptinContact = oc.ID
	out.UnsubToken = mail.SignToken(e.App.Mail.Secret, mail.Token{Workspace: e.A.ID, Contact: out.Contact, Email: xssPayloads[1] + "@xss.example", Issued: time.Now()})

	lap("forms and mail hooks")
	// CSV import: contacts (one row rejected, its raw line shown), accounts,
	// deals; the file name is a payload too.
	// The rejected row's value has no quote, so the raw line shows it as is.
	out.ImportFile, out.ImportBad = s.p()+".csv", "not-an-email "+xssPayloads[1]
	out.Import = s.importCSV("contacts", out.ImportFile, [][]string{
		{"email", "first_name", "last_name", "title", "utm_source"},
		{"csv.one@xss.example", s.p(), s.p(), s.p(), s.p()},
		{out.ImportBad, s.p(), s.p(), s.p(), s.p()},
	})
	s.importCSV("accounts", s.p()+".csv", [][]string{{"name", "domain", "industry", "region"}, {s.p(), "csv-xss.example", s.p(), s.p()}})
	s.importCSV("deals", s.p()+".csv", [][]string{{"name", "amount", "currency", "pipeline", "stage"}, {s.p(), "1000", "USD", "digital", "qualified"}})

	lap("imports")
	// A webhook receiver that answers with payloads: the delivery log keeps
	// an excerpt of the answer.
	hits := out.WebhookHits
	out.HookAnswer = `<html><script>xss(50)</script><img src=x onerror=xss(51)>"}';xss(52)//</html>`
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, out.HookAnswer)
	}))
	t.Cleanup(recv.Close)
	wh := s.call("POST", "/api/v1/webhooks", map[string]any{"url": recv.URL + "/hook?x=<script>", "description": s.p(), "event_types": []string{"contact.created"}, "enabled": true})
	out.Webhook = id(wh)
	s.call("POST", fmt.Sprintf("/api/v1/webhooks/%d/test", out.Webhook), nil)
	if hits.Load() == 0 {
		t.Fatal("the webhook receiver got no test event")
	}
	lap("webhook")
	return out
}

func (s *xssSeeder) uploadAsset(html string) int64 {
	s.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"title": s.p(), "type": "guide", "topic": s.p()} {
		_ = mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", `xss"><img src=x onerror=xss(72)>.txt`)
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = io.WriteString(fw, html)
	_ = mw.Close()
	out := s.raw("POST", "/api/v1/content", mw.FormDataContentType(), b.Bytes(), map[string]string{"Authorization": "Bearer " + s.key}, http.StatusCreated)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		s.t.Fatal(err)
	}
	return id(m)
}

func (s *xssSeeder) importCSV(object, name string, rows [][]string) int64 {
	s.t.Helper()
	q := url.Values{"object": {object}, "filename": {name}}
	out := s.raw("POST", "/api/v1/imports?"+q.Encode(), "text/csv", csvOf(s.t, rows), map[string]string{"Authorization": "Bearer " + s.key}, http.StatusAccepted)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		s.t.Fatal(err)
	}
	s.e.WaitImport(s.t, id(m))
	return id(m)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pollUntil checks cond every 20 ms for up to 20 s (a background write such as
// the tracking batcher's commit has no job event to wait on).
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
