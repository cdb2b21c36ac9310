package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The OpenAPI 3.1 document is built from the route table when the API is built, so
// every registered route is described and nothing else is. Schemas are JSON Schema
// 2020-12 written once here; the tests validate every response they receive
// against them, which is what keeps them honest.

type js = map[string]any

// op documents one route.
type op struct {
	id, tag, summary string
	params           []param   // query parameters
	body             []content // request body, one entry per accepted media type
	resp             []resp    // success responses; problem responses are added by the builder
}

type param struct {
	name, desc string
	schema     js
	required   bool
	freeForm   bool // an object whose properties are query parameters (list filters)
}

type content struct {
	ctype   string
	schema  js
	example any // nil: none
}

type resp struct {
	status int
	ctype  string // "" means no body
	schema string // component name ("" with a ctype: the inline schema of that type)
	desc   string
	loc    bool // carries a Location header naming the new resource
}

func ok200(schema string) []resp {
	return []resp{{http.StatusOK, "application/json", schema, "", false}}
}

func ref(name string) js { return js{"$ref": "#/components/schemas/" + name} }

func jsonBody(schema string) []content {
	return []content{{"application/json", ref(schema), nil}}
}

// ---- schema helpers -------------------------------------------------------------

func object(required []string, props js) js {
	if required == nil {
		required = []string{}
	}
	return js{"type": "object", "required": required, "properties": props, "additionalProperties": false}
}

func str(maxLen int) js {
	if maxLen == 0 {
		return js{"type": "string"}
	}
	return js{"type": "string", "maxLength": maxLen}
}

func enum(vals ...string) js {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return js{"type": "string", "enum": out}
}

func arrayOf(s js) js { return js{"type": "array", "items": s} }

// nullable widens s to accept null, which input fields use to clear a value.
func nullable(s js) js {
	out := maps.Clone(s)
	if t, ok := s["type"].(string); ok {
		out["type"] = []any{t, "null"}
	}
	if e, ok := s["enum"].([]any); ok {
		out["enum"] = append(slices.Clone(e), nil)
	}
	return out
}

func withDesc(s js, desc string) js {
	out := maps.Clone(s)
	out["description"] = desc
	return out
}

