package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
)

// TestSettings runs the settings pages on their own app: they change workspace
// A's rules, which the other UI tests rely on.
func TestSettings(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		t.Run("routing editor", func(t *testing.T) { testRoutingEditor(t, e) })
		t.Run("scoring settings", func(t *testing.T) { testScoringSettings(t, e) })
		t.Run("pools and SLA", func(t *testing.T) { testPoolsSettings(t, e) })
		t.Run("foreign pool is 404", func(t *testing.T) { testForeignPool(t, e) })
	})
}

var (
	selectRE = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	inputRE  = regexp.MustCompile(`<input\b([^>]*)>`)
	attrRE   = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	optRE    = regexp.MustCompile(`<option value="([^"]*)"( selected)?`)
)

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		out[a[1]] = html.UnescapeString(a[2])
	}
	return out
}

// formValues reads what a browser would submit from the form posting to
// action: inputs (checkboxes only when checked) and each select's chosen option.
func formValues(t *testing.T, body, action string) url.Values {
	t.Helper()
	start := strings.Index(body, `<form method="post" action="`+action+`" class="form`)
	if start < 0 {
		t.Fatalf("no form posting to %s", action)
	}
	f := body[start : start+strings.Index(body[start:], "</form>")]
	out := url.Values{}
	for _, m := range selectRE.FindAllStringSubmatch(f, -1) {
		a := attrs(m[1])
		val := ""
		for i, o := range optRE.FindAllStringSubmatch(m[2], -1) {
			if i == 0 || o[2] != "" {
				val = html.UnescapeString(o[1])
			}
		}
		out.Set(a["name"], val)
	}
	for _, m := range inputRE.FindAllStringSubmatch(selectRE.ReplaceAllString(f, ""), -1) {
		a := attrs(m[1])
		name, has := a["name"]
		if !has {
			continue
		}
		if _, checked := a["checked"]; a["type"] == "checkbox" && !checked {
			continue
		}
		out.Set(name, a["value"])
	}
	return out
}

