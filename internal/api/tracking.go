package api

import (
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// Tracking sites: where the /t.js snippet may run and what the workspace's public
// site key is (docs/tracking.md). Everyone reads (the snippet is not a secret);
// admins write.

func listTrackingSites(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	sites, err := a.d.Tracking.Sites(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[store.TrackingSite]{Items: sites})
	return nil
}

func createTrackingSite(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in tracking.SiteInput
	if err := body(r, &in); err != nil {
		return err
	}
	site, err := a.d.Tracking.CreateSite(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, site)
	return nil
}

func getTrackingSite(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	site, err := a.d.Tracking.Site(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, site)
	return nil
}

func updateTrackingSite(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in tracking.SiteInput
	if err := body(r, &in); err != nil {
		return err
	}
	site, err := a.d.Tracking.UpdateSite(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, site)
	return nil
}

func deleteTrackingSite(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Tracking.DeleteSite(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var (
	listTrackingSitesDoc  = op{id: "listTrackingSites", tag: "tracking", summary: "The workspace's tracking sites (public keys for the /t.js snippet)", resp: ok200("TrackingSiteList")}
	createTrackingSiteDoc = op{id: "createTrackingSite", tag: "tracking", summary: "Create a tracking site with a new random public key (admin, manager)",
		body: []content{{"application/json", ref("TrackingSiteInput"), map[string]any{"name": "Marketing site", "allowed_origins": []string{"https://www.example.com"}, "consent_mode": "required"}}},
		resp: []resp{{http.StatusCreated, "application/json", "TrackingSite", "", false}}}
	getTrackingSiteDoc    = op{id: "getTrackingSite", tag: "tracking", summary: "One tracking site", resp: ok200("TrackingSite")}
	updateTrackingSiteDoc = op{id: "updateTrackingSite", tag: "tracking", summary: "Change a site's name, allowed origins or consent mode (admin, manager); the key stays", body: jsonBody("TrackingSiteInput"), resp: ok200("TrackingSite")}
	deleteTrackingSiteDoc = op{id: "deleteTrackingSite", tag: "tracking", summary: "Delete a tracking site; its key stops working, its events stay (admin, manager)", resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
)

func trackingSchemas(s js) {
	s["TrackingSiteInput"] = object(nil, js{
		"name":            str(100),
		"allowed_origins": withDesc(js{"type": "array", "maxItems": 20, "items": str(0)}, "exact scheme://host[:port] of the pages that may send events; required on create"),
		"consent_mode":    withDesc(enum(tracking.ConsentModes...), "none: track on load; required: no cookie and no request until rightsize('consent', true)"),
	})
	s["TrackingSite"] = object([]string{"id", "workspace_id", "public_key", "name", "allowed_origins", "consent_mode", "created_at", "updated_at"}, js{
		"id": tID, "workspace_id": tID, "public_key": withDesc(str(0), "the snippet's data-site; public, random"),
		"name": str(0), "allowed_origins": arrayOf(str(0)), "consent_mode": enum(tracking.ConsentModes...),
		"created_at": tTime, "updated_at": tTime,
	})
	s["WebEvent"] = object([]string{"id", "visitor_id", "kind", "occurred_at", "received_at"}, js{
		"id": tID, "visitor_id": withDesc(str(0), "the rs_vid cookie"), "contact_id": tID,
		"kind": enum(tracking.KindPageView, tracking.KindContentView, tracking.KindCustom),
		"name": withDesc(str(0), "custom event name or content asset id"), "url": str(0), "title": str(0), "referrer": str(0),
		"occurred_at": tTime, "received_at": tTime,
	})
	s["TrackingSiteList"] = object([]string{"items"}, js{"items": arrayOf(ref("TrackingSite"))})
}
