package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeChromium()
	storetest.Cleanup()
	os.Exit(code)
}

// TestJourney is what a new user does on day one: sign in, look at the
// dashboard, add a contact and log a call, find the contact in the list, import
// a spreadsheet and read its reconciliation report. It runs on SQLite and, when
// available, on PostgreSQL.
func TestJourney(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			seedDemo(t, e)
			shot := func(name string) { b.screenshot(string(kind) + "-" + name) }

			// Sign in through the form; the app sends us back where we were going.
			user := e.A.Users[model.RoleAdmin].Email
			b.run("open the app",
				chromedp.Navigate(e.URL+"/deals"),
				chromedp.WaitVisible(`#email`),
			)
			if loc := b.location(); !strings.Contains(loc, "/login?next=%2Fdeals") {
				t.Fatalf("anonymous visit landed on %s", loc)
			}
			shot("00-login")
			b.run("sign in with a wrong password",
				chromedp.SendKeys(`#email`, user),
				chromedp.SendKeys(`#password`, "not the password"),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`.alert-bad`),
			)
			mustContain(t, "failed login", b.text(`.alert-bad`), "Wrong email or password.")
			b.run("sign in",
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`table.table`),
			)
			if loc := b.location(); !strings.HasSuffix(loc, "/deals") {
				t.Errorf("after login: %s, want /deals", loc)
			}

			// Dashboard with demo data and its charts.
			b.run("dashboard",
				chromedp.Navigate(e.URL+"/"),
				chromedp.WaitVisible(`.tiles`),
				chromedp.WaitVisible(`svg[aria-labelledby="chart-lifecycle-t chart-lifecycle-d"]`),
			)
			mustContain(t, "dashboard tiles", b.text(`.tiles`), "Accounts", "Contacts", "Open deals", "$")
			shot("01-dashboard")

			// Create a contact through the form, with a validation round first.
			b.run("new contact form",
				chromedp.Navigate(e.URL+"/contacts/new"),
				chromedp.WaitVisible(`#f-email`),
				chromedp.SendKeys(`#f-email`, "ada at example"),
				chromedp.SendKeys(`#f-first_name`, "Ada"),
				chromedp.SendKeys(`#f-last_name`, "Lovelace"),
				chromedp.Click(`form.form button[type=submit]`),
				chromedp.WaitVisible(`#f-email-err`),
			)
			mustContain(t, "email error", b.text(`#f-email-err`), "not a valid email address")
			shot("10-contact-form-error")
			b.run("fix and create",
				chromedp.Clear(`#f-email`),
				chromedp.SendKeys(`#f-email`, "ada.lovelace@analytical.example"),
				chromedp.SendKeys(`#f-title`, "Head of Engineering"),
				chromedp.SetValue(`#f-lifecycle_stage`, "sql"),
				chromedp.SetValue(`#f-account_id`, fmt.Sprint(demoAccountID)),
				chromedp.Click(`form.form button[type=submit]`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "contact page", b.text(`.page-head`), "Ada Lovelace", "Head of Engineering", "SQL")

			// Log a call on the new contact's timeline.
			b.run("log a call",
				chromedp.Click(`.log-activity > summary`),
				chromedp.WaitVisible(`#act-subject`),
				chromedp.SendKeys(`#act-subject`, "Qualification call"),
				chromedp.SendKeys(`#act-duration_minutes`, "30"),
				chromedp.SendKeys(`#act-body`, "Budget confirmed for Q3. Wants a demo for the buying group."),
			)
			shot("09-log-activity-form")
			b.run("save the call",
				chromedp.Click(`.log-activity button[type=submit]`),
				// Before the call the timeline held only the creation entry.
				chromedp.WaitVisible(`.timeline .tl-item:not(.tl-history)`),
			)
			mustContain(t, "timeline", b.text(`.timeline`), "Qualification call", "30 min", "Contact created")
			shot("03-contact-detail")

			// The list shows it; the stage filter narrows to it.
			b.run("contacts list",
				chromedp.Navigate(e.URL+"/contacts"),
				chromedp.WaitVisible(`table.table`),
			)
			mustContain(t, "contacts list", b.text(`table.table`), "Ada Lovelace", "ada.lovelace@analytical.example", "Globex Corporation")
			shot("02-contacts-list")
			// Choosing a stage submits the filter form (app.js); the Clear link
			// exists only on the filtered page.
			b.run("filter by stage",
				chromedp.SetValue(`#f-stage`, "sql"),
				chromedp.WaitVisible(`.filter-actions a.btn-ghost`),
			)
			mustContain(t, "filtered list", b.text(`.pager-count`), "of 2 contacts")
			mustContain(t, "filtered list", b.text(`table.table`), "Ada Lovelace", "Alice Nguyen")

			// The reconciliation report, as the importer records it.
			id := recordImport(t, e)
			b.run("import report",
				chromedp.Navigate(fmt.Sprintf("%s/imports/%d", e.URL, id)),
				chromedp.WaitVisible(`.recon-check.ok`),
				chromedp.WaitVisible(`a[href$="/errors.csv"]`),
			)
			for fig, want := range map[string]string{"rows": "24", "accepted": "20", "merged": "2", "rejected": "2"} {
				if got := b.text(`#fig-` + fig); got != want {
					t.Errorf("%s: %q, want %q", fig, got, want)
				}
			}
			shot("04-import-report")

			// The other pages, for a look at the whole product.
			b.run("accounts", chromedp.Navigate(e.URL+"/accounts?sort=-employees"), chromedp.WaitVisible(`table.table`))
			shot("11-accounts-list")
			b.run("account", chromedp.Navigate(fmt.Sprintf("%s/accounts/%d", e.URL, demoAccountID)), chromedp.WaitVisible(`.timeline`))
			mustContain(t, "account page", b.text(`.record-main`), "Ada Lovelace", "Globex — global rollout")
			shot("12-account-detail")
			b.run("deals", chromedp.Navigate(e.URL+"/deals"), chromedp.WaitVisible(`table.table`))
			shot("13-deals-list")
			b.run("deal", chromedp.Click(`td.primary a`), chromedp.WaitVisible(`.stepper`))
			shot("14-deal-detail")
			b.run("deal edit", chromedp.Navigate(b.location()+"/edit"), chromedp.WaitVisible(`#f-amount`))
			shot("15-deal-form")
			b.run("imports", chromedp.Navigate(e.URL+"/imports"), chromedp.WaitVisible(`table.table`))
			shot("16-imports-list")
			b.run("new import", chromedp.Navigate(e.URL+"/imports/new"), chromedp.WaitVisible(`#f-file`))
			shot("17-import-new")
			b.run("api keys",
				chromedp.Navigate(e.URL+"/settings/api-keys"),
				chromedp.WaitVisible(`#key-name`),
				chromedp.SendKeys(`#key-name`, "Data warehouse sync"),
				chromedp.Click(`.record-side button[type=submit]`),
				chromedp.WaitVisible(`#new-secret`),
			)
			shot("18-api-keys")
			b.run("not found", chromedp.Navigate(e.URL+"/contacts/987654"), chromedp.WaitVisible(`.error-page`))
			mustContain(t, "404 page", b.text(`.error-page`), "404", "Page not found")
			shot("19-not-found")
			b.run("merge review",
				chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", e.URL, demoContactID)),
				chromedp.WaitVisible(`#merge-other`),
				chromedp.SendKeys(`#merge-other`, "ada.lovelace@analytical.example"),
				chromedp.Click(`.record-side form[action$="/merge"] button[type=submit]`),
				chromedp.WaitVisible(`.merge-grid`),
			)
			shot("20-merge-confirm")

			t.Run("upload CSV", func(t *testing.T) {
				uploadCSV(t, b, e, shot)
			})

			// Sign out from the user menu; the dashboard then asks for a login.
			b.run("sign out",
				chromedp.Navigate(e.URL+"/"),
				chromedp.Click(`.usermenu summary`),
				chromedp.WaitVisible(`.usermenu .menu`),
				chromedp.Click(`.usermenu form[action="/logout"] button`),
				chromedp.WaitVisible(`#email`),
				chromedp.Navigate(e.URL+"/"),
				chromedp.WaitVisible(`#email`),
			)
			b.checkConsole()
		})
	}
}

