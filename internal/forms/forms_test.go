package forms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

// monday10 is a business hour, so SLA due times are predictable.
var monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

type stitch struct {
	visitor string
	contact int64
}

type fakeStitcher struct{ calls []stitch }

func (f *fakeStitcher) Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) error {
	f.calls = append(f.calls, stitch{visitorID, contactID})
	return nil
}

type fakeExiter struct{ reasons map[int64]string }

func (f *fakeExiter) Exit(ctx context.Context, q store.Q, ws, contactID int64, reason string) error {
	f.reasons[contactID] = reason
	return nil
}

type fakeConfirmer struct{ urls []string }

func (f *fakeConfirmer) SendConfirmation(ctx context.Context, q store.Q, ws, contactID int64, form model.Form, confirmURL string) error {
	f.urls = append(f.urls, confirmURL)
	return nil
}

type fx struct {
	confirm *fakeConfirmer
	t       *testing.T
	ctx     context.Context
	st      *store.Store
	ws, ae  int64
	svc     *forms.Service
	srv     *httptest.Server
	stitch  *fakeStitcher
	exit    *fakeExiter
	act     model.Actor
}

func setup(t *testing.T, st *store.Store, withAE bool) *fx {
	t.Helper()
	f := &fx{t: t, ctx: context.Background(), st: st, stitch: &fakeStitcher{}, exit: &fakeExiter{reasons: map[int64]string{}}, confirm: &fakeConfirmer{}}
	err := st.InTx(f.ctx, func(q store.Q) error {
		k := seq.Add(1)
		w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", k), Currency: "EUR"}
		if err := q.CreateWorkspace(f.ctx, &w); err != nil {
			return err
		}
		f.ws = w.ID
		u := model.User{Email: fmt.Sprintf("ae%d@example.com", k)}
		if err := q.CreateUser(f.ctx, &u); err != nil {
			return err
		}
		f.ae = u.ID
		if err := q.SetMembership(f.ctx, w.ID, u.ID, model.RoleAE); err != nil {
			return err
		}
		if !withAE {
			return nil
		}
		p := model.Pool{Name: "AEs", Role: model.RoleAE, Capacity: 50}
		if err := q.CreatePool(f.ctx, w.ID, &p); err != nil {
			return err
		}
		return q.SetPoolMember(f.ctx, w.ID, model.PoolMember{PoolID: p.ID, UserID: u.ID, Active: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.act = model.Actor{Workspace: f.ws, Label: "test"}
	now := func() time.Time { return monday10 }
	asg := &assignment.Service{St: st}
	c := &crm.Service{St: st, MQL: asg}
	f.svc = &forms.Service{St: st, CRM: c, Scoring: &scoring.Service{St: st, Now: now}, Assignment: asg, Stitcher: f.stitch, Exiter: f.exit, Confirmer: f.confirm, Now: now, BaseURL: "https://rs.example"}
	mux := http.NewServeMux()
	(&forms.Public{Svc: f.svc}).Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fx) form(in model.Form) model.Form {
	f.t.Helper()
	out, err := f.svc.CreateForm(f.ctx, f.act, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fx) contact(email string) model.Contact {
	f.t.Helper()
	c, err := f.st.Read().ContactByEmail(f.ctx, f.ws, email)
	if err != nil {
		f.t.Fatalf("contact %s: %v", email, err)
	}
	return c
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (f *fx) post(path string, ct string, body string, hdr ...string) resp {
	f.t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(b)}
}

func (f *fx) get(path string, hdr ...string) resp {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(b)}
}

func (f *fx) stats(formID int64) map[string]int64 {
	f.t.Helper()
	s, err := f.st.Read().FormStats(f.ctx, f.ws, formID)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func TestFormValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		for _, c := range []struct {
			form  model.Form
			field string
		}{
			{model.Form{Kind: "signup"}, "name"},
			{model.Form{Name: "X", Kind: "webinar"}, "kind"},
			{model.Form{Name: "X", Kind: "signup", Fields: []model.FormField{{Field: "email"}, {Field: "shoe_size"}}}, "fields[1].field"},
			{model.Form{Name: "X", Kind: "signup", Fields: []model.FormField{{Field: "title"}}, Progressive: []model.FormField{{Field: "title"}}}, "progressive[0].field"},
			{model.Form{Name: "X", Kind: "signup", ConsentText: "I agree"}, "consent_version"},
			{model.Form{Name: "X", Kind: "signup", DoubleOptIn: true}, "double_opt_in"},
			{model.Form{Name: "X", Kind: "signup", RedirectURL: "javascript:alert(1)"}, "redirect_url"},
			{model.Form{Name: "X", Kind: "signup", AllowedOrigins: []string{"https://ok.example", "https://bad.example/path"}}, "allowed_origins[1]"},
			{model.Form{Name: "X", Kind: "gated_content"}, "asset_id"},
			{model.Form{Name: "X", Kind: "gated_content", AssetID: ptr(int64(999999))}, "asset_id"},
		} {
			_, err := f.svc.CreateForm(f.ctx, f.act, c.form)
			fe, ok := err.(*store.FieldError)
			if !ok || fe.Field != c.field {
				t.Errorf("%+v: got %v, want an error on %s", c.form, err, c.field)
			}
		}
		// Email is always asked, first, and required.
		g := f.form(model.Form{Name: "Newsletter", Kind: "newsletter", Fields: []model.FormField{{Field: "first_name"}}, AllowedOrigins: []string{"https://Shop.Example/"}})
		if len(g.Fields) != 2 || g.Fields[0].Field != "email" || !g.Fields[0].Required || g.Fields[1].Label != "First name" {
			t.Fatalf("fields %+v", g.Fields)
		}
		if g.AllowedOrigins[0] != "https://shop.example" || !strings.HasPrefix(g.Key, "f_") {
			t.Fatalf("origin %v key %q", g.AllowedOrigins, g.Key)
		}
		if _, err := f.svc.CreateForm(f.ctx, f.act, model.Form{Name: "Newsletter", Kind: "signup"}); err == nil {
			t.Fatal("duplicate name accepted")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// A plain HTML post from a customer's page: the contact is created with the UTM
// parameters and the consent text's version, the visitor is stitched, the form
// submission is scored, and the browser goes to the form's redirect URL.
func TestHTMLPostCreatesContact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		g := f.form(model.Form{Name: "Signup", Kind: "signup", Fields: []model.FormField{{Field: "first_name", Required: true}, {Field: "title"}},
			ConsentText: "Send me product news.", ConsentVersion: "2026-11", RedirectURL: "https://shop.example/thanks", AllowedOrigins: []string{"https://shop.example"}})
		form := url.Values{"email": {"Ann@Acme.io"}, "first_name": {"Ann"}, "consent": {"yes"}, "utm_source": {"google"}, "utm_campaign": {"winter"}, "_vid": {"v-123"}, "_hp": {""}}
		r := f.post("/f/"+g.Key, "application/x-www-form-urlencoded", form.Encode(), "Origin", "https://shop.example")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "https://shop.example/thanks" {
			t.Fatalf("post: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		c := f.contact("ann@acme.io")
		if c.FirstName != "Ann" || c.Source != "form" || c.UTMSource != "google" || c.UTMCampaign != "winter" || c.LifecycleStage != "lead" ||
			c.ConsentBasis != "consent" || !strings.Contains(c.ConsentSource, "consent text 2026-11") || c.ConsentAt == nil {
			t.Fatalf("contact %+v", c)
		}
		if len(f.stitch.calls) != 1 || f.stitch.calls[0] != (stitch{"v-123", c.ID}) {
			t.Fatalf("stitch calls %+v", f.stitch.calls)
		}
		sc, err := f.svc.Scoring.Scores(f.ctx, f.ws, []int64{c.ID}, monday10)
		if err != nil || sc[c.ID].Engagement != 10 {
			t.Fatalf("score %+v %v, want engagement 10 from form_submit", sc, err)
		}
		subs, err := st.Read().Submissions(f.ctx, f.ws, g.ID, 10)
		if err != nil || len(subs) != 1 || subs[0].ConsentVersion != "2026-11" || subs[0].UTM["utm_campaign"] != "winter" || *subs[0].ContactID != c.ID {
			t.Fatalf("submissions %+v %v", subs, err)
		}

		// Second visit: an answer overwrites, a blank keeps; source stays first touch.
		form = url.Values{"email": {"ann@acme.io"}, "first_name": {"Annie"}, "title": {"CEO"}, "consent": {"on"}, "utm_source": {"bing"}}
		if r := f.post("/f/"+g.Key, "application/x-www-form-urlencoded", form.Encode()); r.status != http.StatusSeeOther {
			t.Fatalf("second post %d %s", r.status, r.body)
		}
		c = f.contact("ann@acme.io")
		if c.FirstName != "Annie" || c.Title != "CEO" || c.UTMSource != "google" {
			t.Fatalf("after second post %+v", c)
		}

		// Errors name the field, on an HTML page, and store nothing.
		for _, bad := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"email": {"x@y.io"}, "first_name": {"X"}}, "Consent: must be ticked"},
			{url.Values{"email": {"x@y.io"}, "consent": {"yes"}}, "First name: is required"},
			{url.Values{"email": {"not an email"}, "first_name": {"X"}, "consent": {"yes"}}, "Email: "},
			{url.Values{"email": {"x@y.io"}, "first_name": {"X"}, "consent": {"yes"}, "shoe_size": {"9"}}, "Shoe size: is not a field of this form"},
			{url.Values{"email": {"x@y.io"}, "first_name": {"X"}, "consent": {"yes"}, "_redirect": {"https://evil.example/"}}, "Redirect: "},
		} {
			r := f.post("/f/"+g.Key, "application/x-www-form-urlencoded", bad.form.Encode())
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, bad.want) {
				t.Errorf("%v: %d, want 400 with %q in\n%s", bad.form, r.status, bad.want, r.body)
			}
		}
		if _, err := st.Read().ContactByEmail(f.ctx, f.ws, "x@y.io"); err == nil {
			t.Fatal("a rejected post wrote a contact")
		}
		// An origin the form does not allow is refused before anything is read.
		if r := f.post("/f/"+g.Key, "application/x-www-form-urlencoded", url.Values{"email": {"z@y.io"}, "first_name": {"Z"}, "consent": {"yes"}}.Encode(), "Origin", "https://evil.example"); r.status != http.StatusForbidden {
			t.Fatalf("foreign origin: %d", r.status)
		}
		// A bot fills the honeypot: it sees success; no contact; counted as spam.
		r = f.post("/f/"+g.Key, "application/x-www-form-urlencoded", url.Values{"email": {"bot@spam.io"}, "first_name": {"B"}, "consent": {"yes"}, "_hp": {"http://spam"}}.Encode())
		if r.status != http.StatusSeeOther {
			t.Fatalf("honeypot: %d", r.status)
		}
		if _, err := st.Read().ContactByEmail(f.ctx, f.ws, "bot@spam.io"); err == nil {
			t.Fatal("spam wrote a contact")
		}
		if s := f.stats(g.ID); s["accepted"] != 2 || s["spam"] != 1 {
			t.Fatalf("stats %v: want 2 accepted, 1 spam", s)
		}
		if r := f.post("/f/f_nope", "application/x-www-form-urlencoded", "email=a@b.io"); r.status != http.StatusNotFound {
			t.Fatalf("unknown form: %d", r.status)
		}
	})
}

// A trial request from the embed script: opportunity, a deal in the digital
// pipeline's trial stage with an AE and an SLA clock, nurture exited; asking
// again reuses the open deal.
func TestTrialRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, true)
		g := f.form(model.Form{Name: "Trial", Kind: "trial_request", Fields: []model.FormField{{Field: "first_name"}}})
		body := `{"email":"owner@bakery.io","first_name":"Olga","_vid":"","utm_medium":"cpc"}`
		r := f.post("/f/"+g.Key, "text/plain", body, "Origin", "https://bakery-site.example")
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("post: %d %v %s", r.status, r.header, r.body)
		}
		var res struct{ Status, Message string }
		if err := json.Unmarshal([]byte(r.body), &res); err != nil || res.Status != "accepted" || !strings.Contains(res.Message, "trial") {
			t.Fatalf("answer %s %v", r.body, err)
		}
		c := f.contact("owner@bakery.io")
		if c.LifecycleStage != "opportunity" || f.exit.reasons[c.ID] != "trial_or_contact_request" {
			t.Fatalf("contact %+v exits %v", c, f.exit.reasons)
		}
		subs, _ := st.Read().Submissions(f.ctx, f.ws, g.ID, 10)
		if len(subs) != 1 || subs[0].DealID == nil {
			t.Fatalf("submission %+v", subs)
		}
		d, err := st.Read().GetDeal(f.ctx, f.ws, *subs[0].DealID)
		if err != nil || d.Pipeline != "digital" || d.Stage != "trial" || d.OwnerID == nil || *d.OwnerID != f.ae || d.Currency != "EUR" {
			t.Fatalf("deal %+v %v", d, err)
		}
		as, err := st.Read().Assignments(f.ctx, f.ws, "deal", d.ID)
		if err != nil || len(as) != 1 || !as[0].SLADueAt.After(monday10) {
			t.Fatalf("assignment %+v %v", as, err)
		}
		if r := f.post("/f/"+g.Key, "application/json", body); r.status != 200 {
			t.Fatalf("second request %d %s", r.status, r.body)
		}
		subs, _ = st.Read().Submissions(f.ctx, f.ws, g.ID, 10)
		if len(subs) != 2 || *subs[0].DealID != d.ID {
			t.Fatalf("second request opened another deal: %+v", subs)
		}
		// JSON errors name the field; numbers are taken as text, objects are not.
		r = f.post("/f/"+g.Key, "application/json", `{"email":"x@y.io","first_name":{"a":1}}`)
		if r.status != 400 || !strings.Contains(r.body, `"field":"first_name"`) {
			t.Fatalf("nested value: %d %s", r.status, r.body)
		}
		r = f.post("/f/"+g.Key, "application/json", `{"email":`)
		if r.status != 400 || !strings.Contains(r.body, `"field":"body"`) {
			t.Fatalf("bad JSON: %d %s", r.status, r.body)
		}
	})
}

