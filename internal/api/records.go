package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// records binds one record type to its store reads and crm writes, so accounts,
// contacts, deals and activities share one set of handlers and cannot drift apart
// in how they authenticate, validate or answer a foreign id.
type records[T any] struct {
	plural    string // URL segment: "contacts"
	kind      string // crm, history and custom-field object type: "contact"
	schema    string // OpenAPI component: "Contact"
	storeGet  func(store.Q, context.Context, int64, int64) (T, error)
	storeList func(store.Q, context.Context, int64, store.ListParams, map[string]string) (store.Page[T], error)
	crmCreate func(*crm.Service, context.Context, model.Actor, crm.Fields) (T, error)
	crmUpdate func(*crm.Service, context.Context, model.Actor, int64, crm.Fields) (T, error)
	crmMerge  func(*crm.Service, context.Context, model.Actor, int64, int64) (T, error) // nil: not mergeable
	idOf      func(T) int64
	// linkField is the activity column that points at this record (its timeline);
	// "" for activities themselves.
	linkField string
	// example is a valid create body, shown in the OpenAPI document.
	example map[string]any
}

var accounts = records[model.Account]{
	plural: "accounts", kind: "account", schema: "Account",
	storeGet: store.Q.GetAccount, storeList: store.Q.ListAccounts,
	crmCreate: (*crm.Service).CreateAccount, crmUpdate: (*crm.Service).UpdateAccount, crmMerge: (*crm.Service).MergeAccounts,
	idOf: func(a model.Account) int64 { return a.ID }, linkField: "account_id",
	example: map[string]any{"name": "Acme GmbH", "domain": "acme.example", "employees": 1200},
}

var contacts = records[model.Contact]{
	plural: "contacts", kind: "contact", schema: "Contact",
	storeGet: store.Q.GetContact, storeList: store.Q.ListContacts,
	crmCreate: (*crm.Service).CreateContact, crmUpdate: (*crm.Service).UpdateContact, crmMerge: (*crm.Service).MergeContacts,
	idOf: func(c model.Contact) int64 { return c.ID }, linkField: "contact_id",
	example: map[string]any{"email": "ann@acme.example", "first_name": "Ann", "lifecycle_stage": "mql"},
}

var deals = records[model.Deal]{
	plural: "deals", kind: "deal", schema: "Deal",
	storeGet: store.Q.GetDeal, storeList: store.Q.ListDeals,
	crmCreate: (*crm.Service).CreateDeal, crmUpdate: (*crm.Service).UpdateDeal,
	idOf: func(d model.Deal) int64 { return d.ID }, linkField: "deal_id",
	example: map[string]any{"name": "Acme platform", "pipeline": "high_touch", "amount": 4800000},
}

var activities = records[model.Activity]{
	plural: "activities", kind: "activity", schema: "Activity",
	storeGet: store.Q.GetActivity, storeList: store.Q.ListActivities,
	crmCreate: (*crm.Service).CreateActivity, crmUpdate: (*crm.Service).UpdateActivity,
	idOf:    func(a model.Activity) int64 { return a.ID },
	example: map[string]any{"kind": "demo", "subject": "Platform demo", "duration_minutes": 45},
}

// read is the read pool through p's scope: a partner's reads see only its own
// records (store.ScopeOf), so anything else answers 404 like a foreign id.
func (a *API) read(p *auth.Principal) store.Q { return a.d.St.Read().Scoped(p.Scope()) }

func (rs records[T]) location(rec T) string {
	return "/api/v1/" + rs.plural + "/" + strconv.FormatInt(rs.idOf(rec), 10)
}

func (rs records[T]) list(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	lp, err := listParams(r)
	if err != nil {
		return err
	}
	types, err := a.d.CRM.CustomTypes(r.Context(), p.WorkspaceID, rs.kind)
	if err != nil {
		return err
	}
	page, err := rs.storeList(a.read(p), r.Context(), p.WorkspaceID, lp, types)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, page)
	return nil
}

