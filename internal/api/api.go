// Package api serves the REST API under /api/v1 and its OpenAPI document. One route
// table drives both: what is registered on the mux is exactly what the document
// describes, so the document cannot drift from the code. Handlers are straight
// lines: the route's access class authenticates, then each handler parses,
// validates, calls a service and renders.
package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
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

// Deps are the services the API calls.
type Deps struct {
	St      *store.Store
	Auth    *auth.Service
	CRM     *crm.Service
	Imports *importer.Service
	Scoring *scoring.Service
	Routing *routing.Service
	Desk    *desk.Service
	Forms   *forms.Service
	// Assignment keeps the pools and SLA settings.
	Assignment *assignment.Service
	Mail       *mail.Service
	// Tracking manages tracking sites (the public ingest is not under /api/v1).
	Tracking *tracking.Service
	// Sequences runs nurture sequences.
	Sequences *sequences.Service
	// Pipeline keeps pipelines, gates and buying committees.
	Pipeline *pipeline.Service
	// Success runs CSM handoffs and customer health (docs/success.md).
	Success *success.Service
	// Subscriptions keeps subscriptions, customers, MRR and renewals.
	Subscriptions *subscriptions.Service
	// MaxUploadBytes bounds an import upload; 0 means 512 MiB (config's default).
	MaxUploadBytes int64
	// Econ keeps the unit economics inputs; Staffing the staffing planner.
	Econ     *economics.Service
	Staffing *staffing.Service
	// Partners keeps outsourced partners and their statements.
	Partners *partners.Service
	// Webhooks manages outgoing webhook endpoints and their delivery log.
	Webhooks *webhooks.Service
	// Sending is the install's sending pause (after a restore).
	Sending *ops.Sending
}

// API is the /api/v1 surface.
type API struct {
	d   Deps
	doc []byte // the OpenAPI document, built once from the route table
}

// New builds the API.
func New(d Deps) *API { return &API{d: d, doc: buildOpenAPI()} }

// sessionCookie is the UI's login cookie; accepting it lets the UI's own scripts
// call the API without minting a key.
const sessionCookie = auth.SessionCookie

// access says who may call a route. public needs no credential (the OpenAPI
// document); self needs any credential (who am I); the others are auth.Can
// classes in the workspace the credential names (docs/security.md): member
// (every role; a partner through its own records only), read and write (every
// role but partner), revenue (subscriptions), manage (admins and managers) and
// admin (admins: integration secrets).
type access string

const (
	public  access = "public"
	self    access = "self"
	member  access = auth.ClassMember
	read    access = auth.ClassRead
	write   access = auth.ClassWrite
	revenue access = auth.ClassRevenue
	manage  access = auth.ClassManage
	admin   access = auth.ClassAdmin
)