// Nobody to take the request: the buyer is still accepted; the deal waits
// unowned with the reason in its history.
func TestTrialRequestWithoutAE(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		g := f.form(model.Form{Name: "Sales", Kind: "contact_sales"})
		if r := f.post("/f/"+g.Key, "application/json", `{"email":"cfo@big.io"}`); r.status != 200 {
			t.Fatalf("post %d %s", r.status, r.body)
		}
		subs, _ := st.Read().Submissions(f.ctx, f.ws, g.ID, 10)
		d, err := st.Read().GetDeal(f.ctx, f.ws, *subs[0].DealID)
		if err != nil || d.OwnerID != nil || d.Stage != "qualified" {
			t.Fatalf("deal %+v %v", d, err)
		}
		hs, _ := st.Read().History(f.ctx, f.ws, "deal", d.ID)
		found := false
		for _, h := range hs {
			found = found || (h.Action == "unassigned" && strings.Contains(string(h.Detail), "no AE available"))
		}
		if !found {
			t.Fatalf("history %+v", hs)
		}
	})
}

func TestGatedContentAndDoubleOptIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		a, err := f.svc.SaveAsset(f.ctx, f.act, model.Asset{Title: "SMB pricing guide", URL: "https://cdn.example/guide.pdf", Type: "guide", Stage: "consideration", Segment: "smb"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveAsset(f.ctx, f.act, model.Asset{Title: "x", URL: "ftp://x", Type: "guide"}); err == nil || !strings.Contains(err.Error(), "url") {
			t.Fatalf("bad asset url: %v", err)
		}
		g := f.form(model.Form{Name: "Guide", Kind: "gated_content", AssetID: &a.ID, ConsentText: "Email me", ConsentVersion: "v1", DoubleOptIn: true})
		r := f.post("/f/"+g.Key, "application/json", `{"email":"reader@shop.io","consent":true}`)
		if r.status != 200 || !strings.Contains(r.body, "pending_confirmation") || strings.Contains(r.body, "guide.pdf") {
			t.Fatalf("gated double opt-in: %d %s (the asset waits for confirmation)", r.status, r.body)
		}
		c := f.contact("reader@shop.io")
		if c.ConsentAt != nil {
			t.Fatalf("consent recorded before confirmation: %+v", c)
		}
		sc, _ := f.svc.Scoring.Scores(f.ctx, f.ws, []int64{c.ID}, monday10)
		if sc[c.ID].Engagement != 18 {
			t.Fatalf("engagement %v, want 18 (form_submit 10 + content_download 8)", sc[c.ID].Engagement)
		}
		if len(f.confirm.urls) != 1 || !strings.HasPrefix(f.confirm.urls[0], "https://rs.example/subscribe/confirm/") {
			t.Fatalf("confirmation mails %v", f.confirm.urls)
		}
		token := strings.TrimPrefix(f.confirm.urls[0], "https://rs.example/subscribe/confirm/")
		// GET shows a button and changes nothing (scanners prefetch links).
		if r := f.get("/subscribe/confirm/" + token); r.status != 200 || !strings.Contains(r.body, `method="post"`) {
			t.Fatalf("confirm page %d %s", r.status, r.body)
		}
		if f.contact("reader@shop.io").ConsentAt != nil {
			t.Fatal("GET confirmed")
		}
		if r := f.post("/subscribe/confirm/"+token, "application/x-www-form-urlencoded", ""); r.status != 200 || !strings.Contains(r.body, "confirmed") {
			t.Fatalf("confirm %d %s", r.status, r.body)
		}
		c = f.contact("reader@shop.io")
		if c.ConsentAt == nil || !strings.Contains(c.ConsentSource, "double opt-in confirmed") {
			t.Fatalf("after confirm %+v", c)
		}
		if r := f.post("/subscribe/confirm/"+token, "application/x-www-form-urlencoded", ""); r.status != 200 {
			t.Fatalf("second confirm %d", r.status)
		}
		if s := f.stats(g.ID); s["accepted"] != 1 || s["pending_confirmation"] != 0 {
			t.Fatalf("stats %v", s)
		}
		if r := f.post("/subscribe/confirm/nope", "application/x-www-form-urlencoded", ""); r.status != 404 {
			t.Fatalf("unknown token %d", r.status)
		}
		// Without double opt-in the answer hands over the asset.
		g2 := f.form(model.Form{Name: "Guide 2", Kind: "gated_content", AssetID: &a.ID})
		if r := f.post("/f/"+g2.Key, "application/json", `{"email":"r2@shop.io"}`); r.status != 200 || !strings.Contains(r.body, "https://cdn.example/guide.pdf") {
			t.Fatalf("gated: %d %s", r.status, r.body)
		}
	})
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		f.svc.Limits = &forms.Limiter{PerIP: forms.Rate{Burst: 2, Every: time.Minute}, PerForm: forms.Rate{Burst: 100, Every: time.Second}}
		g := f.form(model.Form{Name: "N", Kind: "newsletter"})
		for i := 0; i < 2; i++ {
			if r := f.post("/f/"+g.Key, "application/json", fmt.Sprintf(`{"email":"n%d@x.io"}`, i)); r.status != 200 {
				t.Fatalf("post %d: %d", i, r.status)
			}
		}
		r := f.post("/f/"+g.Key, "application/json", `{"email":"n9@x.io"}`)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "60" {
			t.Fatalf("third post: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		if s := f.stats(g.ID); s["accepted"] != 2 {
			t.Fatalf("stats %v", s)
		}
		if f.contact("n1@x.io").LifecycleStage != "subscriber" {
			t.Fatal("newsletter contacts are subscribers")
		}
	})
}