func (rs records[T]) get(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	rec, err := rs.storeGet(a.read(p), r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rec)
	return nil
}

func (rs records[T]) create(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := httpx.DecodeFields(r)
	if err != nil {
		return err
	}
	rec, err := rs.crmCreate(a.d.CRM, r.Context(), p.Actor(httpx.ClientIP(r)), crm.Fields(f))
	if err != nil {
		return err
	}
	w.Header().Set("Location", rs.location(rec))
	httpx.JSON(w, http.StatusCreated, rec)
	return nil
}

func (rs records[T]) update(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := httpx.DecodeFields(r)
	if err != nil {
		return err
	}
	rec, err := rs.crmUpdate(a.d.CRM, r.Context(), p.Actor(httpx.ClientIP(r)), id, crm.Fields(f))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rec)
	return nil
}

func (rs records[T]) remove(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.CRM.Delete(r.Context(), p.Actor(httpx.ClientIP(r)), rs.kind, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mergeInto folds the record named by merge_id into the one in the path. Both ids
// are looked up first so a missing path record is a 404 (like any foreign id) while
// a missing merge_id is a 400 naming that field.
func (rs records[T]) mergeInto(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := httpx.DecodeFields(r)
	if err != nil {
		return err
	}
	loser, err := mergeID(f)
	if err != nil {
		return err
	}
	q := a.read(p)
	if _, err := rs.storeGet(q, r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	if _, err := rs.storeGet(q, r.Context(), p.WorkspaceID, loser); errors.Is(err, store.ErrNotFound) {
		return badField("merge_id", "no %s %d", rs.kind, loser)
	} else if err != nil {
		return err
	}
	rec, err := rs.crmMerge(a.d.CRM, r.Context(), p.Actor(httpx.ClientIP(r)), id, loser)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rec)
	return nil
}

func mergeID(f map[string]any) (int64, error) {
	for k := range f {
		if k != "merge_id" {
			return 0, badField(k, "unknown field (the body is {\"merge_id\": id})")
		}
	}
	v, ok := f["merge_id"]
	if !ok {
		return 0, badField("merge_id", "is required")
	}
	n, ok := v.(float64)
	if !ok || n < 1 || n != float64(int64(n)) {
		return 0, badField("merge_id", "must be a positive whole number")
	}
	return int64(n), nil
}

// webEventsOnTimeline is how many tracked web events a contact's timeline shows.
const webEventsOnTimeline = 50

// timeline is the record's activities (newest first, paged) and its change
// history. The record is loaded first so a foreign id is a 404, not an empty list.
type timeline struct {
	Activities []model.Activity     `json:"activities"`
	NextCursor string               `json:"next_cursor,omitempty"`
	History    []model.HistoryEntry `json:"history"`
	// WebEvents (contacts only) are the newest tracked events of the contact.
	WebEvents []store.WebEvent `json:"web_events,omitempty"`
}

func (rs records[T]) timeline(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := onlyParams(r, "cursor", "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, store.DefaultPageSize, store.MaxPageSize)
	if err != nil {
		return err
	}
	q := a.read(p)
	if _, err := rs.storeGet(q, r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	acts, err := q.ListActivities(r.Context(), p.WorkspaceID, store.ListParams{
		Filters: []store.Filter{{Field: rs.linkField, Op: "eq", Value: strconv.FormatInt(id, 10)}},
		Sort:    "-occurred_at", Cursor: v.Get("cursor"), Limit: limit,
	}, nil)
	if err != nil {
		return err
	}
	hist, err := q.History(r.Context(), p.WorkspaceID, rs.kind, id)
	if err != nil {
		return err
	}
	out := timeline{Activities: acts.Items, NextCursor: acts.NextCursor, History: hist}
	if rs.kind == "contact" {
		if out.WebEvents, err = q.ContactWebEvents(r.Context(), p.WorkspaceID, id, webEventsOnTimeline); err != nil {
			return err
		}
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}
