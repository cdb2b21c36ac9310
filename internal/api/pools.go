package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

// Assignment pools and SLA settings. Handlers parse and render; the rules
// (roles, capacity, workspace membership, time zones, SLA minutes) live in
// internal/assignment, which the settings pages call too.

func listPools(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	pools, err := a.d.Assignment.PoolDetails(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[assignment.PoolDetail]{Items: poolsOut(pools)})
	return nil
}

type poolIn struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Team       string   `json:"team"`
	Regions    []string `json:"regions"`
	Industries []string `json:"industries"`
	Capacity   *int     `json:"capacity"`
}

func createPool(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in poolIn
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Capacity == nil {
		return badField("capacity", "is required: the most items a rep takes over 30 days")
	}
	pool, err := a.d.Assignment.CreatePool(r.Context(), p.Actor(httpx.ClientIP(r)), model.Pool{
		Name: in.Name, Role: in.Role, Team: in.Team, Regions: in.Regions, Industries: in.Industries, Capacity: *in.Capacity,
	})
	if err != nil {
		return err
	}
	d, err := a.d.Assignment.PoolDetail(r.Context(), p.WorkspaceID, pool.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/pools/%d", pool.ID))
	httpx.JSON(w, http.StatusCreated, poolOut(d))
	return nil
}

func getPool(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	d, err := a.d.Assignment.PoolDetail(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, poolOut(d))
	return nil
}

func updatePool(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var patch assignment.PoolPatch
	if err := body(r, &patch); err != nil {
		return err
	}
	if _, err := a.d.Assignment.UpdatePool(r.Context(), p.Actor(httpx.ClientIP(r)), id, patch); err != nil {
		return err
	}
	d, err := a.d.Assignment.PoolDetail(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, poolOut(d))
	return nil
}

func deletePool(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Assignment.DeletePool(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type memberIn struct {
	Active           *bool    `json:"active"`
	OutOfOfficeUntil *string  `json:"out_of_office_until"`
	Regions          []string `json:"regions"`
	Industries       []string `json:"industries"`
}

func putPoolMember(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in memberIn
	if err := body(r, &in); err != nil {
		return err
	}
	mi := assignment.MemberInput{Active: in.Active, Regions: in.Regions, Industries: in.Industries}
	if in.OutOfOfficeUntil != nil && strings.TrimSpace(*in.OutOfOfficeUntil) != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(*in.OutOfOfficeUntil))
		if err != nil {
			return badField("out_of_office_until", "must be an RFC 3339 time (2026-12-24T00:00:00Z), or null for none")
		}
		mi.OutOfOfficeUntil = &t
	}
	m, err := a.d.Assignment.SetMember(r.Context(), p.Actor(httpx.ClientIP(r)), id, uid, mi)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, memberOut(m))
	return nil
}

func deletePoolMember(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	uid, err := httpx.PathID(r, "user_id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Assignment.RemoveMember(r.Context(), p.Actor(httpx.ClientIP(r)), id, uid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func getAssignmentSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	st, err := a.d.Assignment.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, st)
	return nil
}

func putAssignmentSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in model.AssignmentSettings
	if err := body(r, &in); err != nil {
		return err
	}
	st, err := a.d.Assignment.SaveSettings(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, st)
	return nil
}

// poolOut, memberOut: lists as [] rather than null.
func poolOut(d assignment.PoolDetail) assignment.PoolDetail {
	if d.Regions == nil {
		d.Regions = []string{}
	}
	if d.Industries == nil {
		d.Industries = []string{}
	}
	if d.Members == nil {
		d.Members = []assignment.Member{}
	}
	for i := range d.Members {
		d.Members[i] = memberOut(d.Members[i])
	}
	return d
}

func poolsOut(ds []assignment.PoolDetail) []assignment.PoolDetail {
	out := make([]assignment.PoolDetail, len(ds))
	for i, d := range ds {
		out[i] = poolOut(d)
	}
	return out
}

func memberOut(m assignment.Member) assignment.Member {
	if m.Regions == nil {
		m.Regions = []string{}
	}
	if m.Industries == nil {
		m.Industries = []string{}
	}
	return m
}

// ---- documentation ---------------------------------------------------------------

