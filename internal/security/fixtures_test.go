package security_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// fx builds the records one request needs, in workspace A, through the API as
// A's admin (or the store where no route makes them). Records that have an
// owner belong to owner: the caller's own user, or another member's when the
// matrix checks that a partner cannot reach them. A GET's fixtures are made
// once per owner and shared; every other request gets fresh ones, since it may
// change or delete them.
type fx struct {
	s     *suite
	t     *testing.T
	owner model.User
	fresh bool
}

func (f *fx) admin(method, path, body string) map[string]any {
	f.t.Helper()
	return f.s.adminJSON(f.t, method, path, body)
}

// once returns the shared fixture named key (per owner), making it with mk the
// first time; fresh fixtures are made every time.
func (f *fx) once(key string, mk func() int64) int64 {
	f.t.Helper()
	if f.fresh {
		return mk()
	}
	k := fmt.Sprintf("%s/%d", key, f.owner.ID)
	f.s.mu.Lock()
	v, ok := f.s.cache[k]
	f.s.mu.Unlock()
	if ok {
		return v
	}
	v = mk()
	f.s.mu.Lock()
	f.s.cache[k] = v
	f.s.mu.Unlock()
	return v
}

func (f *fx) uniq(p string) string { return f.s.uniq(p) }

func (f *fx) user(role string) model.User { return f.s.e.A.Users[role] }

func (f *fx) account() int64 {
	return f.once("account", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q,"employees":40,"owner_id":%d}`, f.uniq("Account "), f.owner.ID)))
	})
}

// otherAccount is a second account of the owner (a merge's duplicate).
func (f *fx) otherAccount() int64 {
	return id(f.t, f.admin("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q,"owner_id":%d}`, f.uniq("Duplicate "), f.owner.ID)))
}

func (f *fx) contactIn(stage string) int64 {
	return f.once("contact-"+stage, func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/contacts", fmt.Sprintf(`{"email":%q,"first_name":"Ada","lifecycle_stage":%q,"owner_id":%d}`, f.uniq("lead")+"@matrix.example", stage, f.owner.ID)))
	})
}

func (f *fx) contact() int64 { return f.contactIn("lead") }

// mql is a contact in the owner's desk queue.
func (f *fx) mql() int64 { return f.contactIn("mql") }

func (f *fx) otherContact() int64 {
	return id(f.t, f.admin("POST", "/api/v1/contacts", fmt.Sprintf(`{"email":%q,"owner_id":%d}`, f.uniq("dup")+"@matrix.example", f.owner.ID)))
}

func (f *fx) activity() int64 {
	return f.once("activity", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/activities", fmt.Sprintf(`{"kind":"task","subject":%q,"owner_id":%d,"contact_id":%d}`, f.uniq("Follow up "), f.owner.ID, f.contact())))
	})
}

func (f *fx) deal() int64 {
	return f.once("deal", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/deals", fmt.Sprintf(`{"name":%q,"pipeline":"digital","amount":120000,"owner_id":%d,"account_id":%d}`, f.uniq("Deal "), f.owner.ID, f.account())))
	})
}

// highTouchDeal is an open high-touch deal (cost-to-close).
func (f *fx) highTouchDeal() int64 {
	return f.once("ht-deal", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/deals", fmt.Sprintf(`{"name":%q,"pipeline":"high_touch","amount":4800000,"owner_id":%d}`, f.uniq("Big deal "), f.owner.ID)))
	})
}

// committee is a deal with a contact on its buying committee.
func (f *fx) committee() (deal, contact int64) {
	deal = id(f.t, f.admin("POST", "/api/v1/deals", fmt.Sprintf(`{"name":%q,"pipeline":"high_touch"}`, f.uniq("Committee deal "))))
	contact = f.otherContact()
	f.admin("PUT", fmt.Sprintf("/api/v1/deals/%d/committee/%d", deal, contact), `{"role":"legal","signoff":"pending"}`)
	return deal, contact
}

