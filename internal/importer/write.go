package importer

import (
	"fmt"
	pipelinePkg "github.com/rightsize/rightsize/internal/pipeline"
	"sort"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
)

func uniq(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// accountLinks resolves the account references of a batch: by external id, by
// domain and (deals) by name.
type accountLinks struct {
	byExt, byDomain, byName map[string]int64
}

func (j *job) loadAccountLinks(q store.Q, implicitDomain func(*pending) string) (*accountLinks, error) {
	var exts, domains, names []string
	for i := range j.batch {
		p := &j.batch[i]
		exts = append(exts, j.get(p, "account_external_id").s)
		d := j.get(p, "account_domain").s
		if d == "" && implicitDomain != nil {
			d = implicitDomain(p)
		}
		domains = append(domains, d)
		names = append(names, j.get(p, "account_name").s)
	}
	l := &accountLinks{}
	var err error
	if l.byExt, err = q.LookupIDs(j.ctx, j.ws, "accounts", "external_id", uniq(exts)); err != nil {
		return nil, err
	}
	if l.byDomain, err = q.LookupIDs(j.ctx, j.ws, "accounts", "domain", uniq(domains)); err != nil {
		return nil, err
	}
	if l.byName, err = q.LookupIDs(j.ctx, j.ws, "accounts", "name", uniq(names)); err != nil {
		return nil, err
	}
	return l, nil
}

// account resolves p's explicit account reference. An explicit reference that
// matches nothing rejects the row (the link would silently be lost otherwise).
func (j *job) account(p *pending, l *accountLinks) (id *int64, field, reason string) {
	if v := j.get(p, "account_external_id"); v.set {
		if n, ok := l.byExt[v.s]; ok {
			return opt(n), "", ""
		}
		return nil, "account_external_id", fmt.Sprintf("no account with external id %q", v.s)
	}
	if v := j.get(p, "account_domain"); v.set {
		if n, ok := l.byDomain[v.s]; ok {
			return opt(n), "", ""
		}
		return nil, "account_domain", fmt.Sprintf("no account with domain %q", v.s)
	}
	if v := j.get(p, "account_name"); v.set {
		n, ok := l.byName[strings.ToLower(v.s)]
		switch {
		case !ok:
			return nil, "account_name", fmt.Sprintf("no account named %q", v.s)
		case n < 0:
			return nil, "account_name", fmt.Sprintf("several accounts are named %q; use account_external_id or account_domain", v.s)
		}
		return opt(n), "", ""
	}
	return nil, "", ""
}

// linkedAccount resolves p's account reference, rejecting the row (false) when an
// explicit reference matches nothing.
func (j *job) linkedAccount(p *pending, l *accountLinks) (*int64, bool) {
	id, field, reason := j.account(p, l)
	if reason != "" {
		j.rejectPending(p, field, reason)
		return nil, false
	}
	return id, true
}

// ownerOf resolves p's owner email to a member, rejecting the row (false) when the
// email is not a member of the workspace.
func (j *job) ownerOf(p *pending) (*int64, bool) {
	id, why := j.owner(p)
	if why != "" {
		j.rejectPending(p, "owner_email", why)
		return nil, false
	}
	return id, true
}

func emailDomain(e string) string {
	if i := strings.LastIndexByte(e, '@'); i >= 0 {
		return e[i+1:]
	}
	return ""
}

// contactFromRow builds a contact from the fields the row set.
func (j *job) fillContact(c *model.Contact, p *pending) {
	str := func(field string, dst *string) {
		if v := j.get(p, field); v.set {
			*dst = v.s
		}
	}
	str("external_id", &c.ExternalID)
	str("email", &c.Email)
	str("first_name", &c.FirstName)
	str("last_name", &c.LastName)
	str("title", &c.Title)
	str("phone", &c.Phone)
	str("lifecycle_stage", &c.LifecycleStage)
	str("source", &c.Source)
	str("utm_source", &c.UTMSource)
	str("utm_medium", &c.UTMMedium)
	str("utm_campaign", &c.UTMCampaign)
	str("consent_basis", &c.ConsentBasis)
	str("consent_source", &c.ConsentSource)
	if v := j.get(p, "consent_at"); v.set {
		c.ConsentAt = opt(v.t)
	}
	if c.Custom == nil {
		c.Custom = model.Custom{}
	}
	for k, v := range p.custom {
		c.Custom[k] = v
	}
}

// writeContacts dedupes by email (within the file and against the database), links
// accounts, inserts new contacts in multi-row statements and merges duplicates
// field by field (a value in the file overwrites; a blank cell keeps what is there).
func (j *job) writeContacts(q store.Q) error {
	emails := make([]string, 0, len(j.batch))
	exts := make([]string, 0, len(j.batch))
	for i := range j.batch {
		emails = append(emails, j.get(&j.batch[i], "email").s)
		exts = append(exts, j.get(&j.batch[i], "external_id").s)
	}
	existing, err := q.LookupIDs(j.ctx, j.ws, "contacts", "email", uniq(emails))
	if err != nil {
		return err
	}
	extIDs, err := q.LookupIDs(j.ctx, j.ws, "contacts", "external_id", uniq(exts))
	if err != nil {
		return err
	}
	links, err := j.loadAccountLinks(q, func(p *pending) string {
		if j.has("account_external_id") || j.has("account_domain") {
			return ""
		}
		return emailDomain(j.get(p, "email").s)
	})
	if err != nil {
		return err
	}
	// The stored contacts this batch merges into, loaded in one go.
	var mergeIDs []int64
	for i := range j.batch {
		if id, ok := existing[j.get(&j.batch[i], "email").s]; ok {
			mergeIDs = append(mergeIDs, id)
		}
	}
	stored, err := q.ContactsByIDs(j.ctx, j.ws, mergeIDs)
	if err != nil {
		return err
	}
	var inserts, updates []*model.Contact
	updated := map[int64]bool{}
	before := map[int64]contactState{} // stored stage and owner of each merged contact
	newByEmail := map[string]*model.Contact{}
	newByExt := map[string]string{} // external id → email, within this batch
	for i := range j.batch {
		p := &j.batch[i]
		email := j.get(p, "email").s
		if email == "" {
			j.rejectPending(p, "email", "email is required")
			continue
		}
		acct, ok := j.linkedAccount(p, links)
		if !ok {
			continue
		}
		if acct == nil && !j.has("account_external_id") && !j.has("account_domain") {
			if n, ok := links.byDomain[emailDomain(email)]; ok {
				acct = opt(n)
			} else {
				j.sum.Unlinked["account (by email domain)"]++
			}
		}
		owner, ok := j.ownerOf(p)
		if !ok {
			continue
		}
		if ext := j.get(p, "external_id").s; ext != "" {
			if id, ok := extIDs[ext]; ok && id != existing[email] {
				j.rejectPending(p, "external_id", fmt.Sprintf("external id %q already belongs to another contact (id %d)", ext, id))
				continue
			}
			if other, ok := newByExt[ext]; ok && other != email {
				j.rejectPending(p, "external_id", fmt.Sprintf("external id %q is used by %s earlier in the file", ext, other))
				continue
			}
			newByExt[ext] = email
		}
		if c, ok := newByEmail[email]; ok { // earlier row of this batch
			j.fillContact(c, p)
			if acct != nil {
				c.AccountID = acct
			}
			if owner != nil {
				c.OwnerID = owner
			}
			j.merged++
			continue
		}
		if id, ok := existing[email]; ok { // in the database (earlier batch or before)
			c, ok := stored[id]
			if !ok {
				return fmt.Errorf("importer: contact %d vanished during the batch", id)
			}
			if _, seen := before[id]; !seen {
				before[id] = contactState{c.LifecycleStage, c.OwnerID}
			}
			j.fillContact(c, p)
			if acct != nil {
				c.AccountID = acct
			}
			if owner != nil {
				c.OwnerID = owner
			}
			if !updated[id] {
				updated[id] = true
				updates = append(updates, c)
			}
			j.merged++
			continue
		}
		c := &model.Contact{LifecycleStage: "lead", Source: "import"}
		j.fillContact(c, p)
		c.AccountID, c.OwnerID = acct, owner
		newByEmail[email] = c
		inserts = append(inserts, c)
		j.accepted++
	}
	// The lookups are done; the writes' foreign-key checks may reuse cached plans.
	if err := q.CacheForeignKeyPlans(j.ctx); err != nil {
		return err
	}
	if err := q.UpdateContacts(j.ctx, j.ws, updates); err != nil {
		return err
	}
	if err := q.InsertContacts(j.ctx, j.ws, inserts); err != nil {
		return err
	}
	return j.afterContacts(q, inserts, updates, before)
}

// contactState is what a merge may change that speed-to-lead and the funnel watch.
type contactState struct {
	stage string
	owner *int64
}

// afterContacts does for a batch what crm does for one contact: a merge that
// changes the lifecycle stage is recorded in history (so the funnel sees it), and
// a contact the import makes an MQL — created as one without an owner, or moved
// to mql with its owner unchanged — is handed to an LDR with its SLA clock, in
// the batch's transaction.
func (j *job) afterContacts(q store.Q, inserts, updates []*model.Contact, before map[int64]contactState) error {
	label := fmt.Sprintf("import #%d", j.im.ID)
	var hs []store.HistoryRecord
	var mqls []*model.Contact
	var emails []string
	for _, c := range inserts {
		if c.LifecycleStage == "mql" && c.OwnerID == nil {
			mqls = append(mqls, c)
			emails = append(emails, c.Email)
		}
	}
	if len(mqls) > 0 && j.s.CRM != nil && j.s.CRM.MQL != nil {
		// Bulk inserts do not return ids; the few new MQLs are looked up.
		ids, err := q.LookupIDs(j.ctx, j.ws, "contacts", "email", emails)
		if err != nil {
			return err
		}
		for _, c := range mqls {
			c.ID = ids[c.Email]
		}
	}
	for _, c := range updates {
		b := before[c.ID]
		if b.stage == c.LifecycleStage {
			continue
		}
		hs = append(hs, store.HistoryRecord{ObjectType: "contact", ObjectID: c.ID, Action: "updated", Actor: label,
			Detail: map[string]any{"fields": []string{"lifecycle_stage"}, "lifecycle_stage": []string{b.stage, c.LifecycleStage}, "import_id": j.im.ID}})
		if c.LifecycleStage == "mql" && sameOwner(b.owner, c.OwnerID) {
			mqls = append(mqls, c)
		}
	}
	if j.s.CRM != nil && j.s.CRM.MQL != nil && len(mqls) > 0 {
		now := store.Now()
		assigner := j.s.CRM.MQL
		if b, ok := assigner.(crm.MQLBatchAssigner); ok {
			var err error
			if assigner, err = b.ForBatch(j.ctx, q, j.ws); err != nil {
				return err
			}
		}
		for _, c := range mqls {
			owner, action, detail, err := assigner.AssignMQL(j.ctx, q, j.ws, c, now)
			if err != nil {
				return err
			}
			if owner != nil {
				if err := q.SetContactOwner(j.ctx, j.ws, c.ID, *owner); err != nil {
					return err
				}
				c.OwnerID = owner
				j.sum.MQLs["assigned"]++
			} else {
				j.sum.MQLs["unassigned"]++
			}
			hs = append(hs, store.HistoryRecord{ObjectType: "contact", ObjectID: c.ID, Action: action, Detail: detail, Actor: label})
		}
	}
	if len(hs) == 0 {
		return nil
	}
	return q.AddHistories(j.ctx, j.ws, hs)
}

func sameOwner(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func (j *job) fillAccount(a *model.Account, p *pending) {
	str := func(field string, dst *string) {
		if v := j.get(p, field); v.set {
			*dst = v.s
		}
	}
	num := func(field string, dst **int64) {
		if v := j.get(p, field); v.set {
			*dst = opt(v.n)
		}
	}
	str("external_id", &a.ExternalID)
	str("name", &a.Name)
	str("domain", &a.Domain)
	num("employees", &a.Employees)
	num("annual_revenue", &a.AnnualRevenue)
	num("budget", &a.Budget)
	str("currency", &a.Currency)
	str("industry", &a.Industry)
	str("region", &a.Region)
	str("segment", &a.Segment)
	str("motion", &a.Motion)
	if a.Custom == nil {
		a.Custom = model.Custom{}
	}
	for k, v := range p.custom {
		a.Custom[k] = v
	}
}

// route decides an imported account's segment and motion before it is written
// (prev is the stored account, nil for a new one); the returned function queues
// the decision after the write and is never nil. rb is nil without a Router.
func (j *job) route(rb *routing.Batch, prev, a *model.Account) (func() error, error) {
	if rb == nil {
		return func() error { return nil }, nil
	}
	return rb.Route(prev, a, fmt.Sprintf("import %d by %s", j.im.ID, j.im.CreatedBy))
}

// writeAccounts dedupes by domain, then by external id, and routes each account
// in the batch's transaction.
func (j *job) writeAccounts(q store.Q) error {
	var rb *routing.Batch
	if j.s.Router != nil {
		rb = j.s.Router.Batch(j.ctx, q, j.ws)
	}
	var domains, exts []string
	for i := range j.batch {
		domains = append(domains, j.get(&j.batch[i], "domain").s)
		exts = append(exts, j.get(&j.batch[i], "external_id").s)
	}
	byDomain, err := q.LookupIDs(j.ctx, j.ws, "accounts", "domain", uniq(domains))
	if err != nil {
		return err
	}
	byExt, err := q.LookupIDs(j.ctx, j.ws, "accounts", "external_id", uniq(exts))
	if err != nil {
		return err
	}
	for i := range j.batch {
		p := &j.batch[i]
		name, domain, ext := j.get(p, "name").s, j.get(p, "domain").s, j.get(p, "external_id").s
		owner, ok := j.ownerOf(p)
		if !ok {
			continue
		}
		id, found := int64(0), false
		if domain != "" {
			id, found = byDomain[domain]
		}
		if !found && ext != "" {
			id, found = byExt[ext]
		}
		if found {
			a, err := q.GetAccount(j.ctx, j.ws, id)
			if err != nil {
				return err
			}
			if ext != "" && a.ExternalID != "" && a.ExternalID != ext {
				if other, taken := byExt[ext]; taken && other != id {
					j.rejectPending(p, "external_id", fmt.Sprintf("external id %q already belongs to another account (id %d)", ext, other))
					continue
				}
			}
			if domain != "" && a.Domain != domain {
				if other, taken := byDomain[domain]; taken && other != id {
					j.rejectPending(p, "domain", fmt.Sprintf("domain %q already belongs to another account (id %d)", domain, other))
					continue
				}
			}
			prev := a
			j.fillAccount(&a, p)
			if owner != nil {
				a.OwnerID = owner
			}
			after, err := j.route(rb, &prev, &a)
			if err != nil {
				return err
			}
			if err := q.UpdateAccount(j.ctx, j.ws, &a); err != nil {
				return err
			}
			if err := after(); err != nil {
				return err
			}
			if domain != "" {
				byDomain[domain] = a.ID
			}
			if ext != "" {
				byExt[ext] = a.ID
			}
			j.merged++
			continue
		}
		if name == "" {
			j.rejectPending(p, "name", "name is required")
			continue
		}
		a := model.Account{Currency: j.currency}
		j.fillAccount(&a, p)
		a.OwnerID = owner
		after, err := j.route(rb, nil, &a)
		if err != nil {
			return err
		}
		if err := q.CreateAccount(j.ctx, j.ws, &a); err != nil {
			return err
		}
		if err := after(); err != nil {
			return err
		}
		if domain != "" {
			byDomain[domain] = a.ID
		}
		if ext != "" {
			byExt[ext] = a.ID
		}
		j.accepted++
	}
	if rb != nil {
		return rb.Flush()
	}
	return nil
}

// dealStage decides pipeline, stage and outcome from the row: an explicit
// pipeline, else the option, else the pipeline whose stages contain the stage; a
// stage such as "Closed Won" sets the outcome and the pipeline's last stage.
func (j *job) dealStage(d *model.Deal, p *pending) (field, reason string) {
	pipeline := j.get(p, "pipeline").s
	stage := strings.ToLower(strings.TrimSpace(j.get(p, "stage").s))
	if o, ok := outcomeAliases[strings.ReplaceAll(stage, "_", " ")]; ok {
		if d.Outcome == "" {
			d.Outcome = o
		}
		stage = ""
	}
	if pipeline == "" {
		pipeline = j.opts.Pipeline
	}
	if pipeline == "" && stage != "" {
		var all []string
		for _, pd := range j.pipes {
			if pd.Index(stage) >= 0 {
				pipeline = pd.Key
			}
			all = append(all, pd.StageKeys()...)
		}
		if pipeline == "" {
			sort.Strings(all)
			if _, err := csvin.MatchEnum(stage, all, nil); err != nil {
				return "stage", err.Error() + "; map it with a value map"
			}
		}
	}
	if pipeline == "" {
		pipeline = d.Pipeline
	}
	if pipeline == "" {
		pipeline = "digital"
	}
	pd, ok := pipelinePkg.Find(j.pipes, pipeline)
	if !ok {
		return "pipeline", fmt.Sprintf("%q is not a pipeline (%s)", pipeline, strings.Join(pipelinePkg.Keys(j.pipes), ", "))
	}
	stages := pd.StageKeys()
	if stage == "" {
		stage = d.Stage
		if !model.Contains(stages, stage) {
			stage = stages[0]
			if d.Outcome == "won" {
				stage = stages[len(stages)-1]
			}
		}
	}
	if !model.Contains(stages, stage) {
		return "stage", fmt.Sprintf("%q is not a stage of %s (%s); map it with a value map", stage, pipeline, strings.Join(stages, ", "))
	}
	d.Pipeline, d.Stage = pipeline, stage
	return "", ""
}

func (j *job) fillDeal(d *model.Deal, p *pending) {
	if v := j.get(p, "external_id"); v.set {
		d.ExternalID = v.s
	}
	if v := j.get(p, "name"); v.set {
		d.Name = v.s
	}
	if v := j.get(p, "amount"); v.set {
		d.Amount = v.n
	}
	if v := j.get(p, "currency"); v.set {
		d.Currency = v.s
	}
	if v := j.get(p, "expected_close_date"); v.set {
		d.ExpectedCloseDate = v.s
	}
	if v := j.get(p, "outcome"); v.set {
		d.Outcome = v.s
	}
	if v := j.get(p, "loss_reason"); v.set {
		d.LossReason = v.s
	}
	if v := j.get(p, "closed_at"); v.set {
		d.ClosedAt = opt(v.t)
	}
	if v := j.get(p, "created_at"); v.set {
		d.CreatedAt = v.t
	}
	if d.Custom == nil {
		d.Custom = model.Custom{}
	}
	for k, v := range p.custom {
		d.Custom[k] = v
	}
}

// writeDeals dedupes by external id and links accounts; stage rules are the same as
// for a deal created through the API.
func (j *job) writeDeals(q store.Q) error {
	var exts []string
	for i := range j.batch {
		exts = append(exts, j.get(&j.batch[i], "external_id").s)
	}
	byExt, err := q.LookupIDs(j.ctx, j.ws, "deals", "external_id", uniq(exts))
	if err != nil {
		return err
	}
	links, err := j.loadAccountLinks(q, nil)
	if err != nil {
		return err
	}
	if j.pipes == nil {
		if j.pipes, _, err = pipelinePkg.Load(j.ctx, q, j.ws); err != nil {
			return err
		}
	}
	for i := range j.batch {
		p := &j.batch[i]
		acct, ok := j.linkedAccount(p, links)
		if !ok {
			continue
		}
		owner, ok := j.ownerOf(p)
		if !ok {
			continue
		}
		var d, prev model.Deal
		ext := j.get(p, "external_id").s
		id, found := byExt[ext]
		if found && ext != "" {
			if d, err = q.GetDeal(j.ctx, j.ws, id); err != nil {
				return err
			}
			prev = d
		} else {
			found = false
			d = model.Deal{Currency: j.currency}
		}
		j.fillDeal(&d, p)
		if f, why := j.dealStage(&d, p); why != "" {
			j.rejectPending(p, f, why)
			continue
		}
		if d.Name == "" {
			j.rejectPending(p, "name", "name is required")
			continue
		}
		if d.Outcome != "" && d.ClosedAt == nil {
			d.ClosedAt = opt(store.Now())
		}
		if acct != nil {
			d.AccountID = acct
		}
		if owner != nil {
			d.OwnerID = owner
		}
		var before *model.Deal
		if found {
			before = &prev
		}
		unmet, err := j.dealGates(q, before, &d)
		if err != nil {
			return err
		}
		if found {
			if err := q.UpdateDeal(j.ctx, j.ws, &d); err != nil {
				return err
			}
			if prev.Stage != d.Stage || prev.Pipeline != d.Pipeline {
				if err := q.EnterStage(j.ctx, j.ws, d.ID, d.Pipeline, d.Stage, "import:"+strconv.FormatInt(j.im.ID, 10), "", store.Now()); err != nil {
					return err
				}
			}
			j.merged++
			j.countGates(d.ID, unmet)
			continue
		}
		if err := q.CreateDeal(j.ctx, j.ws, &d); err != nil {
			return err
		}
		if ext != "" {
			byExt[ext] = d.ID
		}
		j.accepted++
		j.countGates(d.ID, unmet)
	}
	return nil
}

// writeActivities links contacts by email, accounts and deals by external id.
func (j *job) writeActivities(q store.Q) error {
	var exts, emails, deals []string
	for i := range j.batch {
		exts = append(exts, j.get(&j.batch[i], "external_id").s)
		emails = append(emails, j.get(&j.batch[i], "contact_email").s)
		deals = append(deals, j.get(&j.batch[i], "deal_external_id").s)
	}
	byExt, err := q.LookupIDs(j.ctx, j.ws, "activities", "external_id", uniq(exts))
	if err != nil {
		return err
	}
	contacts, err := q.LookupIDs(j.ctx, j.ws, "contacts", "email", uniq(emails))
	if err != nil {
		return err
	}
	dealIDs, err := q.LookupIDs(j.ctx, j.ws, "deals", "external_id", uniq(deals))
	if err != nil {
		return err
	}
	links, err := j.loadAccountLinks(q, nil)
	if err != nil {
		return err
	}
	if j.pipes == nil {
		if j.pipes, _, err = pipelinePkg.Load(j.ctx, q, j.ws); err != nil {
			return err
		}
	}
	for i := range j.batch {
		p := &j.batch[i]
		acct, ok := j.linkedAccount(p, links)
		if !ok {
			continue
		}
		owner, ok := j.ownerOf(p)
		if !ok {
			continue
		}
		var a model.Activity
		ext := j.get(p, "external_id").s
		id, found := byExt[ext]
		found = found && ext != ""
		if found {
			if a, err = q.GetActivity(j.ctx, j.ws, id); err != nil {
				return err
			}
		}
		if v := j.get(p, "contact_email"); v.set {
			cid, ok := contacts[v.s]
			if !ok {
				j.rejectPending(p, "contact_email", fmt.Sprintf("no contact with email %q", v.s))
				continue
			}
			a.ContactID = opt(cid)
		}
		if v := j.get(p, "deal_external_id"); v.set {
			did, ok := dealIDs[v.s]
			if !ok {
				j.rejectPending(p, "deal_external_id", fmt.Sprintf("no deal with external id %q", v.s))
				continue
			}
			a.DealID = opt(did)
		}
		if acct != nil {
			a.AccountID = acct
		}
		if owner != nil {
			a.OwnerID = owner
		}
		str := func(field string, dst *string) {
			if v := j.get(p, field); v.set {
				*dst = v.s
			}
		}
		str("external_id", &a.ExternalID)
		str("kind", &a.Kind)
		str("subject", &a.Subject)
		str("body", &a.Body)
		if v := j.get(p, "occurred_at"); v.set {
			a.OccurredAt = v.t
		}
		if v := j.get(p, "duration_minutes"); v.set {
			a.DurationMinutes = v.n
		}
		if v := j.get(p, "participants"); v.set {
			a.Participants = nil
			for _, s := range strings.FieldsFunc(v.s, func(r rune) bool { return r == ';' || r == ',' }) {
				if s = strings.TrimSpace(s); s != "" {
					a.Participants = append(a.Participants, s)
				}
			}
		}
		if a.Custom == nil {
			a.Custom = model.Custom{}
		}
		for k, v := range p.custom {
			a.Custom[k] = v
		}
		if a.Kind == "" {
			j.rejectPending(p, "kind", "kind is required")
			continue
		}
		if a.OccurredAt.IsZero() {
			j.rejectPending(p, "occurred_at", "occurred_at is required")
			continue
		}
		if found {
			if err := q.UpdateActivity(j.ctx, j.ws, &a); err != nil {
				return err
			}
			j.merged++
			continue
		}
		if err := q.CreateActivity(j.ctx, j.ws, &a); err != nil {
			return err
		}
		if ext != "" {
			byExt[ext] = a.ID
		}
		j.accepted++
	}
	return nil
}

// dealGates checks an imported deal against the exit criteria of the stages it
// skipped (from the first stage for a new deal, from its stored stage for a
// merged one). The deal is imported either way: one that falls short is flagged
// needs_review with the unmet gates as the reason, and counted in the summary's
// gates_unmet (docs/pipeline.md). A new deal has no activities or committee yet,
// so its check needs no query.
func (j *job) dealGates(q store.Q, before, d *model.Deal) ([]model.Unmet, error) {
	pd, _ := pipelinePkg.Find(j.pipes, d.Pipeline)
	var unmet []model.Unmet
	if before == nil {
		unmet = pipelinePkg.Move(pd, nil, d).Unmet(d, pipelinePkg.Facts{Activities: map[string]int{}})
	} else {
		var err error
		if unmet, err = pipelinePkg.Gate(j.ctx, q, j.ws, pd, before, d); err != nil {
			return nil, err
		}
	}
	if len(unmet) > 0 {
		d.NeedsReview, d.ReviewReason = true, pipelinePkg.ReviewReason(unmet)
	}
	return unmet, nil
}

// maxGateIDs bounds the deal ids a summary lists; the count is always exact.
const maxGateIDs = 1000

func (j *job) countGates(id int64, unmet []model.Unmet) {
	if len(unmet) == 0 {
		return
	}
	j.sum.GatesUnmet++
	if len(j.sum.GatesUnmetDeals) < maxGateIDs {
		j.sum.GatesUnmetDeals = append(j.sum.GatesUnmetDeals, id)
	}
}
