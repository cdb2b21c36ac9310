package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestPartnersView: a partner signs in to its desk, sees its own lead and not the
// client's, finds only its leads, contacts and accounts in the navigation, books
// a meeting from the queue, and gets "Page not found" on the client's contact.
// Then the admin makes a key that acts for the partner.
func TestPartnersView(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			partner, ldr := e.A.Users[model.RolePartner], e.A.Users[model.RoleLDR]
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			acct, err := crmAccount(ctx, e, act, "Kramerica Industries")
			if err != nil {
				t.Fatal(err)
			}
			mine, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "cosmo@kramerica.example", "first_name": "Cosmo", "last_name": "Kramer", "lifecycle_stage": "mql", "owner_id": fmt.Sprint(partner.ID), "account_id": fmt.Sprint(acct)})
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "jerry@client.example", "first_name": "Jerry", "lifecycle_stage": "mql", "owner_id": fmt.Sprint(ldr.ID)})
			if err != nil {
				t.Fatal(err)
			}
			b.run("sign in as the partner",
				chromedp.Navigate(e.URL+"/login"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, partner.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(fmt.Sprintf(`#desk-%d`, mine.ID)),
			)
			nav := b.text(`nav[aria-label=Main]`)
			mustContain(t, "nav", nav, "LDR desk", "Contacts", "Accounts")
			for _, hidden := range []string{"Deals", "Economics", "Settings", "Imports", "Dashboard"} {
				if strings.Contains(nav, hidden) {
					t.Errorf("partner nav shows %s: %q", hidden, nav)
				}
			}
			queue := b.text(`#content`)
			mustContain(t, "queue", queue, "Cosmo Kramer", "Kramerica Industries")
			if strings.Contains(queue, "Jerry") {
				t.Errorf("partner queue shows the client's lead: %q", queue)
			}
			b.screenshot(string(kind) + "-partner-desk")
			p := fmt.Sprintf("#meeting%d-", mine.ID)
			row := fmt.Sprintf(`#desk-%d`, mine.ID)
			b.run("book a meeting from the queue",
				chromedp.Click(row+` + tr details:nth-of-type(4) > summary`),
				chromedp.WaitVisible(p+`subject`),
				chromedp.SendKeys(p+`subject`, "Intro with Cosmo"),
				chromedp.Click(row+` + tr details:nth-of-type(4) button[type=submit]`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "notice", b.text(`.notice`), "Meeting recorded")
			b.run("the partner's contacts", chromedp.Navigate(e.URL+"/contacts"), chromedp.WaitVisible(`table.table`))
			list := b.text(`table.table`)
			mustContain(t, "contacts", list, "cosmo@kramerica.example")
			if strings.Contains(list, "jerry@client.example") {
				t.Errorf("partner contact list shows the client's lead: %q", list)
			}
			b.screenshot(string(kind) + "-partner-contacts")
			b.run("the client's contact", chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", e.URL, theirs.ID)), chromedp.WaitVisible(`.error-page`))
			mustContain(t, "foreign contact", b.text(`.error-page`), "404", "Page not found")
			b.run("economics", chromedp.Navigate(e.URL+"/economics"), chromedp.WaitVisible(`.error-page`))
			mustContain(t, "economics", b.text(`.error-page`), "403", "Not allowed")
			b.checkConsole()
			b.run("sign out", chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/logout"]').submit()`), chromedp.WaitVisible(`#email`))

			b.run("sign in as the admin",
				chromedp.Navigate(e.URL+"/login?next=%2Fsettings%2Fapi-keys"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, e.A.Users[model.RoleAdmin].Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`#key-user_id`),
			)
			b.run("a key for the partner's dialer",
				chromedp.SendKeys(`#key-name`, "Outsourced dialer"),
				chromedp.SetValue(`#key-role`, model.RolePartner),
				chromedp.SetValue(`#key-user_id`, fmt.Sprint(partner.ID)),
				chromedp.Click(`form[action="/settings/api-keys"] button[type=submit]`),
				chromedp.WaitVisible(`#new-secret`),
			)
			mustContain(t, "keys", b.text(`#content`), "Outsourced dialer", partner.Email)
			b.screenshot(string(kind) + "-partner-key")
			b.checkConsole()
			keys, err := e.App.St.Read().ListAPIKeys(ctx, e.A.ID)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, k := range keys {
				found = found || (k.Name == "Outsourced dialer" && k.Role == model.RolePartner && k.UserID != nil && *k.UserID == partner.ID)
			}
			if !found {
				t.Errorf("no partner key acting for the partner: %+v", keys)
			}
		})
	}
}

func crmAccount(ctx context.Context, e *apptest.Env, act model.Actor, name string) (int64, error) {
	a, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": name})
	return a.ID, err
}
