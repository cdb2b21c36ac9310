package api

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
)

// Partner mode (docs/economics.md, Partners): outsourced partners with their
// terms and users, their monthly statements and actual cost next to the
// in-house LDRs — admins and managers only, like the rest of economics — and
// the AE's decision on an LDR → AE handoff (an SQL), which any member may
// read and the receiving AE (or an admin or manager) makes.

func listPartners(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	ps, err := a.d.Partners.List(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Partner]{Items: ps})
	return nil
}

func createPartner(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in partners.Input
	if err := body(r, &in); err != nil {
		return err
	}
	pr, err := a.d.Partners.Create(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/partners/%d", pr.ID))
	httpx.JSON(w, http.StatusCreated, pr)
	return nil
}

func getPartner(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	pr, err := a.d.Partners.Get(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, pr)
	return nil
}

func putPartner(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in partners.Input
	if err := body(r, &in); err != nil {
		return err
	}
	pr, err := a.d.Partners.Replace(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, pr)
	return nil
}

func deletePartner(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Partners.Delete(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func getPartnerStatement(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := onlyParams(r, "month")
	if err != nil {
		return err
	}
	// The partner first: a foreign id answers 404 whatever the month says.
	if _, err := a.d.Partners.Get(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	m, err := a.d.Partners.ParseStatementMonth(v.Get("month"))
	if err != nil {
		return err
	}
	st, err := a.d.Partners.Statement(r.Context(), p.WorkspaceID, id, m)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, st)
	return nil
}

func listPartnerStatements(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "month")
	if err != nil {
		return err
	}
	m, err := a.d.Partners.ParseStatementMonth(v.Get("month"))
	if err != nil {
		return err
	}
	sts, err := a.d.Partners.Statements(r.Context(), p.WorkspaceID, m)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[partners.Statement]{Items: sts})
	return nil
}

func getPartnerActuals(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	act, err := a.d.Partners.Actuals(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, act)
	return nil
}

// ---- the AE's decision on an SQL --------------------------------------------------

func getHandoffRecord(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	h, err := a.d.St.Read().GetHandoff(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, h)
	return nil
}

type decisionIn struct {
	Note string `json:"note"`
}

// decideHandoff is accept or reject: the receiving AE's decision on an SQL.
func decideHandoff(decision string) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := onlyParams(r); err != nil {
			return err
		}
		var in decisionIn
		if r.ContentLength != 0 {
			if err := body(r, &in); err != nil {
				return err
			}
		}
		h, err := a.d.Desk.DecideHandoff(r.Context(), p.Actor(httpx.ClientIP(r)), id, decision, in.Note)
		if errors.Is(err, desk.ErrNotYours) {
			return &httpx.StatusError{Status: http.StatusForbidden, Code: "forbidden", Msg: "only the AE who received this SQL (or owns its deal now), an admin or a manager may accept or reject it"}
		}
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, h)
		return nil
	}
}

// ---- documentation ---------------------------------------------------------------

var statementMonthParam = param{name: "month", desc: "the month, YYYY-MM (default: last month, the last one that has ended)", schema: js{"type": "string", "pattern": `^\d{4}-\d{2}$`}}

var (
	listPartnersDoc  = op{id: "listPartners", tag: "partners", summary: "Outsourced (sales-as-a-service) partners with their terms, contract months and users" + econAccess, resp: ok200("PartnerList")}
	createPartnerDoc = op{id: "createPartner", tag: "partners", summary: "Add a partner: fee terms in minor units of its currency, start month, the users (members with role partner) who work for it" + econAccess,
		body: []content{{"application/json", ref("PartnerInput"), map[string]any{"name": "Acme SDR Co", "currency": "USD", "retainer_monthly": 400000, "fee_per_meeting": 15000,
			"fee_per_sql": 40000, "setup_fee": 250000, "management_monthly": 50000, "start_month": "2026-03", "user_ids": []int{42, 43}}}},
		resp: []resp{{http.StatusCreated, "application/json", "Partner", "", true}}}
	getPartnerDoc    = op{id: "getPartner", tag: "partners", summary: "A partner" + econAccess, resp: ok200("Partner")}
	putPartnerDoc    = op{id: "putPartner", tag: "partners", summary: "Replace a partner's name, terms, months and users" + econAccess, body: jsonBody("PartnerInput"), resp: ok200("Partner")}
	deletePartnerDoc = op{id: "deletePartner", tag: "partners", summary: "Delete a partner; its users' work stays on record, no longer attributed to it" + econAccess,
		resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	getPartnerStatementDoc = op{id: "getPartnerStatement", tag: "partners", summary: "A partner's monthly statement: meetings held, SQLs accepted by AEs, deals won from them, and the fees owed line by line (quantity × fee), each line with the records behind it" + econAccess,
		params: []param{statementMonthParam}, resp: ok200("PartnerStatement")}
	listPartnerStatementsDoc = op{id: "listPartnerStatements", tag: "partners", summary: "Every partner's statement for a month" + econAccess,
		params: []param{statementMonthParam}, resp: ok200("PartnerStatementList")}
	getPartnerActualsDoc = op{id: "getPartnerActuals", tag: "partners", summary: "The partner's actual cost per meeting, per accepted SQL and per won customer over its full months (at most 12), side by side with the in-house LDRs' loaded people cost over the same months" + econAccess,
		resp: ok200("PartnerActuals")}

	getHandoffRecordDoc = op{id: "getHandoffRecord", tag: "desk", summary: "An LDR → AE handoff (an SQL) with the AE's decision: pending, accepted or rejected", resp: ok200("Handoff")}
	acceptHandoffSQLDoc = op{id: "acceptSQL", tag: "desk", summary: "The AE accepts the SQL: it counts as delivered (a partner's is billable) in this month. Only the receiving AE, the deal's owner, an admin or a manager (403 otherwise); 409 on field decision once decided",
		body: []content{{"application/json", ref("HandoffDecision"), map[string]any{"note": "good fit, demo booked"}}}, resp: ok200("Handoff")}
	rejectHandoffSQLDoc = op{id: "rejectSQL", tag: "desk", summary: "The AE rejects the SQL, saying why (note required): never counted or billed. Same rules as accept",
		body: []content{{"application/json", ref("HandoffDecision"), map[string]any{"note": "no budget this year"}}}, resp: ok200("Handoff")}
)

func partnerSchemas(s js) {
	out := func(v any) js { return econSchema(reflect.TypeOf(v), false) }
	in := func(v any) js { return econSchema(reflect.TypeOf(v), true) }
	s["Partner"] = out(model.Partner{})
	s["PartnerList"] = out(list[model.Partner]{})
	s["PartnerInput"] = in(partners.Input{})
	s["PartnerStatement"] = out(partners.Statement{})
	s["PartnerStatementList"] = out(list[partners.Statement]{})
	s["PartnerActuals"] = out(partners.Actuals{})
	s["HandoffDecision"] = object(nil, js{"note": withDesc(str(4000), "why (required to reject)")})
}
