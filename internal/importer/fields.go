package importer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
)

type kind int

const (
	kText kind = iota
	kEmail
	kDomain
	kInt
	kMoney
	kDate     // YYYY-MM-DD
	kTime     // timestamp
	kEnum     // lower-case value from a set
	kOutcome  // won/lost/no_decision with CRM aliases
	kCurrency // ISO 4217
	kList     // comma/semicolon separated
	kBool     // TRUE/FALSE, yes/no, 1/0
)

// target is one field a column can be mapped to.
type target struct {
	name    string
	kind    kind
	aliases []string // header spellings that map here automatically
	enum    *csvin.Enum
	max     int
}

var lifecycleEnum = csvin.NewEnum("lifecycle stage", model.LifecycleStages, map[string]string{
	"marketing qualified lead": "mql", "marketingqualifiedlead": "mql", "sales qualified lead": "sql", "salesqualifiedlead": "sql",
	"prospect": "lead", "new": "lead", "open": "lead", "other": "lead", "unqualified": "disqualified",
})

var outcomeAliases = map[string]string{
	"won": "won", "closed won": "won", "closedwon": "won", "win": "won",
	"lost": "lost", "closed lost": "lost", "closedlost": "lost", "loss": "lost",
	"no decision": "no_decision", "nodecision": "no_decision", "no_decision": "no_decision", "closed no decision": "no_decision",
}

var outcomeEnum = csvin.NewEnum("outcome", model.Outcomes, outcomeAliases)

var activityEnum = csvin.NewEnum("activity kind", model.ActivityKinds, map[string]string{
	"phone call": "call", "phone": "call", "meeting held": "meeting", "contract": "contract_discussion", "todo": "task", "to do": "task",
})

var motionEnum = csvin.NewEnum("motion", model.Motions, map[string]string{"high touch": "high_touch", "hightouch": "high_touch", "enterprise": "high_touch", "smb": "digital"})

var consentEnum = csvin.NewEnum("consent basis", []string{"consent", "legitimate_interest", "contract", "none"}, map[string]string{"opt in": "consent", "opted in": "consent"})

var intervalEnum = csvin.NewEnum("billing interval", model.BillingIntervals, map[string]string{
	"monthly": "month", "months": "month", "1 month": "month", "mo": "month", "m": "month",
	"quarterly": "quarter", "quarters": "quarter", "3 months": "quarter", "q": "quarter",
	"annual": "year", "annually": "year", "yearly": "year", "years": "year", "12 months": "year", "yr": "year", "y": "year",
})

var subStatusEnum = csvin.NewEnum("subscription status", []string{"active", "cancelled"}, map[string]string{
	"canceled": "cancelled", "ended": "cancelled", "churned": "cancelled", "expired": "cancelled", "inactive": "cancelled", "terminated": "cancelled",
	"live": "active", "trialing": "active", "past due": "active", "past_due": "active", "in trial": "active", "non renewing": "active", "non_renewing": "active",
})