var (
	listPoolsDoc  = op{id: "listPools", tag: "assignment", summary: "The workspace's assignment pools with their members and each member's items over the last 30 days", resp: ok200("PoolList")}
	createPoolDoc = op{id: "createPool", tag: "assignment", summary: "Create a pool of one role (ldr, ae, csm) and team (admin, manager)",
		body: []content{{"application/json", ref("PoolCreate"), map[string]any{"name": "SMB LDRs", "role": "ldr", "team": "smb", "capacity": 40}}},
		resp: []resp{{http.StatusCreated, "application/json", "Pool", "", true}}}
	getPoolDoc    = op{id: "getPool", tag: "assignment", summary: "A pool with its members", resp: ok200("Pool")}
	updatePoolDoc = op{id: "updatePool", tag: "assignment", summary: "Change a pool's name, role, team, territory or capacity; fields left out keep their value (admin, manager)",
		body: jsonBody("PoolUpdate"), resp: ok200("Pool")}
	deletePoolDoc = op{id: "deletePool", tag: "assignment", summary: "Delete a pool and its memberships; the assignments it made stay (admin, manager)",
		resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	putPoolMemberDoc = op{id: "putPoolMember", tag: "assignment", summary: "Add a workspace member to a pool or replace their availability and territory (admin, manager); a user of another workspace is refused like an unknown one",
		body: []content{{"application/json", ref("PoolMemberInput"), map[string]any{"active": true, "out_of_office_until": "2026-12-28T00:00:00Z", "regions": []string{"EMEA"}}}},
		resp: ok200("PoolMember")}
	deletePoolMemberDoc = op{id: "deletePoolMember", tag: "assignment", summary: "Take a rep out of a pool; their assignments stay (admin, manager)",
		resp: []resp{{http.StatusNoContent, "", "", "removed", false}}}
	getAssignmentSettingsDoc = op{id: "getAssignmentSettings", tag: "assignment", summary: "Business-hours time zone and speed-to-lead SLA per motion, defaults filled in", resp: ok200("AssignmentSettings")}
	putAssignmentSettingsDoc = op{id: "putAssignmentSettings", tag: "assignment", summary: "Set the time zone and SLA minutes; a motion left out keeps its value; running SLA clocks keep their due times (admin, manager)",
		body: jsonBody("AssignmentSettings"), resp: ok200("AssignmentSettings")}
)

func poolSchemas(s js) {
	role := enum(model.RoleLDR, model.RoleAE, model.RoleCSM)
	capacity := withDesc(js{"type": "integer", "minimum": 1}, "most items a rep of the pool takes over a rolling 30 days")
	terr := func(what string) js {
		return withDesc(arrayOf(str(100)), what+" the pool covers for high_touch work; empty matches every one")
	}
	s["PoolMember"] = object([]string{"pool_id", "user_id", "email", "active", "regions", "industries", "open_items"}, js{
		"pool_id": tID, "user_id": tID, "email": str(0), "active": js{"type": "boolean"},
		"out_of_office_until": withDesc(tTime, "skipped by assignment until then"),
		"regions":             arrayOf(str(0)), "industries": arrayOf(str(0)),
		"open_items": withDesc(tCount, "items assigned to the rep (from any pool) in the last 30 days"),
	})
	s["Pool"] = object([]string{"id", "name", "role", "team", "regions", "industries", "capacity", "members", "created_at", "updated_at"}, js{
		"id": tID, "name": str(0), "role": role, "team": str(0), "regions": arrayOf(str(0)), "industries": arrayOf(str(0)),
		"capacity": capacity, "cursor_user_id": withDesc(tID, "the rep assigned last; the round-robin continues after them"),
		"members": arrayOf(ref("PoolMember")), "created_at": tTime, "updated_at": tTime,
	})
	s["PoolList"] = object([]string{"items"}, js{"items": arrayOf(ref("Pool"))})
	s["PoolCreate"] = object([]string{"name", "role", "capacity"}, js{
		"name": str(100), "role": role, "team": withDesc(str(64), "the routing rules' team this pool serves"),
		"regions": terr("regions"), "industries": terr("industries"), "capacity": capacity,
	})
	s["PoolUpdate"] = object(nil, js{
		"name": str(100), "role": role, "team": str(64), "regions": terr("regions"), "industries": terr("industries"), "capacity": capacity,
	})
	s["PoolMemberInput"] = object(nil, js{
		"active":              withDesc(js{"type": "boolean"}, "default true"),
		"out_of_office_until": withDesc(js{"type": []any{"string", "null"}, "format": "date-time"}, "RFC 3339; null or left out: not out of office"),
		"regions":             arrayOf(str(100)), "industries": arrayOf(str(100)),
	})
	s["AssignmentSettings"] = object([]string{"timezone", "sla_minutes"}, js{
		"timezone": withDesc(str(0), "IANA time zone of business hours (Mon–Fri 09:00–17:00), e.g. Europe/Berlin"),
		"sla_minutes": withDesc(js{"type": "object", "propertyNames": enum(assignment.Motions...), "additionalProperties": js{"type": "integer", "minimum": 1}},
			"first touch due within this many business minutes, per motion"),
	})
}