// uploadCSV uploads a small contact file with one bad row and reads the report.
func uploadCSV(t *testing.T, b *browser, e *apptest.Env, shot func(string)) {
	csv := "email,first_name,last_name,lifecycle_stage\n" +
		"linus@kernel.example,Linus,Torvalds,lead\n" +
		"not-an-email,Bad,Row,lead\n" +
		"margaret@apollo.example,Margaret,Hamilton,customer\n"
	path := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	b.run("upload",
		chromedp.Navigate(e.URL+"/imports/new"),
		chromedp.WaitVisible(`#f-file`),
		chromedp.SetValue(`#f-object_type`, "contact"),
		chromedp.SetUploadFiles(`#f-file`, []string{path}),
		chromedp.Click(`form.form button[type=submit]`),
		// The report refreshes itself until the import is done.
		chromedp.WaitVisible(`.recon-check.ok`),
	)
	for fig, want := range map[string]string{"rows": "3", "accepted": "2", "merged": "0", "rejected": "1"} {
		if got := b.text(`#fig-` + fig); got != want {
			t.Errorf("%s: %q, want %q", fig, got, want)
		}
	}
	mustContain(t, "rejected row", b.text(`table.compact`), "3:", "email", "not-an-email")
	mustContain(t, "how the file was read", b.text(`section[aria-labelledby="h-read"]`), "Columns imported", "email → email")
	shot("05-import-upload-report")
}

