package web

import (
	"net/http"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

type apiKeysPage struct {
	Keys   []model.APIKey
	F      *form
	Secret string
	NewKey *model.APIKey
}

func apiKeyForm() *form {
	f := newForm("/settings/api-keys", "Create key", "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Zapier sync", Hint: "Say what uses the key, so you know what breaks if you revoke it."},
		{Name: "role", Label: "Role", Type: "select", Required: true, Groups: opts(model.Roles, noBlank), Hint: "The key acts with this role in this workspace."},
	})
	f.Values["role"] = model.RoleAE
	return f
}

func (u *UI) apiKeys(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.IsAdmin {
		u.forbidden(w, r, s)
		return
	}
	u.showAPIKeys(w, r, s, http.StatusOK, apiKeyForm(), "", nil)
}

func (u *UI) showAPIKeys(w http.ResponseWriter, r *http.Request, s *session, status int, f *form, secret string, k *model.APIKey) {
	keys, err := u.d.St.Read().ListAPIKeys(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, status, "api_keys", view{Title: "API keys", Section: "settings", S: s, D: apiKeysPage{Keys: keys, F: f, Secret: secret, NewKey: k}, Notice: notice(r, "API key")})
}

// apiKeyCreate shows the new secret on the response page itself: it is never
// stored, so it cannot be shown after a redirect.
func (u *UI) apiKeyCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.IsAdmin {
		u.forbidden(w, r, s)
		return
	}
	f := apiKeyForm()
	f.read(r)
	k, secret, err := u.d.Auth.CreateAPIKey(r.Context(), s.Actor(), f.Values["name"], f.Values["role"])
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showAPIKeys(w, r, s, http.StatusUnprocessableEntity, f, "", nil)
		return
	}
	u.showAPIKeys(w, r, s, http.StatusOK, apiKeyForm(), secret, &k)
}

func (u *UI) apiKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.IsAdmin {
		u.forbidden(w, r, s)
		return
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Auth.RevokeAPIKey(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/settings/api-keys?notice=revoked")
}