// handler gets the authenticated principal (nil on public routes) and returns an
// error instead of writing one, so every failure is rendered by httpx.Error.
type handler func(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error

type route struct {
	method  string
	pattern string
	access  access
	h       handler
	doc     op
}

// routes is the whole API. Register mounts it, the OpenAPI document is built from
// it, and Routes exposes it to tests (the cross-workspace walk covers every {id}
// route listed here, so a new route is tested the day it is added).
var routes = []route{
	{"GET", "/api/v1/openapi.json", public, getOpenAPI, op{id: "getOpenAPI", tag: "meta", summary: "This OpenAPI 3.1 document", resp: []resp{{200, "application/json", "OpenAPIDocument", "this document", false}}}},
	{"GET", "/api/v1/me", self, getMe, op{id: "getMe", tag: "meta", summary: "The calling user or key, its workspace and role", resp: ok200("Me")}},

	{"GET", "/api/v1/accounts", member, accounts.list, accounts.listDoc()},
	{"POST", "/api/v1/accounts", member, accounts.create, accounts.createDoc()},
	{"GET", "/api/v1/accounts/{id}", member, accounts.get, accounts.getDoc()},
	{"PATCH", "/api/v1/accounts/{id}", member, accounts.update, accounts.updateDoc()},
	{"DELETE", "/api/v1/accounts/{id}", write, accounts.remove, accounts.deleteDoc()},
	{"POST", "/api/v1/accounts/{id}/merge", write, accounts.mergeInto, accounts.mergeDoc()},
	{"GET", "/api/v1/accounts/{id}/timeline", member, accounts.timeline, accounts.timelineDoc()},
	{"GET", "/api/v1/accounts/{id}/routing", read, getAccountRouting, getAccountRoutingDoc},

	{"GET", "/api/v1/contacts", member, contacts.list, contacts.listDoc()},
	{"POST", "/api/v1/contacts", member, contacts.create, contacts.createDoc()},
	{"GET", "/api/v1/contacts/{id}", member, contacts.get, contacts.getDoc()},
	{"PATCH", "/api/v1/contacts/{id}", member, contacts.update, contacts.updateDoc()},
	{"DELETE", "/api/v1/contacts/{id}", write, contacts.remove, contacts.deleteDoc()},
	{"POST", "/api/v1/contacts/{id}/merge", write, contacts.mergeInto, contacts.mergeDoc()},
	{"GET", "/api/v1/contacts/{id}/timeline", member, contacts.timeline, contacts.timelineDoc()},
	{"GET", "/api/v1/contacts/{id}/score", member, contactScore, contactScoreDoc},
	{"POST", "/api/v1/contacts/{id}/qualify", member, qualifyContact, qualifyContactDoc},
	{"POST", "/api/v1/contacts/{id}/disqualify", member, disqualifyContact, disqualifyContactDoc},
	{"POST", "/api/v1/contacts/{id}/nurture", member, nurtureContact, nurtureContactDoc},
	{"POST", "/api/v1/contacts/{id}/meeting-booked", member, meetingBooked, meetingBookedDoc},

	{"GET", "/api/v1/deals", read, deals.list, deals.listDoc()},
	{"POST", "/api/v1/deals", write, deals.create, deals.createDoc()},
	{"GET", "/api/v1/deals/{id}", read, deals.get, deals.getDoc()},
	{"PATCH", "/api/v1/deals/{id}", write, deals.update, deals.updateDoc()},
	{"DELETE", "/api/v1/deals/{id}", write, deals.remove, deals.deleteDoc()},
	{"GET", "/api/v1/deals/{id}/timeline", read, deals.timeline, deals.timelineDoc()},
	{"GET", "/api/v1/deals/{id}/committee", read, getCommittee, getCommitteeDoc},
	{"PUT", "/api/v1/deals/{id}/committee/{contact_id}", write, putCommitteeMember, putCommitteeMemberDoc},
	{"DELETE", "/api/v1/deals/{id}/committee/{contact_id}", write, deleteCommitteeMember, deleteCommitteeMemberDoc},
	{"GET", "/api/v1/deals/{id}/effort", read, getDealEffort, getDealEffortDoc},

	{"GET", "/api/v1/activities", member, activities.list, activities.listDoc()},
	{"POST", "/api/v1/activities", member, activities.create, activities.createDoc()},
	{"GET", "/api/v1/activities/{id}", member, activities.get, activities.getDoc()},
	{"PATCH", "/api/v1/activities/{id}", member, activities.update, activities.updateDoc()},
	{"DELETE", "/api/v1/activities/{id}", write, activities.remove, activities.deleteDoc()},

	{"GET", "/api/v1/custom-fields", member, listCustomFields, listCustomFieldsDoc},
	{"POST", "/api/v1/custom-fields", manage, createCustomField, createCustomFieldDoc},
	{"DELETE", "/api/v1/custom-fields/{id}", manage, deleteCustomField, deleteCustomFieldDoc},

	{"GET", "/api/v1/api-keys", admin, listAPIKeys, listAPIKeysDoc},
	{"POST", "/api/v1/api-keys", admin, createAPIKey, createAPIKeyDoc},
	{"DELETE", "/api/v1/api-keys/{id}", admin, revokeAPIKey, revokeAPIKeyDoc},

	{"POST", "/api/v1/events", write, ingestEvents, ingestEventsDoc},
	{"GET", "/api/v1/scoring/config", read, getScoringConfig, getScoringConfigDoc},
	{"PUT", "/api/v1/scoring/config", manage, putScoringConfig, putScoringConfigDoc},
	{"GET", "/api/v1/mail/sender", read, getMailSender, getMailSenderDoc},
	{"PUT", "/api/v1/mail/sender", admin, putMailSender, putMailSenderDoc},
	{"GET", "/api/v1/mail/sends", read, listMailSends, listMailSendsDoc},
	{"GET", "/api/v1/mail/imap", admin, getMailIMAP, getMailIMAPDoc},
	{"PUT", "/api/v1/mail/imap", admin, putMailIMAP, putMailIMAPDoc},
	{"POST", "/api/v1/mail/imap/test", admin, testMailIMAP, testMailIMAPDoc},
	{"GET", "/api/v1/routing/rules", read, getRoutingRules, getRoutingRulesDoc},
	{"PUT", "/api/v1/routing/rules", manage, putRoutingRules, putRoutingRulesDoc},
	{"GET", "/api/v1/pipelines", read, getPipelines, getPipelinesDoc},
	{"PUT", "/api/v1/pipelines", manage, putPipelines, putPipelinesDoc},

	{"GET", "/api/v1/pools", read, listPools, listPoolsDoc},
	{"POST", "/api/v1/pools", manage, createPool, createPoolDoc},
	{"GET", "/api/v1/pools/{id}", read, getPool, getPoolDoc},
	{"PATCH", "/api/v1/pools/{id}", manage, updatePool, updatePoolDoc},
	{"DELETE", "/api/v1/pools/{id}", manage, deletePool, deletePoolDoc},
	{"PUT", "/api/v1/pools/{id}/members/{user_id}", manage, putPoolMember, putPoolMemberDoc},
	{"DELETE", "/api/v1/pools/{id}/members/{user_id}", manage, deletePoolMember, deletePoolMemberDoc},
	{"GET", "/api/v1/assignment/settings", read, getAssignmentSettings, getAssignmentSettingsDoc},
	{"PUT", "/api/v1/assignment/settings", manage, putAssignmentSettings, putAssignmentSettingsDoc},

	{"GET", "/api/v1/reports/funnel", read, getFunnelReport, getFunnelReportDoc},
	{"GET", "/api/v1/reports/disqualifications", read, getDisqualificationReport, getDisqualificationReportDoc},
	{"GET", "/api/v1/reports/forecast", read, getForecastReport, getForecastReportDoc},
	{"GET", "/api/v1/reports/pipeline", read, getPipelineReport, getPipelineReportDoc},

	{"GET", "/api/v1/desk/queue", member, getDeskQueue, getDeskQueueDoc},

	{"GET", "/api/v1/forms", read, listForms, listFormsDoc},
	{"POST", "/api/v1/forms", manage, createForm, createFormDoc},
	{"GET", "/api/v1/forms/{id}", read, getForm, getFormDoc},
	{"PATCH", "/api/v1/forms/{id}", manage, updateForm, updateFormDoc},
	{"DELETE", "/api/v1/forms/{id}", manage, deleteForm, deleteFormDoc},
	{"GET", "/api/v1/forms/{id}/submissions", read, listSubmissions, listSubmissionsDoc},
	{"GET", "/api/v1/content", read, listAssets, listAssetsDoc},
	{"POST", "/api/v1/content", write, createAsset, createAssetDoc},
	{"GET", "/api/v1/content/{id}", read, getAsset, getAssetDoc},
	{"PATCH", "/api/v1/content/{id}", write, updateAsset, updateAssetDoc},
	{"DELETE", "/api/v1/content/{id}", write, deleteAsset, deleteAssetDoc},
	{"GET", "/api/v1/content/{id}/file", read, getAssetFile, getAssetFileDoc},
	{"PUT", "/api/v1/content/{id}/file", write, putAssetFile, putAssetFileDoc},
	{"DELETE", "/api/v1/content/{id}/file", write, deleteAssetFile, deleteAssetFileDoc},
	{"GET", "/api/v1/tracking/sites", read, listTrackingSites, listTrackingSitesDoc},
	{"POST", "/api/v1/tracking/sites", manage, createTrackingSite, createTrackingSiteDoc},
	{"GET", "/api/v1/tracking/sites/{id}", read, getTrackingSite, getTrackingSiteDoc},
	{"PATCH", "/api/v1/tracking/sites/{id}", manage, updateTrackingSite, updateTrackingSiteDoc},
	{"DELETE", "/api/v1/tracking/sites/{id}", manage, deleteTrackingSite, deleteTrackingSiteDoc},
	{"GET", "/api/v1/sequences", read, listSequences, listSequencesDoc},
	{"POST", "/api/v1/sequences", write, createSequence, createSequenceDoc},
	{"GET", "/api/v1/sequences/{id}", read, getSequence, getSequenceDoc},
	{"PUT", "/api/v1/sequences/{id}", write, putSequence, putSequenceDoc},
	{"DELETE", "/api/v1/sequences/{id}", write, deleteSequence, deleteSequenceDoc},
	{"POST", "/api/v1/sequences/{id}/activate", write, sequenceStatus("active"), activateSeqDoc},
	{"POST", "/api/v1/sequences/{id}/pause", write, sequenceStatus("paused"), pauseSeqDoc},
	{"POST", "/api/v1/sequences/{id}/resume", write, sequenceStatus("active"), resumeSeqDoc},
	{"POST", "/api/v1/sequences/{id}/enrollments", write, enrollContacts, enrollDoc},
	{"GET", "/api/v1/sequences/{id}/stats", read, sequenceStats, sequenceStatsDoc},
	{"GET", "/api/v1/enrollments", read, listEnrollments, listEnrollmentsDoc},
	{"GET", "/api/v1/enrollments/{id}", read, getEnrollment, getEnrollmentDoc},
	{"POST", "/api/v1/enrollments/{id}/release", write, enrollmentAction("release"), releaseDoc},
	{"POST", "/api/v1/enrollments/{id}/skip", write, enrollmentAction("skip"), skipDoc},
	{"POST", "/api/v1/enrollments/{id}/exit", write, enrollmentAction("exit"), exitDoc},
	{"POST", "/api/v1/enrollments/{id}/pause", write, enrollmentAction("pause"), pauseEnrDoc},
	{"POST", "/api/v1/enrollments/{id}/resume", write, enrollmentAction("resume"), resumeEnrDoc},

	{"GET", "/api/v1/audit", manage, listAudit, listAuditDoc},
	{"GET", "/api/v1/exports/{object}", manage, exportRecords, exportRecordsDoc},

	{"GET", "/api/v1/economics/inputs", manage, getEconomicsInputs, getEconomicsInputsDoc},
	{"GET", "/api/v1/economics/settings", manage, getEconomicsSettings, getEconomicsSettingsDoc},
	{"PUT", "/api/v1/economics/settings", manage, putEconomicsSettings, putEconomicsSettingsDoc},
	{"GET", "/api/v1/economics/people-cost", manage, getPeopleCost, getPeopleCostDoc},
	{"GET", "/api/v1/economics/market-sizing", manage, getMarketSizing, getMarketSizingDoc},
	{"PUT", "/api/v1/economics/market-sizing", manage, putMarketSizing, putMarketSizingDoc},
	{"GET", "/api/v1/economics/market-sizing/preset", manage, getMarketPreset, getMarketPresetDoc},
	{"GET", "/api/v1/spend", manage, listSpend, listSpendDoc},
	{"POST", "/api/v1/spend", manage, createSpend, createSpendDoc},
	{"GET", "/api/v1/spend/{id}", manage, getSpend, getSpendDoc},
	{"PATCH", "/api/v1/spend/{id}", manage, updateSpend, updateSpendDoc},
	{"DELETE", "/api/v1/spend/{id}", manage, deleteSpend, deleteSpendDoc},
	{"POST", "/api/v1/spend/import", manage, importSpend, importSpendDoc},
	{"GET", "/api/v1/spend/summary", manage, getSpendSummary, getSpendSummaryDoc},
	{"GET", "/api/v1/spend/allocation-rules", manage, getAllocationRules, getAllocationRulesDoc},
	{"PUT", "/api/v1/spend/allocation-rules", manage, putAllocationRules, putAllocationRulesDoc},
	{"GET", "/api/v1/cost-profiles", manage, listCostProfiles, listCostProfilesDoc},
	{"POST", "/api/v1/cost-profiles", manage, createCostProfile, createCostProfileDoc},
	{"GET", "/api/v1/cost-profiles/{id}", manage, getCostProfile, getCostProfileDoc},
	{"PUT", "/api/v1/cost-profiles/{id}", manage, putCostProfile, putCostProfileDoc},
	{"DELETE", "/api/v1/cost-profiles/{id}", manage, deleteCostProfile, deleteCostProfileDoc},
	{"PUT", "/api/v1/cost-profiles/{id}/headcount", manage, putHeadcount, putHeadcountDoc},
	{"GET", "/api/v1/staffing/scenarios", manage, listScenarios, listScenariosDoc},
	{"POST", "/api/v1/staffing/scenarios", manage, createScenario, createScenarioDoc},
	{"GET", "/api/v1/staffing/scenarios/{id}", manage, getScenario, getScenarioDoc},
	{"PUT", "/api/v1/staffing/scenarios/{id}", manage, putScenario, putScenarioDoc},
	{"DELETE", "/api/v1/staffing/scenarios/{id}", manage, deleteScenario, deleteScenarioDoc},
	{"GET", "/api/v1/staffing/comparison", manage, getStaffingComparison, getStaffingComparisonDoc},
	{"POST", "/api/v1/staffing/article-example", manage, createArticleExample, createArticleExampleDoc},

	{"POST", "/api/v1/imports", write, createImport, createImportDoc},
	{"GET", "/api/v1/imports", read, listImports, listImportsDoc},
	{"GET", "/api/v1/imports/{id}", read, getImport, getImportDoc},
	{"GET", "/api/v1/imports/{id}/errors", read, listImportErrors, listImportErrorsDoc},
	{"GET", "/api/v1/imports/{id}/errors.csv", read, importErrorsCSV, importErrorsCSVDoc},

	{"GET", "/api/v1/customers/{id}/handoff", read, getHandoff, getHandoffDoc},
	{"PATCH", "/api/v1/customers/{id}/handoff", write, patchHandoff, patchHandoffDoc},
	{"POST", "/api/v1/customers/{id}/handoff/accept", write, acceptHandoff, acceptHandoffDoc},
	{"PATCH", "/api/v1/customers/{id}/handoff/items/{item_id}", write, patchHandoffItem, patchHandoffItemDoc},
	{"GET", "/api/v1/customers/{id}/health", read, getHealth, getHealthDoc},
	{"POST", "/api/v1/customers/{id}/usage", write, postUsage, postUsageDoc},
	{"POST", "/api/v1/customers/{id}/nps", write, postNPS, postNPSDoc},
	{"PUT", "/api/v1/customers/{id}/support", write, putSupport, putSupportDoc},
	{"PUT", "/api/v1/customers/{id}/sentiment", write, putSentiment, putSentimentDoc},
	{"GET", "/api/v1/success/queue", read, getSuccessQueue, getSuccessQueueDoc},
	{"GET", "/api/v1/success/health-settings", read, getHealthSettings, getHealthSettingsDoc},
	{"PUT", "/api/v1/success/health-settings", manage, putHealthSettings, putHealthSettingsDoc},
	{"GET", "/api/v1/success/checklists", read, getChecklists, getChecklistsDoc},
	{"PUT", "/api/v1/success/checklists", manage, putChecklists, putChecklistsDoc},
	{"GET", "/api/v1/subscriptions", read, listSubscriptions, listSubscriptionsDoc},
	{"POST", "/api/v1/subscriptions", revenue, createSubscription, createSubscriptionDoc},
	{"GET", "/api/v1/subscriptions/{id}", read, getSubscription, getSubscriptionDoc},
	{"PATCH", "/api/v1/subscriptions/{id}", revenue, updateSubscription, updateSubscriptionDoc},
	{"POST", "/api/v1/subscriptions/{id}/cancel", revenue, cancelSubscription, cancelSubscriptionDoc},
	{"POST", "/api/v1/subscriptions/{id}/reactivate", revenue, reactivateSubscription, reactivateSubscriptionDoc},
	{"GET", "/api/v1/customers", read, listCustomers, listCustomersDoc},
	{"GET", "/api/v1/customers/{id}", read, getCustomer, getCustomerDoc},
	{"GET", "/api/v1/renewals", read, listRenewals, listRenewalsDoc},
	{"POST", "/api/v1/renewals/{id}/outcome", revenue, renewalOutcome, renewalOutcomeDoc},
	{"GET", "/api/v1/renewals/settings", read, getRenewalSettings, getRenewalSettingsDoc},
	{"PUT", "/api/v1/renewals/settings", manage, putRenewalSettings, putRenewalSettingsDoc},
	{"GET", "/api/v1/reports/mrr", read, getMRRReport, getMRRReportDoc},
	{"GET", "/api/v1/webhooks", admin, listWebhooks, listWebhooksDoc},
	{"POST", "/api/v1/webhooks", admin, createWebhook, createWebhookDoc},
	{"GET", "/api/v1/webhooks/{id}", admin, getWebhook, getWebhookDoc},
	{"PATCH", "/api/v1/webhooks/{id}", admin, updateWebhook, updateWebhookDoc},
	{"DELETE", "/api/v1/webhooks/{id}", admin, deleteWebhook, deleteWebhookDoc},
	{"POST", "/api/v1/webhooks/{id}/test", admin, testWebhook, testWebhookDoc},
	{"GET", "/api/v1/webhooks/{id}/deliveries", admin, listWebhookDeliveries, listWebhookDeliveriesDoc},
	{"POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", admin, redeliverWebhook, redeliverWebhookDoc},
	{"GET", "/api/v1/sending", admin, getSending, getSendingDoc},
	{"POST", "/api/v1/sending/resume", admin, resumeSending, resumeSendingDoc},

	{"GET", "/api/v1/economics/metrics", manage, getEconomicsMetrics, getEconomicsMetricsDoc},
	{"GET", "/api/v1/economics/cac", manage, getEconomicsCAC, getEconomicsCACDoc},
	{"GET", "/api/v1/economics/mrr", manage, getEconomicsMRR, getEconomicsMRRDoc},
	{"GET", "/api/v1/economics/ltv", manage, getEconomicsLTV, getEconomicsLTVDoc},
	{"GET", "/api/v1/economics/matrix", manage, getEconomicsMatrix, getEconomicsMatrixDoc},
	{"GET", "/api/v1/economics/cohorts", manage, getEconomicsCohorts, getEconomicsCohortsDoc},
	{"GET", "/api/v1/economics/funnel", manage, getEconomicsFunnel, getEconomicsFunnelDoc},
	{"GET", "/api/v1/economics/recommendations", manage, getEconomicsRecommendations, getEconomicsRecommendationsDoc},
	{"GET", "/api/v1/economics/cost-to-close", manage, getCostToClose, getCostToCloseDoc},
	{"GET", "/api/v1/economics/alerts", manage, listEconomicsAlerts, listEconomicsAlertsDoc},
	{"POST", "/api/v1/economics/alerts/{id}/acknowledge", manage, acknowledgeEconomicsAlert, acknowledgeEconomicsAlertDoc},

	{"GET", "/api/v1/partners", manage, listPartners, listPartnersDoc},
	{"POST", "/api/v1/partners", manage, createPartner, createPartnerDoc},
	{"GET", "/api/v1/partners/statements", manage, listPartnerStatements, listPartnerStatementsDoc},
	{"GET", "/api/v1/partners/{id}", manage, getPartner, getPartnerDoc},
	{"PUT", "/api/v1/partners/{id}", manage, putPartner, putPartnerDoc},
	{"DELETE", "/api/v1/partners/{id}", manage, deletePartner, deletePartnerDoc},
	{"GET", "/api/v1/partners/{id}/statement", manage, getPartnerStatement, getPartnerStatementDoc},
	{"GET", "/api/v1/partners/{id}/actuals", manage, getPartnerActuals, getPartnerActualsDoc},
	{"GET", "/api/v1/handoffs/{id}", read, getHandoffRecord, getHandoffRecordDoc},
	{"POST", "/api/v1/handoffs/{id}/accept", write, decideHandoff(model.HandoffAccepted), acceptHandoffSQLDoc},
	{"POST", "/api/v1/handoffs/{id}/reject", write, decideHandoff(model.HandoffRejected), rejectHandoffSQLDoc},
}

// RouteInfo names one route of the API.
type RouteInfo struct {
	Method  string
	Pattern string
	Access  string // public, self, or an auth class: member, read, write, revenue, manage, admin
}

// Routes lists every route the API registers, in table order.
func (a *API) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(routes))
	for _, rt := range routes {
		out = append(out, RouteInfo{Method: rt.method, Pattern: rt.pattern, Access: string(rt.access)})
	}
	return out
}

