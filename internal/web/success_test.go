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
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
)

// wonAccount makes an account with a digital deal owned by the AE and wins it
// through crm (the hook opens the handoff).
func wonAccount(t *testing.T, e *apptest.Env, ws apptest.WS, name string) int64 {
	t.Helper()
	ctx := context.Background()
	act := actor(t, e, ws)
	a, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": name})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": name + " — Growth", "pipeline": "digital", "account_id": fmt.Sprint(a.ID), "owner_id": fmt.Sprint(ws.Users[model.RoleAE].ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.CRM.UpdateDeal(ctx, act, d.ID, crm.Fields{"outcome": "won"}); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

var itemRE = regexp.MustCompile(`action="(/customers/\d+/success/items/\d+)"`)

// TestCustomerSuccessUI: the section through the forms (note, refused
// accept naming what is missing, role checks, accept, checklist, inputs), the
// queue, the settings page, and another workspace's customer as a 404.
func TestCustomerSuccessUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		acct := wonAccount(t, e, e.A, "Success Widgets")
		page := fmt.Sprintf("/customers/%d/success", acct)
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		csm := e.Browser(t, e.A.Users[model.RoleCSM].Email)
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)

		r := get(t, e, ae, page)
		ok(t, r, http.StatusOK, "Success Widgets", `data-status="awaiting_note"`, "The AE's note still needs", "Kickoff call held", "Unassigned", `data-band="no_data"`, "0 usage: no data yet", `href="/success" aria-current="page"`)
		if strings.Contains(r.Body, "data-accept") {
			t.Error("the AE is offered the accept button")
		}
		// A partial note, then accept: refused, naming the missing part.
		r = post(t, e, ae, page+"/note", url.Values{"goals": {"Live in 3 regions"}, "stakeholders": {"Ann (COO)"}, "risks": {""}, "next": {page}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), page+"?notice=note") {
			t.Fatalf("note: %d %s", r.Status, r.Header.Get("Location"))
		}
		r = post(t, e, csm, page+"/accept", url.Values{})
		ok(t, r, http.StatusUnprocessableEntity, "missing: risks", `id="cs-risks-err"`, "Live in 3 regions")
		r = post(t, e, ae, page+"/accept", url.Values{})
		ok(t, r, http.StatusForbidden, "Not allowed")
		r = post(t, e, ae, page+"/note", url.Values{"goals": {"Live in 3 regions"}, "stakeholders": {"Ann (COO)"}, "risks": {"Legacy data"}, "next": {"//evil.example/x"}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), strings.TrimSuffix(page, "/success")+"?") {
			t.Fatalf("note with a foreign next: %d %s", r.Status, r.Header.Get("Location"))
		}
		r = get(t, e, csm, page)
		ok(t, r, http.StatusOK, `data-status="awaiting_acceptance"`, "data-accept")
		r = post(t, e, csm, page+"/accept", url.Values{"next": {page}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("accept: %d %s", r.Status, snippet(r.Body))
		}
		r = get(t, e, csm, page+"?notice=accepted")
		ok(t, r, http.StatusOK, `data-status="accepted"`, "Handoff accepted", "Legacy data", "csm@alpha.example.com")
		m := itemRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatal("no checklist item form")
		}
		r = post(t, e, csm, m[1], url.Values{"done": {"1"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("tick: %d", r.Status)
		}
		ok(t, get(t, e, csm, page), http.StatusOK, "1 of 5", `aria-pressed="true"`)

		// Inputs: sentiment needs a note (and a CSM), NPS 0–10.
		r = post(t, e, csm, page+"/sentiment", url.Values{"sentiment": {"negative"}, "sentiment_note": {""}})
		ok(t, r, http.StatusUnprocessableEntity, "is required: say why")
		ok(t, post(t, e, ae, page+"/sentiment", url.Values{"sentiment": {"negative"}, "sentiment_note": {"x"}}), http.StatusForbidden)
		if r = post(t, e, csm, page+"/sentiment", url.Values{"sentiment": {"negative"}, "sentiment_note": {"Champion left"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("sentiment: %d %s", r.Status, snippet(r.Body))
		}
		ok(t, post(t, e, csm, page+"/nps", url.Values{"nps_score": {"12"}}), http.StatusUnprocessableEntity, "between 0 and 10")
		if r = post(t, e, csm, page+"/nps", url.Values{"nps_score": {"4"}, "nps_comment": {"slow"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("nps: %d %s", r.Status, snippet(r.Body))
		}
		// 50 − 15 (NPS 4) − 10 (negative) = 25: critical.
		ok(t, get(t, e, csm, page), http.StatusOK, `data-band="critical"`, `data-score>25<`, "−10 CSM sentiment negative", "Champion left", "<polyline")

		q := get(t, e, csm, "/success")
		ok(t, q, http.StatusOK, "Customers at risk", fmt.Sprintf(`data-customer="%d"`, acct))
		acct2 := wonAccount(t, e, e.A, "Queue Widgets")
		ok(t, get(t, e, csm, "/success"), http.StatusOK, "Queue Widgets", fmt.Sprintf(`href="/customers/%d"`, acct2))

		// Another workspace's customer is a 404 on every route.
		foreign := wonAccount(t, e, e.B, "Beta Secret")
		fp := fmt.Sprintf("/customers/%d/success", foreign)
		ok(t, get(t, e, admin, fp), http.StatusNotFound)
		for _, p := range []string{"/note", "/accept", "/sentiment", "/nps", "/support", "/csm"} {
			r := post(t, e, admin, fp+p, url.Values{"goals": {"x"}, "sentiment": {"negative"}, "sentiment_note": {"x"}, "nps_score": {"5"}, "open_items": {"1"}})
			ok(t, r, http.StatusNotFound)
		}

		// Settings: read, a refused value next to its input, a save.
		ok(t, get(t, e, ae, "/settings/success"), http.StatusOK, "Onboarding checklists", "You can read these settings")
		ok(t, post(t, e, ae, "/settings/success", url.Values{}), http.StatusForbidden)
		form := url.Values{"base": {"50"}, "healthy_min": {"70"}, "critical_below": {"40"}, "usage.weight": {"25"}, "usage.window_days": {"0"}, "usage.target": {"1000"},
			"engagement.weight": {"10"}, "engagement.window_days": {"30"}, "engagement.target": {"20"}, "support.weight": {"15"}, "support.cap": {"5"},
			"nps.weight": {"20"}, "nps.max_age_days": {"365"}, "sentiment.weight": {"10"},
			"template.digital": {"Kickoff call held\nWelcome pack sent"}, "template.high_touch": {"Kickoff call held"}}
		ok(t, post(t, e, admin, "/settings/success", form), http.StatusUnprocessableEntity, `id="hs-usage.window_days-err"`, "must be between 1 and 365")
		form.Set("usage.window_days", "30")
		if r = post(t, e, admin, "/settings/success", form); r.Status != http.StatusSeeOther {
			t.Fatalf("save settings: %d %s", r.Status, snippet(r.Body))
		}
		set, err := e.App.Success.Settings(context.Background(), e.A.ID)
		if err != nil || set.Health.NPS.Weight != 20 || len(set.Checklists["digital"]) != 2 || set.Checklists["digital"][0].Key != "kickoff_call" || set.Checklists["digital"][1].Key != "welcome_pack_sent" {
			t.Fatalf("saved %+v %v", set, err)
		}
	})
}
