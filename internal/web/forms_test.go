package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

func TestFormsUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		// Content library: add with an error round trip, then properly.
		ok(t, post(t, e, admin, "/content", url.Values{"title": {"Checklist"}, "url": {"not a url"}, "type": {"checklist"}}), http.StatusUnprocessableEntity, `id="c-url-err"`, `value="Checklist"`)
		r := post(t, e, admin, "/content", url.Values{"title": {"SMB setup checklist"}, "url": {"https://cdn.example/setup.pdf"}, "type": {"checklist"}, "stage": {"decision"}, "segment": {"smb"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("add content: %d %s", r.Status, snippet(r.Body))
		}
		ok(t, get(t, e, admin, "/content"), 200, "SMB setup checklist", "Checklist", "Decision")
		assets, _ := e.App.St.Read().Assets(context.Background(), e.A.ID)
		if len(assets) != 1 {
			t.Fatalf("assets %v", assets)
		}
		aid := fmt.Sprint(assets[0].ID)

		// The builder: a bad origin is shown next to its input, with what was typed.
		ok(t, get(t, e, admin, "/forms/new"), 200, "New form", `name="ask_title"`, "Known visitors")
		bad := url.Values{"name": {"Checklist download"}, "kind": {"gated_content"}, "asset_id": {aid}, "ask_email": {"always"}, "ask_first_name": {"always"}, "req_first_name": {"1"},
			"ask_title": {"progressive"}, "label_first_name": {"Your first name"}, "allowed_origins": {"https://www.example.com/pricing"}, "consent_text": {"Email me tips"}, "consent_version": {"v1"}}
		ok(t, post(t, e, admin, "/forms", bad), http.StatusUnprocessableEntity, "must be an origin", `value="Checklist download"`, `value="Your first name"`)
		good := url.Values{}
		for k, v := range bad {
			good[k] = v
		}
		good.Set("allowed_origins", "https://www.example.com")
		r = post(t, e, admin, "/forms", good)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create form: %d %s", r.Status, snippet(r.Body))
		}
		loc := r.Header.Get("Location")
		page := get(t, e, admin, strings.TrimSuffix(loc, "?notice=created"))
		ok(t, page, 200, "Checklist download", "data-rightsize-form=&#34;f_", "/f.js", "Your first name*", "Then, of known visitors", "SMB setup checklist", "https://www.example.com")
		key := regexp.MustCompile(`key <span class="mono">(f_[^<]+)</span>`).FindStringSubmatch(page.Body)
		if key == nil {
			t.Fatal("no key on the form page")
		}

		// A submission through the public route shows up on the page and in the list.
		resp, err := http.Post(e.URL+"/f/"+key[1], "application/x-www-form-urlencoded", strings.NewReader(url.Values{"email": {"ann@shop.example"}, "first_name": {"Ann"}, "consent": {"yes"}, "utm_campaign": {"spring"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("public post: %d", resp.StatusCode)
		}
		ok(t, get(t, e, admin, strings.TrimSuffix(loc, "?notice=created")), 200, "ann@shop.example", "spring", "Accepted")
		ok(t, get(t, e, admin, "/forms"), 200, "Checklist download", "Gated content")

		// An AE can look but not build; B cannot see A's form at all.
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		ok(t, get(t, e, ae, "/forms"), 200, "Checklist download")
		ok(t, get(t, e, ae, "/forms/new"), http.StatusForbidden)
		ok(t, post(t, e, ae, "/forms", good), http.StatusForbidden)
		id := strings.TrimPrefix(strings.TrimSuffix(loc, "?notice=created"), "/forms/")
		ok(t, get(t, e, ae, "/forms/"+id+"/edit"), http.StatusForbidden)
		other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		missing := get(t, e, other, "/forms/999999999")
		foreign := get(t, e, other, "/forms/"+id)
		if foreign.Status != http.StatusNotFound || missing.Status != http.StatusNotFound {
			t.Fatalf("foreign form %d, missing %d", foreign.Status, missing.Status)
		}
		ok(t, get(t, e, other, "/content/"+aid+"/edit"), http.StatusNotFound)
		ok(t, post(t, e, other, "/forms/"+id, good), http.StatusNotFound)
	})
}

// The copy-paste HTML snippet is HTML a customer pastes into their site: a
// label or consent text is escaped in it (and escaped again on our page, which
// shows the snippet as text).
func TestFormSnippetEscapes(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		f, err := e.App.Forms.CreateForm(context.Background(), model.Actor{Workspace: e.A.ID, Label: "test"}, model.Form{Name: "Snippet", Kind: "signup",
			Fields: []model.FormField{{Field: "email", Label: `<img src=x onerror=alert(1)>`, Required: true}}, ConsentText: `</label><script>alert(2)</script>`, ConsentVersion: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, admin, fmt.Sprintf("/forms/%d", f.ID)), 200,
			`&lt;label&gt;&amp;lt;img src=x onerror=alert(1)&amp;gt; &lt;input name=`,
			`&amp;lt;/label&amp;gt;&amp;lt;script&amp;gt;alert(2)&amp;lt;/script&amp;gt;&lt;/label&gt;`)
	})
}