var targets = map[string][]target{
	"subscription": {
		{name: "external_id", aliases: []string{"subscription id", "record id", "id"}, max: 200},
		{name: "account_external_id", aliases: []string{"account id", "company id", "customer id", "customer external id", "associated company id"}, max: 200},
		{name: "account_domain", kind: kDomain, aliases: []string{"company domain", "company domain name", "website", "domain", "customer domain"}},
		{name: "deal_external_id", aliases: []string{"deal id", "opportunity id"}, max: 200},
		{name: "plan", aliases: []string{"plan name", "product", "product name", "plan id"}, max: 200},
		{name: "quantity", kind: kInt, aliases: []string{"seats", "units", "qty", "licenses", "licences"}},
		{name: "unit_price", kind: kMoney, aliases: []string{"price", "unit price", "price per unit", "plan amount", "unit amount"}},
		{name: "currency", kind: kCurrency, aliases: []string{"currency code"}},
		{name: "interval", kind: kEnum, enum: intervalEnum, aliases: []string{"billing interval", "billing period", "billing cycle", "plan interval", "billing frequency", "frequency"}},
		{name: "start_date", kind: kDate, aliases: []string{"start", "started", "started at", "start date", "subscription start", "activated at", "created"}},
		{name: "end_date", kind: kDate, aliases: []string{"end", "ended", "ended at", "end date", "cancelled at", "canceled at", "cancellation date", "churn date", "churned at"}},
		{name: "renewal_date", kind: kDate, aliases: []string{"renewal", "renews at", "next renewal", "next renewal date", "current term end", "current period end"}},
		{name: "term_months", kind: kInt, aliases: []string{"term", "term length", "contract term", "contract length", "term (months)"}},
		{name: "auto_renew", kind: kBool, aliases: []string{"auto renew", "autorenew", "auto renews", "renews automatically"}},
		{name: "status", kind: kEnum, enum: subStatusEnum, aliases: []string{"subscription status", "state"}},
	},
	"account": {
		{name: "external_id", aliases: []string{"record id", "company id", "account id", "id"}, max: 200},
		{name: "name", aliases: []string{"company", "company name", "account name", "account"}, max: 300},
		{name: "domain", kind: kDomain, aliases: []string{"website", "company domain", "company domain name", "url", "web site"}},
		{name: "employees", kind: kInt, aliases: []string{"number of employees", "employee count", "headcount", "employees count"}},
		{name: "annual_revenue", kind: kMoney, aliases: []string{"revenue", "annual revenue"}},
		{name: "budget", kind: kMoney},
		{name: "currency", kind: kCurrency},
		{name: "industry", aliases: []string{"sector", "vertical"}, max: 200},
		{name: "region", aliases: []string{"territory", "country/region", "geo"}, max: 200},
		{name: "owner_email", kind: kEmail, aliases: []string{"owner", "account owner", "company owner", "owner email"}},
		{name: "segment", max: 64},
		{name: "motion", kind: kEnum, enum: motionEnum},
	},
	"contact": {
		{name: "external_id", aliases: []string{"record id", "contact id", "id"}, max: 200},
		{name: "email", kind: kEmail, aliases: []string{"email address", "e-mail", "e-mail address", "mail"}},
		{name: "first_name", aliases: []string{"first name", "firstname", "given name"}, max: 200},
		{name: "last_name", aliases: []string{"last name", "lastname", "surname", "family name"}, max: 200},
		{name: "title", aliases: []string{"job title", "position", "role"}, max: 200},
		{name: "phone", aliases: []string{"phone number", "mobile", "mobile phone", "telephone"}, max: 64},
		{name: "lifecycle_stage", kind: kEnum, enum: lifecycleEnum, aliases: []string{"lifecycle stage", "lifecycle", "stage", "status", "lead status"}},
		{name: "owner_email", kind: kEmail, aliases: []string{"owner", "contact owner", "owner email"}},
		{name: "source", aliases: []string{"lead source", "original source", "channel"}, max: 200},
		{name: "utm_source", max: 200}, {name: "utm_medium", max: 200}, {name: "utm_campaign", max: 200},
		{name: "consent_basis", kind: kEnum, enum: consentEnum, aliases: []string{"consent", "legal basis"}},
		{name: "consent_source", max: 200},
		{name: "consent_at", kind: kTime, aliases: []string{"consent date", "opt in date"}},
		{name: "account_external_id", aliases: []string{"company id", "account id", "associated company id"}, max: 200},
		{name: "account_domain", kind: kDomain, aliases: []string{"company domain", "company domain name", "website", "company website"}},
	},
	"deal": {
		{name: "external_id", aliases: []string{"record id", "deal id", "opportunity id", "id"}, max: 200},
		{name: "name", aliases: []string{"deal name", "opportunity name", "deal", "opportunity"}, max: 300},
		{name: "account_external_id", aliases: []string{"company id", "account id", "associated company id"}, max: 200},
		{name: "account_name", aliases: []string{"company", "company name", "account name", "account"}, max: 300},
		{name: "account_domain", kind: kDomain, aliases: []string{"company domain", "website"}},
		{name: "amount", kind: kMoney, aliases: []string{"deal amount", "value", "deal value", "opportunity amount"}},
		{name: "currency", kind: kCurrency, aliases: []string{"currency code", "deal currency"}},
		{name: "pipeline", max: 64},
		{name: "stage", aliases: []string{"deal stage", "opportunity stage", "sales stage"}, max: 64},
		{name: "owner_email", kind: kEmail, aliases: []string{"owner", "deal owner", "opportunity owner"}},
		{name: "expected_close_date", kind: kDate, aliases: []string{"close date", "expected close", "expected close date"}},
		{name: "outcome", kind: kOutcome, enum: outcomeEnum, aliases: []string{"result", "won/lost", "status"}},
		{name: "loss_reason", aliases: []string{"closed lost reason", "lost reason", "reason lost"}, max: 500},
		{name: "closed_at", kind: kTime, aliases: []string{"closed date", "close time", "date closed"}},
		{name: "created_at", kind: kTime, aliases: []string{"create date", "created date", "created"}},
	},
	"activity": {
		{name: "external_id", aliases: []string{"record id", "activity id", "id"}, max: 200},
		{name: "kind", kind: kEnum, enum: activityEnum, aliases: []string{"type", "activity type"}},
		{name: "subject", aliases: []string{"title", "activity subject"}, max: 500},
		{name: "body", aliases: []string{"notes", "description", "note"}, max: 20000},
		{name: "occurred_at", kind: kTime, aliases: []string{"date", "activity date", "timestamp", "when"}},
		{name: "duration_minutes", kind: kInt, aliases: []string{"duration", "duration (minutes)", "minutes"}},
		{name: "owner_email", kind: kEmail, aliases: []string{"owner", "activity owner", "rep"}},
		{name: "contact_email", kind: kEmail, aliases: []string{"contact", "contact email", "email"}},
		{name: "account_external_id", aliases: []string{"company id", "account id"}, max: 200},
		{name: "account_domain", kind: kDomain, aliases: []string{"company domain", "website"}},
		{name: "deal_external_id", aliases: []string{"deal id", "opportunity id"}, max: 200},
		{name: "participants", kind: kList, aliases: []string{"attendees"}},
	},
}

