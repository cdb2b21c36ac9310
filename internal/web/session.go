package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

// cookieName holds the session token; the server stores only its hash.
const cookieName = auth.SessionCookie

// session is the signed-in user acting in their selected workspace.
type session struct {
	P      *auth.Principal
	Tok    string
	WSName string
	Role   string
	// CanManage (admins and managers) and CanAdmin (admins) are what the
	// pages show and offer; the route table enforces the same classes.
	CanManage bool
	CanAdmin  bool
	Path      string // the request path, for the navigation and the switcher
	// SendingPaused is set for admins while a restored instance waits for
	// their confirmation (the layout shows a banner).
	SendingPaused string
	ip            string
}

// Actor is who the services record as having acted.
func (s *session) Actor() model.Actor { return s.P.Actor(s.ip) }

// WS is the selected workspace's id.
func (s *session) WS() int64 { return s.P.WorkspaceID }

// Can reports whether the session's role may use routes of an access class
// (templates: {{if .S.Can "write"}}).
func (s *session) Can(class string) bool { return auth.Can(s.Role, class) }

// Partner is set for the partner role, whose pages show its own records only.
func (s *session) Partner() bool { return s.Role == model.RolePartner }

// RoleLabel names the role for the header.
func (s *session) RoleLabel() string { return roleLabel(s.Role) }

// Initials is the avatar text.
func (s *session) Initials() string { return initials(s.P.Email) }

func (u *UI) optionalSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil, auth.ErrUnauthenticated
	}
	p, err := u.d.Auth.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	s := &session{P: p, Tok: c.Value, Role: p.Role, CanManage: auth.Can(p.Role, auth.ClassManage), CanAdmin: auth.Can(p.Role, auth.ClassAdmin), Path: r.URL.Path, ip: httpx.ClientIP(r)}
	for _, m := range p.Memberships {
		if m.WorkspaceID == p.WorkspaceID {
			s.WSName = m.WorkspaceName
		}
	}
	if s.CanAdmin && u.d.Sending != nil {
		st, err := u.d.Sending.Status(r.Context())
		if err != nil {
			return nil, err
		}
		if st.Paused {
			s.SendingPaused = st.Reason
		}
	}
	return s, nil
}

// page wraps a UI handler: it resolves the session cookie, sends a visitor
// without one to the login form (remembering where they were going), and refuses
// a user who belongs to no workspace.
func (u *UI) page(fn func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := u.optionalSession(r)
		if errors.Is(err, auth.ErrUnauthenticated) {
			to := "/login"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				if next := r.URL.RequestURI(); next != "/" {
					to += "?next=" + url.QueryEscape(next)
				}
			}
			redirect(w, r, to)
			return
		}
		if err != nil {
			u.serverError(w, r, nil, err)
			return
		}
		if s.P.WorkspaceID == 0 {
			u.errorPage(w, r, nil, http.StatusForbidden, "No workspace", "Your user does not belong to any workspace yet. Ask an admin to add you.")
			return
		}
		// A NUL byte or invalid UTF-8 in the query reaches no page (PostgreSQL
		// would refuse it mid-query).
		if err := httpx.CheckQuery(r.URL.Query()); err != nil {
			u.errorPage(w, r, s, http.StatusBadRequest, "Invalid link", err.Error())
			return
		}
		if u.formTooLarge(w, r, s) {
			return
		}
		if r.Method == http.MethodPost && r.ParseForm() == nil {
			if err := httpx.CheckQuery(r.PostForm); err != nil {
				u.errorPage(w, r, s, http.StatusBadRequest, "Invalid input", err.Error())
				return
			}
		}
		fn(w, r, s)
	}
}

