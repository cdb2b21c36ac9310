package api

import (
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
)

func getPipelines(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	set, err := a.d.Pipeline.Get(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, set)
	return nil
}

func putPipelines(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Pipelines []model.PipelineDef `json:"pipelines"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	set, err := a.d.Pipeline.Save(r.Context(), p.Actor(httpx.ClientIP(r)), in.Pipelines)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, set)
	return nil
}

func getCommittee(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	ms, err := a.d.Pipeline.Committee(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"members": ms})
	return nil
}

func putCommitteeMember(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := httpx.PathID(r, "contact_id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in pipeline.MemberInput
	if err := body(r, &in); err != nil {
		return err
	}
	m, err := a.d.Pipeline.PutMember(r.Context(), p.Actor(httpx.ClientIP(r)), id, cid, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

func deleteCommitteeMember(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := httpx.PathID(r, "contact_id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Pipeline.RemoveMember(r.Context(), p.Actor(httpx.ClientIP(r)), id, cid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var (
	getPipelinesDoc = op{id: "getPipelines", tag: "pipelines", summary: "The workspace's pipelines: stages in order with probability, forecast category, stale days and exit criteria (the defaults when it stored none)", resp: ok200("PipelineSet")}
	putPipelinesDoc = op{id: "putPipelines", tag: "pipelines", summary: "Replace the pipelines (high_touch and digital must stay); an empty list returns to the defaults; errors name pipelines[i].stages[j].field (admin, manager)",
		body: jsonBody("PipelineSetInput"), resp: ok200("PipelineSet")}
	getCommitteeDoc       = op{id: "getCommittee", tag: "deals", summary: "The deal's buying committee: contacts with role and sign-off", resp: ok200("Committee")}
	putCommitteeMemberDoc = op{id: "putCommitteeMember", tag: "deals", summary: "Add a contact to the deal's committee or change its role, sign-off or note; a changed sign-off is stamped with the time and who recorded it; a contact of another workspace is refused like an unknown one",
		body: []content{{"application/json", ref("CommitteeMemberInput"), map[string]any{"role": "economic_buyer", "signoff": "approved", "note": "signed off in the steering meeting"}}}, resp: ok200("CommitteeMember")}
	deleteCommitteeMemberDoc = op{id: "deleteCommitteeMember", tag: "deals", summary: "Take a contact off the deal's committee",
		resp: []resp{{http.StatusNoContent, "", "", "removed", false}}}
)

func pipelineSchemas(s js) {
	list := func(item js) js { return arrayOf(item) }
	exit := object([]string{"required_fields", "activities", "documents"}, js{
		"required_fields": withDesc(list(str(0)), "amount, expected_close_date, owner_id, account_id or custom.<key>"),
		"activities":      withDesc(list(enum(model.ActivityKinds...)), "at least one activity of each kind on the deal"),
		"documents":       withDesc(list(str(0)), "deal custom fields (text) that must hold an http(s) URL"),
		"committee": object([]string{"min_approved", "roles"}, js{
			"min_approved": withDesc(tCount, "approved sign-offs needed (each contact counts once)"),
			"roles":        withDesc(list(enum(model.CommitteeRoles...)), "roles that need an approved sign-off"),
		}),
	})
	stage := object([]string{"key", "name", "probability", "forecast_category", "stale_days", "exit"}, js{
		"key": tKey, "name": str(0), "probability": js{"type": "integer", "minimum": 0, "maximum": 100},
		"forecast_category": enum(model.ForecastCategories...),
		"stale_days":        withDesc(tCount, "a deal with no activity for this many days in the stage is stale; 0 never"),
		"exit":              exit,
	})
	pipe := object([]string{"key", "name", "stages"}, js{"key": tKey, "name": str(0), "stages": list(stage)})
	s["PipelineSet"] = object([]string{"pipelines", "default"}, js{"pipelines": list(pipe), "default": withDesc(js{"type": "boolean"}, "the workspace stored none and uses the defaults")})
	s["PipelineSetInput"] = object([]string{"pipelines"}, js{"pipelines": list(js{"type": "object"})})
	member := object([]string{"deal_id", "contact_id", "name", "role", "signoff", "updated_at"}, js{
		"deal_id": tID, "contact_id": tID, "name": str(0), "email": str(0), "role": enum(model.CommitteeRoles...),
		"signoff": enum(model.SignoffStates...), "signoff_at": withDesc(tTime, "when the sign-off was last recorded"),
		"recorded_by": withDesc(str(0), "who recorded it (user:… or key:…)"), "note": str(0), "updated_at": tTime,
	})
	s["CommitteeMember"] = member
	s["Committee"] = object([]string{"members"}, js{"members": list(member)})
	s["CommitteeMemberInput"] = object(nil, js{
		"role": withDesc(enum(model.CommitteeRoles...), "required to add a contact"), "signoff": enum(model.SignoffStates...), "note": str(2000),
	})
}