type fakeVisitors struct{ c *model.Contact }

func (v fakeVisitors) ContactForVisitor(ctx context.Context, q store.Q, ws int64, vid string) (*model.Contact, error) {
	if vid == "known" {
		return v.c, nil
	}
	return nil, nil
}

// Progressive profiling asks a known visitor the next fields they have not
// answered, two at a time.
func TestProgressiveFields(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		g := f.form(model.Form{Name: "P", Kind: "signup", Progressive: []model.FormField{{Field: "first_name"}, {Field: "title"}, {Field: "phone"}, {Field: "last_name"}},
			AllowedOrigins: []string{"https://shop.example"}})
		mux := http.NewServeMux()
		(&forms.Public{Svc: f.svc, Visitors: fakeVisitors{&model.Contact{Email: "k@x.io", FirstName: "Kim"}}}).Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		names := func(vid string) string {
			req, _ := http.NewRequest("GET", srv.URL+"/f/"+g.Key+"/fields?vid="+vid, nil)
			req.Header.Set("Origin", "https://shop.example")
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
				t.Fatalf("CORS %v", r.Header)
			}
			var v struct{ Fields []model.FormField }
			if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ff := range v.Fields {
				out = append(out, ff.Field)
			}
			return strings.Join(out, ",")
		}
		if got := names("stranger"); got != "email" {
			t.Fatalf("stranger: %s", got)
		}
		if got := names("known"); got != "email,title,phone" {
			t.Fatalf("known visitor: %s, want email,title,phone (first_name is known)", got)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/f/"+g.Key+"/fields", nil)
		req.Header.Set("Origin", "https://evil.example")
		r, _ := http.DefaultClient.Do(req)
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("foreign origin fields: %d", r.StatusCode)
		}
	})
}