// formTooLarge parses a posted form up front: a body past the request limit
// answers 413 naming the limit, instead of reading as a form with every field
// empty (PostFormValue drops the parse error).
func (u *UI) formTooLarge(w http.ResponseWriter, r *http.Request, s *session) bool {
	if r.Method != http.MethodPost {
		return false
	}
	var mbe *http.MaxBytesError
	if err := r.ParseForm(); errors.As(err, &mbe) {
		u.errorPage(w, r, s, http.StatusRequestEntityTooLarge, "Too much data", fmt.Sprintf("The form sent more than %s bytes, the limit for one request.", formatNumber(mbe.Limit)))
		return true
	}
	return false
}

func (u *UI) setSessionCookie(w http.ResponseWriter, tok string) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    tok,
		Path:     "/",
		MaxAge:   int(auth.AbsoluteTimeout.Seconds()),
		HttpOnly: true,
		Secure:   u.d.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

func (u *UI) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   u.d.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

type loginData struct {
	Email  string
	Next   string
	Error  string
	Notice string
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	next, _ := localPath(r.URL.Query().Get("next"))
	if s, err := u.optionalSession(r); err == nil && s != nil {
		if next == "" {
			next = "/"
		}
		redirect(w, r, next)
		return
	}
	d := loginData{Next: next}
	if r.URL.Query().Get("reset") == "1" {
		d.Notice = "Your password was changed and every session signed out. Sign in with the new password."
	}
	u.render(w, r, http.StatusOK, "login", view{Title: "Sign in", D: d})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if u.formTooLarge(w, r, nil) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	password := r.PostFormValue("password")
	next, ok := localPath(r.PostFormValue("next"))
	if !ok {
		next = "/"
	}
	tok, _, err := u.d.Auth.Login(r.Context(), email, password, httpx.ClientIP(r))
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		// The same answer for known and unknown emails: the count is kept per
		// address as typed and per client IP.
		u.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in", D: loginData{Email: email, Next: next, Error: throttleMessage(w, te)}})
		return
	}
	if errors.Is(err, auth.ErrBadCredentials) {
		u.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", D: loginData{Email: email, Next: next, Error: "Wrong email or password."}})
		return
	}
	if err != nil {
		u.serverError(w, r, nil, err)
		return
	}
	// Signing in again (another user on a shared browser) ends the old session
	// server-side instead of leaving it valid behind the new cookie.
	if old, err := r.Cookie(cookieName); err == nil && old.Value != "" {
		_ = u.d.Auth.Logout(r.Context(), old.Value)
	}
	u.setSessionCookie(w, tok)
	redirect(w, r, next)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		if err := u.d.Auth.Logout(r.Context(), c.Value); err != nil {
			u.serverError(w, r, nil, err)
			return
		}
	}
	u.clearSessionCookie(w)
	redirect(w, r, "/login")
}

// switchWorkspace selects another of the user's workspaces and returns to the
// same section (a record page would 404 in the other workspace).
func (u *UI) switchWorkspace(w http.ResponseWriter, r *http.Request, s *session) {
	ws, err := strconv.ParseInt(r.PostFormValue("workspace_id"), 10, 64)
	if err != nil {
		u.errorPage(w, r, s, http.StatusBadRequest, "No such workspace", "Pick a workspace from the list.")
		return
	}
	if err := u.d.Auth.SwitchWorkspace(r.Context(), s.P, ws); err != nil {
		u.fail(w, r, s, err)
		return
	}
	to := "/"
	if next, ok := localPath(r.PostFormValue("next")); ok {
		to = sectionRoot(next)
	}
	redirect(w, r, to)
}

// sectionRoot maps "/contacts/12/edit?x" to "/contacts".
func sectionRoot(p string) string {
	p, _, _ = strings.Cut(p, "?")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch parts[0] {
	case "accounts", "contacts", "deals", "imports":
		return "/" + parts[0]
	case "settings":
		return "/settings/api-keys"
	}
	return "/"
}

// settings is the hub linking every settings page; anyone may read it.
func (u *UI) settings(w http.ResponseWriter, r *http.Request, s *session) {
	u.render(w, r, http.StatusOK, "settings", view{Title: "Settings", Section: "settings", S: s})
}
