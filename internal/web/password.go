package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
)

// Password pages (docs/security-sessions.md): "forgot password" asks for a
// reset link and always answers the same; the link's page sets a new password
// and signs the user out everywhere; a signed-in user changes their password
// with the current one.

// throttled answers a request past a throttle: 429 with Retry-After, on the
// page the form lives on.
func throttleMessage(w http.ResponseWriter, te *auth.ThrottledError) string {
	secs := te.RetryAfterSeconds()
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	mins := (secs + 59) / 60
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Too many attempts. Try again in %d %s.", mins, unit)
}

type forgotData struct {
	Email string
	Sent  bool
	Error string
}

func (u *UI) forgotForm(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "forgot", view{Title: "Reset your password", D: forgotData{}})
}

// forgot answers the same page, status and (about) time whether or not the
// address belongs to a user.
func (u *UI) forgot(w http.ResponseWriter, r *http.Request) {
	if u.formTooLarge(w, r, nil) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	if email == "" || len(email) > 320 {
		u.render(w, r, http.StatusBadRequest, "forgot", view{Title: "Reset your password", D: forgotData{Email: email, Error: "Enter the email address you sign in with."}})
		return
	}
	err := u.d.Auth.RequestPasswordReset(r.Context(), email, httpx.ClientIP(r))
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		u.render(w, r, http.StatusTooManyRequests, "forgot", view{Title: "Reset your password", D: forgotData{Email: email, Error: throttleMessage(w, te)}})
		return
	}
	if err != nil {
		u.serverError(w, r, nil, err)
		return
	}
	u.render(w, r, http.StatusOK, "forgot", view{Title: "Reset your password", D: forgotData{Email: email, Sent: true}})
}

type resetData struct {
	Token  string
	Errors map[string]string
	Error  string
}

func (u *UI) resetForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if err := u.d.Auth.CheckResetToken(r.Context(), tok); err != nil {
		u.resetInvalid(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "reset", view{Title: "Choose a new password", D: resetData{Token: tok}})
}

func (u *UI) resetInvalid(w http.ResponseWriter, r *http.Request, err error) {
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		msg := throttleMessage(w, te)
		u.errorPage(w, r, nil, http.StatusTooManyRequests, "Too many attempts", msg)
	case errors.Is(err, auth.ErrResetInvalid):
		u.render(w, r, http.StatusGone, "reset", view{Title: "Link expired", D: resetData{Error: "This password reset link has expired or was already used."}})
	default:
		u.serverError(w, r, nil, err)
	}
}

func (u *UI) reset(w http.ResponseWriter, r *http.Request) {
	if u.formTooLarge(w, r, nil) {
		return
	}
	tok := r.PostFormValue("token")
	pw, again := r.PostFormValue("password"), r.PostFormValue("password_again")
	if pw != again {
		u.render(w, r, http.StatusBadRequest, "reset", view{Title: "Choose a new password", D: resetData{Token: tok, Errors: map[string]string{"password_again": "The two passwords differ."}}})
		return
	}
	err := u.d.Auth.ResetWithToken(r.Context(), tok, pw, httpx.ClientIP(r))
	var fe *store.FieldError
	if errors.As(err, &fe) {
		u.render(w, r, http.StatusBadRequest, "reset", view{Title: "Choose a new password", D: resetData{Token: tok, Errors: map[string]string{"password": "Password " + fe.Message + "."}}})
		return
	}
	if err != nil {
		u.resetInvalid(w, r, err)
		return
	}
	// Any session this browser had ended with the reset; drop its cookie.
	u.clearSessionCookie(w)
	redirect(w, r, "/login?reset=1")
}

// passwordForm is the signed-in user's own password change.
func passwordForm() *form {
	return newForm("/settings/password", "Change password", "/settings", []field{
		{Name: "current_password", Label: "Current password", Type: "password", Required: true, Wide: true},
		{Name: "new_password", Label: "New password", Type: "password", Required: true, Wide: true, Hint: "At least 10 characters. Changing it signs you out on every other device."},
		{Name: "new_password_again", Label: "New password again", Type: "password", Required: true, Wide: true},
	})
}

func (u *UI) passwordShow(w http.ResponseWriter, r *http.Request, s *session) {
	u.render(w, r, http.StatusOK, "password", view{Title: "Your password", Section: "settings", S: s, D: passwordForm(), Notice: noticeFor(r)})
}

func (u *UI) passwordChange(w http.ResponseWriter, r *http.Request, s *session) {
	f := passwordForm()
	cur, next, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password_again")
	if next != again {
		f.Errors["new_password_again"] = "The two new passwords differ."
		u.render(w, r, http.StatusBadRequest, "password", view{Title: "Your password", Section: "settings", S: s, D: f})
		return
	}
	tok, err := u.d.Auth.ChangePassword(r.Context(), s.P, cur, next, s.ip)
	var fe *store.FieldError
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		f.Err = throttleMessage(w, te)
		u.render(w, r, http.StatusTooManyRequests, "password", view{Title: "Your password", Section: "settings", S: s, D: f})
		return
	case errors.As(err, &fe):
		f.Errors[fe.Field] = humanize(fe.Field) + " " + fe.Message + "."
		u.render(w, r, http.StatusBadRequest, "password", view{Title: "Your password", Section: "settings", S: s, D: f})
		return
	case err != nil:
		u.serverError(w, r, s, err)
		return
	}
	// Every session ended, this one too; this browser carries on with a new one.
	u.setSessionCookie(w, tok)
	redirect(w, r, "/settings/password?changed=1")
}

func noticeFor(r *http.Request) string {
	if r.URL.Query().Get("changed") == "1" {
		return "Password changed. Every other session has been signed out."
	}
	return ""
}
