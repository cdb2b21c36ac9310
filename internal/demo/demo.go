// Package demo builds a realistic, deterministic demo workspace: a B2B software
// company selling to ~2,000 SMB, ~150 mid-market and ~60 enterprise accounts, with
// contacts, deals across both pipelines over the last 18 months (outcomes include
// no_decision), and activities with durations. Each part is its own step so later
// capabilities (sequences, subscriptions, spend) add steps without touching these.
// Economics adds a year of spend, cost profiles with headcount and the staffing
// planner's example (economics.go).
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"github.com/rightsize/rightsize/internal/tracking"
)

// Options sizes the demo; zero values take the defaults.
type Options struct {
	Seed       uint64
	SMB        int
	MidMarket  int
	Enterprise int
	Now        time.Time // "today" for the generated history
	Slug       string
}

// Result says what was made and how to log in. Password is shown once.
type Result struct {
	Workspace  model.Workspace
	AdminEmail string
	Password   string
	Accounts   int
	Contacts   int
	Deals      int
	Activities int
	// Disqualified is how many leads the demo's LDRs disqualified (with a reason).
	Disqualified int
	// Submissions and WebEvents are the digital front door's history.
	Submissions, WebEvents int
	// Enrollments are the guide's readers waiting in the follow-up sequence.
	Enrollments int
	// Handoffs are the recent won deals handed to customer success.
	Handoffs int
	// SQLs are the LDR → AE handoffs of the partner step (partner and in-house).
	SQLs int
	// Customers and Subscriptions come from the won deals, with a history of
	// expansions, contractions, churn and reactivations (docs/subscriptions.md).
	Customers, Subscriptions int
}

type gen struct {
	ctx    context.Context
	q      store.Q
	r      *rand.Rand
	ws     int64
	now    time.Time
	owners map[string][]int64 // role → user ids
	res    *Result
	accts  []acct
	mqls   []mqlRef        // MQL contacts, for the LDR desk step
	leads  []model.Contact // lead contacts, some of which the desk step disqualifies
	won    []model.Deal    // won deals, for the customers step
	subs   *subscriptions.Service
	// made are every deal with its account's index, for the partner step's
	// SQLs; repHash is the team's (unknown) password hash.
	made    []madeDeal
	repHash string
	// created is each contact's backdated creation (lifecycle).
	created map[int64]time.Time
}

type madeDeal struct {
	model.Deal
	acct int
}

type mqlRef struct {
	id     int64
	owner  int64
	motion string
}

type acct struct {
	model.Account
	contacts []int64
}