// customer is an account whose digital deal (owned by the AE) was won: it has
// a subscription and a CSM handoff awaiting its note.
func (f *fx) customer() int64 {
	return f.once("customer", func() int64 {
		acct := id(f.t, f.admin("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q}`, f.uniq("Customer "))))
		deal := id(f.t, f.admin("POST", "/api/v1/deals", fmt.Sprintf(`{"name":"Growth","pipeline":"digital","account_id":%d,"owner_id":%d,"amount":1200000}`, acct, f.user(model.RoleAE).ID)))
		f.admin("PATCH", fmt.Sprintf("/api/v1/deals/%d", deal), `{"outcome":"won"}`)
		return acct
	})
}

// readyCustomer is a customer whose handoff note is complete (awaiting a CSM).
func (f *fx) readyCustomer() int64 {
	acct := f.customer()
	f.admin("PATCH", fmt.Sprintf("/api/v1/customers/%d/handoff", acct), `{"goals":"Live in 3 regions","stakeholders":"Ann (COO)","risks":"Data migration"}`)
	return acct
}

// handoffItem is a checklist item of a customer's handoff.
func (f *fx) handoffItem(acct int64) int64 {
	ho := f.admin("GET", fmt.Sprintf("/api/v1/customers/%d/handoff", acct), "")
	items, _ := ho["items"].([]any)
	if len(items) == 0 {
		f.t.Fatalf("handoff without items: %v", ho)
	}
	return id(f.t, items[0].(map[string]any))
}

// subscription is a customer account with a subscription started two months ago.
func (f *fx) subscription() (acct, sub int64) {
	acct = id(f.t, f.admin("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q}`, f.uniq("Subscriber "))))
	sub = id(f.t, f.admin("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"plan":"Growth","unit_price":12000,"interval":"month","start_date":%q}`, acct, monthsAgo(2))))
	return acct, sub
}

func (f *fx) sharedSubscription() (acct, sub int64) {
	var a int64
	s := f.once("subscription", func() int64 {
		x, y := f.subscription()
		a = x
		f.s.mu.Lock()
		f.s.cache[fmt.Sprintf("subscription-acct/%d", f.owner.ID)] = x
		f.s.mu.Unlock()
		return y
	})
	if a == 0 {
		f.s.mu.Lock()
		a = f.s.cache[fmt.Sprintf("subscription-acct/%d", f.owner.ID)]
		f.s.mu.Unlock()
	}
	return a, s
}

// endedSubscription is a subscription cancelled today.
func (f *fx) endedSubscription() (acct, sub int64) {
	acct, sub = f.subscription()
	f.admin("POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sub), `{}`)
	return acct, sub
}

// renewal is an open renewal of a yearly subscription nearing its end.
func (f *fx) renewal() (acct, renewal int64) {
	acct = id(f.t, f.admin("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q}`, f.uniq("Renewing "))))
	f.admin("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":12000,"interval":"year","start_date":%q}`, acct, monthsAgo(11)))
	if _, err := f.s.e.App.Subscriptions.RunRenewals(ctx, f.s.e.A.ID, today()); err != nil {
		f.t.Fatal(err)
	}
	rs := f.admin("GET", fmt.Sprintf("/api/v1/renewals?account_id=%d", acct), "")
	items, _ := rs["items"].([]any)
	if len(items) != 1 {
		f.t.Fatalf("renewals of %d: %v", acct, rs)
	}
	return acct, id(f.t, items[0].(map[string]any))
}

func (f *fx) form() int64 {
	return f.once("form", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/forms", fmt.Sprintf(`{"name":%q,"kind":"signup"}`, f.uniq("Form "))))
	})
}

// asset is a content item with an uploaded file.
func (f *fx) asset() int64 {
	return f.once("asset", func() int64 {
		aid := id(f.t, f.admin("POST", "/api/v1/content", fmt.Sprintf(`{"title":%q,"url":"https://cdn.example/guide.pdf","type":"guide"}`, f.uniq("Guide "))))
		body, ctype := multipartBody(nil, "file", "guide.pdf", testPDF)
		if r := f.s.api(f.t, f.s.e.A.Keys[model.RoleAdmin], req{method: "PUT", path: fmt.Sprintf("/api/v1/content/%d/file", aid), body: body, ctype: ctype}); r.status != 200 {
			f.t.Fatalf("asset file: %s", r)
		}
		return aid
	})
}

func (f *fx) site() int64 {
	return f.once("site", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/tracking/sites", fmt.Sprintf(`{"name":%q,"allowed_origins":["https://www.matrix.example"]}`, f.uniq("Site "))))
	})
}

const seqBody = `{"name":%q,"status":%q,"exit_rules":["replied"],"steps":[{"kind":"wait","duration":"1h"},{"kind":"send_email","subject":"Hello","text":"Hi there"}]}`

func (f *fx) sequenceIn(status string) int64 {
	return f.once("sequence-"+status, func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/sequences", fmt.Sprintf(seqBody, f.uniq("Sequence "), status)))
	})
}

func (f *fx) sequence() int64 { return f.sequenceIn("active") }

// enrollment is a contact enrolled in an active sequence, in status (active,
// paused by hand, or held at a step).
func (f *fx) enrollment(status string) int64 {
	return f.once("enrollment-"+status, func() int64 {
		seq := id(f.t, f.admin("POST", "/api/v1/sequences", fmt.Sprintf(seqBody, f.uniq("Enrolling "), "active")))
		res := f.admin("POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", seq), fmt.Sprintf(`{"contact_ids":[%d]}`, f.otherContact()))
		enrolled, _ := res["enrolled"].([]any)
		if len(enrolled) != 1 {
			f.t.Fatalf("enrol: %v", res)
		}
		eid := int64(enrolled[0].(float64))
		switch status {
		case "paused":
			f.admin("POST", fmt.Sprintf("/api/v1/enrollments/%d/pause", eid), "")
		case "held":
			ws := f.s.e.A.ID
			err := f.s.e.App.St.InTx(ctx, func(q store.Q) error {
				e, err := q.GetEnrollment(ctx, ws, eid, true)
				if err != nil {
					return err
				}
				e.Status, e.HoldReason = "held", "stale"
				return q.SetEnrollmentState(ctx, ws, &e)
			})
			if err != nil {
				f.t.Fatal(err)
			}
		}
		return eid
	})
}

func (f *fx) pool() int64 {
	return f.once("pool", func() int64 {
		pid := id(f.t, f.admin("POST", "/api/v1/pools", fmt.Sprintf(`{"name":%q,"role":"ldr","capacity":5}`, f.uniq("Pool "))))
		f.admin("PUT", fmt.Sprintf("/api/v1/pools/%d/members/%d", pid, f.user(model.RoleLDR).ID), `{}`)
		return pid
	})
}

func (f *fx) webhook() int64 {
	return f.once("webhook", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["contact.created"]}`, f.s.hooks.URL+"/"+f.uniq("hook"))))
	})
}

// delivery is a pending delivery of a fresh endpoint: a contact created after
// the endpoint is an event for it.
func (f *fx) delivery() (hook, delivery int64) {
	hook = id(f.t, f.admin("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["contact.created"]}`, f.s.hooks.URL+"/"+f.uniq("hook"))))
	f.otherContact()
	ds := f.admin("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook), "")
	items, _ := ds["items"].([]any)
	if len(items) == 0 {
		f.t.Fatalf("no delivery for endpoint %d: %v", hook, ds)
	}
	return hook, id(f.t, items[0].(map[string]any))
}

func (f *fx) apiKey() int64 {
	return id(f.t, f.admin("POST", "/api/v1/api-keys", fmt.Sprintf(`{"name":%q,"role":"ae"}`, f.uniq("Key "))))
}

func (f *fx) customField() int64 {
	return id(f.t, f.admin("POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"contact","key":%q,"type":"text"}`, f.uniq("cf_"))))
}

func (f *fx) spend() int64 {
	return f.once("spend", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/spend", `{"month":"2026-04","amount":4242,"category":"tools","note":"matrix"}`))
	})
}

const profileBody = `{"name":%q,"role":"ae","base_salary":9000000,"loaded_multiplier":1.4,"time_split":{"high_touch":1}}`

func (f *fx) profile() int64 {
	return f.once("profile", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/cost-profiles", fmt.Sprintf(profileBody, f.uniq("Profile "))))
	})
}

const scenarioBody = `{"name":%q,"kind":"partner","reps":1,"retainer_monthly":100000}`

func (f *fx) scenario() int64 {
	return f.once("scenario", func() int64 {
		res := f.admin("POST", "/api/v1/staffing/scenarios", fmt.Sprintf(scenarioBody, f.uniq("Scenario ")))
		return id(f.t, res["scenario"].(map[string]any))
	})
}

// alert is an open guardrail alert (alerts are raised by a job; the store makes one).
func (f *fx) alert() int64 {
	return f.once("alert", func() int64 {
		a := store.EconomicsAlert{Segment: "smb", Motion: "high_touch", PreviousStatus: "amber", Status: "red",
			Detail:     []byte(`{"segment":"smb","motion":"high_touch","status":"red","ltv_to_cac":0.9,"reasons":["matrix"]}`),
			WindowFrom: "2025-01", WindowTo: "2025-12", CreatedAt: time.Now().UTC()}
		if err := f.s.e.App.St.InTx(ctx, func(q store.Q) error { return q.InsertEconomicsAlert(ctx, f.s.e.A.ID, &a) }); err != nil {
			f.t.Fatal(err)
		}
		return a.ID
	})
}

// importID is a finished import with rejected rows (imports run as jobs; the
// store makes one).
func (f *fx) importID() int64 {
	return f.once("import", func() int64 {
		im := model.Import{ObjectType: "contact", Filename: "people.csv", Status: "done", CreatedBy: "matrix"}
		ws := f.s.e.A.ID
		err := f.s.e.App.St.InTx(ctx, func(q store.Q) error {
			if err := q.CreateImport(ctx, ws, &im); err != nil {
				return err
			}
			if err := q.SetImportCounts(ctx, ws, im.ID, 2, 1, 1, 0); err != nil {
				return err
			}
			return q.AddImportErrors(ctx, im.ID, []model.ImportError{{Line: 2, Col: 1, Field: "email", Reason: "not an email address", Raw: "bob at example"}})
		})
		if err != nil {
			f.t.Fatal(err)
		}
		return im.ID
	})
}

// handoff is a pending LDR → AE handoff (an SQL awaiting the AE's decision)
// on a deal the owner owns, handed from the LDR to the AE.
func (f *fx) handoff() (deal, handoff int64) {
	h := f.once("handoff", func() int64 {
		c := f.contactIn("sql")
		d := id(f.t, f.admin("POST", "/api/v1/deals", fmt.Sprintf(`{"name":%q,"pipeline":"digital","amount":90000,"owner_id":%d}`, f.uniq("SQL deal "), f.owner.ID)))
		ldr, ae := f.user(model.RoleLDR).ID, f.user(model.RoleAE).ID
		h := model.Handoff{ContactID: c, DealID: &d, FromUserID: &ldr, ToUserID: &ae, Kind: "ldr_to_ae", BANT: model.BANT{Budget: "b", Authority: "a", Need: "n", Timeline: "t"}, CreatedAt: time.Now().UTC()}
		if err := f.s.e.App.St.InTx(ctx, func(q store.Q) error { return q.InsertHandoffAt(ctx, f.s.e.A.ID, &h) }); err != nil {
			f.t.Fatal(err)
		}
		return h.ID
	})
	got, err := f.s.e.App.St.Read().GetHandoff(ctx, f.s.e.A.ID, h)
	if err != nil || got.DealID == nil {
		f.t.Fatalf("handoff %d: %v %+v", h, err, got)
	}
	return *got.DealID, h
}

// partner is an outsourced partner record (no users: a user works for one
// partner at most).
func (f *fx) partner() int64 {
	return f.once("partner", func() int64 {
		return id(f.t, f.admin("POST", "/api/v1/partners", fmt.Sprintf(`{"name":%q,"start_month":"2026-01","retainer_monthly":400000}`, f.uniq("Partner "))))
	})
}

// resetToken is an unused password reset token of a new user of its own
// (using it changes that user's password), requested from an address of its
// own so the per-IP reset throttle is not the matrix's.
func (f *fx) resetToken() string {
	f.t.Helper()
	u := f.s.newUser(f.t, "")
	n := u.ID
	if err := f.s.e.App.Auth.RequestPasswordReset(ctx, u.Email, fmt.Sprintf("10.77.%d.%d", n/250%250, n%250+1)); err != nil {
		f.t.Fatal(err)
	}
	tok := f.s.resets.token(u.Email)
	if tok == "" {
		f.t.Fatalf("no reset mail to %s", u.Email)
	}
	return tok
}

// Request builders.

func get(format string, a ...any) req { return req{method: "GET", path: fmt.Sprintf(format, a...)} }

func post(path string, form url.Values) req {
	if form == nil {
		form = url.Values{}
	}
	return req{method: "POST", path: path, form: form}
}

func call(method, path, body string) req { return req{method: method, path: path, body: body} }

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func itoa(n int64) string { return fmt.Sprint(n) }

func csvBody(s string) req {
	return req{body: strings.TrimLeft(s, "\n"), ctype: "text/csv"}
}
