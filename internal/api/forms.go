package api

import (
	"fmt"
	"mime"
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// formInput is a form as a client writes it. On PATCH, absent properties keep
// their value.
type formInput struct {
	Name           *string            `json:"name"`
	Kind           *string            `json:"kind"`
	Fields         *[]model.FormField `json:"fields"`
	Progressive    *[]model.FormField `json:"progressive"`
	ConsentText    *string            `json:"consent_text"`
	ConsentVersion *string            `json:"consent_version"`
	DoubleOptIn    *bool              `json:"double_opt_in"`
	RedirectURL    *string            `json:"redirect_url"`
	AllowedOrigins *[]string          `json:"allowed_origins"`
	AssetID        **int64            `json:"asset_id"`
}

func (in formInput) apply(f *model.Form) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&f.Name, in.Name)
	set(&f.Kind, in.Kind)
	set(&f.ConsentText, in.ConsentText)
	set(&f.ConsentVersion, in.ConsentVersion)
	set(&f.RedirectURL, in.RedirectURL)
	if in.Fields != nil {
		f.Fields = *in.Fields
	}
	if in.Progressive != nil {
		f.Progressive = *in.Progressive
	}
	if in.DoubleOptIn != nil {
		f.DoubleOptIn = *in.DoubleOptIn
	}
	if in.AllowedOrigins != nil {
		f.AllowedOrigins = *in.AllowedOrigins
	}
	if in.AssetID != nil {
		f.AssetID = *in.AssetID
	}
}

func listForms(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	fs, err := a.d.St.Read().Forms(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Form]{Items: fs})
	return nil
}

func createForm(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in formInput
	if err := body(r, &in); err != nil {
		return err
	}
	f := model.Form{Fields: []model.FormField{}, Progressive: []model.FormField{}}
	in.apply(&f)
	f, err := a.d.Forms.CreateForm(r.Context(), p.Actor(httpx.ClientIP(r)), f)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/forms/%d", f.ID))
	httpx.JSON(w, http.StatusCreated, f)
	return nil
}

func getForm(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := a.d.St.Read().GetForm(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, f)
	return nil
}

func updateForm(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in formInput
	if err := body(r, &in); err != nil {
		return err
	}
	f, err := a.d.St.Read().GetForm(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	in.apply(&f)
	f, err = a.d.Forms.UpdateForm(r.Context(), p.Actor(httpx.ClientIP(r)), id, f)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, f)
	return nil
}