// Seed creates the demo workspace in one transaction.
func Seed(ctx context.Context, st *store.Store, o Options) (Result, error) {
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.SMB == 0 {
		o.SMB = 2000
	}
	if o.MidMarket == 0 {
		o.MidMarket = 150
	}
	if o.Enterprise == 0 {
		o.Enterprise = 60
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	if o.Slug == "" {
		o.Slug = "demo"
	}
	res := Result{Password: auth.GeneratePassword(), AdminEmail: "admin@" + o.Slug + ".rightsize.local"}
	hash, err := auth.HashPassword(res.Password)
	if err != nil {
		return res, err
	}
	repHash, err := auth.HashPassword(auth.GeneratePassword())
	if err != nil {
		return res, err
	}
	err = st.InTx(ctx, func(q store.Q) error {
		g := &gen{ctx: ctx, q: q, r: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), now: o.Now, owners: map[string][]int64{}, res: &res, created: map[int64]time.Time{}}
		g.subs = &subscriptions.Service{St: st, Now: func() time.Time { return o.Now }}
		w := model.Workspace{Name: "Northwind Software (demo)", Slug: o.Slug, Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return fmt.Errorf("demo: workspace: %w", err)
		}
		res.Workspace, g.ws = w, w.ID
		steps := []func() error{
			func() error { return g.people(hash, repHash) },
			func() error { return g.accounts(o.SMB, o.MidMarket, o.Enterprise) },
			g.contacts,
			g.deals,
			g.desk,
			g.success,
			g.customers,
			g.economics,
			g.partners,
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) owner(role string) *int64 {
	ids := g.owners[role]
	id := ids[g.r.IntN(len(ids))]
	return &id
}

func (g *gen) people(adminHash, repHash string) error {
	g.repHash = repHash
	add := func(email, name, role, hash string) error {
		u := model.User{Email: email, Name: name, PasswordHash: hash}
		if err := g.q.CreateUser(g.ctx, &u); err != nil {
			return fmt.Errorf("demo: user %s: %w", email, err)
		}
		g.owners[role] = append(g.owners[role], u.ID)
		return g.q.SetMembership(g.ctx, g.ws, u.ID, role)
	}
	if err := add(g.res.AdminEmail, "Demo Admin", model.RoleAdmin, adminHash); err != nil {
		return err
	}
	domain := strings.TrimPrefix(g.res.AdminEmail, "admin@")
	team := []struct{ name, role string }{
		{"Maya Chen", "manager"}, {"Leo Park", "ldr"}, {"Ines Duarte", "ldr"}, {"Sam Okafor", "ldr"},
		{"Priya Nair", "ae"}, {"Tom Becker", "ae"}, {"Ana Costa", "ae"}, {"Jon Ruiz", "ae"},
		{"Zoe Martin", "csm"}, {"Omar Haddad", "csm"},
	}
	for _, p := range team {
		email := strings.ToLower(strings.ReplaceAll(p.name, " ", ".")) + "@" + domain
		if err := add(email, p.name, p.role, repHash); err != nil {
			return err
		}
	}
	return nil
}

var (
	prefixes   = []string{"Blue", "North", "Bright", "Summit", "Cedar", "Harbor", "Nova", "Pioneer", "Silver", "Green", "Swift", "Atlas", "Copper", "Maple", "Iron", "Lumen", "Orbit", "Prairie", "Quartz", "River"}
	suffixes   = []string{"Bakery", "Dental", "Logistics", "Studio", "Consulting", "Fitness", "Legal", "Clinic", "Labs", "Foods", "Motors", "Analytics", "Systems", "Retail", "Travel", "Builders", "Media", "Energy", "Health", "Finance"}
	industries = []string{"Retail", "Healthcare", "Professional Services", "Manufacturing", "Software", "Financial Services", "Hospitality", "Construction", "Education", "Logistics"}
	regions    = []string{"NA", "EMEA", "APAC", "LATAM"}
	firstNames = []string{"Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn", "Drew", "Emma", "Lucas", "Mia", "Noah", "Olivia", "Liam", "Sofia", "Ethan", "Chloe"}
	lastNames  = []string{"Smith", "Garcia", "Müller", "Rossi", "Kowalski", "Nguyen", "Silva", "Johnson", "Brown", "Dubois", "Jensen", "Tanaka", "Patel", "O'Brien", "Novak", "Haddad", "Kim", "Lopez", "Berg", "Costa"}
	smbTitles  = []string{"Owner", "Founder", "Managing Director", "Office Manager", "Operations Lead"}
	entTitles  = []string{"CFO", "CIO", "VP Sales", "Head of Procurement", "General Counsel", "IT Director", "VP Operations", "Security Architect", "Finance Manager", "Sales Ops Analyst"}
	sources    = []string{"organic_search", "paid_search", "content_download", "webinar", "referral", "outbound", "partner", "event"}
)

func (g *gen) accounts(smb, mid, ent int) error {
	n := 0
	make1 := func(segment string, emp int64, revPerEmp int64) error {
		n++
		name := fmt.Sprintf("%s %s", g.pick(prefixes), g.pick(suffixes))
		if segment != "smb" {
			name = fmt.Sprintf("%s %s %s", g.pick(prefixes), g.pick(suffixes), []string{"Group", "Holdings", "International", "Corp"}[g.r.IntN(4)])
		}
		slug := strings.ToLower(strings.ReplaceAll(name, " ", ""))
		motion := "digital"
		owner := g.owner("ldr")
		if segment == "enterprise" {
			motion = "high_touch"
			owner = g.owner("ae")
		} else if segment == "smb" && n%12 == 0 {
			// Some small businesses ask for a demo and get the enterprise
			// treatment: the economics step shows what that costs.
			motion = "high_touch"
			owner = g.owner("ae")
		} else if segment == "mid_market" && g.r.IntN(3) == 0 {
			motion = "high_touch"
			owner = g.owner("ae")
		}
		rev := emp * revPerEmp * 100 // minor units
		budget := rev / 200
		a := model.Account{
			ExternalID: fmt.Sprintf("demo-acct-%05d", n), Name: name, Domain: fmt.Sprintf("%s%d.example", slug, n),
			Employees: &emp, AnnualRevenue: &rev, Budget: &budget, Currency: "USD", Industry: g.pick(industries),
			Region: g.pick(regions), OwnerID: owner, Segment: segment, Motion: motion, Custom: model.Custom{},
		}
		if err := g.q.CreateAccount(g.ctx, g.ws, &a); err != nil {
			return fmt.Errorf("demo: account: %w", err)
		}
		g.accts = append(g.accts, acct{Account: a})
		return nil
	}
	for i := 0; i < smb; i++ {
		if err := make1("smb", int64(1+g.r.IntN(99)), 80_000+int64(g.r.IntN(120_000))); err != nil {
			return err
		}
	}
	for i := 0; i < mid; i++ {
		if err := make1("mid_market", int64(100+g.r.IntN(900)), 150_000+int64(g.r.IntN(150_000))); err != nil {
			return err
		}
	}
	for i := 0; i < ent; i++ {
		if err := make1("enterprise", int64(1000+g.r.IntN(49_000)), 200_000+int64(g.r.IntN(200_000))); err != nil {
			return err
		}
	}
	g.res.Accounts = len(g.accts)
	return nil
}

func (g *gen) contacts() error {
	for i := range g.accts {
		a := &g.accts[i]
		count, titles := 1+g.r.IntN(2), smbTitles
		switch a.Segment {
		case "mid_market":
			count, titles = 2+g.r.IntN(3), entTitles
		case "enterprise":
			count, titles = 6+g.r.IntN(5), entTitles // a buying group of 6+
		}
		for j := 0; j < count; j++ {
			fn, ln := g.pick(firstNames), g.pick(lastNames)
			local := strings.ToLower(fn + "." + strings.NewReplacer("'", "", "ü", "u").Replace(ln))
			stage := g.pick([]string{"subscriber", "lead", "lead", "mql", "sql", "opportunity", "customer", "nurture"})
			consent := g.now.Add(-time.Duration(g.r.IntN(540*24)) * time.Hour).Truncate(time.Second)
			c := model.Contact{
				Email: fmt.Sprintf("%s%d@%s", local, j, a.Domain), FirstName: fn, LastName: ln, Title: titles[g.r.IntN(len(titles))],
				AccountID: &a.ID, LifecycleStage: stage, OwnerID: a.OwnerID, Source: g.pick(sources),
				ConsentBasis: "consent", ConsentSource: "demo", ConsentAt: &consent, Custom: model.Custom{},
			}
			if c.Source == "paid_search" {
				c.UTMSource, c.UTMMedium, c.UTMCampaign = "google", "cpc", "smb-crm-2026"
			}
			if err := g.q.CreateContact(g.ctx, g.ws, &c); err != nil {
				return fmt.Errorf("demo: contact: %w", err)
			}
			if err := g.lifecycle(c.ID, stage); err != nil {
				return err
			}
			a.contacts = append(a.contacts, c.ID)
			g.res.Contacts++
			if stage == "lead" {
				g.leads = append(g.leads, c)
			}
			if stage == "mql" && a.OwnerID != nil {
				g.mqls = append(g.mqls, mqlRef{id: c.ID, owner: *a.OwnerID, motion: a.Motion})
			}
		}
	}
	return nil
}

// lifecyclePaths are the stages a demo contact went through to reach its
// current one, oldest first.
var lifecyclePaths = map[string][][]string{
	"subscriber":  {{"subscriber"}},
	"lead":        {{"lead"}, {"subscriber", "lead"}},
	"mql":         {{"lead", "mql"}},
	"sql":         {{"lead", "mql", "sql"}},
	"opportunity": {{"lead", "mql", "sql", "opportunity"}},
	"customer":    {{"lead", "mql", "sql", "opportunity", "customer"}},
	"nurture":     {{"lead", "mql", "nurture"}, {"lead", "nurture"}},
}

// stageDays is how many days a contact took to enter a stage: a minimum and a
// random spread.
var stageDays = map[string][2]int{"lead": {3, 30}, "mql": {2, 20}, "sql": {1, 10}, "opportunity": {3, 21}, "customer": {14, 60}, "nurture": {5, 30}}

// lifecycle backdates contact id's creation and records the stage changes
// that brought it to stage, as the product records them (an "updated"
// history entry with lifecycle_stage [from, to]), so the funnel report and
// the dashboard show conversions and days between stages instead of every
// contact created today in its final stage.
func (g *gen) lifecycle(id int64, stage string) error {
	paths := lifecyclePaths[stage]
	if paths == nil {
		return nil
	}
	path := paths[g.r.IntN(len(paths))]
	gaps := make([]time.Duration, len(path))
	var span time.Duration
	for i, s := range path[1:] {
		d := stageDays[s]
		gaps[i+1] = time.Duration(d[0]*24+g.r.IntN(d[1]*24)) * time.Hour
		span += gaps[i+1]
	}
	at := g.now.Add(-span - time.Duration(48+g.r.IntN(240*24))*time.Hour).Truncate(time.Minute)
	if err := g.q.SetContactCreatedAt(g.ctx, g.ws, id, at); err != nil {
		return fmt.Errorf("demo: contact history: %w", err)
	}
	g.created[id] = at
	for i := 1; i < len(path); i++ {
		at = at.Add(gaps[i])
		if err := g.q.AddHistoryAt(g.ctx, g.ws, "contact", id, "updated", map[string]any{"lifecycle_stage": []string{path[i-1], path[i]}}, "demo", at); err != nil {
			return fmt.Errorf("demo: contact history: %w", err)
		}
	}
	return nil
}

var lossReasons = []string{"price", "competitor", "timing", "missing_feature", "champion_left"}

func (g *gen) deals() error {
	for i := range g.accts {
		a := &g.accts[i]
		chance := 30 // percent of SMB accounts with a deal
		switch a.Segment {
		case "mid_market":
			chance = 70
		case "enterprise":
			chance = 95
		}
		if g.r.IntN(100) >= chance {
			continue
		}
		created := g.now.Add(-time.Duration(g.r.IntN(540*24)) * time.Hour).Truncate(time.Second)
		pipeline := a.Motion
		stages := model.Pipelines[pipeline]
		var amount int64
		var cycleDays int
		switch a.Segment {
		case "smb":
			amount, cycleDays = int64(1_200+g.r.IntN(10_800))*100, 14+g.r.IntN(30)
		case "mid_market":
			amount, cycleDays = int64(15_000+g.r.IntN(45_000))*100, 45+g.r.IntN(60)
		default:
			amount, cycleDays = int64(80_000+g.r.IntN(420_000))*100, 120+g.r.IntN(150)
		}
		closeAt := created.Add(time.Duration(cycleDays) * 24 * time.Hour)
		d := model.Deal{
			ExternalID: fmt.Sprintf("demo-deal-%05d", g.res.Deals+1), AccountID: &a.ID,
			Name:   fmt.Sprintf("%s — %s", a.Name, []string{"Starter", "Growth", "Platform", "Renewal"}[g.r.IntN(4)]),
			Amount: amount, Currency: "USD", Pipeline: pipeline, OwnerID: g.owner("ae"),
			ExpectedCloseDate: closeAt.Format("2006-01-02"), CreatedAt: created, Custom: model.Custom{},
		}
		if closeAt.Before(g.now) {
			// Closed: won ~30 %, lost ~45 %, no decision ~25 % — the SMB fear of a wrong choice.
			switch roll := g.r.IntN(100); {
			case roll < 30:
				d.Outcome, d.Stage = "won", stages[len(stages)-1]
			case roll < 75:
				d.Outcome, d.Stage, d.LossReason = "lost", stages[g.r.IntN(len(stages)-1)], g.pick(lossReasons)
			default:
				d.Outcome, d.Stage, d.LossReason = "no_decision", stages[g.r.IntN(len(stages)-1)], "no_decision"
			}
			ca := closeAt
			d.ClosedAt = &ca
		} else {
			progress := float64(g.now.Sub(created)) / float64(closeAt.Sub(created))
			d.Stage = stages[min(int(progress*float64(len(stages)-1)), len(stages)-2)]
		}
		if err := g.q.CreateDeal(g.ctx, g.ws, &d); err != nil {
			return fmt.Errorf("demo: deal: %w", err)
		}
		g.res.Deals++
		g.made = append(g.made, madeDeal{Deal: d, acct: i})
		if d.Outcome == "won" {
			g.won = append(g.won, d)
		}
		if err := g.activities(a, &d, created, closeAt); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) activities(a *acct, d *model.Deal, from, to time.Time) error {
	if to.After(g.now) {
		to = g.now
	}
	span := to.Sub(from)
	if span <= 0 {
		return nil
	}
	kinds := []string{"email", "call", "demo"}
	n := 2 + g.r.IntN(3)
	if a.Segment == "enterprise" {
		kinds = []string{"call", "meeting", "demo", "email", "contract_discussion", "meeting"}
		n = 8 + g.r.IntN(10)
	} else if a.Segment == "mid_market" || a.Motion == "high_touch" {
		kinds = []string{"call", "meeting", "demo", "email", "contract_discussion"}
		n = 4 + g.r.IntN(5)
	}
	minutes := map[string]int{"email": 5, "call": 20, "meeting": 45, "demo": 60, "contract_discussion": 60}
	for i := 0; i < n; i++ {
		kind := kinds[g.r.IntN(len(kinds))]
		at := from.Add(time.Duration(g.r.Int64N(int64(span)))).Truncate(time.Minute)
		var contact *int64
		var parts []string
		if len(a.contacts) > 0 {
			c := a.contacts[g.r.IntN(len(a.contacts))]
			contact = &c
			parts = []string{fmt.Sprintf("contact:%d", c)}
		}
		act := model.Activity{
			Kind: kind, Subject: strings.ReplaceAll(kind, "_", " ") + " with " + a.Name, OccurredAt: at,
			DurationMinutes: int64(minutes[kind] + g.r.IntN(minutes[kind]+1)), OwnerID: d.OwnerID,
			ContactID: contact, AccountID: &a.ID, DealID: &d.ID, Participants: parts, Custom: model.Custom{},
		}
		if err := g.q.CreateActivity(g.ctx, g.ws, &act); err != nil {
			return fmt.Errorf("demo: activity: %w", err)
		}
		g.res.Activities++
	}
	return nil
}

// desk gives the LDR desk something to work: an LDR pool and an AE pool with the
// team's reps, and the MQLs owned by LDRs assigned over the last three days with
// their speed-to-lead clocks — some touched in time, some late, some overdue.
func (g *gen) desk() error {
	pools := map[string]*model.Pool{
		"ldr": {Name: "SMB LDRs", Role: "ldr", Team: "smb", Capacity: 500},
		"ae":  {Name: "Account executives", Role: "ae", Capacity: 200},
	}
	for _, role := range []string{"ldr", "ae"} {
		p := pools[role]
		if err := g.q.CreatePool(g.ctx, g.ws, p); err != nil {
			return fmt.Errorf("demo: pool: %w", err)
		}
		for _, uid := range g.owners[role] {
			if err := g.q.SetPoolMember(g.ctx, g.ws, model.PoolMember{PoolID: p.ID, UserID: uid, Active: true}); err != nil {
				return fmt.Errorf("demo: pool member: %w", err)
			}
		}
	}
	isLDR := map[int64]bool{}
	for _, uid := range g.owners["ldr"] {
		isLDR[uid] = true
	}
	for _, m := range g.mqls {
		if !isLDR[m.owner] {
			continue
		}
		at := g.now.Add(-time.Duration(g.r.IntN(72*60)) * time.Minute).Truncate(time.Minute)
		a := model.Assignment{PoolID: pools["ldr"].ID, UserID: m.owner, ObjectType: "contact", ObjectID: m.id, Motion: "digital",
			Reason: "demo: MQL from the SMB funnel", AssignedAt: at, SLADueAt: assignment.DueAt(at, 60, time.UTC)}
		switch roll := g.r.IntN(10); {
		case roll < 4: // touched in time
			t := a.AssignedAt.Add(20 * time.Minute)
			if t.After(a.SLADueAt) {
				t = a.SLADueAt
			}
			a.FirstTouchAt = &t
		case roll < 6: // touched late
			t := a.SLADueAt.Add(time.Duration(1+g.r.IntN(180)) * time.Minute)
			if t.After(g.now) {
				t = g.now
			}
			a.FirstTouchAt, a.Breached = &t, t.After(a.SLADueAt)
		}
		if err := g.q.InsertAssignment(g.ctx, g.ws, &a); err != nil {
			return fmt.Errorf("demo: assignment: %w", err)
		}
	}
	if err := g.disqualify(); err != nil {
		return err
	}
	return g.digital()
}

// digital seeds the SMB funnel's front door: a content library, a tracking
// site, three forms, and — for some SMB leads and MQLs — the page views that
// brought them and the form they filled in (stitched, so their timelines show
// the research before the first touch).
func (g *gen) digital() error {
	assets := []model.Asset{
		{Title: "The SMB buyer's guide to revenue software", URL: "https://www.northwind.example/guides/smb-buyers-guide.pdf", Type: "guide", Stage: "awareness", Segment: "smb", Topic: "buying"},
		{Title: "Pricing explained: plans, seats and add-ons", URL: "https://www.northwind.example/guides/pricing.pdf", Type: "guide", Stage: "consideration", Segment: "smb", Topic: "pricing"},
		{Title: "30-day onboarding checklist", URL: "https://www.northwind.example/checklists/onboarding.pdf", Type: "checklist", Stage: "decision", Segment: "smb", Topic: "onboarding"},
		{Title: "How a 12-person agency cut its sales cycle in half", URL: "https://www.northwind.example/stories/agency.html", Type: "case_study", Stage: "decision", Segment: "smb", Topic: "results"},
		{Title: "Webinar: forecasting for mid-market teams", URL: "https://www.northwind.example/webinars/forecasting", Type: "webinar", Stage: "consideration", Segment: "mid_market", Topic: "forecasting"},
	}
	for i := range assets {
		if err := g.q.CreateAsset(g.ctx, g.ws, &assets[i]); err != nil {
			return fmt.Errorf("demo: asset: %w", err)
		}
	}
	site := store.TrackingSite{PublicKey: tracking.NewKey(), Name: "www.northwind.example", AllowedOrigins: []string{"https://www.northwind.example"}, ConsentMode: "none"}
	if err := g.q.CreateTrackingSite(g.ctx, g.ws, &site); err != nil {
		return fmt.Errorf("demo: tracking site: %w", err)
	}
	origins := []string{"https://www.northwind.example"}
	fs := []model.Form{
		{Key: forms.NewKey(), Name: "Free trial", Kind: "trial_request", Fields: []model.FormField{{Field: "email", Label: "Work email", Required: true}, {Field: "first_name", Label: "First name", Required: true}},
			Progressive: []model.FormField{}, AllowedOrigins: origins, RedirectURL: "https://www.northwind.example/welcome"},
		{Key: forms.NewKey(), Name: "Pricing guide download", Kind: "gated_content", AssetID: &assets[1].ID,
			Fields:      []model.FormField{{Field: "email", Label: "Work email", Required: true}, {Field: "first_name", Label: "First name"}},
			Progressive: []model.FormField{{Field: "title", Label: "Job title"}, {Field: "phone", Label: "Phone"}}, AllowedOrigins: origins,
			ConsentText: "Email me the guide and occasional tips. Unsubscribe any time.", ConsentVersion: "2026-09"},
		{Key: forms.NewKey(), Name: "Newsletter", Kind: "newsletter", Fields: []model.FormField{{Field: "email", Label: "Email", Required: true}},
			Progressive: []model.FormField{}, AllowedOrigins: origins, ConsentText: "Send me the monthly newsletter.", ConsentVersion: "2026-01", DoubleOptIn: true},
	}
	for i := range fs {
		if err := g.q.CreateForm(g.ctx, g.ws, &fs[i]); err != nil {
			return fmt.Errorf("demo: form: %w", err)
		}
	}
	pages := []struct{ path, title string }{
		{"/", "Northwind — revenue software for small teams"}, {"/pricing", "Pricing — Northwind"}, {"/features", "Features — Northwind"},
		{"/blog/speed-to-lead", "Why speed to lead wins SMB deals"}, {"/customers", "Customer stories — Northwind"},
	}
	campaigns := []string{"spring-smb", "pricing-guide", "retargeting"}
	var evs []store.WebEvent
	for i, c := range g.leads {
		if i%4 != 0 {
			continue // a quarter of the leads came through the site
		}
		vid := fmt.Sprintf("demo-v-%d", c.ID)
		first := g.now.Add(-time.Duration(2+g.r.IntN(40*24)) * time.Hour).Truncate(time.Second)
		n := 1 + g.r.IntN(5)
		for j := 0; j < n; j++ {
			p := pages[g.r.IntN(len(pages))]
			at := first.Add(time.Duration(j*(5+g.r.IntN(90))) * time.Minute)
			cid := c.ID
			evs = append(evs, store.WebEvent{VisitorID: vid, ContactID: &cid, Kind: "page_view", URL: "https://www.northwind.example" + p.path, Title: p.title, OccurredAt: at, ReceivedAt: at})
		}
		if err := g.q.LinkVisitor(g.ctx, g.ws, vid, c.ID, first); err != nil {
			return fmt.Errorf("demo: visitor: %w", err)
		}
		camp := campaigns[g.r.IntN(len(campaigns))]
		sub := model.Submission{FormID: fs[1].ID, Status: "accepted", ContactID: &c.ID, VisitorID: vid, ConsentVersion: fs[1].ConsentVersion, CreatedAt: first.Add(time.Duration(n*95) * time.Minute),
			Fields: map[string]string{"email": c.Email, "first_name": c.FirstName}, UTM: map[string]string{"utm_source": "google", "utm_campaign": camp}}
		if err := g.q.InsertSubmission(g.ctx, g.ws, &sub, ""); err != nil {
			return fmt.Errorf("demo: submission: %w", err)
		}
		if err := g.q.AddHistoryAt(g.ctx, g.ws, "contact", c.ID, "form_submitted", map[string]any{"form_id": fs[1].ID, "form": fs[1].Name, "kind": fs[1].Kind, "submission_id": sub.ID, "utm": sub.UTM}, "form: "+fs[1].Name, sub.CreatedAt); err != nil {
			return fmt.Errorf("demo: submission: %w", err)
		}
		g.res.Submissions++
	}
	g.res.WebEvents = len(evs)
	if err := g.q.InsertWebEvents(g.ctx, g.ws, evs); err != nil {
		return fmt.Errorf("demo: web events: %w", err)
	}
	return g.nurture(fs[1])
}

// nurture sets up the sender and the sequence that follows a guide download,
// and puts the guide's readers in it part-way, waiting for their next email
// (nothing is due at once: the demo never mails anyone on start).
func (g *gen) nurture(guide model.Form) error {
	snd := store.MailSender{FromName: "Ada at Northwind", FromAddress: "ada@northwind.example", ReplyTo: "sales@northwind.example",
		PostalAddress: "Northwind Software, 1 Harbour Street, Bristol BS1 4XX, United Kingdom", RatePerSec: 20, UpdatedBy: "demo"}
	if err := g.q.SaveMailSender(g.ctx, g.ws, &snd); err != nil {
		return fmt.Errorf("demo: mail sender: %w", err)
	}
	task, end := 5, 6 // clicked in the story: a call task; otherwise done
	seq := model.Sequence{Name: "Pricing guide follow-up", Status: "active", Trigger: model.SequenceTrigger{Kind: "form", Ref: guide.Key},
		ExitRules: []string{"replied", "trial_or_contact_request", "meeting_booked", "became_customer", "unsubscribed", "bounced"}, StalenessMinutes: 24 * 60,
		Steps: []model.SequenceStep{
			{Kind: "send_email", Subject: "Your pricing guide, {{.Contact.FirstName}}", HTML: `<p>Hi {{.Contact.FirstName}},</p><p>Here is <a href="https://www.northwind.example/guides/pricing.pdf">the pricing guide</a> you asked for. Most teams of your size start on the Team plan.</p><p>Ada</p>`},
			{Kind: "wait", Duration: "3d"},
			{Kind: "send_email", Subject: "How a 12-person agency halved its sales cycle", HTML: `<p>Hi {{.Contact.FirstName}},</p><p>A short story you may find useful: <a href="https://www.northwind.example/stories/agency.html">read it here</a>.</p><p>Ada</p>`},
			{Kind: "wait", Duration: "4d"},
			{Kind: "branch", If: &model.StepCondition{Kind: "clicked"}, Then: &task, Else: &end},
			{Kind: "create_task", TaskSubject: "Call: read the pricing guide and the agency story"},
		}}
	if err := g.q.CreateSequence(g.ctx, g.ws, &seq); err != nil {
		return fmt.Errorf("demo: sequence: %w", err)
	}
	for i, c := range g.leads {
		if i%4 != 0 {
			continue
		}
		due := g.now.Add(time.Duration(12+g.r.IntN(60)) * time.Hour).Truncate(time.Minute)
		e := model.Enrollment{SequenceID: seq.ID, ContactID: c.ID, Status: "active", Position: 2, NextDueAt: &due, Source: "form:" + guide.Key}
		if _, err := g.q.InsertEnrollment(g.ctx, g.ws, &e); err != nil {
			return fmt.Errorf("demo: enrollment: %w", err)
		}
		g.res.Enrollments++
	}
	return nil
}

// dqWeights skews the demo's disqualification reasons the way an SMB desk sees
// them: mostly no need and no budget, a few competitors and no-shows.
var dqWeights = []struct {
	reason string
	weight int
}{{"no_need", 9}, {"no_budget", 7}, {"bad_timing", 5}, {"unreachable", 4}, {"not_a_fit", 3}, {"competitor", 2}, {"no_authority", 2}, {"other", 1}}

// disqualify marks about one lead in five disqualified by an LDR over the last
// 90 days, with a reason, so the dashboard and reports have something to count.
func (g *gen) disqualify() error {
	total := 0
	for _, w := range dqWeights {
		total += w.weight
	}
	ldrs := g.owners["ldr"]
	for _, c := range g.leads {
		if g.r.IntN(5) != 0 {
			continue
		}
		roll, reason := g.r.IntN(total), ""
		for _, w := range dqWeights {
			if roll < w.weight {
				reason = w.reason
				break
			}
			roll -= w.weight
		}
		at := g.now.Add(-time.Duration(g.r.IntN(89*24*60)) * time.Minute).Truncate(time.Minute)
		if c0, ok := g.created[c.ID]; ok && !at.After(c0) {
			// Not before the lead existed: a day or more after.
			at = c0.Add(time.Duration(24+g.r.IntN(24*14)) * time.Hour)
			if at.After(g.now) {
				at = g.now
			}
		}
		var by *int64
		if len(ldrs) > 0 {
			by = &ldrs[g.r.IntN(len(ldrs))]
		}
		c.LifecycleStage = "disqualified"
		if err := g.q.UpdateContact(g.ctx, g.ws, &c); err != nil {
			return fmt.Errorf("demo: disqualify: %w", err)
		}
		if err := g.q.InsertDisqualificationAt(g.ctx, g.ws, c.ID, reason, "", by, at); err != nil {
			return fmt.Errorf("demo: disqualify: %w", err)
		}
		if err := g.q.AddHistoryAt(g.ctx, g.ws, "contact", c.ID, "updated", map[string]any{"lifecycle_stage": []string{"lead", "disqualified"}, "reason": reason}, "demo", at); err != nil {
			return fmt.Errorf("demo: disqualify: %w", err)
		}
		g.res.Disqualified++
	}
	return nil
}
