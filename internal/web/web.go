// Package web serves the server-rendered UI: templates and static files are
// embedded; handlers are straight lines (parse, validate, call a service, render).
// It holds no SQL and no business rules: reads go through store.Read() query
// methods, writes through crm.Service, auth.Service, importer.Service and desk.Service.
package web

import (
	"net/http"
	"sync"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/ops"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"github.com/rightsize/rightsize/internal/success"
	"github.com/rightsize/rightsize/internal/tracking"
	"github.com/rightsize/rightsize/internal/webhooks"
)

// Deps are the services the UI calls.
type Deps struct {
	St            *store.Store
	Auth          *auth.Service
	CRM           *crm.Service
	Imports       *importer.Service
	SecureCookies bool
	// MaxUploadBytes caps an import upload (0: 512 MiB).
	MaxUploadBytes int64
	// Routing explains an account's segment and motion (nil: the section is hidden).
	Routing *routing.Service
	// Desk runs the LDR desk.
	Desk *desk.Service
	// Forms runs forms and the content library.
	Forms *forms.Service
	// BaseURL is the public URL embed snippets point at ("" : the request's host).
	BaseURL string
	// Scoring and Assignment keep the scoring configuration, pools and SLA
	// settings shown on the settings pages.
	Scoring    *scoring.Service
	Assignment *assignment.Service
	// Tracking manages tracking sites (settings/tracking).
	Tracking *tracking.Service
	// Sequences runs nurture sequences.
	Sequences *sequences.Service
	// Mail keeps the workspace's sender identity (settings/mail).
	Mail *mail.Service
	// Pipeline keeps pipelines, gates and committees (board, deal page, settings).
	Pipeline *pipeline.Service
	// Econ keeps the unit economics inputs; Staffing the staffing planner.
	Econ     *economics.Service
	Staffing *staffing.Service
	// Partners keeps outsourced partners and their statements.
	Partners *partners.Service
	// Success runs CSM handoffs and customer health (/success, a customer's
	// success section, settings/success).
	Success *success.Service
	// Subscriptions keeps customers, subscriptions and renewals (nil: the
	// customer pages answer 404).
	Subscriptions *subscriptions.Service
	// Webhooks manages outgoing webhook endpoints (settings/webhooks).
	Webhooks *webhooks.Service
	// Sending is the install's sending pause: admins see a banner and confirm.
	Sending *ops.Sending
}

// UI is the browser surface.
type UI struct {
	d      Deps
	views  *views
	assets *assets
}

// New builds the UI. Templates and assets are parsed once here; a broken template
// is a programming error and panics at startup rather than on first use.
func New(d Deps) *UI {
	a, v := parsed()
	return &UI{d: d, assets: a, views: v}
}

// parsed builds the embedded assets and page templates once per process: both
// are immutable after parsing (templates execute concurrently), and parsing
// every page again for each UI cost ~100 ms of CPU per server in the tests.
var parsed = sync.OnceValues(func() (*assets, *views) {
	a := loadAssets()
	return a, loadViews(a)
})

// Access classes of the UI's routes (auth.Can; docs/security.md): public
// routes need no session, every other class needs one whose role in the
// selected workspace may use it. The check runs in one place (serve), before the
// handler: a handler never decides who may call it.
const (
	public  = "public"
	member  = auth.ClassMember
	read    = auth.ClassRead
	write   = auth.ClassWrite
	revenue = auth.ClassRevenue
	manage  = auth.ClassManage
	admin   = auth.ClassAdmin
)

// handler is a UI handler; s is nil on public routes.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

type route struct {
	method, pattern string
	access          string
	h               handler
}

// pub adapts a handler that needs no session.
func pub(fn http.HandlerFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, _ *session) { fn(w, r) }
}

