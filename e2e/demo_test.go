package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/store"
)

// TestDemoPages signs in to the demo workspace `serve --demo` creates and opens
// the pages a first-time user looks at, so their screenshots can be reviewed
// with realistic data: dashboard, forms, a form, the content library, settings,
// and a contact whose timeline holds the visits that led to a form.
func TestDemoPages(t *testing.T) {
	b := newBrowser(t)
	e := apptest.New(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, e.App.St, demo.Options{Now: time.Now().UTC(), Slug: "northwind"})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := e.App.St.Read().Forms(ctx, res.Workspace.ID)
	if err != nil || len(fs) == 0 {
		t.Fatalf("forms %v %v", fs, err)
	}
	subs, err := e.App.St.Read().Submissions(ctx, res.Workspace.ID, fs[2].ID, 1)
	if err != nil || len(subs) != 1 || subs[0].ContactID == nil {
		t.Fatalf("submissions %+v %v", subs, err)
	}
	top, _, err := e.App.Subscriptions.Customers(ctx, res.Workspace.ID, store.CustomerFilter{Status: "active", Sort: "-mrr", Limit: 1})
	if err != nil || len(top) != 1 {
		t.Fatalf("demo customers %v %v", top, err)
	}
	b.run("sign in to the demo",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, res.AdminEmail),
		chromedp.SendKeys(`#password`, res.Password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`.tiles`),
	)
	mustContain(t, "dashboard", b.text(`main`), "Why leads were disqualified", "Why deals were lost")
	b.screenshot("demo-dashboard")
	for _, p := range []struct{ path, wait, name string }{
		{"/forms", `table.table`, "demo-forms"},
		{fmt.Sprintf("/forms/%d", fs[2].ID), `pre.code`, "demo-form"},
		{"/content", `table.table`, "demo-content"},
		{"/settings", `.settings-tiles`, "demo-settings"},
		{"/settings/tracking", `.crumbs`, "demo-tracking"},
		{"/settings/mail", `#m-postal_address`, "demo-mail"},
		{"/sequences", `a[href^="/sequences/"]`, "demo-sequences"},
		{"/customers", `#customers`, "demo-customers"},
		{fmt.Sprintf("/customers/%d", top[0].AccountID), `#movements`, "demo-customer"},
		{fmt.Sprintf("/contacts/%d", *subs[0].ContactID), `.record-main`, "demo-contact-web"},
	} {
		b.run("open "+p.path, chromedp.Navigate(e.URL+p.path))
		tctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		if err := chromedp.Do(tctx, chromedp.WaitVisible(p.wait)); err != nil {
			html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			cancel()
			t.Fatalf("%s: %v\n%.3000s", p.path, err, html)
		}
		cancel()
		b.screenshot(p.name)
	}
	mustContain(t, "contact timeline", b.text(`main`), "Page view")
	b.checkConsole()
}
