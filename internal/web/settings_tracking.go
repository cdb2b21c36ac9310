package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// Tracking sites: everyone sees the snippet to paste; admins create sites.

type trackingSite struct {
	store.TrackingSite
	Snippet string
}

type trackingPage struct {
	Sites []trackingSite
	F     *form
	Admin bool
}

func trackingSiteForm() *form {
	f := newForm("/settings/tracking", "Create site", "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Marketing site"},
		{Name: "allowed_origins", Label: "Allowed origins", Type: "textarea", Required: true, Placeholder: "https://www.example.com", Hint: "One per line, exactly scheme://host[:port]. Events from other pages are refused."},
		{Name: "consent_mode", Label: "Consent", Type: "select", Required: true, Groups: []optGroup{{Options: []option{
			{tracking.ConsentNone, "Track on page load"},
			{tracking.ConsentRequired, "Wait for rightsize('consent', true)"},
		}}}, Hint: "With consent required the script sets no cookie and sends nothing until the page grants consent."},
	})
	f.Values["consent_mode"] = tracking.ConsentNone
	return f
}

// snippet is what a site's pages carry; the consent attribute makes the script
// wait for consent before it sets a cookie.
func snippet(r *http.Request, site store.TrackingSite) string {
	s := `<script src="https://` + r.Host + tracking.ScriptPath + `" data-site="` + site.PublicKey + `"`
	if site.ConsentMode == tracking.ConsentRequired {
		s += ` data-consent="required"`
	}
	return s + ` async></script>`
}

func (u *UI) trackingSettings(w http.ResponseWriter, r *http.Request, s *session) {
	u.showTracking(w, r, s, http.StatusOK, trackingSiteForm())
}

func (u *UI) showTracking(w http.ResponseWriter, r *http.Request, s *session, status int, f *form) {
	sites, err := u.d.Tracking.Sites(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := trackingPage{F: f, Admin: s.CanManage}
	for _, site := range sites {
		p.Sites = append(p.Sites, trackingSite{TrackingSite: site, Snippet: snippet(r, site)})
	}
	msg := ""
	if r.URL.Query().Get("notice") == "created" {
		msg = "Tracking site created. Paste its snippet into your pages."
	}
	u.render(w, r, status, "tracking", view{Title: "Tracking", Section: "settings", S: s, D: p, Notice: msg})
}

func (u *UI) trackingSiteCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := trackingSiteForm()
	f.read(r)
	name, mode := f.Values["name"], f.Values["consent_mode"]
	var origins []string
	for _, line := range strings.Split(f.Values["allowed_origins"], "\n") {
		if line = strings.TrimSpace(line); line != "" {
			origins = append(origins, line)
		}
	}
	_, err := u.d.Tracking.CreateSite(r.Context(), s.Actor(), tracking.SiteInput{Name: &name, AllowedOrigins: &origins, ConsentMode: &mode})
	var fe *store.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "allowed_origins[") {
		err = &store.FieldError{Field: "allowed_origins", Message: fe.Message}
	}
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showTracking(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	redirect(w, r, "/settings/tracking?notice=created")
}