// routes is the whole browser surface in one table, so a reader (and the
// security matrix test, through Routes) sees every page and who may open it.
func (u *UI) routes() []route {
	return []route{
		{"GET", "/static/{file}", public, pub(u.static)},
		{"GET", "/login", public, pub(u.loginForm)},
		{"POST", "/login", public, pub(u.login)},
		{"POST", "/logout", public, pub(u.logout)},
		{"GET", "/forgot", public, pub(u.forgotForm)},
		{"POST", "/forgot", public, pub(u.forgot)},
		{"GET", "/reset", public, pub(u.resetForm)},
		{"POST", "/reset", public, pub(u.reset)},
		{"GET", "/settings/password", member, u.passwordShow},
		{"POST", "/settings/password", member, u.passwordChange},
		{"POST", "/workspace", member, u.switchWorkspace},
		{"GET", "/{$}", member, u.dashboard},

		{"GET", "/accounts", member, u.accountList},
		{"GET", "/accounts/new", member, u.accountNew},
		{"POST", "/accounts", member, u.accountCreate},
		{"GET", "/accounts/{id}", member, u.accountShow},
		{"GET", "/accounts/{id}/edit", member, u.accountEdit},
		{"POST", "/accounts/{id}", member, u.accountUpdate},
		{"POST", "/accounts/{id}/merge", write, u.accountMerge},

		{"GET", "/contacts", member, u.contactList},
		{"GET", "/contacts/new", member, u.contactNew},
		{"POST", "/contacts", member, u.contactCreate},
		{"GET", "/contacts/{id}", member, u.contactShow},
		{"GET", "/contacts/{id}/edit", member, u.contactEdit},
		{"POST", "/contacts/{id}", member, u.contactUpdate},
		{"POST", "/contacts/{id}/merge", write, u.contactMerge},

		{"GET", "/deals", read, u.dealList},
		{"GET", "/deals/new", write, u.dealNew},
		{"POST", "/deals", write, u.dealCreate},
		{"GET", "/deals/{id}", read, u.dealShow},
		{"GET", "/deals/{id}/edit", write, u.dealEdit},
		{"POST", "/deals/{id}", write, u.dealUpdate},
		{"POST", "/deals/{id}/committee", write, u.committeePut},
		{"POST", "/deals/{id}/committee/{contact_id}/delete", write, u.committeeRemove},
		{"POST", "/deals/{id}/handoffs/{handoff_id}/{decision}", write, u.dealHandoffDecide},
		{"GET", "/pipeline", read, u.board},
		{"POST", "/pipeline/move", write, u.boardMove},
		{"GET", "/forecast", read, u.forecastShow},
		{"POST", "/activities", member, u.activityCreate},

		{"GET", "/customers", read, u.customerList},
		{"GET", "/customers/{id}", read, u.customerShow},
		{"POST", "/customers/{id}/renewals/{renewal_id}", revenue, u.renewalOutcome},
		{"POST", "/customers/{id}/subscriptions", revenue, u.subscriptionAdd},
		{"POST", "/customers/{id}/subscriptions/{sub_id}/change", revenue, u.subscriptionChange},
		{"POST", "/customers/{id}/subscriptions/{sub_id}/cancel", revenue, u.subscriptionCancel},
		{"POST", "/customers/{id}/subscriptions/{sub_id}/reactivate", revenue, u.subscriptionReactivate},

		{"GET", "/desk", member, u.deskShow},
		{"POST", "/desk/{id}/qualify", member, u.deskAct("qualify", deskQualify)},
		{"POST", "/desk/{id}/disqualify", member, u.deskAct("disqualify", deskDisqualify)},
		{"POST", "/desk/{id}/nurture", member, u.deskAct("nurture", deskNurture)},
		{"POST", "/desk/{id}/call", member, u.deskAct("call", deskCall)},
		{"POST", "/desk/{id}/meeting", member, u.deskAct("meeting", deskMeeting)},

		{"GET", "/forms", read, u.formList},
		{"GET", "/forms/new", manage, u.formNew},
		{"POST", "/forms", manage, u.formCreate},
		{"GET", "/forms/{id}", read, u.formShow},
		{"GET", "/forms/{id}/edit", manage, u.formEdit},
		{"POST", "/forms/{id}", manage, u.formUpdate},
		{"GET", "/content", read, u.contentList},
		{"POST", "/content", write, u.contentCreate},
		{"GET", "/content/{id}/edit", write, u.contentEdit},
		{"POST", "/content/{id}", write, u.contentUpdate},
		{"GET", "/content/{id}/file", read, u.contentFile},
		{"GET", "/sequences", read, u.sequenceList},
		{"GET", "/sequences/new", write, u.sequenceNew},
		{"POST", "/sequences", write, u.sequenceSave},
		{"GET", "/sequences/{id}/edit", write, u.sequenceEdit},
		{"POST", "/sequences/{id}", write, u.sequenceSave},
		{"POST", "/sequences/{id}/activate", write, u.sequenceSetStatus("active")},
		{"POST", "/sequences/{id}/pause", write, u.sequenceSetStatus("paused")},
		{"GET", "/sequences/{id}/enrollments", read, u.sequenceEnrollments},
		{"POST", "/enrollments/{id}/release", write, u.enrollmentAct("release")},
		{"POST", "/enrollments/{id}/skip", write, u.enrollmentAct("skip")},
		{"POST", "/enrollments/{id}/exit", write, u.enrollmentAct("exit")},

		{"GET", "/imports", read, u.importList},
		{"GET", "/imports/new", write, u.importNew},
		{"POST", "/imports", write, u.importCreate},
		{"GET", "/imports/{id}", read, u.importShow},
		{"GET", "/imports/{id}/errors.csv", read, u.importErrorsCSV},

		{"GET", "/settings", read, u.settings},
		{"GET", "/settings/routing", read, u.routingSettings},
		{"POST", "/settings/routing", manage, u.routingSave},
		{"GET", "/settings/pipelines", read, u.pipelinesSettings},
		{"POST", "/settings/pipelines", manage, u.pipelinesSave},
		{"GET", "/settings/scoring", read, u.scoringSettings},
		{"POST", "/settings/scoring", manage, u.scoringSave},
		{"GET", "/settings/pools", read, u.poolsSettings},
		{"POST", "/settings/pools", manage, u.poolCreate},
		{"POST", "/settings/pools/{id}", manage, u.poolUpdate},
		{"POST", "/settings/pools/{id}/delete", manage, u.poolDelete},
		{"POST", "/settings/pools/{id}/members", manage, u.poolMemberAdd},
		{"POST", "/settings/pools/{id}/members/{user_id}", manage, u.poolMemberSet},
		{"POST", "/settings/pools/{id}/members/{user_id}/remove", manage, u.poolMemberRemove},
		{"POST", "/settings/sla", manage, u.slaSave},
		{"GET", "/settings/mail", read, u.mailSettings},
		{"POST", "/settings/mail", admin, u.mailSave},
		{"POST", "/settings/mail/imap", admin, u.imapSave},
		{"POST", "/settings/mail/imap/test", admin, u.imapTest},
		{"GET", "/settings/api-keys", admin, u.apiKeys},
		{"POST", "/settings/api-keys", admin, u.apiKeyCreate},
		{"POST", "/settings/api-keys/{id}/revoke", admin, u.apiKeyRevoke},
		{"GET", "/settings/tracking", read, u.trackingSettings},
		{"POST", "/settings/tracking", manage, u.trackingSiteCreate},
		{"GET", "/settings/webhooks", admin, u.webhooksSettings},
		{"POST", "/settings/webhooks", admin, u.webhookCreate},
		{"GET", "/settings/webhooks/{id}", admin, u.webhookShow},
		{"POST", "/settings/webhooks/{id}", admin, u.webhookUpdate},
		{"POST", "/settings/webhooks/{id}/test", admin, u.webhookTest},
		{"POST", "/settings/webhooks/{id}/delete", admin, u.webhookDelete},
		{"POST", "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver", admin, u.webhookRedeliver},
		{"POST", "/settings/sending/resume", admin, u.sendingResume},

		{"GET", "/economics", manage, u.economicsHub},
		{"GET", "/economics/settings", manage, u.economicsSettings},
		{"POST", "/economics/settings", manage, u.economicsSettingsSave},
		{"GET", "/economics/market", manage, u.economicsMarket},
		{"POST", "/economics/market", manage, u.economicsMarketSave},
		{"GET", "/economics/spend", manage, u.economicsSpend},
		{"POST", "/economics/spend", manage, u.economicsSpendCreate},
		{"POST", "/economics/spend/{id}/delete", manage, u.economicsSpendDelete},
		{"POST", "/economics/spend/import", manage, u.economicsSpendImport},
		{"POST", "/economics/spend/rules", manage, u.economicsRuleSave},
		{"POST", "/economics/spend/rules/delete", manage, u.economicsRuleDelete},
		{"GET", "/economics/people", manage, u.economicsPeople},
		{"POST", "/economics/people", manage, u.economicsProfileSave},
		{"POST", "/economics/people/{id}", manage, u.economicsProfileSave},
		{"POST", "/economics/people/{id}/delete", manage, u.economicsProfileDelete},
		{"POST", "/economics/people/{id}/headcount", manage, u.economicsHeadcountSave},
		{"GET", "/economics/staffing", manage, u.economicsStaffing},
		{"POST", "/economics/staffing", manage, u.economicsScenarioSave},
		{"POST", "/economics/staffing/example", manage, u.economicsStaffingExample},
		{"POST", "/economics/staffing/{id}", manage, u.economicsScenarioSave},
		{"POST", "/economics/staffing/{id}/delete", manage, u.economicsScenarioDelete},
		{"POST", "/economics/alerts/{id}/acknowledge", manage, u.economicsAlertAck},
		{"GET", "/economics/partners", manage, u.economicsPartners},
		{"POST", "/economics/partners", manage, u.economicsPartnerCreate},
		{"GET", "/economics/partners/{id}", manage, u.economicsPartner},
		{"POST", "/economics/partners/{id}", manage, u.economicsPartnerSave},
		{"POST", "/economics/partners/{id}/delete", manage, u.economicsPartnerDelete},

		{"GET", "/success", read, u.successQueue},

		{"GET", "/customers/{id}/success", read, u.customerSuccessShow},
		{"POST", "/customers/{id}/success/note", write, u.successNote},
		{"POST", "/customers/{id}/success/accept", write, u.successAccept},
		{"POST", "/customers/{id}/success/csm", manage, u.successCSM},
		{"POST", "/customers/{id}/success/items/{item_id}", write, u.successItem},
		{"POST", "/customers/{id}/success/sentiment", write, u.successSentiment},
		{"POST", "/customers/{id}/success/nps", write, u.successNPS},
		{"POST", "/customers/{id}/success/support", write, u.successSupport},

		{"GET", "/settings/success", read, u.successSettings},
		{"POST", "/settings/success", manage, u.successSettingsSave},
	}
}