// Register adds the API's routes to mux, plus a fallback under /api/v1/ so a wrong
// path or method answers with a problem document instead of the mux's plain text.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+rt.pattern, a.serve(rt))
	}
	mux.HandleFunc("/api/v1/", notFound)
}

func (a *API) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		if rt.access != public {
			// Record data and key secrets must not sit in shared caches.
			w.Header().Set("Cache-Control", "no-store")
			var err error
			p, err = a.authenticate(r, rt.access)
			if err != nil {
				if errors.Is(err, httpx.ErrUnauthorized) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="rightsize"`)
				}
				httpx.Error(w, r, err)
				return
			}
		}
		var err error
		if key := r.Header.Get(IdemHeader); key != "" && rt.method == http.MethodPost && p != nil {
			err = a.idempotent(rt, w, r, p, key)
		} else {
			err = rt.h(a, w, r, p)
		}
		if err != nil {
			httpx.Error(w, r, err)
		}
	}
}

// authenticate resolves the bearer key or, failing that, the session cookie, and
// checks the route's access class. The workspace always comes from the credential.
func (a *API) authenticate(r *http.Request, need access) (*auth.Principal, error) {
	var p *auth.Principal
	var err error
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, httpx.ErrUnauthorized
		}
		p, err = a.d.Auth.APIKey(r.Context(), strings.TrimSpace(tok))
	} else if c, cerr := r.Cookie(sessionCookie); cerr == nil {
		p, err = a.d.Auth.Session(r.Context(), c.Value)
	} else {
		return nil, httpx.ErrUnauthorized
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		return nil, httpx.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if need == self {
		return p, nil
	}
	if p.WorkspaceID == 0 || !auth.Can(p.Role, string(need)) {
		return nil, httpx.ErrForbidden
	}
	return p, nil
}

// notFound answers paths under /api/v1/ that no route matches: 405 with Allow when
// the path exists under another method, else 404.
func notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range routes {
		if pathMatches(rt.pattern, r.URL.Path) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpx.Error(w, r, &httpx.StatusError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Msg: "use " + strings.Join(allow, " or ")})
		return
	}
	httpx.Error(w, r, &httpx.StatusError{Status: http.StatusNotFound, Code: "no_endpoint", Msg: "no such endpoint; see /api/v1/openapi.json"})
}

func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, s := range ps {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if s != xs[i] {
			return false
		}
	}
	return true
}
