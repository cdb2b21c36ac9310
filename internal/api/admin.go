package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// listCustomFields is open to every role: writing a record needs to know which
// custom fields it may carry.
func listCustomFields(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "object_type")
	if err != nil {
		return err
	}
	obj := v.Get("object_type")
	if obj != "" && !slices.Contains(model.ObjectTypes, obj) {
		return badField("object_type", "%q is not one of %s", obj, strings.Join(model.ObjectTypes, ", "))
	}
	defs, err := a.d.St.Read().CustomFields(r.Context(), p.WorkspaceID, obj)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.CustomField]{Items: defs})
	return nil
}

func createCustomField(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := httpx.DecodeFields(r)
	if err != nil {
		return err
	}
	cf, err := a.d.CRM.CreateCustomField(r.Context(), p.Actor(httpx.ClientIP(r)), crm.Fields(f))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, cf)
	return nil
}

func deleteCustomField(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.CRM.DeleteCustomField(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func listAPIKeys(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	keys, err := a.d.St.Read().ListAPIKeys(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.APIKey]{Items: keys})
	return nil
}

// createdKey is the only answer that ever carries a key's secret.
type createdKey struct {
	model.APIKey
	Secret string `json:"secret"`
}

func createAPIKey(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	f, err := httpx.DecodeFields(r)
	if err != nil {
		return err
	}
	name, role, forUser, err := keyFields(f)
	if err != nil {
		return err
	}
	// Only admins reach this route; the check stays so a key never outranks its maker.
	if role == model.RoleAdmin && p.Role != model.RoleAdmin {
		return &httpx.StatusError{Status: http.StatusForbidden, Code: "forbidden", Field: "role", Msg: "only an admin can create an admin key"}
	}
	k, secret, err := a.d.Auth.CreateAPIKeyFor(r.Context(), p.Actor(httpx.ClientIP(r)), name, role, forUser)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, createdKey{APIKey: k, Secret: secret})
	return nil
}

func keyFields(f map[string]any) (name, role string, forUser int64, err error) {
	for k, v := range f {
		if k == "user_id" {
			n, ok := v.(float64)
			if !ok || n < 1 || n != float64(int64(n)) {
				return "", "", 0, badField(k, "must be a user id")
			}
			forUser = int64(n)
			continue
		}
		s, ok := v.(string)
		switch {
		case k != "name" && k != "role":
			return "", "", 0, badField(k, "unknown field")
		case !ok:
			return "", "", 0, badField(k, "must be a string")
		case k == "name":
			name = s
		default:
			role = strings.ToLower(strings.TrimSpace(s))
		}
	}
	if role == "" {
		return "", "", 0, badField("role", "is required (%s)", strings.Join(model.Roles, ", "))
	}
	return name, role, forUser, nil
}

func revokeAPIKey(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Auth.RevokeAPIKey(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func listAudit(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, store.DefaultPageSize, store.MaxPageSize)
	if err != nil {
		return err
	}
	entries, err := a.d.St.Read().ListAudit(r.Context(), p.WorkspaceID, limit)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.AuditEntry]{Items: entries})
	return nil
}