// Forms of one workspace are invisible from another, and a form's key only
// ever writes into its own workspace.
func TestIsolation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := setup(t, st, false)
		b := setup(t, st, false)
		g := a.form(model.Form{Name: "A form", Kind: "signup"})
		if _, err := st.Read().GetForm(a.ctx, b.ws, g.ID); err != store.ErrNotFound {
			t.Fatalf("B reads A's form: %v", err)
		}
		if _, err := b.svc.UpdateForm(b.ctx, b.act, g.ID, model.Form{Name: "hijack", Kind: "signup"}); err != store.ErrNotFound {
			t.Fatalf("B updates A's form: %v", err)
		}
		if r := b.post("/f/"+g.Key, "application/json", `{"email":"p@x.io"}`); r.status != 200 {
			t.Fatalf("post %d", r.status)
		}
		if _, err := st.Read().ContactByEmail(a.ctx, b.ws, "p@x.io"); err == nil {
			t.Fatal("A's form wrote into B")
		}
		a.contact("p@x.io")
	})
}

// A trial request opens its deal through crm, so the digital pipeline's gates
// apply as for any deal: the workspace requires an amount to leave
// "qualified", the trial deal is created at "trial" without one, so it is kept
// and flagged needs_review with the unmet gate as the reason, and its stage
// stay is opened. A contact-sales request starts at "qualified": nothing left
// behind, no review.
func TestRaisedHandMeetsGates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, true)
		ps := pipeline.Defaults()
		for i := range ps {
			if ps[i].Key == "digital" {
				ps[i].Stages[0].Exit.RequiredFields = []string{"amount"}
			}
		}
		if _, err := (&pipeline.Service{St: st}).Save(f.ctx, model.Actor{Workspace: f.ws, Role: model.RoleAdmin, Label: "test"}, ps); err != nil {
			t.Fatal(err)
		}
		deal := func(kind, email string) model.Deal {
			t.Helper()
			g := f.form(model.Form{Name: kind + email, Kind: kind})
			if r := f.post("/f/"+g.Key, "application/json", `{"email":"`+email+`"}`); r.status != 200 {
				t.Fatalf("post %d %s", r.status, r.body)
			}
			subs, _ := st.Read().Submissions(f.ctx, f.ws, g.ID, 10)
			if len(subs) != 1 || subs[0].DealID == nil {
				t.Fatalf("submission %+v", subs)
			}
			d, err := st.Read().GetDeal(f.ctx, f.ws, *subs[0].DealID)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		trial := deal("trial_request", "trial@bakery.io")
		if trial.Stage != "trial" || !trial.NeedsReview || !strings.HasPrefix(trial.ReviewReason, "gates_unmet: ") || !strings.Contains(trial.ReviewReason, "amount") {
			t.Fatalf("trial deal %+v: want needs_review with the unmet amount gate", trial)
		}
		if trial.OwnerID == nil || *trial.OwnerID != f.ae || trial.Currency != "EUR" {
			t.Fatalf("trial deal owner/currency %+v", trial)
		}
		stays, err := st.Read().StageHistory(f.ctx, f.ws, trial.ID)
		if err != nil || len(stays) != 1 || stays[0].Stage != "trial" || stays[0].LeftAt != nil {
			t.Fatalf("stage history %+v %v: want one open stay in trial", stays, err)
		}
		sales := deal("contact_sales", "cfo@bakery.io")
		if sales.Stage != "qualified" || sales.NeedsReview || sales.ReviewReason != "" {
			t.Fatalf("contact-sales deal %+v: want qualified, no review", sales)
		}
	})
}

