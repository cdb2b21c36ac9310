package web

import (
	"net/http"
	"strconv"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

type apiKeysPage struct {
	Keys   []model.APIKey
	F      *form
	Secret string
	NewKey *model.APIKey
	// ActsFor names the member each key acts for, by key id ("" for none).
	ActsFor map[int64]string
}

// apiKeyForm is the new-key form; a key acts for a member (default: the admin
// making it) and stops working when they leave. A partner key must act for a
// partner, whose records are all it sees.
func apiKeyForm(ms []model.Membership) *form {
	users := optGroup{Options: []option{{"", "You"}}}
	for _, m := range ms {
		users.Options = append(users.Options, option{strconv.FormatInt(m.UserID, 10), m.UserEmail + " (" + humanize(m.Role) + ")"})
	}
	f := newForm("/settings/api-keys", "Create key", "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Zapier sync", Hint: "Say what uses the key, so you know what breaks if you revoke it."},
		{Name: "role", Label: "Role", Type: "select", Required: true, Groups: opts(model.Roles, noBlank), Hint: "The key acts with this role in this workspace."},
		{Name: "user_id", Label: "Acts for", Type: "select", Groups: []optGroup{users}, Hint: "The key stops working when this member leaves the workspace. A partner key must act for a partner: it sees only their records."},
	})
	f.Values["role"] = model.RoleAE
	return f
}

func (u *UI) apiKeys(w http.ResponseWriter, r *http.Request, s *session) {
	ms, _, err := u.members(r.Context(), s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.showAPIKeys(w, r, s, http.StatusOK, apiKeyForm(ms), "", nil)
}

func (u *UI) showAPIKeys(w http.ResponseWriter, r *http.Request, s *session, status int, f *form, secret string, k *model.APIKey) {
	keys, err := u.d.St.Read().ListAPIKeys(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, users, err := u.members(r.Context(), s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	actsFor := map[int64]string{}
	for _, k := range keys {
		if k.UserID != nil {
			actsFor[k.ID] = users[*k.UserID]
			if actsFor[k.ID] == "" {
				actsFor[k.ID] = "a former member"
			}
		}
	}
	u.render(w, r, status, "api_keys", view{Title: "API keys", Section: "settings", S: s, D: apiKeysPage{Keys: keys, F: f, Secret: secret, NewKey: k, ActsFor: actsFor}, Notice: notice(r, "API key")})
}

// apiKeyCreate shows the new secret on the response page itself: it is never
// stored, so it cannot be shown after a redirect.
func (u *UI) apiKeyCreate(w http.ResponseWriter, r *http.Request, s *session) {
	ms, _, err := u.members(r.Context(), s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := apiKeyForm(ms)
	f.read(r)
	var forUser int64
	if v := f.Values["user_id"]; v != "" {
		if forUser, err = strconv.ParseInt(v, 10, 64); err != nil || forUser < 1 {
			f.Errors["user_id"] = "pick a member from the list"
			u.showAPIKeys(w, r, s, http.StatusUnprocessableEntity, f, "", nil)
			return
		}
	}
	k, secret, err := u.d.Auth.CreateAPIKeyFor(r.Context(), s.Actor(), f.Values["name"], f.Values["role"], forUser)
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showAPIKeys(w, r, s, http.StatusUnprocessableEntity, f, "", nil)
		return
	}
	u.showAPIKeys(w, r, s, http.StatusOK, apiKeyForm(ms), secret, &k)
}

func (u *UI) apiKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
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
