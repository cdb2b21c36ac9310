package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/store"
)

// resetCapture keeps the last reset token the app mails (and mails it on).
type resetCapture struct {
	next  auth.ResetMailer
	mu    sync.Mutex
	token string
}

func (c *resetCapture) SendPasswordReset(ctx context.Context, q store.Q, to, token string, exp time.Time) error {
	c.mu.Lock()
	c.token = token
	c.mu.Unlock()
	return c.next.SendPasswordReset(ctx, q, to, token, exp)
}

// TestPasswordPages: "forgot password" from the login form, the emailed link's
// page (a mismatch refused, then a new password set), the login page saying so,
// and the used link refused.
func TestPasswordPages(t *testing.T) {
	b := newBrowser(t)
	capture := &resetCapture{}
	e := apptest.NewWith(t, store.SQLite, apptest.Options{BeforeServe: func(a *app.App) {
		capture.next = a.Auth.Mailer
		a.Auth.Mailer = capture
	}})
	email := "csm@alpha.example.com"
	b.run("ask for a reset link from the login form",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`a[href="/forgot"]`),
		chromedp.Click(`a[href="/forgot"]`),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.notice`),
	)
	mustContain(t, "forgot notice", b.text(`.notice`), "If "+email+" is the address of a Rightsize login", "for an hour")
	b.screenshot("password-forgot-sent")
	capture.mu.Lock()
	tok := capture.token
	capture.mu.Unlock()
	if tok == "" {
		t.Fatal("no reset token was mailed")
	}
	b.run("open the link; mismatched passwords",
		chromedp.Navigate(e.URL+"/reset?token="+tok),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "a brand new password"),
		chromedp.SendKeys(`#password_again`, "another new password"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.alert-bad`),
	)
	mustContain(t, "mismatch", b.text(`.alert-bad`), "differ")
	b.screenshot("password-reset-mismatch")
	b.run("set the new password",
		chromedp.SendKeys(`#password`, "a brand new password"),
		chromedp.SendKeys(`#password_again`, "a brand new password"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.login .notice`),
	)
	mustContain(t, "after reset", b.text(`.login .notice`), "Sign in with the new password")
	b.screenshot("password-reset-done")
	b.run("the used link is dead",
		chromedp.Navigate(e.URL+"/reset?token="+tok),
		chromedp.WaitVisible(`.alert-bad`),
	)
	mustContain(t, "used link", b.text(`.alert-bad`), "expired or was already used")
	b.checkConsole()
}

// TestPasswordChange: the signed-in password change refuses a wrong current
// password next to its input and never echoes a typed password.
func TestPasswordChange(t *testing.T) {
	b := newBrowser(t)
	e := apptest.New(t, store.SQLite)
	b.run("sign in and open Your password from the user menu",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "ae@alpha.example.com"),
		chromedp.SendKeys(`#password`, apptest.Password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`nav[aria-label=Main]`),
		chromedp.Navigate(e.URL+"/settings/password"),
		chromedp.WaitVisible(`#pw-current_password`),
		chromedp.SendKeys(`#pw-current_password`, "not the password"),
		chromedp.SendKeys(`#pw-new_password`, "yet another password"),
		chromedp.SendKeys(`#pw-new_password_again`, "yet another password"),
		chromedp.Click(`form.form button.btn-primary`),
		chromedp.WaitVisible(`#pw-current_password-err`),
	)
	mustContain(t, "wrong current", b.text(`#pw-current_password-err`), "not the password you sign in with")
	if v := b.value(`#pw-new_password`); v != "" {
		t.Fatalf("a typed password was echoed back: %q", v)
	}
	b.screenshot("password-change-wrong-current")
	b.checkConsole()
}