// ObjectTypes maps the plural names used in URLs and flags to object types.
var ObjectTypes = map[string]string{"accounts": "account", "contacts": "contact", "deals": "deal", "activities": "activity", "subscriptions": "subscription",
	"account": "account", "contact": "contact", "deal": "deal", "activity": "activity", "subscription": "subscription"}

// ImportObjectTypes are the object types an import stores (model.ObjectTypes,
// which carry custom fields, plus subscriptions).
var ImportObjectTypes = append(append([]string{}, model.ObjectTypes...), "subscription")

func headerKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// column is one mapped CSV column.
type column struct {
	idx    int
	header string
	t      target
	custom *model.CustomField
	values map[string]string // value map for this column (lower-cased keys)
	date   csvin.DateLayout
}

// planColumns maps header columns to targets: explicit mapping first (source header
// → field name, "" or "-" to ignore), then exact field names, custom field keys and
// labels, then aliases. Unmapped columns are reported, never silently dropped.
func planColumns(obj string, header []string, opts Options, customs []model.CustomField) ([]column, []string, error) {
	byName := map[string]target{}
	byAlias := map[string]target{}
	for _, t := range targets[obj] {
		byName[t.name] = t
		byAlias[headerKey(t.name)] = t
		for _, a := range t.aliases {
			if _, taken := byAlias[a]; !taken {
				byAlias[a] = t
			}
		}
	}
	customByKey := map[string]*model.CustomField{}
	for i := range customs {
		c := &customs[i]
		customByKey[c.Key] = c
		customByKey[headerKey(c.Label)] = c
	}
	explicit := map[string]string{}
	for src, dst := range opts.Mapping {
		explicit[headerKey(src)] = dst
	}
	used := map[string]string{}
	exact := map[string]bool{} // fields some header names exactly
	for _, h := range header {
		if t, ok := byName[strings.ReplaceAll(headerKey(h), " ", "_")]; ok {
			exact[t.name] = true
		}
	}
	var cols []column
	var ignored []string
	for i, h := range header {
		hk := headerKey(h)
		col := column{idx: i, header: h}
		dst, has := explicit[hk]
		switch {
		case has && (dst == "" || dst == "-"):
			ignored = append(ignored, h)
			continue
		case has:
			if key, ok := strings.CutPrefix(dst, "custom."); ok {
				c, ok := customByKey[key]
				if !ok {
					return nil, nil, fmt.Errorf("mapping %q → %q: no custom field %q on %ss", h, dst, key, obj)
				}
				col.custom = c
			} else if t, ok := byName[dst]; ok {
				col.t = t
			} else {
				return nil, nil, fmt.Errorf("mapping %q → %q: %ss have no field %q (fields: %s)", h, dst, obj, dst, fieldNames(obj))
			}
		default:
			if t, ok := byAlias[hk]; ok && exact[t.name] && byName[strings.ReplaceAll(hk, " ", "_")].name != t.name {
				// An alias ("id") of a field another column names
				// exactly ("external_id", as an export has both): the
				// exact column wins wherever it stands.
				ignored = append(ignored, fmt.Sprintf("%s (%s has its own column)", h, t.name))
				continue
			}
			if t, ok := byName[strings.ReplaceAll(hk, " ", "_")]; ok {
				col.t = t
			} else if c, ok := customByKey[strings.TrimPrefix(strings.ReplaceAll(hk, " ", "_"), "custom_")]; ok {
				col.custom = c
			} else if c, ok := customByKey[hk]; ok {
				col.custom = c
			} else if t, ok := byAlias[hk]; ok {
				col.t = t
			} else {
				ignored = append(ignored, h)
				continue
			}
		}
		name := col.t.name
		if col.custom != nil {
			name = "custom." + col.custom.Key
		}
		if prev, dup := used[name]; dup {
			// Two columns for one field: keep the first, report the second.
			ignored = append(ignored, fmt.Sprintf("%s (also maps to %s, like %q)", h, name, prev))
			continue
		}
		used[name] = h
		if vm := opts.ValueMaps[name]; len(vm) > 0 {
			col.values = make(map[string]string, len(vm))
			for k, v := range vm {
				col.values[strings.ToLower(strings.TrimSpace(k))] = v
			}
		}
		cols = append(cols, col)
	}
	return cols, ignored, nil
}

func fieldNames(obj string) string {
	var names []string
	for _, t := range targets[obj] {
		names = append(names, t.name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