// demoAccountID is the account the new contact is attached to and
// demoContactID a contact there (set by seedDemo).
var demoAccountID, demoContactID int64

// seedDemo fills workspace A with a small, plausible book of business so the
// dashboard and lists look like a real week.
func seedDemo(t *testing.T, e *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	act := e.Principal(t, e.A.Keys[model.RoleAdmin]).Actor("127.0.0.1")
	ae := fmt.Sprint(e.A.Users[model.RoleAE].ID)
	mgr := fmt.Sprint(e.A.Users[model.RoleManager].ID)
	ldr := fmt.Sprint(e.A.Users[model.RoleLDR].ID)
	accounts := []crm.Fields{
		{"name": "Globex Corporation", "domain": "globex.example", "employees": "4200", "industry": "Manufacturing", "region": "NA", "segment": "enterprise", "motion": "high_touch", "annual_revenue": "820000000000", "owner_id": ae},
		{"name": "Initech", "domain": "initech.example", "employees": "310", "industry": "Software", "region": "NA", "segment": "mid_market", "motion": "high_touch", "owner_id": mgr},
		{"name": "Umbrella Health", "domain": "umbrella.example", "employees": "12000", "industry": "Healthcare", "region": "EMEA", "segment": "enterprise", "motion": "high_touch", "owner_id": ae},
		{"name": "Bluth's Banana Stand", "domain": "bluth.example", "employees": "12", "industry": "Retail", "segment": "smb", "motion": "digital"},
		{"name": "Pied Piper", "domain": "piedpiper.example", "employees": "45", "industry": "Software", "segment": "smb", "motion": "digital"},
		{"name": "Hooli", "domain": "hooli.example", "employees": "650", "industry": "Software", "segment": "mid_market", "motion": "high_touch"},
		{"name": "Vandelay Industries", "domain": "vandelay.example", "industry": "Import/Export"},
	}
	var ids []int64
	for _, f := range accounts {
		a, err := e.App.CRM.CreateAccount(ctx, act, f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	demoAccountID = ids[0]
	people := []struct{ first, last, title, stage string }{
		{"Hank", "Scorpio", "CEO", "opportunity"}, {"Peter", "Gibbons", "Engineer", "mql"}, {"Alice", "Nguyen", "Chief Medical Officer", "sql"},
		{"George", "Bluth", "Owner", "customer"}, {"Richard", "Hendricks", "CEO", "customer"}, {"Gavin", "Belson", "CEO", "evangelist"},
		{"Art", "Vandelay", "Buyer", "lead"}, {"Bill", "Lumbergh", "VP Operations", "lead"}, {"Jared", "Dunn", "COO", "mql"},
		{"Monica", "Hall", "Partner", "nurture"}, {"Milton", "Waddams", "Collator", "disqualified"}, {"Dinesh", "Chugtai", "Engineer", "subscriber"},
		{"Bertram", "Gilfoyle", "Systems Architect", "lead"}, {"Lucille", "Bluth", "Chair", "lead"},
	}
	var cids []int64
	for i, p := range people {
		acct := ids[i%len(ids)]
		c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{
			"email": strings.ToLower(p.first+"."+p.last) + "@" + accounts[i%len(accounts)]["domain"].(string), "first_name": p.first, "last_name": p.last,
			"title": p.title, "lifecycle_stage": p.stage, "account_id": fmt.Sprint(acct), "source": []string{"webinar", "referral", "outbound", "pricing page"}[i%4],
			"owner_id": []string{ae, mgr, ldr}[i%3],
		})
		if err != nil {
			t.Fatal(err)
		}
		cids = append(cids, c.ID)
	}
	demoContactID = cids[0]
	deals := []crm.Fields{
		{"name": "Globex — global rollout", "account_id": fmt.Sprint(ids[0]), "pipeline": "high_touch", "stage": "negotiation", "amount": "48000000", "expected_close_date": "2026-09-30", "owner_id": ae},
		{"name": "Umbrella — clinical ops", "account_id": fmt.Sprint(ids[2]), "pipeline": "high_touch", "stage": "approach", "amount": "36500000", "expected_close_date": "2026-11-15", "owner_id": ae},
		{"name": "Initech pilot", "account_id": fmt.Sprint(ids[1]), "pipeline": "high_touch", "stage": "prospect", "amount": "1250000", "owner_id": mgr},
		{"name": "Hooli — platform team", "account_id": fmt.Sprint(ids[5]), "pipeline": "high_touch", "stage": "close", "amount": "9800000"},
		{"name": "Hooli — data team", "account_id": fmt.Sprint(ids[5]), "pipeline": "high_touch", "stage": "suspect", "amount": "2000000"},
		{"name": "Pied Piper — team plan", "account_id": fmt.Sprint(ids[4]), "pipeline": "digital", "stage": "trial", "amount": "588000"},
		{"name": "Bluth starter plan", "account_id": fmt.Sprint(ids[3]), "pipeline": "digital", "stage": "won", "amount": "99000", "outcome": "won"},
		{"name": "Pied Piper — annual", "account_id": fmt.Sprint(ids[4]), "pipeline": "digital", "stage": "proposal", "amount": "1200000"},
		{"name": "Initech renewal", "account_id": fmt.Sprint(ids[1]), "pipeline": "high_touch", "stage": "order", "amount": "4500000", "outcome": "won"},
		{"name": "Vandelay latex deal", "account_id": fmt.Sprint(ids[6]), "pipeline": "high_touch", "stage": "negotiation", "amount": "750000", "outcome": "no_decision", "loss_reason": "budget frozen"},
	}
	for _, f := range deals {
		if _, err := e.App.CRM.CreateDeal(ctx, act, f); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	for i, a := range []crm.Fields{
		{"kind": "meeting", "subject": "Discovery with the buying group", "duration_minutes": "60", "participants": "hank.scorpio@globex.example, cfo@globex.example"},
		{"kind": "demo", "subject": "Forecasting demo", "duration_minutes": "45", "body": "They want SSO and an EU data region."},
		{"kind": "call", "subject": "Intro call", "duration_minutes": "20"},
		{"kind": "email", "subject": "Sent the security questionnaire"},
		{"kind": "contract_discussion", "subject": "Redlines from legal", "duration_minutes": "90"},
	} {
		a["contact_id"] = fmt.Sprint(cids[i%3])
		a["account_id"] = fmt.Sprint(ids[i%3])
		a["occurred_at"] = now.Add(-time.Duration(i*19) * time.Hour).Format(time.RFC3339)
		if _, err := e.App.CRM.CreateActivity(ctx, act, a); err != nil {
			t.Fatal(err)
		}
	}
}

// recordImport stores a finished import with its reconciliation and rejected
// rows, as the importer leaves one.
func recordImport(t *testing.T, e *apptest.Env) int64 {
	t.Helper()
	ctx := context.Background()
	im := model.Import{ObjectType: "contact", Filename: "webinar-leads-march.csv", CreatedBy: "user:" + e.A.Users[model.RoleAdmin].Email}
	err := e.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateImport(ctx, e.A.ID, &im); err != nil {
			return err
		}
		if err := q.AddImportChunk(ctx, im.ID, 0, make([]byte, 2817)); err != nil {
			return err
		}
		if err := q.SetImportStatus(ctx, e.A.ID, im.ID, "running", ""); err != nil {
			return err
		}
		if err := q.SetImportCounts(ctx, e.A.ID, im.ID, 24, 20, 2, 2); err != nil {
			return err
		}
		if err := q.AddImportErrors(ctx, im.ID, []model.ImportError{
			{Line: 7, Col: 2, Field: "email", Reason: `"jane.doe@" is not a valid email address`, Raw: "Jane,jane.doe@,lead,webinar"},
			{Line: 19, Col: 4, Field: "lifecycle_stage", Reason: `"hot lead" is not one of visitor, subscriber, lead, mql, sql, opportunity, customer, evangelist, disqualified, nurture`, Raw: "Sam,sam@acme.example,VP Sales,hot lead"},
		}); err != nil {
			return err
		}
		return q.SetImportStatus(ctx, e.A.ID, im.ID, "done", "")
	})
	if err != nil {
		t.Fatal(err)
	}
	return im.ID
}
