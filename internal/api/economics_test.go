package api_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

// testEconomics drives every economics, spend, cost profile and staffing route:
// admins and managers only, field errors named, the loading-form conflict a
// 422, and the figures hand-checked where the API computes them.
func (h *harness) testEconomics(t *testing.T) {
	a := h.env.A
	mgr := a.Keys[model.RoleManager]
	key := h.adminA()

	t.Run("roles", func(t *testing.T) {
		for _, role := range []string{model.RoleLDR, model.RoleAE, model.RoleCSM} {
			for _, c := range []struct{ method, path, body string }{
				{"GET", "/api/v1/economics/inputs", ""},
				{"GET", "/api/v1/economics/settings", ""},
				{"GET", "/api/v1/spend", ""},
				{"POST", "/api/v1/spend", `{"month":"2026-01","amount":1,"category":"tools"}`},
				{"GET", "/api/v1/cost-profiles", ""},
				{"GET", "/api/v1/staffing/comparison", ""},
				{"GET", "/api/v1/economics/market-sizing", ""},
			} {
				if p := wantProblem(t, h.call(t, a.Keys[role], c.method, c.path, c.body), http.StatusForbidden, ""); p["code"] != "forbidden" {
					t.Errorf("%s %s as %s: %v", c.method, c.path, role, p)
				}
			}
		}
		h.want(t, http.StatusOK, mgr, "GET", "/api/v1/economics/settings", "")
	})

	t.Run("settings", func(t *testing.T) {
		s := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/settings", "")
		expectFields(t, "defaults", s, map[string]any{"gross_margin": 0.8, "lifetime_cap_months": 60.0, "ltv_cac_target": 3.0})
		s = h.want(t, http.StatusOK, mgr, "PUT", "/api/v1/economics/settings", `{"gross_margin":0.75,"payback_target_months":{"smb":9,"enterprise":null}}`)
		pb := s["payback_target_months"].(map[string]any)
		if s["gross_margin"] != 0.75 || pb["smb"] != 9.0 || pb["enterprise"] != 24.0 {
			t.Errorf("saved %v", s)
		}
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/economics/settings", `{"gross_margin":80}`), http.StatusBadRequest, "gross_margin")
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/economics/settings", `{"gross_margin":0.7,"margin":1}`), http.StatusBadRequest, "margin")
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/economics/settings", `{"payback_target_months":{"smb":0}}`), http.StatusBadRequest, "payback_target_months.smb")
		wantProblem(t, h.call(t, key, "GET", "/api/v1/economics/settings?year=2026", ""), http.StatusBadRequest, "year")
	})

	t.Run("spend", func(t *testing.T) {
		for _, c := range []struct{ body, field string }{
			{`{"month":"2026-1","amount":1,"category":"tools"}`, "month"},
			{`{"month":"2026-01","category":"tools"}`, "amount"},
			{`{"month":"2026-01","amount":1.5,"category":"tools"}`, "amount"},
			{`{"month":"2026-01","amount":1,"category":"lunch"}`, "category"},
			{`{"month":"2026-01","amount":1,"category":"tools","segment":"smb"}`, "motion"},
			{`{"month":"2026-01","amount":1,"category":"tools","vendor":"x"}`, "vendor"},
		} {
			wantProblem(t, h.call(t, key, "POST", "/api/v1/spend", c.body), http.StatusBadRequest, c.field)
		}
		res := h.call(t, mgr, "POST", "/api/v1/spend", `{"month":"2026-01","amount":100000,"category":"Programs/Ads","channel":"Paid Search"}`)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		e := res.object(t)
		sid := id(t, e, "id")
		if res.Header.Get("Location") != fmt.Sprintf("/api/v1/spend/%d", sid) {
			t.Errorf("Location %q", res.Header.Get("Location"))
		}
		expectFields(t, "spend", e, map[string]any{"category": "programs", "channel": "paid_search", "currency": "USD", "attribution": "rule"})
		got := h.want(t, http.StatusOK, key, "PATCH", fmt.Sprintf("/api/v1/spend/%d", sid), `{"segment":"smb","motion":"digital","note":"Q1 search"}`)
		expectFields(t, "patched", got, map[string]any{"amount": 100000.0, "attribution": "explicit", "note": "Q1 search"})
		h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/spend/%d", sid), "")
		h.mk(t, key, "spend", `{"month":"2026-02","amount":5000,"category":"tools","channel":"crm"}`)
		h.mk(t, key, "spend", `{"month":"2026-02","amount":7000,"category":"overhead"}`)

		// Pages: newest month first, keyset cursor.
		page := h.want(t, http.StatusOK, key, "GET", "/api/v1/spend?from=2026-01&to=2026-02&limit=2", "")
		its := items(t, page)
		cur, _ := page["next_cursor"].(string)
		if len(its) != 2 || its[0]["month"] != "2026-02" || cur == "" {
			t.Fatalf("page 1 %v", page)
		}
		page = h.want(t, http.StatusOK, key, "GET", "/api/v1/spend?from=2026-01&to=2026-02&limit=2&cursor="+cur, "")
		if its := items(t, page); len(its) != 1 || id(t, its[0], "id") != sid || page["next_cursor"] != nil {
			t.Errorf("page 2 %v", page)
		}
		wantProblem(t, h.call(t, key, "GET", "/api/v1/spend?cursor=abc", ""), http.StatusBadRequest, "cursor")
		wantProblem(t, h.call(t, key, "GET", "/api/v1/spend?category=food", ""), http.StatusBadRequest, "category")

		// Rules: tools go to SMB digital; overhead stays unallocated.
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/spend/allocation-rules", `{"rules":[{"category":"tools","shares":[{"segment":"smb","motion":"digital","share":0.5}]}]}`), http.StatusBadRequest, "rules[0].shares")
		rules := h.want(t, http.StatusOK, key, "PUT", "/api/v1/spend/allocation-rules", `{"rules":[{"category":"tools","channel":"","shares":[{"segment":"smb","motion":"digital","share":0.6},{"segment":"mid_market","motion":"digital","share":0.4}]}]}`)
		if rs := rules["rules"].([]any); len(rs) != 1 {
			t.Fatalf("rules %v", rules)
		}
		h.want(t, http.StatusOK, key, "GET", "/api/v1/spend/allocation-rules", "")
		sum := h.want(t, http.StatusOK, key, "GET", "/api/v1/spend/summary?from=2026-01&to=2026-02", "")
		alloc := map[string]float64{}
		for _, c := range sum["allocated"].([]any) {
			m := c.(map[string]any)
			alloc[m["segment"].(string)+"/"+m["motion"].(string)] = m["total"].(float64)
		}
		// 100,000 explicit + 60 % of 5,000 to SMB digital; 40 % to mid-market.
		if alloc["smb/digital"] != 103000 || alloc["mid_market/digital"] != 2000 {
			t.Errorf("allocated %v", alloc)
		}
		if un := sum["unallocated"].([]any); len(un) != 1 || un[0].(map[string]any)["amount"] != 7000.0 {
			t.Errorf("unallocated %v", un)
		}
		wantProblem(t, h.call(t, key, "GET", "/api/v1/spend/summary?from=2026-05&to=2026-01", ""), http.StatusBadRequest, "from")

		// Import: a raw CSV body and a multipart upload.
		req := h.request(t, key, "POST", "/api/v1/spend/import?filename=ledger.csv", "")
		req.Body = io.NopCloser(strings.NewReader("month,amount,category,external_id\n2026-03,\"1,250.00\",programs,INV-9\n2026-03,abc,tools,\n"))
		req.Header.Set("Content-Type", "text/csv")
		res = h.do(t, req)
		if res.Status != http.StatusOK {
			t.Fatalf("import: %d %s", res.Status, res.Body)
		}
		expectFields(t, "import", res.object(t), map[string]any{"rows": 2.0, "accepted": 1.0, "rejected": 1.0, "merged": 0.0, "reconciles": true, "filename": "ledger.csv"})
		errs := res.object(t)["errors"].([]any)
		if e := errs[0].(map[string]any); e["line"] != 3.0 || e["column"] != 9.0 || e["field"] != "amount" {
			t.Errorf("import error %v", e)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "again.csv")
		_, _ = fw.Write([]byte("month,amount,category,external_id\n2026-03,2000.00,programs,INV-9\n"))
		mw.Close()
		req = h.request(t, key, "POST", "/api/v1/spend/import", "")
		req.Body = io.NopCloser(&buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res = h.do(t, req)
		if res.Status != http.StatusOK {
			t.Fatalf("multipart import: %d %s", res.Status, res.Body)
		}
		expectFields(t, "re-import", res.object(t), map[string]any{"rows": 1.0, "merged": 1.0, "accepted": 0.0})
		req = h.request(t, key, "POST", "/api/v1/spend/import", "")
		req.Body = io.NopCloser(strings.NewReader("month,amount\n2026-01,1\n"))
		req.Header.Set("Content-Type", "text/csv")
		wantProblem(t, h.do(t, req), http.StatusBadRequest, "file")

		h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/spend/%d", sid), "")
		wantProblem(t, h.call(t, key, "GET", fmt.Sprintf("/api/v1/spend/%d", sid), ""), http.StatusNotFound, "")
	})

	t.Run("cost_profiles", func(t *testing.T) {
		both := `{"name":"Both","role":"ldr","base_salary":5000000,"loaded_multiplier":2,"benefits_rate":0.25,"time_split":{"digital":1}}`
		p := wantProblem(t, h.call(t, key, "POST", "/api/v1/cost-profiles", both), http.StatusUnprocessableEntity, "loaded_multiplier")
		if p["code"] != "conflicting_fields" || !strings.Contains(p["detail"].(string), "benefits_rate") {
			t.Errorf("conflict %v", p)
		}
		wantProblem(t, h.call(t, key, "POST", "/api/v1/cost-profiles", `{"name":"x","role":"ldr","base_salary":5000000,"time_split":{"digital":1}}`), http.StatusBadRequest, "loaded_multiplier")
		wantProblem(t, h.call(t, key, "POST", "/api/v1/cost-profiles", `{"name":"x","role":"boss","base_salary":5000000,"loaded_multiplier":2,"time_split":{"digital":1}}`), http.StatusBadRequest, "role")
		wantProblem(t, h.call(t, key, "POST", "/api/v1/cost-profiles", `{"name":"x","role":"ae","base_salary":5000000,"loaded_multiplier":2,"time_split":{"digital":0.5}}`), http.StatusBadRequest, "time_split")
		// The worked check: 120,000 × (1 + 7.65 % + 25 %) + 5,000 = 164,180 a year.
		res := h.call(t, mgr, "POST", "/api/v1/cost-profiles", `{"name":"AE itemised","role":"ae","base_salary":12000000,"employer_tax_rate":0.0765,"benefits_rate":0.25,"office":500000,"time_split":{"digital":0.25,"high_touch":0.75}}`)
		if res.Status != http.StatusCreated {
			t.Fatalf("create profile: %d %s", res.Status, res.Body)
		}
		pr := res.object(t)
		pid := id(t, pr, "id")
		cost := pr["cost"].(map[string]any)
		if cost["annual"] != 16418000.0 || cost["form"] != "itemised" {
			t.Errorf("cost %v", cost)
		}
		wantProblem(t, h.call(t, key, "PUT", fmt.Sprintf("/api/v1/cost-profiles/%d", pid), `{"name":"AE itemised","role":"ae","base_salary":12000000,"loaded_multiplier":1.5,"training_rate":0.02,"time_split":{"digital":1}}`), http.StatusUnprocessableEntity, "loaded_multiplier")
		pr = h.want(t, http.StatusOK, key, "PUT", fmt.Sprintf("/api/v1/cost-profiles/%d", pid), `{"name":"AE","role":"ae","base_salary":12000000,"loaded_multiplier":1,"time_split":{"digital":0.25,"high_touch":0.75}}`)
		if pr["cost"].(map[string]any)["monthly"] != 1000000.0 {
			t.Errorf("replaced %v", pr["cost"])
		}
		wantProblem(t, h.call(t, key, "PUT", fmt.Sprintf("/api/v1/cost-profiles/%d/headcount", pid), `{"months":{"2026-13":1}}`), http.StatusBadRequest, "months.2026-13")
		pr = h.want(t, http.StatusOK, key, "PUT", fmt.Sprintf("/api/v1/cost-profiles/%d/headcount", pid), `{"months":{"2026-01":2,"2026-02":1}}`)
		if hc := pr["headcount"].([]any); len(hc) != 2 {
			t.Errorf("headcount %v", hc)
		}
		h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/cost-profiles/%d", pid), "")
		if its := items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/cost-profiles", "")); len(its) == 0 {
			t.Error("no profiles listed")
		}
		// 1,000,000 a month × 2 × 25 % digital = 500,000 in January.
		pc := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/people-cost?from=2026-01&to=2026-02", "")
		found := false
		for _, r := range pc["rows"].([]any) {
			m := r.(map[string]any)
			if m["month"] == "2026-01" && m["motion"] == "digital" && m["role"] == "ae" {
				found = m["amount"] == 500000.0 && m["split_source"] == "configured"
			}
		}
		if !found {
			t.Errorf("people cost %v", pc["rows"])
		}
		inputs := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/inputs?from=2026-01&to=2026-03", "")
		if pend := inputs["pending"].([]any); len(pend) == 0 {
			t.Error("inputs list nothing pending")
		}
		h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/cost-profiles/%d", pid), "")
	})

	t.Run("market_sizing", func(t *testing.T) {
		m := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/market-sizing", "")
		if m["saved"] != false || len(m["segments"].([]any)) != 0 {
			t.Errorf("empty sizing %v", m)
		}
		pre := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/market-sizing/preset", "")
		if pre["tam"] != 68400000000000.0 || pre["som"] != 34200000000.0 {
			t.Errorf("preset %v", pre)
		}
		m = h.want(t, http.StatusOK, mgr, "PUT", "/api/v1/economics/market-sizing", `{"currency":"EUR","segments":[{"segment":"smb","accounts":1000,"annual_spend_per_account":1200000,"serviceable_share":0.3,"obtainable_share":0.1,"source":"own count"}]}`)
		if m["tam"] != 1200000000.0 || m["sam"] != 360000000.0 || m["som"] != 36000000.0 || m["saved"] != true {
			t.Errorf("saved sizing %v", m)
		}
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/economics/market-sizing", `{"segments":[{"segment":"smb","accounts":10,"serviceable_share":0.3,"obtainable_share":0.1}]}`), http.StatusBadRequest, "segments[0].annual_spend_per_account")
		wantProblem(t, h.call(t, key, "PUT", "/api/v1/economics/market-sizing", `{}`), http.StatusBadRequest, "segments")
	})

	t.Run("staffing", func(t *testing.T) {
		ex := h.want(t, http.StatusOK, key, "POST", "/api/v1/staffing/article-example", "")
		scs := items(t, ex)
		if len(scs) != 2 {
			t.Fatalf("example %v", ex)
		}
		inHouse := id(t, scs[0], "id")
		plan := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/staffing/scenarios/%d", inHouse), "")
		if len(plan["months"].([]any)) != 24 || plan["summary"].(map[string]any)["per_rep"].(map[string]any)["productive_months"] != 12.5 {
			t.Errorf("plan %v", plan["summary"])
		}
		if conv := plan["conversion"].(map[string]any); conv["source"] != "configured" {
			t.Errorf("conversion %v", conv)
		}
		body := `{"name":"Agency","kind":"partner","reps":1,"ramp_months":0,"meetings_per_month":10,"sqls_per_month":5,"retainer_monthly":400000,"fee_per_sql":10000}`
		res := h.call(t, mgr, "POST", "/api/v1/staffing/scenarios", body)
		if res.Status != http.StatusCreated {
			t.Fatalf("create scenario: %d %s", res.Status, res.Body)
		}
		pl := res.object(t)
		sid := id(t, pl["scenario"].(map[string]any), "id")
		// 400,000 + 5 SQLs × 10,000 = 450,000 a month for 5 SQLs: 90,000 per SQL.
		if s := pl["summary"].(map[string]any); s["total_cost"] != 24*450000.0 || s["cost_per_sql"] != 90000.0 {
			t.Errorf("partner summary %v", s)
		}
		wantProblem(t, h.call(t, key, "POST", "/api/v1/staffing/scenarios", body), http.StatusConflict, "name")
		wantProblem(t, h.call(t, key, "POST", "/api/v1/staffing/scenarios", `{"name":"x","kind":"partner","reps":1,"tenure_months":12}`), http.StatusBadRequest, "tenure_months")
		wantProblem(t, h.call(t, key, "POST", "/api/v1/staffing/scenarios", `{"name":"x","kind":"in_house","reps":1,"tenure_months":12,"cost_profile_id":999999}`), http.StatusBadRequest, "cost_profile_id")
		h.want(t, http.StatusOK, key, "PUT", fmt.Sprintf("/api/v1/staffing/scenarios/%d", sid), strings.Replace(body, `"reps":1`, `"reps":2`, 1))
		if its := items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/staffing/scenarios", "")); len(its) != 3 {
			t.Errorf("scenarios %d", len(its))
		}
		cmp := h.want(t, http.StatusOK, key, "GET", "/api/v1/staffing/comparison", "")
		if rows := cmp["rows"].([]any); len(rows) != 3 {
			t.Errorf("comparison rows %d", len(rows))
		}
		h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/staffing/scenarios/%d", sid), "")
	})
}