func testRoutingEditor(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	page := get(t, e, admin, "/settings/routing")
	ok(t, page, 200, "Segment rules", "Routing rules", `name="seg-0-c-0-value" value="100"`, `name="segca-segment" value="unknown"`, "built-in defaults")
	form := formValues(t, page.Body, "/settings/routing")
	if form.Get("seg-count") != "4" || form.Get("seg-0-c-0-field") != "employees" || form.Get("seg-0-c-0-op") != "lt" {
		t.Fatalf("form as read: %v", form)
	}

	// A bad value is shown next to its input, keeping what was typed; nothing is saved.
	bad := cloneValues(form)
	bad.Set("seg-1-c-1-value", "a thousand")
	r := post(t, e, admin, "/settings/routing", bad)
	ok(t, r, http.StatusUnprocessableEntity, `id="seg-1-c-1-err"`, "is not a whole number", `name="seg-1-c-1-value" value="a thousand"`)
	if set, _ := e.App.Routing.Rules(ctx, e.A.ID); !set.DefaultSegmentRules {
		t.Fatal("a refused save changed the rules")
	}
	// A routing rule for a segment no rule assigns: the error names that row's segment input.
	bad = cloneValues(form)
	bad.Set("route-1-segment", "galactic")
	ok(t, post(t, e, admin, "/settings/routing", bad), http.StatusUnprocessableEntity, `id="route-1-segment" name="route-1-segment" value="galactic"`, "no segment rule assigns")

	// Non-admins read but cannot write.
	ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
	ok(t, get(t, e, ae, "/settings/routing"), 200, "only admins and managers can change them", "<fieldset class=\"plain-fieldset\" disabled>")
	ok(t, post(t, e, ae, "/settings/routing", form), http.StatusForbidden, "Not allowed")

	// Without script: change the SMB threshold, add a rule through the blank row
	// and move it first by its order number, remove the mid-market rule.
	good := cloneValues(form)
	good.Set("seg-0-c-0-value", "50")
	good.Set("seg-1-c-0-value", "50")
	good.Set("seg-3-segment", "micro")
	good.Set("seg-3-pos", "0")
	good.Set("seg-3-c-0-field", "employees")
	good.Set("seg-3-c-0-op", "lt")
	good.Set("seg-3-c-0-value", "5")
	r = post(t, e, admin, "/settings/routing", good)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/settings/routing?notice=saved" {
		t.Fatalf("save: %d %q\n%s", r.Status, r.Header.Get("Location"), snippet(r.Body))
	}
	set, err := e.App.Routing.Rules(ctx, e.A.ID)
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	for _, s := range set.SegmentRules {
		segs = append(segs, s.Segment)
	}
	if got := strings.Join(segs, ","); got != "micro,smb,mid_market,enterprise,unknown" {
		t.Fatalf("segments %s", got)
	}
	if v := set.SegmentRules[1].Conditions[0].Value; fmt.Sprint(v) != "50" {
		t.Errorf("smb threshold %v", v)
	}
	ok(t, get(t, e, admin, "/settings/routing?notice=saved"), 200, "Routing rules saved", `name="seg-1-c-0-value" value="50"`)
	if set, _ := e.App.Routing.Rules(ctx, e.B.ID); !set.DefaultSegmentRules {
		t.Error("saving A's rules changed B's")
	}

	// Remove a rule with its box; reset to the defaults.
	form = formValues(t, get(t, e, admin, "/settings/routing").Body, "/settings/routing")
	form.Set("seg-0-remove", "1")
	if r := post(t, e, admin, "/settings/routing", form); r.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d\n%s", r.Status, snippet(r.Body))
	}
	if set, _ := e.App.Routing.Rules(ctx, e.A.ID); len(set.SegmentRules) != 4 || set.SegmentRules[0].Segment != "smb" {
		t.Fatalf("after removing micro: %+v", set.SegmentRules)
	}
	if r := post(t, e, admin, "/settings/routing", url.Values{"reset": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.Status)
	}
	if set, _ := e.App.Routing.Rules(ctx, e.A.ID); !set.DefaultSegmentRules || !set.DefaultRoutingRules {
		t.Fatal("reset did not restore the defaults")
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func testScoringSettings(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	page := get(t, e, admin, "/settings/scoring")
	ok(t, page, 200, `name="half_life_days" value="14"`, "pricing_page_view", "Fit rules")
	form := formValues(t, page.Body, "/settings/scoring")

	bad := cloneValues(form)
	bad.Set("half_life_days", "400")
	ok(t, post(t, e, admin, "/settings/scoring", bad), http.StatusUnprocessableEntity, `id="half_life_days-err"`, "365 days", `value="400"`)
	bad = cloneValues(form)
	bad.Set("half_life_days", "two weeks")
	ok(t, post(t, e, admin, "/settings/scoring", bad), http.StatusUnprocessableEntity, "must be a number of days", `value="two weeks"`)
	// A fit rule with a bad operator: the error sits on that row, the typed row stays.
	if n := form.Get("fit-count"); n != "1" {
		t.Fatalf("fit rows %s (want the blank one only)", n)
	}
	bad = cloneValues(form)
	k := "fit-0"
	bad.Set(k+"-field", "employees")
	bad.Set(k+"-op", "contains")
	bad.Set(k+"-value", "10")
	bad.Set(k+"-points", "5")
	ok(t, post(t, e, admin, "/settings/scoring", bad), http.StatusUnprocessableEntity, "does not apply to employees", `name="fit-0-points" value="5"`)

	ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
	ok(t, get(t, e, ae, "/settings/scoring"), 200, "only admins and managers can change them")
	ok(t, post(t, e, ae, "/settings/scoring", form), http.StatusForbidden)

	good := cloneValues(form)
	good.Set("half_life_days", "7")
	good.Set("mql_threshold", "40")
	good.Set(k+"-field", "employees")
	good.Set(k+"-op", "gte")
	good.Set(k+"-value", "100")
	good.Set(k+"-points", "15")
	if r := post(t, e, admin, "/settings/scoring", good); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Status, snippet(r.Body))
	}
	cfg, err := e.App.Scoring.Config(ctx, e.A.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HalfLifeSeconds != 7*86400 || cfg.MQLThreshold != 40 || len(cfg.FitRules) != 1 || cfg.FitRules[0].Points != 15 {
		t.Fatalf("saved %+v", cfg)
	}
	ok(t, get(t, e, admin, "/settings/scoring"), 200, `name="half_life_days" value="7"`, `name="fit-0-value" value="100"`)
}

var poolIDRE = regexp.MustCompile(`action="/settings/pools/(\d+)/members"`)