// The hosted page and the answers to its posts may be framed by the form's
// allowed origins only (any site when it lists none); the confirmation page
// by no one. No page allows script.
func TestPageFraming(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		shop := f.form(model.Form{Name: "Shop", Kind: "signup", AllowedOrigins: []string{"https://shop.example", "https://www.shop.example"}})
		open := f.form(model.Form{Name: "Open", Kind: "signup"})
		frame := func(what string, r resp, want string) {
			t.Helper()
			csp := r.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.HasSuffix(csp, "frame-ancestors "+want) {
				t.Errorf("%s: CSP %q, want no script and frame-ancestors %s", what, csp, want)
			}
		}
		frame("hosted page", f.get("/f/"+shop.Key), "https://shop.example https://www.shop.example")
		frame("hosted page without origins", f.get("/f/"+open.Key), "*")
		bad := f.post("/f/"+shop.Key, "application/x-www-form-urlencoded", url.Values{"email": {"nope"}}.Encode(), "Origin", "https://shop.example")
		if bad.status != http.StatusBadRequest {
			t.Fatalf("bad post: %d %s", bad.status, bad.body)
		}
		frame("error answer", bad, "https://shop.example https://www.shop.example")
		frame("thank-you answer", f.post("/f/"+open.Key, "application/x-www-form-urlencoded", url.Values{"email": {"a@b.io"}}.Encode()), "*")
		frame("confirmation page", f.get("/subscribe/confirm/anything"), "'none'")
		frame("unknown form", f.get("/f/f_nope"), "'none'")
	})
}