// Cross-workspace targets for the economics routes with an {id}.
func (h *harness) economicsTargets() map[string]target {
	get := func(path string) func(t *testing.T, id int64) string {
		return func(t *testing.T, rid int64) string {
			res := h.call(t, h.adminA(), "GET", fmt.Sprintf(path, rid), "")
			if res.Status != http.StatusOK {
				return "missing"
			}
			return string(res.Body)
		}
	}
	profile := func(t *testing.T, ws apptest.WS) int64 {
		return h.mk(t, ws.Keys[model.RoleAdmin], "cost-profiles", fmt.Sprintf(`{"name":%q,"role":"ae","base_salary":9000000,"loaded_multiplier":1.4,"time_split":{"high_touch":1}}`, uniq("victim ")))
	}
	return map[string]target{
		"spend": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				return h.mk(t, ws.Keys[model.RoleAdmin], "spend", `{"month":"2026-04","amount":4242,"category":"tools","note":"victim"}`)
			},
			snapshot: get("/api/v1/spend/%d"),
			patch:    `{"amount":1}`,
		},
		"cost-profiles": {
			create:   profile,
			snapshot: get("/api/v1/cost-profiles/%d"),
			patch:    `{"name":"Hijacked","role":"ae","base_salary":1,"loaded_multiplier":1,"time_split":{"digital":1}}`,
		},
		"staffing": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				res := h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/staffing/scenarios",
					fmt.Sprintf(`{"name":%q,"kind":"partner","reps":1,"retainer_monthly":1000}`, uniq("victim ")))
				return id(t, res["scenario"].(map[string]any), "id")
			},
			snapshot: get("/api/v1/staffing/scenarios/%d"),
			patch:    `{"name":"Hijacked","kind":"partner","reps":9}`,
		},
	}
}