func testPoolsSettings(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, admin, "/settings/pools"), 200, "No pools yet", "Create pool", "Speed-to-lead SLA")

	ok(t, post(t, e, admin, "/settings/pools", url.Values{"name": {"SMB LDRs"}, "role": {"ldr"}, "capacity": {"plenty"}}),
		http.StatusUnprocessableEntity, `id="new-capacity-err"`, "whole number", `value="plenty"`)
	ok(t, post(t, e, admin, "/settings/pools", url.Values{"name": {"SMB LDRs"}, "role": {"ldr"}, "capacity": {"0"}}),
		http.StatusUnprocessableEntity, `id="new-capacity-err"`, "at least 1")
	r := post(t, e, admin, "/settings/pools", url.Values{"name": {"SMB LDRs"}, "role": {"ldr"}, "team": {"smb"}, "capacity": {"2"}, "regions": {"EMEA, NA"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.Status, snippet(r.Body))
	}
	page := get(t, e, admin, "/settings/pools?notice=created")
	ok(t, page, 200, "Pool created.", "SMB LDRs", "regions EMEA, NA", "No members yet")
	m := poolIDRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatal("no pool id on the page")
	}
	pid := m[1]

	// A user of B is not offered and, posted anyway, is refused like an unknown user.
	bUser := e.B.Users[model.RoleLDR]
	if strings.Contains(page.Body, bUser.Email) {
		t.Error("B's rep offered as a member")
	}
	ok(t, post(t, e, admin, "/settings/pools/"+pid+"/members", url.Values{"user_id": {fmt.Sprint(bUser.ID)}}), http.StatusUnprocessableEntity, "is not a member of this workspace")
	ok(t, post(t, e, admin, "/settings/pools/"+pid+"/members", url.Values{"user_id": {"999999999"}}), http.StatusUnprocessableEntity, "is not a member of this workspace")

	ldr := e.A.Users[model.RoleLDR]
	if r := post(t, e, admin, "/settings/pools/"+pid+"/members", url.Values{"user_id": {fmt.Sprint(ldr.ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("add member: %d\n%s", r.Status, snippet(r.Body))
	}
	ok(t, get(t, e, admin, "/settings/pools"), 200, ldr.Email, "0 / 2", "Available")

	// Out of office through a date: until the start of the next day (UTC here).
	mpath := fmt.Sprintf("/settings/pools/%s/members/%d", pid, ldr.ID)
	ok(t, post(t, e, admin, mpath, url.Values{"ooo": {"next friday"}, "active": {"1"}}), http.StatusUnprocessableEntity, "is not a date")
	if r := post(t, e, admin, mpath, url.Values{"ooo": {"2099-12-24"}, "active": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("ooo: %d\n%s", r.Status, snippet(r.Body))
	}
	id := mustID(t, pid)
	d, err := e.App.Assignment.PoolDetail(ctx, e.A.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Members) != 1 || d.Members[0].OutOfOfficeUntil == nil || d.Members[0].OutOfOfficeUntil.UTC().Format("2006-01-02T15:04") != "2099-12-25T00:00" || !d.Members[0].Active {
		t.Fatalf("member %+v", d.Members)
	}
	ok(t, get(t, e, admin, "/settings/pools"), 200, `value="2099-12-24"`, "Out of office")

	// Edit: a bad role is shown in the pool's open edit form.
	ok(t, post(t, e, admin, "/settings/pools/"+pid, url.Values{"name": {"SMB LDRs"}, "role": {"boss"}, "capacity": {"3"}}),
		http.StatusUnprocessableEntity, fmt.Sprintf(`id="pool%s-role-err"`, pid), `<details class="pool-edit" open>`)
	if r := post(t, e, admin, "/settings/pools/"+pid, url.Values{"name": {"SMB LDRs"}, "role": {"ldr"}, "team": {"smb"}, "capacity": {"5"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.Status, snippet(r.Body))
	}
	ok(t, get(t, e, admin, "/settings/pools"), 200, "0 / 5")

	// SLA settings.
	ok(t, post(t, e, admin, "/settings/sla", url.Values{"timezone": {"Mars/Olympus"}, "sla_minutes.digital": {"30"}, "sla_minutes.high_touch": {"480"}}),
		http.StatusUnprocessableEntity, `id="sla-timezone-err"`, "IANA", `value="Mars/Olympus"`)
	ok(t, post(t, e, admin, "/settings/sla", url.Values{"timezone": {"Europe/Berlin"}, "sla_minutes.digital": {"0"}, "sla_minutes.high_touch": {"480"}}),
		http.StatusUnprocessableEntity, `id="sla-sla_minutes.digital-err"`, "at least 1")
	if r := post(t, e, admin, "/settings/sla", url.Values{"timezone": {"Europe/Berlin"}, "sla_minutes.digital": {"30"}, "sla_minutes.high_touch": {"240"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("sla: %d\n%s", r.Status, snippet(r.Body))
	}
	if st, _ := e.App.Assignment.Settings(ctx, e.A.ID); st.Timezone != "Europe/Berlin" || st.SLAMinutes["digital"] != 30 || st.SLAMinutes["high_touch"] != 240 {
		t.Fatalf("settings %+v", st)
	}

	// Non-admins read only.
	ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r = get(t, e, ae, "/settings/pools")
	ok(t, r, 200, "SMB LDRs", ldr.Email, "Europe/Berlin")
	if strings.Contains(r.Body, `action="/settings/pools"`) || strings.Contains(r.Body, "/remove") {
		t.Error("read-only page offers write forms")
	}
	ok(t, post(t, e, ae, "/settings/pools", url.Values{"name": {"x"}, "role": {"ae"}, "capacity": {"3"}}), http.StatusForbidden)
	ok(t, post(t, e, ae, mpath+"/remove", nil), http.StatusForbidden)
	ok(t, post(t, e, ae, "/settings/sla", url.Values{"timezone": {"UTC"}}), http.StatusForbidden)

	// Remove the member, then the pool.
	if r := post(t, e, admin, mpath+"/remove", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.Status)
	}
	if r := post(t, e, admin, "/settings/pools/"+pid+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	ok(t, get(t, e, admin, "/settings/pools?notice=deleted"), 200, "Pool deleted", "No pools yet")
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// testForeignPool: B's admin session on A's pool answers exactly like a pool
// that does not exist, and changes nothing.
func testForeignPool(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	p, err := e.App.Assignment.CreatePool(ctx, actor(t, e, e.A), model.Pool{Name: "A secret pool", Role: "ae", Capacity: 4})
	if err != nil {
		t.Fatal(err)
	}
	ldr := e.A.Users[model.RoleLDR]
	if _, err := e.App.Assignment.SetMember(ctx, actor(t, e, e.A), p.ID, ldr.ID, assignment.MemberInput{}); err != nil {
		t.Fatal(err)
	}
	before, _ := e.App.Assignment.PoolDetail(ctx, e.A.ID, p.ID)
	bAdmin := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
	bUser := e.B.Users[model.RoleLDR].ID
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/settings/pools/%s", url.Values{"name": {"Hijacked"}, "role": {"ae"}, "capacity": {"9"}}},
		{"/settings/pools/%s/delete", nil},
		{"/settings/pools/%s/members", url.Values{"user_id": {fmt.Sprint(bUser)}}},
		{fmt.Sprintf("/settings/pools/%%s/members/%d", ldr.ID), url.Values{"active": {"1"}}},
		{fmt.Sprintf("/settings/pools/%%s/members/%d/remove", ldr.ID), nil},
	} {
		foreign := post(t, e, bAdmin, fmt.Sprintf(c.path, fmt.Sprint(p.ID)), c.form)
		missing := post(t, e, bAdmin, fmt.Sprintf(c.path, "999999999"), c.form)
		ok(t, foreign, http.StatusNotFound, "Page not found")
		ok(t, missing, http.StatusNotFound, "Page not found")
		strip := func(body, id string) string {
			return strings.ReplaceAll(body, "/settings/pools/"+id, "/settings/pools/ID")
		}
		if f, m := strip(foreign.Body, fmt.Sprint(p.ID)), strip(missing.Body, "999999999"); f != m {
			t.Logf("foreign:\n%s\nmissing:\n%s", snippet(f), snippet(m))
			t.Errorf("%s: a foreign pool answers differently from a missing one", c.path)
		}
	}
	if strings.Contains(get(t, e, bAdmin, "/settings/pools").Body, "A secret pool") {
		t.Error("B's pools page shows A's pool")
	}
	after, _ := e.App.Assignment.PoolDetail(ctx, e.A.ID, p.ID)
	if fmt.Sprintf("%+v", before) != fmt.Sprintf("%+v", after) {
		t.Errorf("B changed A's pool:\nbefore %+v\nafter  %+v", before, after)
	}
}