func deleteForm(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.St.InTx(r.Context(), func(q store.Q) error { return q.DeleteForm(r.Context(), p.WorkspaceID, id) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// submissionList is a form's latest submissions and its counts by status
// (accepted + pending_confirmation + spam = every post the form received).
type submissionList struct {
	Items  []model.Submission `json:"items"`
	Counts map[string]int64   `json:"counts"`
}

func listSubmissions(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := onlyParams(r, "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, store.DefaultPageSize, store.MaxPageSize)
	if err != nil {
		return err
	}
	q := a.d.St.Read()
	if _, err := q.GetForm(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	subs, err := q.Submissions(r.Context(), p.WorkspaceID, id, limit)
	if err != nil {
		return err
	}
	counts, err := q.FormStats(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, submissionList{Items: subs, Counts: counts})
	return nil
}

type assetInput struct {
	Title   *string `json:"title"`
	URL     *string `json:"url"`
	Type    *string `json:"type"`
	Stage   *string `json:"stage"`
	Segment *string `json:"segment"`
	Topic   *string `json:"topic"`
}

func (in assetInput) apply(x *model.Asset) {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&x.Title, in.Title}, {&x.URL, in.URL}, {&x.Type, in.Type}, {&x.Stage, in.Stage}, {&x.Segment, in.Segment}, {&x.Topic, in.Topic}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
}

func listAssets(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	xs, err := a.d.St.Read().Assets(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Asset]{Items: xs})
	return nil
}

func createAsset(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		return createAssetUpload(a, w, r, p)
	}
	var in assetInput
	if err := body(r, &in); err != nil {
		return err
	}
	var x model.Asset
	in.apply(&x)
	x, err := a.d.Forms.SaveAsset(r.Context(), p.Actor(httpx.ClientIP(r)), x)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/content/%d", x.ID))
	httpx.JSON(w, http.StatusCreated, x)
	return nil
}

func getAsset(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	x, err := a.d.St.Read().GetAsset(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, x)
	return nil
}

func updateAsset(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in assetInput
	if err := body(r, &in); err != nil {
		return err
	}
	x, err := a.d.St.Read().GetAsset(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	in.apply(&x)
	x, err = a.d.Forms.SaveAsset(r.Context(), p.Actor(httpx.ClientIP(r)), x)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, x)
	return nil
}

func deleteAsset(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.St.InTx(r.Context(), func(q store.Q) error { return q.DeleteAsset(r.Context(), p.WorkspaceID, id) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- documentation ---------------------------------------------------------------

var (
	listFormsDoc       = op{id: "listForms", tag: "forms", summary: "List the workspace's forms", resp: ok200("FormList")}
	createFormDoc      = op{id: "createForm", tag: "forms", summary: "Create a form; its public key is what pages embed (admin, manager)", body: jsonBody("FormInput"), resp: []resp{{http.StatusCreated, "application/json", "Form", "", true}}}
	getFormDoc         = op{id: "getForm", tag: "forms", summary: "One form", resp: ok200("Form")}
	updateFormDoc      = op{id: "updateForm", tag: "forms", summary: "Change a form; absent properties keep their value, the key never changes (admin, manager)", body: jsonBody("FormInput"), resp: ok200("Form")}
	deleteFormDoc      = op{id: "deleteForm", tag: "forms", summary: "Delete a form and its submissions; pages that embed it get 404 (admin, manager)", resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	listSubmissionsDoc = op{id: "listFormSubmissions", tag: "forms", summary: "A form's latest submissions, and its counts by status (accepted + pending_confirmation + spam = every post received)",
		params: limitOnly, resp: ok200("SubmissionList")}
	listAssetsDoc  = op{id: "listContent", tag: "content", summary: "The content library, newest first", resp: ok200("AssetList")}
	createAssetDoc = op{id: "createContent", tag: "content", summary: "Add a content library item: JSON with a url, or multipart/form-data with the same fields and an uploaded file (part file, at most 20 MiB)",
		body: []content{{"application/json", ref("AssetInput"), nil}, {"multipart/form-data", js{"type": "object", "required": []string{"title", "type", "file"}, "properties": uploadFields}, nil}},
		resp: []resp{{http.StatusCreated, "application/json", "Asset", "", true}}}
	getAssetDoc    = op{id: "getContent", tag: "content", summary: "One content library item", resp: ok200("Asset")}
	updateAssetDoc = op{id: "updateContent", tag: "content", summary: "Change a content library item; absent properties keep their value", body: jsonBody("AssetInput"), resp: ok200("Asset")}
	deleteAssetDoc = op{id: "deleteContent", tag: "content", summary: "Delete a content library item; forms that gated it stop handing it out", resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
)

func formSchemas(s js) {
	field := object([]string{"field"}, js{
		"field":    withDesc(str(0), "a contact field (email, first_name, last_name, title, phone) or custom.<key> of a contact custom field"),
		"label":    str(200),
		"required": js{"type": "boolean"},
	})
	s["FormField"] = field
	props := js{
		"name":            str(200),
		"kind":            enum(model.FormKinds...),
		"fields":          withDesc(arrayOf(ref("FormField")), "asked every time, in order; email is added first when missing"),
		"progressive":     withDesc(arrayOf(ref("FormField")), "asked of known visitors, the next unanswered ones two at a time"),
		"consent_text":    str(4000),
		"consent_version": withDesc(str(0), "required with consent_text; recorded on each contact's consent"),
		"double_opt_in":   js{"type": "boolean"},
		"redirect_url":    withDesc(str(0), "absolute http(s) URL an HTML post goes to afterwards"),
		"allowed_origins": withDesc(arrayOf(str(0)), "scheme://host[:port] of pages that may embed or post the form; empty allows any"),
		"asset_id":        withDesc(nullable(tID), "the content library item a gated_content form hands over"),
	}
	s["FormInput"] = object(nil, props)
	out := js{"id": tID, "key": withDesc(str(0), "public key: POST /f/{key}, or <div data-rightsize-form=\"{key}\"> with /f.js"), "created_at": tTime, "updated_at": tTime}
	for k, v := range props {
		out[k] = v
	}
	out["asset_id"] = tID
	s["Form"] = object([]string{"id", "key", "name", "kind", "fields", "progressive", "double_opt_in", "allowed_origins", "created_at", "updated_at"}, out)
	s["FormList"] = object([]string{"items"}, js{"items": arrayOf(ref("Form"))})
	s["Submission"] = object([]string{"id", "form_id", "status", "fields", "utm", "created_at"}, js{
		"id": tID, "form_id": tID, "status": enum("accepted", "pending_confirmation", "spam"),
		"contact_id": tID, "deal_id": tID, "visitor_id": str(100),
		"fields":          js{"type": "object", "additionalProperties": str(0)},
		"utm":             js{"type": "object", "additionalProperties": str(0)},
		"consent_version": str(0), "confirmed_at": tTime, "created_at": tTime,
	})
	s["SubmissionList"] = object([]string{"items", "counts"}, js{
		"items":  arrayOf(ref("Submission")),
		"counts": js{"type": "object", "additionalProperties": tCount},
	})
	aprops := js{
		"title": str(200), "url": withDesc(str(0), "absolute http(s) URL"), "type": enum(model.AssetTypes...),
		"stage": enum(append([]string{""}, model.AssetStages...)...), "segment": enum(append([]string{""}, model.Segments...)...), "topic": str(200),
	}
	s["AssetInput"] = object(nil, aprops)
	aout := js{"id": tID, "created_at": tTime, "updated_at": tTime,
		"file": withDesc(object([]string{"name", "content_type", "size"}, js{"name": str(0), "content_type": str(0), "size": withDesc(tCount, "bytes")}),
			"the uploaded file the item serves (GET /api/v1/content/{id}/file); absent when the item is its url")}
	for k, v := range aprops {
		aout[k] = v
	}
	s["Asset"] = object([]string{"id", "title", "url", "type", "created_at", "updated_at"}, aout)
	s["AssetList"] = object([]string{"items"}, js{"items": arrayOf(ref("Asset"))})
}