var (
	tID       = js{"type": "integer", "minimum": 1}
	tCount    = js{"type": "integer", "minimum": 0}
	tInt      = js{"type": "integer"}
	tTime     = js{"type": "string", "format": "date-time"}
	tDate     = js{"type": "string", "format": "date"}
	tCurrency = js{"type": "string", "pattern": "^[A-Z]{3}$"}
	tAny      = js{}
	tKey      = js{"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}
	// Custom values are validated per definition by the server; the schema only
	// says what JSON types can appear.
	tCustomOut = js{"type": "object", "additionalProperties": js{"type": []any{"string", "number", "boolean"}}}
	tCustomIn  = withDesc(js{"type": []any{"object", "null"}, "additionalProperties": js{"type": []any{"string", "number", "boolean", "null"}}},
		"custom field values by key (see /api/v1/custom-fields); null or \"\" removes a value")
)

var consentBases = []string{"consent", "legitimate_interest", "contract", "none"}

// schemas are the components. Response schemas forbid unknown properties so a
// field added to a model without being documented fails the tests.
func schemas() js {
	s := js{
		"Account": object([]string{"id", "name", "currency", "custom", "created_at", "updated_at"}, js{
			"id": tID, "external_id": str(0), "name": str(0), "domain": str(0),
			"employees": tCount, "annual_revenue": withDesc(tCount, "minor units of currency"), "budget": withDesc(tCount, "minor units of currency"),
			"currency": tCurrency, "industry": str(0), "region": str(0), "owner_id": tID, "segment": str(0),
			"motion": enum(model.Motions...), "custom": tCustomOut, "created_at": tTime, "updated_at": tTime,
		}),
		"Contact": object([]string{"id", "email", "lifecycle_stage", "custom", "created_at", "updated_at"}, js{
			"id": tID, "external_id": str(0), "email": str(0), "first_name": str(0), "last_name": str(0),
			"title": str(0), "phone": str(0), "account_id": tID, "lifecycle_stage": enum(model.LifecycleStages...),
			"owner_id": tID, "source": str(0), "utm_source": str(0), "utm_medium": str(0), "utm_campaign": str(0),
			"consent_basis": enum(consentBases...), "consent_source": str(0), "consent_at": tTime,
			"custom": tCustomOut, "created_at": tTime, "updated_at": tTime,
		}),
		"Deal": object([]string{"id", "name", "amount", "currency", "pipeline", "stage", "custom", "created_at", "updated_at"}, js{
			"id": tID, "external_id": str(0), "account_id": tID, "name": str(0),
			"amount": withDesc(tCount, "minor units of currency"), "currency": tCurrency,
			"pipeline": withDesc(tKey, "a pipeline key of the workspace (GET /api/v1/pipelines)"), "stage": withDesc(tKey, "a stage key of the deal's pipeline"),
			"owner_id": tID, "expected_close_date": tDate, "outcome": enum(model.Outcomes...), "loss_reason": str(0),
			"closed_at": tTime, "custom": tCustomOut, "created_at": tTime, "updated_at": tTime,
			"needs_review":  withDesc(js{"type": "boolean"}, "the account was re-routed while this deal was open; the deal stays put until reviewed"),
			"review_reason": withDesc(str(0), "why the deal needs review: the routing change, or \"gates_unmet: …\" for a deal created or imported past stages whose exit criteria it does not meet"),
		}),
		"Activity": object([]string{"id", "kind", "subject", "occurred_at", "duration_minutes", "participants", "custom", "created_at"}, js{
			"id": tID, "external_id": str(0), "kind": enum(model.ActivityKinds...), "subject": str(0), "body": str(0),
			"occurred_at": tTime, "duration_minutes": tCount, "owner_id": tID, "contact_id": tID, "account_id": tID,
			"deal_id": tID, "participants": arrayOf(str(0)), "custom": tCustomOut, "created_at": tTime,
		}),
		"CustomField": object([]string{"id", "object_type", "key", "label", "type", "created_at"}, js{
			"id": tID, "object_type": enum(model.ObjectTypes...), "key": str(63), "label": str(0),
			"type": enum(model.CustomFieldTypes...), "options": arrayOf(str(0)), "created_at": tTime,
		}),
		"CustomFieldCreate": object([]string{"object_type", "key", "type"}, js{
			"object_type": enum(model.ObjectTypes...),
			"key":         js{"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"},
			"label":       str(200), "type": enum(model.CustomFieldTypes...),
			"options": withDesc(arrayOf(str(200)), "the allowed values of an enum field"),
		}),
		"APIKey": object(apiKeyRequired, apiKeyProps()),
		"APIKeyCreated": func() js {
			p := apiKeyProps()
			p["secret"] = withDesc(js{"type": "string", "pattern": "^rsk_"}, "the key itself; shown only in this response")
			return object(append(slices.Clone(apiKeyRequired), "secret"), p)
		}(),
		"APIKeyCreate": object([]string{"name", "role"}, js{"name": str(100), "role": enum(model.Roles...), "user_id": tID}),
		"AuditEntry": object([]string{"id", "action", "created_at"}, js{
			"id": tID, "workspace_id": tID, "user_id": tID, "api_key_id": tID, "action": str(0),
			"target_type": str(0), "target_id": tID, "detail": tAny, "ip": str(0), "created_at": tTime,
		}),
		"HistoryEntry": object([]string{"id", "object_type", "object_id", "action", "created_at"}, js{
			"id": tID, "object_type": str(0), "object_id": tID, "action": str(0), "detail": tAny,
			"actor": str(0), "created_at": tTime,
		}),
		"Import": object([]string{"id", "object_type", "filename", "status", "bytes", "rows", "accepted", "rejected", "merged", "created_at"}, js{
			"id": tID, "object_type": enum(importer.ImportObjectTypes...), "filename": str(0), "status": str(0), "options": tAny,
			"bytes": tCount, "rows": tCount, "accepted": tCount, "rejected": tCount, "merged": tCount,
			"error": str(0), "summary": withDesc(tAny, "what the import decided: delimiter, column mapping, date formats"), "created_by": str(0), "created_at": tTime, "started_at": tTime, "finished_at": tTime,
		}),
		"ImportError": object([]string{"line", "column", "reason"}, js{
			"line": tCount, "column": tCount, "field": str(0), "reason": str(0), "raw": str(0),
		}),
		"Membership": object([]string{"workspace_id", "workspace_name", "user_id", "role"}, js{
			"workspace_id": tID, "workspace_name": str(0), "user_id": tID, "user_email": str(0), "role": enum(model.Roles...),
		}),
		"Workspace": object([]string{"id", "name", "slug", "currency", "created_at"}, js{
			"id": tID, "name": str(0), "slug": str(0), "currency": tCurrency, "created_at": tTime,
		}),
		"Me": object([]string{"kind", "workspace_id", "memberships"}, js{
			"kind": enum("user", "api_key"), "user_id": tID, "email": str(0), "api_key_id": tID, "key_prefix": str(0),
			"workspace_id": withDesc(tCount, "0 when a user belongs to no workspace"), "workspace": ref("Workspace"),
			"role": enum(model.Roles...), "memberships": arrayOf(ref("Membership")),
		}),
		"Timeline": object([]string{"activities", "history"}, js{
			"activities": withDesc(arrayOf(ref("Activity")), "newest first"), "next_cursor": str(0),
			"history":    withDesc(arrayOf(ref("HistoryEntry")), "newest first, at most 200"),
			"web_events": withDesc(arrayOf(ref("WebEvent")), "contacts only: the newest 50 tracked page views, content views and custom events of the contact's visitors"),
		}),
		"MergeRequest": object([]string{"merge_id"}, js{"merge_id": withDesc(tID, "the record folded into the one in the path, then deleted")}),
		"Problem": object([]string{"type", "title", "status", "code"}, js{
			"type": js{"type": "string", "format": "uri"}, "title": str(0), "status": js{"type": "integer", "minimum": 400, "maximum": 599},
			"code": str(0), "detail": str(0), "field": withDesc(str(0), "the input field or query parameter at fault"),
			"instance": str(0), "extra": js{"type": "object"},
		}),
		"ImportOptions":   withDesc(schemaOf(reflect.TypeFor[importer.Options]()), "how to read the file; every option may be left out"),
		"OpenAPIDocument": js{"type": "object", "required": []string{"openapi", "info", "paths"}, "properties": js{"openapi": js{"const": "3.1.0"}}},
	}
	for _, name := range []string{"Account", "Contact", "Deal", "Activity"} {
		s[name+"Page"] = object([]string{"items"}, js{
			"items":       arrayOf(ref(name)),
			"next_cursor": withDesc(str(0), "pass as cursor for the next page; absent on the last page"),
			"total":       withDesc(tCount, "exact number of matches; only with count=true"),
		})
	}
	for _, name := range []string{"CustomField", "APIKey", "AuditEntry", "Import", "ImportError"} {
		s[name+"List"] = object([]string{"items"}, js{"items": arrayOf(ref(name))})
	}
	for name, in := range recordInputs() {
		s[name+"Update"] = object(nil, in.props)
		s[name+"Create"] = object(in.required, in.props)
	}
	scoringSchemas(s)
	mailSchemas(s)
	mailIMAPSchemas(s)
	funnelSchemas(s)
	poolSchemas(s)
	pipelineSchemas(s)
	deskSchemas(s)
	formSchemas(s)
	trackingSchemas(s)
	sequenceSchemas(s)
	economicsSchemas(s)
	successSchemas(s)
	subscriptionSchemas(s)
	forecastSchemas(s)
	webhookSchemas(s)
	unitEconomicsSchemas(s)
	partnerSchemas(s)
	return s
}

var apiKeyRequired = []string{"id", "workspace_id", "name", "role", "prefix", "created_at"}

func apiKeyProps() js {
	return js{
		"id": tID, "workspace_id": tID, "name": str(0), "role": enum(model.Roles...), "prefix": str(0),
		"created_at": tTime, "last_used_at": tTime, "revoked_at": tTime, "user_id": tID,
	}
}

type input struct {
	required []string
	props    js
}

// recordInputs are the writable fields of each record, as crm accepts them. null
// clears an optional field.
func recordInputs() map[string]input {
	s := func(n int) js { return nullable(str(n)) }
	id := nullable(tID)
	n := nullable(tCount)
	when := withDesc(nullable(str(64)), "RFC 3339 time or YYYY-MM-DD")
	return map[string]input{
		"Account": {[]string{"name"}, js{
			"name": str(300), "external_id": s(200), "domain": withDesc(s(300), "normalised: https://www.acme.com/x becomes acme.com"),
			"employees": n, "annual_revenue": n, "budget": n, "currency": withDesc(js{"type": "string", "pattern": "^[A-Za-z]{3}$"}, "defaults to the workspace currency"),
			"industry": s(200), "region": s(200), "owner_id": id, "segment": s(64),
			"motion": nullable(enum(append(slices.Clone(model.Motions), "")...)), "custom": tCustomIn,
		}},
		"Contact": {[]string{"email"}, js{
			"email": str(320), "external_id": s(200), "first_name": s(200), "last_name": s(200), "title": s(200),
			"phone": s(64), "account_id": id, "lifecycle_stage": withDesc(enum(model.LifecycleStages...), "defaults to lead"),
			"owner_id": id, "source": s(200), "utm_source": s(200), "utm_medium": s(200), "utm_campaign": s(200),
			"consent_basis": nullable(enum(append(slices.Clone(consentBases), "")...)), "consent_source": s(200),
			"consent_at": when, "custom": tCustomIn,
		}},
		"Deal": {[]string{"name", "pipeline"}, js{
			"name": str(300), "external_id": s(200), "account_id": id, "amount": withDesc(n, "minor units of currency"),
			"currency": js{"type": "string", "pattern": "^[A-Za-z]{3}$"}, "pipeline": withDesc(tKey, "a pipeline key of the workspace (GET /api/v1/pipelines)"),
			"stage": withDesc(str(64), "a stage of the pipeline; defaults to its first"), "owner_id": id,
			"override_reason":     withDesc(s(1000), "admins only: move past unmet stage gates; the reason is audited and kept in the deal's history"),
			"expected_close_date": nullable(tDate), "outcome": nullable(enum(append(slices.Clone(model.Outcomes), "")...)),
			"loss_reason": s(500), "closed_at": when, "custom": tCustomIn,
			"needs_review": withDesc(nullable(js{"type": "boolean"}), "false marks the deal reviewed after its account was re-routed"),
		}},
		"Activity": {[]string{"kind"}, js{
			"kind": enum(model.ActivityKinds...), "external_id": s(200), "subject": s(500), "body": s(20000),
			"occurred_at": withDesc(nullable(str(64)), "RFC 3339 time; defaults to now"), "duration_minutes": n,
			"owner_id": id, "contact_id": id, "account_id": id, "deal_id": id,
			"participants": nullable(arrayOf(str(0))), "custom": tCustomIn,
		}},
	}
}

// schemaOf derives a schema from a Go type's JSON encoding. It is used only for
// types another package owns and changes (importer options), so the document
// follows them without a hand-kept copy.
func schemaOf(t reflect.Type) js {
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(schemaOf(t.Elem()))
	case reflect.String:
		return js{"type": "string"}
	case reflect.Bool:
		return js{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return js{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return js{"type": "number"}
	case reflect.Slice, reflect.Array:
		return arrayOf(schemaOf(t.Elem()))
	case reflect.Map:
		return js{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := js{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = schemaOf(f.Type)
		}
		return object(nil, props)
	}
	return tAny
}

// ---- per-route documentation --------------------------------------------------

func listQueryParams(entity string) []param {
	return []param{
		{name: "q", desc: "free text over the " + entity + "'s name-like fields", schema: str(0)},
		{name: "sort", desc: "field to sort by, \"-\" prefix for descending; only sortable fields are accepted", schema: str(0)},
		{name: "cursor", desc: "next_cursor of the previous page", schema: str(0)},
		{name: "limit", desc: "page size", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize, "default": store.DefaultPageSize}},
		{name: "count", desc: "also return the exact total", schema: js{"type": "boolean"}},
		{name: "filters", freeForm: true, schema: js{"type": "object", "additionalProperties": js{"type": "string"}},
			desc: "every other parameter filters: field=value (equals, case-insensitive for text), field[op]=value with op one of " +
				strings.Join(filterOps, ", ") + " (in takes a comma-separated list, empty takes true or false), and custom.key=value " +
				"for custom fields. A parameter naming a field that cannot be filtered is a 400 naming it."},
	}
}

func pageParams() []param {
	return []param{
		{name: "cursor", desc: "next_cursor of the previous page", schema: str(0)},
		{name: "limit", desc: "page size", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize, "default": store.DefaultPageSize}},
	}
}

func (rs records[T]) title() string { return strings.ToUpper(rs.plural[:1]) + rs.plural[1:] }

func (rs records[T]) single() string { return strings.ToUpper(rs.kind[:1]) + rs.kind[1:] }

func (rs records[T]) listDoc() op {
	return op{id: "list" + rs.title(), tag: rs.plural, summary: "List " + rs.plural + ", filtered, sorted and paged",
		params: listQueryParams(rs.kind), resp: ok200(rs.schema + "Page")}
}

func (rs records[T]) createDoc() op {
	return op{id: "create" + rs.single(), tag: rs.plural, summary: "Create a " + rs.kind,
		body: []content{{"application/json", ref(rs.schema + "Create"), rs.example}}, resp: []resp{{http.StatusCreated, "application/json", rs.schema, "", true}}}
}

func (rs records[T]) getDoc() op {
	return op{id: "get" + rs.single(), tag: rs.plural, summary: "Get a " + rs.kind, resp: ok200(rs.schema)}
}

func (rs records[T]) updateDoc() op {
	return op{id: "update" + rs.single(), tag: rs.plural, summary: "Change some fields of a " + rs.kind + " (absent fields stay)",
		body: jsonBody(rs.schema + "Update"), resp: ok200(rs.schema)}
}

func (rs records[T]) deleteDoc() op {
	return op{id: "delete" + rs.single(), tag: rs.plural, summary: "Delete a " + rs.kind,
		resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
}

func (rs records[T]) mergeDoc() op {
	return op{id: "merge" + rs.title(), tag: rs.plural, summary: "Merge the " + rs.kind + " merge_id into this one (this one wins; blanks are filled from the other)",
		body: jsonBody("MergeRequest"), resp: ok200(rs.schema)}
}

func (rs records[T]) timelineDoc() op {
	return op{id: rs.kind + "Timeline", tag: rs.plural, summary: "Activities and change history of a " + rs.kind,
		params: pageParams(), resp: ok200("Timeline")}
}

var limitOnly = []param{{name: "limit", desc: "how many, newest first", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize, "default": store.DefaultPageSize}}}

var (
	listCustomFieldsDoc = op{id: "listCustomFields", tag: "custom-fields", summary: "List custom field definitions",
		params: []param{{name: "object_type", desc: "only this object type's fields", schema: enum(model.ObjectTypes...)}}, resp: ok200("CustomFieldList")}
	createCustomFieldDoc = op{id: "createCustomField", tag: "custom-fields", summary: "Define a custom field (admin, manager)",
		body: jsonBody("CustomFieldCreate"), resp: []resp{{http.StatusCreated, "application/json", "CustomField", "", false}}}
	deleteCustomFieldDoc = op{id: "deleteCustomField", tag: "custom-fields", summary: "Delete a custom field definition (admin, manager)",
		resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}

	listAPIKeysDoc  = op{id: "listAPIKeys", tag: "api-keys", summary: "List the workspace's API keys, revoked ones included (admin)", resp: ok200("APIKeyList")}
	createAPIKeyDoc = op{id: "createAPIKey", tag: "api-keys", summary: "Create an API key; the secret is in this response only (admin). It acts for user_id (default: the caller's user, or for a key made with a key that key's member) and stops working while that member is disabled or gone from the workspace or demoted below the key's role; a partner key must name a partner member",
		body: jsonBody("APIKeyCreate"), resp: []resp{{http.StatusCreated, "application/json", "APIKeyCreated", "", false}}}
	revokeAPIKeyDoc = op{id: "revokeAPIKey", tag: "api-keys", summary: "Revoke an API key (admin)",
		resp: []resp{{http.StatusNoContent, "", "", "revoked", false}}}

	getFunnelReportDoc = op{id: "getFunnelReport", tag: "reports",
		summary: "Lifecycle funnel (lead → mql → sql → opportunity → customer): stages reached in the window, conversion to the next stage, days between stages, lead → customer by source, disqualified and nurture exits; the convention object says how each figure is computed",
		params: []param{
			{name: "from", desc: "first day of the window, UTC (default: 89 days before to)", schema: tDate},
			{name: "to", desc: "last day of the window, included, UTC (default: today)", schema: tDate},
			{name: "by", desc: "grouping: the motion of the contact's account, the contact's source, or the period in which the stage was reached", schema: withDesc(enum(funnel.Groupings...), "default motion")},
			{name: "period", desc: "with by=period: calendar month or ISO week", schema: withDesc(enum(funnel.Periods...), "default month")},
		},
		resp: ok200("FunnelReport")}

	listAuditDoc = op{id: "listAudit", tag: "audit", summary: "Newest audit log entries (admin, manager)", params: limitOnly, resp: ok200("AuditEntryList")}

	createImportDoc = op{id: "createImport", tag: "imports", summary: "Upload a CSV file to import; it runs in the background",
		params: []param{
			{name: "object", required: true, desc: "what the rows are", schema: enum(slices.Sorted(maps.Keys(importer.ObjectTypes))...)},
			{name: "filename", desc: "display name of a raw CSV upload (multipart uploads carry their own)", schema: str(200)},
			{name: "options", desc: "import options as JSON (or a multipart part named options, before the file)",
				schema: js{"type": "string", "contentMediaType": "application/json", "contentSchema": ref("ImportOptions")}},
		},
		body: []content{
			{"multipart/form-data", js{"type": "object", "required": []string{"file"}, "properties": js{
				"options": ref("ImportOptions"),
				"file":    js{"type": "string", "contentMediaType": "text/csv"},
			}}, nil},
			{"text/csv", js{"type": "string"}, "email,first_name\nann@acme.example,Ann\n"},
		},
		resp: []resp{{http.StatusAccepted, "application/json", "Import", "accepted; poll the Location for progress", true}}}
	listImportsDoc      = op{id: "listImports", tag: "imports", summary: "Newest imports", params: limitOnly, resp: ok200("ImportList")}
	getImportDoc        = op{id: "getImport", tag: "imports", summary: "An import and its reconciliation (rows = accepted + rejected + merged when done)", resp: ok200("Import")}
	listImportErrorsDoc = op{id: "listImportErrors", tag: "imports", summary: "Rejected rows of an import, in file order",
		params: []param{{name: "limit", desc: "how many", schema: js{"type": "integer", "minimum": 1, "maximum": importErrorsMax, "default": importErrorsDefault}}},
		resp:   ok200("ImportErrorList")}
	exportRecordsDoc = op{id: "exportRecords", tag: "exports", summary: "Every record of one kind (accounts, contacts, deals, activities) as CSV, streamed; cells a spreadsheet would run as a formula are prefixed with '; audited",
		resp: []resp{{http.StatusOK, "text/csv", "", "the records", false}}}
	importErrorsCSVDoc = op{id: "downloadImportErrors", tag: "imports", summary: "Rejected rows as CSV (line, column, field, reason, raw); a cell starting with = + - @ is prefixed with ' so spreadsheets do not run it",
		resp: []resp{{http.StatusOK, "text/csv", "", "the rejected rows", false}}}
)

// ---- document builder ----------------------------------------------------------

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func buildOpenAPI() []byte {
	paths := js{}
	for _, rt := range routes {
		item, _ := paths[rt.pattern].(js)
		if item == nil {
			item = js{}
			paths[rt.pattern] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	doc := js{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": js{
			"title":   "Rightsize API",
			"version": "1",
			"description": "Records of one workspace: the workspace is the one the credential belongs to, never a parameter. " +
				"Authenticate with an API key (Authorization: Bearer rsk_…) or the UI's session cookie. Errors are RFC 9457 " +
				"problem documents; a field or query parameter at fault is named in field. An id of another workspace answers " +
				"exactly like an id that does not exist (404).",
		},
		"security": []any{js{"bearerKey": []any{}}, js{"session": []any{}}},
		"paths":    paths,
		"components": js{
			"schemas": schemas(),
			"securitySchemes": js{
				"bearerKey": js{"type": "http", "scheme": "bearer", "description": "a workspace API key, rsk_…"},
				"session":   js{"type": "apiKey", "in": "cookie", "name": sessionCookie, "description": "the UI's login session"},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("api: openapi document: " + err.Error())
	}
	return b
}

func operation(rt route) js {
	o := js{"operationId": rt.doc.id, "summary": rt.doc.summary, "tags": []string{rt.doc.tag}, "x-access": string(rt.access)}
	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.pattern, -1) {
		params = append(params, js{"name": m[1], "in": "path", "required": true, "schema": tID})
	}
	for _, p := range rt.doc.params {
		q := js{"name": p.name, "in": "query", "required": p.required, "schema": p.schema, "description": p.desc}
		if p.freeForm {
			q["style"], q["explode"] = "form", true
		}
		params = append(params, q)
	}
	if rt.method == http.MethodPost && rt.access != public {
		params = append(params, js{"name": IdemHeader, "in": "header", "required": false, "schema": js{"type": "string", "minLength": 1, "maxLength": idemMaxKey, "pattern": "^[\\x21-\\x7e]+$"},
			"description": "a key of your choosing (a UUID) that makes a retry safe: the same key and request within 24 hours get the first response again " +
				"(with Idempotency-Replayed: true); the same key with another request is a 422; while the first is still running, a 409; " +
				"after a crash that lost the first request's answer, a 422 idempotency_outcome_unknown (docs/api.md)"})
	}
	if params != nil {
		o["parameters"] = params
	}
	if len(rt.doc.body) > 0 {
		c := js{}
		for _, b := range rt.doc.body {
			mt := js{"schema": b.schema}
			if b.example != nil {
				mt["example"] = b.example
			}
			c[b.ctype] = mt
		}
		o["requestBody"] = js{"required": true, "content": c}
	}
	responses := js{}
	for _, r := range rt.doc.resp {
		desc := r.desc
		if desc == "" {
			desc = http.StatusText(r.status)
		}
		e := js{"description": desc}
		if r.ctype != "" {
			s := js{"type": "string"}
			if r.schema != "" {
				s = ref(r.schema)
			}
			c := js{}
			for _, ct := range strings.Split(r.ctype, "|") { // several media types: a file download
				c[ct] = js{"schema": s}
			}
			e["content"] = c
		}
		if r.loc {
			e["headers"] = js{"Location": js{"description": "URL of the new resource", "schema": str(0)}}
		}
		responses[strconv.Itoa(r.status)] = e
	}
	problem := func(status int, desc string) {
		responses[strconv.Itoa(status)] = js{"description": desc, "content": js{"application/problem+json": js{"schema": ref("Problem")}}}
	}
	if rt.access != public {
		problem(400, "a parameter or field is invalid; field names it")
		problem(401, "no valid API key or session")
		if rt.access != self {
			problem(403, "the credential's role may not do this")
		}
	}
	if strings.Contains(rt.pattern, "{id}") {
		problem(404, "no such record in this workspace")
	}
	if slices.ContainsFunc(rt.doc.body, func(c content) bool { return c.ctype == "application/json" }) {
		problem(400, "a parameter or field is invalid (field names it), or json_too_deep: objects and arrays nested deeper than 32 levels")
		problem(409, "a unique field (field names it) is already taken")
		problem(413, "request body too large")
	}
	if rt.method == http.MethodPost && rt.access != public {
		if _, ok := responses["409"]; ok {
			problem(409, "a unique field (field names it) is already taken, or idempotency_key_in_use: a request with this Idempotency-Key is still running (Retry-After)")
		} else {
			problem(409, "idempotency_key_in_use: a request with this Idempotency-Key is still running (Retry-After)")
		}
		problem(422, "idempotency_key_reused: this Idempotency-Key was used for a different request in the last 24 hours; "+
			"or idempotency_outcome_unknown: the first request with this key was carried out but the server stopped before its answer was stored (not run again)")
	}
	if rt.doc.id == "redeliverWebhook" {
		problem(409, "delivery_in_flight: the delivery's current attempt is running; or idempotency_key_in_use (Retry-After)")
	}
	if rt.doc.id == "updateDeal" {
		problem(422, "gate_unmet: the move leaves a stage whose exit criteria the deal does not meet; extra.unmet lists each (stage, code, field/kind/role, need/have, message)")
	}
	if rt.doc.id == "createContent" || rt.doc.id == "putContentFile" {
		problem(413, "file larger than 20 MiB, or too_many_parts: more than 16 multipart parts")
		problem(415, "putContentFile: not multipart/form-data")
	}
	if d, ok := successProblems[rt.doc.id]; ok {
		problem(422, d)
	}
	if rt.doc.id == "createImport" {
		problem(413, "body_too_large: file larger than max_upload_bytes; too_many_parts: more than 16 multipart parts; part_too_large: an options part over 1 MiB")
		problem(422, "csv_limit: the file passes a CSV limit (a field over 128 KiB, more than 1000 columns, a record over 4 MiB); detail names line:column; or idempotency_key_reused")
		problem(415, "neither multipart/form-data nor text/csv")
	}
	responses["default"] = js{"description": "any other error", "content": js{"application/problem+json": js{"schema": ref("Problem")}}}
	o["responses"] = responses
	if rt.access == public {
		o["security"] = []any{}
	}
	return o
}

// funnelSchemas describe funnel.Result.
func funnelSchemas(s js) {
	rate := withDesc(js{"type": []any{"number", "null"}, "minimum": 0, "maximum": 1}, "converted ÷ denominator, 4 decimals; null when the denominator is 0")
	days := js{"type": []any{"number", "null"}, "minimum": 0}
	s["FunnelConvention"] = object([]string{"window", "reached", "conversion", "days", "grouping", "exits"}, js{
		"window": str(0), "reached": str(0), "conversion": str(0), "days": str(0), "grouping": str(0), "exits": str(0),
	})
	s["FunnelConversion"] = object([]string{"from", "to", "converted", "denominator", "denominator_is", "rate"}, js{
		"from": enum(funnel.Stages...), "to": enum(funnel.Stages...), "converted": tCount,
		"denominator": withDesc(tCount, "contacts that reached from in the window"), "denominator_is": str(0), "rate": rate,
	})
	s["FunnelGroup"] = object([]string{"key", "stages", "conversions", "durations", "lead_to_customer", "exits"}, js{
		"key":         withDesc(str(0), "the motion, source (unknown when none) or period (YYYY-MM or YYYY-Www); total for the whole workspace"),
		"stages":      arrayOf(object([]string{"stage", "reached"}, js{"stage": enum(funnel.Stages...), "reached": tCount})),
		"conversions": withDesc(arrayOf(ref("FunnelConversion")), "each stage to the next"),
		"durations": withDesc(arrayOf(object([]string{"from", "to", "n", "median_days", "mean_days"}, js{
			"from": enum(funnel.Stages...), "to": enum(funnel.Stages...), "n": withDesc(tCount, "converted contacts measured"),
			"median_days": days, "mean_days": days,
		})), "days from each stage to the next"),
		"lead_to_customer": ref("FunnelConversion"),
		"exits": arrayOf(object([]string{"stage", "count", "from"}, js{
			"stage": enum(funnel.Exits...), "count": tCount,
			"from": withDesc(js{"type": "object", "additionalProperties": tCount}, "by the stage left (created: created in the exit stage)"),
		})),
	})
	s["FunnelReport"] = object([]string{"from", "to", "by", "convention", "total", "groups", "lead_to_customer_by_source"}, js{
		"from": tDate, "to": tDate, "by": enum(funnel.Groupings...), "period": enum(funnel.Periods...),
		"convention": ref("FunnelConvention"), "total": ref("FunnelGroup"), "groups": arrayOf(ref("FunnelGroup")),
		"lead_to_customer_by_source": arrayOf(object([]string{"source", "from", "to", "converted", "denominator", "denominator_is", "rate"}, js{
			"source": str(0), "from": enum("lead"), "to": enum("customer"), "converted": tCount, "denominator": tCount,
			"denominator_is": str(0), "rate": rate,
		})),
	})
}
