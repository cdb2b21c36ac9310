package api

import (
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

func getOpenAPI(a *API, w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(a.doc)
	return nil
}

// me is who the caller is. Kind tells a user session from an API key so a script
// can check it was given the credential it expects.
type me struct {
	Kind        string             `json:"kind"` // "user" or "api_key"
	UserID      int64              `json:"user_id,omitempty"`
	Email       string             `json:"email,omitempty"`
	APIKeyID    int64              `json:"api_key_id,omitempty"`
	KeyPrefix   string             `json:"key_prefix,omitempty"`
	WorkspaceID int64              `json:"workspace_id"`
	Workspace   *model.Workspace   `json:"workspace,omitempty"`
	Role        string             `json:"role,omitempty"`
	Memberships []model.Membership `json:"memberships"`
}

func getMe(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	out := me{Kind: "user", UserID: p.UserID, Email: p.Email, WorkspaceID: p.WorkspaceID, Role: p.Role, Memberships: p.Memberships}
	if p.APIKeyID != 0 {
		out.Kind, out.APIKeyID, out.KeyPrefix = "api_key", p.APIKeyID, p.KeyPrefix
	}
	if out.Memberships == nil {
		out.Memberships = []model.Membership{}
	}
	if p.WorkspaceID != 0 {
		ws, err := a.d.St.Read().GetWorkspace(r.Context(), p.WorkspaceID)
		if err != nil {
			return err
		}
		out.Workspace = &ws
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

// list wraps a non-paged collection so every list answer is an object with items,
// like the paged ones, and can grow fields later without breaking clients.
type list[T any] struct {
	Items []T `json:"items"`
}
