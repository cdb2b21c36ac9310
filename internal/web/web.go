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

// Register adds the UI's routes to mux: one route table for the whole browser
// surface, so a reader sees every page in one place.
func (u *UI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/{file}", u.static)

	mux.HandleFunc("GET /login", u.loginForm)
	mux.HandleFunc("POST /login", u.login)
	mux.HandleFunc("POST /logout", u.logout)
	mux.HandleFunc("GET /forgot", u.forgotForm)
	mux.HandleFunc("POST /forgot", u.forgot)
	mux.HandleFunc("GET /reset", u.resetForm)
	mux.HandleFunc("POST /reset", u.reset)
	mux.HandleFunc("GET /settings/password", u.page(u.passwordShow))
	mux.HandleFunc("POST /settings/password", u.page(u.passwordChange))
	mux.HandleFunc("POST /workspace", u.page(u.switchWorkspace))

	mux.HandleFunc("GET /{$}", u.page(u.dashboard))

	mux.HandleFunc("GET /accounts", u.page(u.accountList))
	mux.HandleFunc("GET /accounts/new", u.page(u.accountNew))
	mux.HandleFunc("POST /accounts", u.page(u.accountCreate))
	mux.HandleFunc("GET /accounts/{id}", u.page(u.accountShow))
	mux.HandleFunc("GET /accounts/{id}/edit", u.page(u.accountEdit))
	mux.HandleFunc("POST /accounts/{id}", u.page(u.accountUpdate))
	mux.HandleFunc("POST /accounts/{id}/merge", u.page(u.accountMerge))

	mux.HandleFunc("GET /contacts", u.page(u.contactList))
	mux.HandleFunc("GET /contacts/new", u.page(u.contactNew))
	mux.HandleFunc("POST /contacts", u.page(u.contactCreate))
	mux.HandleFunc("GET /contacts/{id}", u.page(u.contactShow))
	mux.HandleFunc("GET /contacts/{id}/edit", u.page(u.contactEdit))
	mux.HandleFunc("POST /contacts/{id}", u.page(u.contactUpdate))
	mux.HandleFunc("POST /contacts/{id}/merge", u.page(u.contactMerge))

	mux.HandleFunc("GET /deals", u.page(u.dealList))
	mux.HandleFunc("GET /deals/new", u.page(u.dealNew))
	mux.HandleFunc("POST /deals", u.page(u.dealCreate))
	mux.HandleFunc("GET /deals/{id}", u.page(u.dealShow))
	mux.HandleFunc("GET /deals/{id}/edit", u.page(u.dealEdit))
	mux.HandleFunc("POST /deals/{id}", u.page(u.dealUpdate))
	mux.HandleFunc("POST /deals/{id}/committee", u.page(u.committeePut))
	mux.HandleFunc("POST /deals/{id}/committee/{contact_id}/delete", u.page(u.committeeRemove))
	mux.HandleFunc("GET /pipeline", u.page(u.board))
	mux.HandleFunc("POST /pipeline/move", u.page(u.boardMove))
	mux.HandleFunc("GET /forecast", u.page(u.forecastShow))

	mux.HandleFunc("POST /activities", u.page(u.activityCreate))

	mux.HandleFunc("GET /customers", u.page(u.customerList))
	mux.HandleFunc("GET /customers/{id}", u.page(u.customerShow))
	mux.HandleFunc("POST /customers/{id}/renewals/{renewal_id}", u.page(u.renewalOutcome))
	mux.HandleFunc("POST /customers/{id}/subscriptions", u.page(u.subscriptionAdd))
	mux.HandleFunc("POST /customers/{id}/subscriptions/{sub_id}/change", u.page(u.subscriptionChange))
	mux.HandleFunc("POST /customers/{id}/subscriptions/{sub_id}/cancel", u.page(u.subscriptionCancel))
	mux.HandleFunc("POST /customers/{id}/subscriptions/{sub_id}/reactivate", u.page(u.subscriptionReactivate))

	mux.HandleFunc("GET /desk", u.page(u.deskShow))
	mux.HandleFunc("POST /desk/{id}/qualify", u.page(u.deskAct("qualify", deskQualify)))
	mux.HandleFunc("POST /desk/{id}/disqualify", u.page(u.deskAct("disqualify", deskDisqualify)))
	mux.HandleFunc("POST /desk/{id}/nurture", u.page(u.deskAct("nurture", deskNurture)))
	mux.HandleFunc("POST /desk/{id}/call", u.page(u.deskAct("call", deskCall)))
	mux.HandleFunc("POST /desk/{id}/meeting", u.page(u.deskAct("meeting", deskMeeting)))

	mux.HandleFunc("GET /forms", u.page(u.formList))
	mux.HandleFunc("GET /forms/new", u.page(u.formNew))
	mux.HandleFunc("POST /forms", u.page(u.formCreate))
	mux.HandleFunc("GET /forms/{id}", u.page(u.formShow))
	mux.HandleFunc("GET /forms/{id}/edit", u.page(u.formEdit))
	mux.HandleFunc("POST /forms/{id}", u.page(u.formUpdate))
	mux.HandleFunc("GET /content", u.page(u.contentList))
	mux.HandleFunc("POST /content", u.page(u.contentCreate))
	mux.HandleFunc("GET /content/{id}/edit", u.page(u.contentEdit))
	mux.HandleFunc("POST /content/{id}", u.page(u.contentUpdate))
	mux.HandleFunc("GET /content/{id}/file", u.page(u.contentFile))
	mux.HandleFunc("GET /sequences", u.page(u.sequenceList))
	mux.HandleFunc("GET /sequences/new", u.page(u.sequenceNew))
	mux.HandleFunc("POST /sequences", u.page(u.sequenceSave))
	mux.HandleFunc("GET /sequences/{id}/edit", u.page(u.sequenceEdit))
	mux.HandleFunc("POST /sequences/{id}", u.page(u.sequenceSave))
	mux.HandleFunc("POST /sequences/{id}/activate", u.page(u.sequenceSetStatus("active")))
	mux.HandleFunc("POST /sequences/{id}/pause", u.page(u.sequenceSetStatus("paused")))
	mux.HandleFunc("GET /sequences/{id}/enrollments", u.page(u.sequenceEnrollments))
	mux.HandleFunc("POST /enrollments/{id}/release", u.page(u.enrollmentAct("release")))
	mux.HandleFunc("POST /enrollments/{id}/skip", u.page(u.enrollmentAct("skip")))
	mux.HandleFunc("POST /enrollments/{id}/exit", u.page(u.enrollmentAct("exit")))

	mux.HandleFunc("GET /imports", u.page(u.importList))
	mux.HandleFunc("GET /imports/new", u.page(u.importNew))
	mux.HandleFunc("POST /imports", u.page(u.importCreate))
	mux.HandleFunc("GET /imports/{id}", u.page(u.importShow))
	mux.HandleFunc("GET /imports/{id}/errors.csv", u.page(u.importErrorsCSV))

	mux.HandleFunc("GET /settings", u.page(u.settings))
	mux.HandleFunc("GET /settings/routing", u.page(u.routingSettings))
	mux.HandleFunc("POST /settings/routing", u.page(u.routingSave))
	mux.HandleFunc("GET /settings/pipelines", u.page(u.pipelinesSettings))
	mux.HandleFunc("POST /settings/pipelines", u.page(u.pipelinesSave))
	mux.HandleFunc("GET /settings/scoring", u.page(u.scoringSettings))
	mux.HandleFunc("POST /settings/scoring", u.page(u.scoringSave))
	mux.HandleFunc("GET /settings/pools", u.page(u.poolsSettings))
	mux.HandleFunc("POST /settings/pools", u.page(u.poolCreate))
	mux.HandleFunc("POST /settings/pools/{id}", u.page(u.poolUpdate))
	mux.HandleFunc("POST /settings/pools/{id}/delete", u.page(u.poolDelete))
	mux.HandleFunc("POST /settings/pools/{id}/members", u.page(u.poolMemberAdd))
	mux.HandleFunc("POST /settings/pools/{id}/members/{user_id}", u.page(u.poolMemberSet))
	mux.HandleFunc("POST /settings/pools/{id}/members/{user_id}/remove", u.page(u.poolMemberRemove))
	mux.HandleFunc("POST /settings/sla", u.page(u.slaSave))
	mux.HandleFunc("GET /settings/mail", u.page(u.mailSettings))
	mux.HandleFunc("POST /settings/mail", u.page(u.mailSave))
	mux.HandleFunc("POST /settings/mail/imap", u.page(u.imapSave))
	mux.HandleFunc("POST /settings/mail/imap/test", u.page(u.imapTest))
	mux.HandleFunc("GET /settings/api-keys", u.page(u.apiKeys))
	mux.HandleFunc("POST /settings/api-keys", u.page(u.apiKeyCreate))
	mux.HandleFunc("POST /settings/api-keys/{id}/revoke", u.page(u.apiKeyRevoke))
	mux.HandleFunc("GET /settings/tracking", u.page(u.trackingSettings))
	mux.HandleFunc("POST /settings/tracking", u.page(u.trackingSiteCreate))
	mux.HandleFunc("GET /settings/webhooks", u.page(u.webhooksSettings))
	mux.HandleFunc("POST /settings/webhooks", u.page(u.webhookCreate))
	mux.HandleFunc("GET /settings/webhooks/{id}", u.page(u.webhookShow))
	mux.HandleFunc("POST /settings/webhooks/{id}", u.page(u.webhookUpdate))
	mux.HandleFunc("POST /settings/webhooks/{id}/test", u.page(u.webhookTest))
	mux.HandleFunc("POST /settings/webhooks/{id}/delete", u.page(u.webhookDelete))
	mux.HandleFunc("POST /settings/webhooks/{id}/deliveries/{delivery_id}/redeliver", u.page(u.webhookRedeliver))
	mux.HandleFunc("POST /settings/sending/resume", u.page(u.sendingResume))

	mux.HandleFunc("GET /economics", u.page(u.economicsHub))
	mux.HandleFunc("GET /economics/settings", u.page(u.economicsSettings))
	mux.HandleFunc("POST /economics/settings", u.page(u.economicsSettingsSave))
	mux.HandleFunc("GET /economics/market", u.page(u.economicsMarket))
	mux.HandleFunc("POST /economics/market", u.page(u.economicsMarketSave))
	mux.HandleFunc("GET /economics/spend", u.page(u.economicsSpend))
	mux.HandleFunc("POST /economics/spend", u.page(u.economicsSpendCreate))
	mux.HandleFunc("POST /economics/spend/{id}/delete", u.page(u.economicsSpendDelete))
	mux.HandleFunc("POST /economics/spend/import", u.page(u.economicsSpendImport))
	mux.HandleFunc("POST /economics/spend/rules", u.page(u.economicsRuleSave))
	mux.HandleFunc("POST /economics/spend/rules/delete", u.page(u.economicsRuleDelete))
	mux.HandleFunc("GET /economics/people", u.page(u.economicsPeople))
	mux.HandleFunc("POST /economics/people", u.page(u.economicsProfileSave))
	mux.HandleFunc("POST /economics/people/{id}", u.page(u.economicsProfileSave))
	mux.HandleFunc("POST /economics/people/{id}/delete", u.page(u.economicsProfileDelete))
	mux.HandleFunc("POST /economics/people/{id}/headcount", u.page(u.economicsHeadcountSave))
	mux.HandleFunc("GET /economics/staffing", u.page(u.economicsStaffing))
	mux.HandleFunc("POST /economics/staffing", u.page(u.economicsScenarioSave))
	mux.HandleFunc("POST /economics/staffing/example", u.page(u.economicsStaffingExample))
	mux.HandleFunc("POST /economics/staffing/{id}", u.page(u.economicsScenarioSave))
	mux.HandleFunc("POST /economics/staffing/{id}/delete", u.page(u.economicsScenarioDelete))
	mux.HandleFunc("POST /economics/alerts/{id}/acknowledge", u.page(u.economicsAlertAck))
	mux.HandleFunc("GET /economics/partners", u.page(u.economicsPartners))
	mux.HandleFunc("POST /economics/partners", u.page(u.economicsPartnerCreate))
	mux.HandleFunc("GET /economics/partners/{id}", u.page(u.economicsPartner))
	mux.HandleFunc("POST /economics/partners/{id}", u.page(u.economicsPartnerSave))
	mux.HandleFunc("POST /economics/partners/{id}/delete", u.page(u.economicsPartnerDelete))
	mux.HandleFunc("POST /deals/{id}/handoffs/{handoff_id}/{decision}", u.page(u.dealHandoffDecide))
	mux.HandleFunc("GET /success", u.page(u.successQueue))
	mux.HandleFunc("GET /customers/{id}/success", u.page(u.customerSuccessShow))
	mux.HandleFunc("POST /customers/{id}/success/note", u.page(u.successNote))
	mux.HandleFunc("POST /customers/{id}/success/accept", u.page(u.successAccept))
	mux.HandleFunc("POST /customers/{id}/success/csm", u.page(u.successCSM))
	mux.HandleFunc("POST /customers/{id}/success/items/{item_id}", u.page(u.successItem))
	mux.HandleFunc("POST /customers/{id}/success/sentiment", u.page(u.successSentiment))
	mux.HandleFunc("POST /customers/{id}/success/nps", u.page(u.successNPS))
	mux.HandleFunc("POST /customers/{id}/success/support", u.page(u.successSupport))
	mux.HandleFunc("GET /settings/success", u.page(u.successSettings))
	mux.HandleFunc("POST /settings/success", u.page(u.successSettingsSave))

	// Everything no other surface claims is a 404 page in the UI's layout.
	mux.HandleFunc("/", u.notFoundRoute)
}