// RouteInfo names one route of the UI and its access class.
type RouteInfo struct {
	Method  string
	Pattern string
	Access  string // public, or an auth class: member, read, write, revenue, manage, admin
}

// Routes lists every route Register mounts (the catch-all 404 page aside), in
// table order.
func (u *UI) Routes() []RouteInfo {
	rs := u.routes()
	out := make([]RouteInfo, 0, len(rs))
	for _, rt := range rs {
		out = append(out, RouteInfo{Method: rt.method, Pattern: rt.pattern, Access: rt.access})
	}
	return out
}

// Register adds the UI's routes to mux.
func (u *UI) Register(mux *http.ServeMux) {
	for _, rt := range u.routes() {
		mux.HandleFunc(rt.method+" "+rt.pattern, u.serve(rt))
	}
	// Everything no other surface claims is a 404 page in the UI's layout.
	mux.HandleFunc("/", u.notFoundRoute)
}

// serve wraps a route: public routes run as they are; the others resolve the
// session (a visitor without one goes to the login form) and check the route's
// access class against the role in the selected workspace: 403 before the
// handler runs.
func (u *UI) serve(rt route) http.HandlerFunc {
	if rt.access == public {
		return func(w http.ResponseWriter, r *http.Request) { rt.h(w, r, nil) }
	}
	return u.page(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !auth.Can(s.Role, rt.access) {
			u.forbidden(w, r, s)
			return
		}
		rt.h(w, r, s)
	})
}
