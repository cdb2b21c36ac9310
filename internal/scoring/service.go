package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Service scores contacts on top of the store.
type Service struct {
	St *store.Store
	// Now is the clock scores are computed against (nil: store.Now). Tests set it
	// instead of sleeping.
	Now func() time.Time
	// MQL, when set, hands each contact a batch promotes to mql to an LDR in the
	// batch's transaction (internal/assignment). Nobody available leaves it
	// unowned with the reason in its history; it never fails the batch.
	MQL crm.MQLAssigner
	// Lifecycle, when set, hears the stage changes scoring makes (promotion to
	// mql, decay to nurture), as crm's hook hears edits: nurture sequences
	// triggered by a stage start from either.
	Lifecycle crm.LifecycleHook
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// Actor is how scoring's own changes are signed in record history.
const Actor = "scoring"

// Stages scoring promotes to mql. Later stages are never touched: a customer who
// reads the pricing page stays a customer.
var promotable = []string{"visitor", "subscriber", "lead"}

// MaxBatch is the most events one Ingest takes (POST /api/v1/events).
const MaxBatch = 1000

// futureSkew is how far ahead of the server clock an event may be stamped (client
// clocks drift); later than that is an error, not a score that grows.
const futureSkew = 5 * time.Minute

var oldest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Event is one thing a contact did. The contact is named by ContactID or Email
// (both: they must agree). OccurredAt defaults to now.
type Event struct {
	ContactID  int64     `json:"contact_id,omitempty"`
	Email      string    `json:"email,omitempty"`
	Kind       string    `json:"kind"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	URL        string    `json:"url,omitempty"`
	Title      string    `json:"title,omitempty"`
}

// EventError is why one event of a batch was rejected; Field names it with its
// index, e.g. "events[3].kind".
type EventError struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Err is the rejection as the FieldError the API renders.
func (e EventError) Err() *store.FieldError {
	return &store.FieldError{Field: e.Field, Message: e.Message}
}

// Result reconciles a batch: Submitted = Applied + Rejected, with one EventError
// per rejected event, in index order.
type Result struct {
	Submitted int          `json:"submitted"`
	Applied   int          `json:"applied"`
	Rejected  int          `json:"rejected"`
	Errors    []EventError `json:"errors"`
	// Promoted are the contacts this batch moved to mql.
	Promoted []int64 `json:"promoted"`
}

// Config returns ws's scoring configuration (the defaults until one is saved).
func (s *Service) Config(ctx context.Context, ws int64) (Config, error) {
	return loadConfig(ctx, s.St.Read(), ws)
}

func loadConfig(ctx context.Context, q store.Q, ws int64) (Config, error) {
	sc, err := q.GetScoringConfig(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return Config{}, err
	}
	return fromStored(sc), nil
}

// SaveConfig validates and stores ws's configuration, audits it, and recomputes
// every scored contact's fit and due time in the same transaction: the half-life,
// threshold and rules all move the moment a score crosses the threshold.
// Engagement values are kept; from now on they decay with the new half-life.
func (s *Service) SaveConfig(ctx context.Context, act model.Actor, cfg Config) (Config, error) {
	ws := act.Workspace
	now := s.now()
	err := s.St.InTx(ctx, func(q store.Q) error {
		cc, err := customTypes(ctx, q, ws, "contact")
		if err != nil {
			return err
		}
		ac, err := customTypes(ctx, q, ws, "account")
		if err != nil {
			return err
		}
		if err := cfg.Validate(cc, ac); err != nil {
			return err
		}
		cfg.UpdatedBy = act.Label
		st := cfg.toStored()
		if err := q.SaveScoringConfig(ctx, ws, &st); err != nil {
			return err
		}
		cfg.UpdatedAt = &st.UpdatedAt
		if err := crm.Audit(ctx, q, act, "scoring_config_update", "scoring_config", nil, map[string]any{
			"half_life_seconds": cfg.HalfLifeSeconds, "mql_threshold": cfg.MQLThreshold, "event_kinds": len(cfg.EventWeights), "fit_rules": len(cfg.FitRules),
		}); err != nil {
			return err
		}
		var after int64
		for {
			ids, err := q.ScoredContactIDs(ctx, ws, after, 1000)
			if err != nil || len(ids) == 0 {
				return err
			}
			if err := rescore(ctx, q, ws, cfg, ids, now); err != nil {
				return err
			}
			after = ids[len(ids)-1]
		}
	})
	return cfg, err
}

func customTypes(ctx context.Context, q store.Q, ws int64, obj string) (map[string]string, error) {
	defs, err := q.CustomFields(ctx, ws, obj)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(defs))
	for _, d := range defs {
		m[d.Key] = d.Type
	}
	return m, nil
}

// Rescore recomputes the fit and due time of contacts of ws from their current
// attributes. Fit is otherwise recomputed when an event arrives; call this when a
// contact's or account's attributes change.
func (s *Service) Rescore(ctx context.Context, ws int64, ids []int64) error {
	now := s.now()
	return s.St.InTx(ctx, func(q store.Q) error {
		cfg, err := loadConfig(ctx, q, ws)
		if err != nil {
			return err
		}
		return rescore(ctx, q, ws, cfg, ids, now)
	})
}

// rescore recomputes fit, total and due time of those of ids that have a score.
func rescore(ctx context.Context, q store.Q, ws int64, cfg Config, ids []int64, now time.Time) error {
	contacts, accounts, err := loadContacts(ctx, q, ws, ids, true)
	if err != nil {
		return err
	}
	scores, err := q.ContactScores(ctx, ws, ids)
	if err != nil {
		return err
	}
	out := make([]store.ContactScore, 0, len(scores))
	for _, id := range ids {
		sc, ok := scores[id]
		c := contacts[id]
		if !ok || c == nil {
			continue
		}
		fit, hits := cfg.Fit(c, accountOf(c, accounts))
		setScore(&sc, cfg, fit, Engagement{Value: sc.EngagementValue, At: sc.EngagementAt}, hits)
		out = append(out, sc)
	}
	return q.PutContactScores(ctx, ws, out)
}

// setScore writes fit, engagement, total, due time and breakdown into sc.
func setScore(sc *store.ContactScore, cfg Config, fit float64, e Engagement, hits []FitHit) {
	sc.Fit, sc.EngagementValue, sc.EngagementAt, sc.Total = fit, e.Value, e.At, fit+e.Value
	sc.DueAt = nil
	if t, ok := Crossing(e, fit, cfg.MQLThreshold, cfg.HalfLife()); ok {
		sc.DueAt = &t
	}
	if hits == nil {
		hits = []FitHit{}
	}
	sc.Breakdown, _ = json.Marshal(storedBreakdown{Fit: hits})
}

func loadContacts(ctx context.Context, q store.Q, ws int64, ids []int64, lock bool) (map[int64]*model.Contact, map[int64]*model.Account, error) {
	contacts, err := q.ContactsForScoring(ctx, ws, ids, lock)
	if err != nil {
		return nil, nil, err
	}
	seen := map[int64]bool{}
	var acctIDs []int64
	for _, c := range contacts {
		if c.AccountID != nil && !seen[*c.AccountID] {
			seen[*c.AccountID] = true
			acctIDs = append(acctIDs, *c.AccountID)
		}
	}
	accounts, err := q.AccountsByIDs(ctx, ws, acctIDs)
	return contacts, accounts, err
}

func accountOf(c *model.Contact, accounts map[int64]*model.Account) *model.Account {
	if c.AccountID == nil {
		return nil
	}
	return accounts[*c.AccountID]
}

// pending is a validated event waiting for its contact.
type pending struct {
	idx   int
	ev    Event
	email string
}

// Ingest applies a batch of up to MaxBatch events to ws in one transaction. Each
// event is validated on its own: a bad one is rejected with its index and field
// (an unknown email is an error, never a silent drop) and the rest are applied.
// Applying means: store the event, add its weight to the contact's decaying
// engagement (exactly, whatever the order of arrival), recompute fit and the due
// time, and move a lead whose score reaches the MQL threshold to mql with a history
// entry that says why.
func (s *Service) Ingest(ctx context.Context, ws int64, events []Event) (Result, error) {
	res := Result{Submitted: len(events), Errors: []EventError{}, Promoted: []int64{}}
	if len(events) == 0 {
		return res, &store.FieldError{Field: "events", Message: "needs at least one event"}
	}
	if len(events) > MaxBatch {
		return res, &store.FieldError{Field: "events", Message: fmt.Sprintf("at most %d events per batch, got %d", MaxBatch, len(events))}
	}
	var err error
	err = s.St.InTx(ctx, func(q store.Q) error {
		res, err = s.IngestTx(ctx, q, ws, events)
		return err
	})
	if err != nil {
		return Result{Submitted: len(events), Errors: []EventError{}, Promoted: []int64{}}, err
	}
	return res, nil
}

// LoadConfig returns ws's scoring configuration as q sees it (the defaults until
// one is saved); callers inside a transaction use it to pick event kinds.
func LoadConfig(ctx context.Context, q store.Q, ws int64) (Config, error) {
	return loadConfig(ctx, q, ws)
}

// IngestTx is Ingest inside the caller's transaction q (tracking feeds stitched
// web events this way, in the transaction that stores them).
func (s *Service) IngestTx(ctx context.Context, q store.Q, ws int64, events []Event) (Result, error) {
	res := Result{Submitted: len(events), Errors: []EventError{}, Promoted: []int64{}}
	if len(events) == 0 {
		return res, nil
	}
	now := s.now()
	err := func() error {
		cfg, err := loadConfig(ctx, q, ws)
		if err != nil {
			return err
		}
		reject := func(i int, field, format string, a ...any) {
			res.Errors = append(res.Errors, EventError{Index: i, Field: fmt.Sprintf("events[%d].%s", i, field), Message: fmt.Sprintf(format, a...)})
		}
		var ok []pending
		var emails []string
		for i, ev := range events {
			p, field, msg := validate(ev, cfg, now)
			if field != "" {
				reject(i, field, "%s", msg)
				continue
			}
			p.idx = i
			if p.email != "" {
				emails = append(emails, p.email)
			}
			ok = append(ok, p)
		}
		byEmail, err := q.ContactIDsByEmail(ctx, ws, dedupe(emails))
		if err != nil {
			return err
		}
		idSet := map[int64]bool{}
		var ids []int64
		for _, p := range ok {
			for _, id := range []int64{p.ev.ContactID, byEmail[p.email]} {
				if id > 0 && !idSet[id] {
					idSet[id] = true
					ids = append(ids, id)
				}
			}
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		contacts, accounts, err := loadContacts(ctx, q, ws, ids, true)
		if err != nil {
			return err
		}
		// Resolve each event to a contact of this workspace.
		byContact := map[int64][]pending{}
		var order []int64
		for _, p := range ok {
			id := p.ev.ContactID
			if p.email != "" {
				eid, found := byEmail[p.email]
				switch {
				case !found || contacts[eid] == nil:
					reject(p.idx, "email", "no contact with email %s", p.email)
					continue
				case id != 0 && id != eid:
					reject(p.idx, "email", "belongs to contact %d, not contact_id %d", eid, id)
					continue
				}
				id = eid
			}
			if contacts[id] == nil {
				reject(p.idx, "contact_id", "no contact %d", id)
				continue
			}
			if _, seen := byContact[id]; !seen {
				order = append(order, id)
			}
			byContact[id] = append(byContact[id], p)
		}
		sort.Slice(res.Errors, func(i, j int) bool { return res.Errors[i].Index < res.Errors[j].Index })
		scores, err := q.ContactScores(ctx, ws, order)
		if err != nil {
			return err
		}
		h, threshold := cfg.HalfLife(), cfg.MQLThreshold
		rows := make([]store.EngagementEvent, 0, len(ok))
		out := make([]store.ContactScore, 0, len(order))
		type promo struct {
			idx   int // into out
			stage string
			score float64
			fit   float64
			eng   float64
			hits  []FitHit
		}
		var promos []promo
		for _, id := range order {
			c := contacts[id]
			sc, had := scores[id]
			if !had {
				sc = store.ContactScore{ContactID: id}
			}
			e := Engagement{Value: sc.EngagementValue, At: sc.EngagementAt}
			evs := byContact[id]
			for _, p := range evs {
				w := cfg.EventWeights[p.ev.Kind]
				e = e.Add(w, p.ev.OccurredAt, h)
				var detail map[string]string
				if p.ev.URL != "" || p.ev.Title != "" {
					detail = map[string]string{}
					if p.ev.URL != "" {
						detail["url"] = p.ev.URL
					}
					if p.ev.Title != "" {
						detail["title"] = p.ev.Title
					}
				}
				rows = append(rows, store.EngagementEvent{ContactID: id, Kind: p.ev.Kind, Weight: w, OccurredAt: p.ev.OccurredAt, Detail: detail})
			}
			fit, hits := cfg.Fit(c, accountOf(c, accounts))
			sc.Events += int64(len(evs))
			setScore(&sc, cfg, fit, e, hits)
			out = append(out, sc)
			score := fit + e.ValueAt(now, h)
			if score >= threshold && model.Contains(promotable, c.LifecycleStage) {
				promos = append(promos, promo{idx: len(out) - 1, stage: c.LifecycleStage, score: score, fit: fit, eng: score - fit, hits: hits})
			}
		}
		if err := q.CacheForeignKeyPlans(ctx); err != nil {
			return err
		}
		if err := q.InsertEngagementEvents(ctx, ws, rows); err != nil {
			return err
		}
		var hist []store.HistoryRecord
		assigner := s.MQL
		if b, ok := assigner.(crm.MQLBatchAssigner); ok && len(promos) > 1 {
			// Many promotions in one batch (an import of events, a burst of
			// first clicks): the pools are read once, not per contact.
			if assigner, err = b.ForBatch(ctx, q, ws); err != nil {
				return err
			}
		}
		if len(promos) > 0 {
			pids := make([]int64, len(promos))
			for i, p := range promos {
				pids[i] = out[p.idx].ContactID
			}
			touched := store.Now()
			moved, err := q.MoveContactsStage(ctx, ws, pids, promotable, "mql", touched)
			if err != nil {
				return err
			}
			isMoved := map[int64]bool{}
			for _, id := range moved {
				isMoved[id] = true
			}
			for _, p := range promos {
				sc := &out[p.idx]
				if !isMoved[sc.ContactID] {
					continue
				}
				t := touched
				sc.MQLAt = &t
				res.Promoted = append(res.Promoted, sc.ContactID)
				lines, err := topLines(ctx, q, ws, sc.ContactID, p.hits, now, h)
				if err != nil {
					return err
				}
				hist = append(hist, store.HistoryRecord{ObjectType: "contact", ObjectID: sc.ContactID, Action: "updated", Actor: Actor, Detail: map[string]any{
					"lifecycle_stage":  []string{p.stage, "mql"},
					"reason":           fmt.Sprintf("score %s reached the MQL threshold %s", num(p.score), num(threshold)),
					"score":            round1(p.score),
					"threshold":        threshold,
					"fit":              round1(p.fit),
					"engagement":       round1(p.eng),
					"top_contributors": lines,
				}})
				if assigner != nil {
					c := contacts[sc.ContactID]
					c.LifecycleStage = "mql"
					owner, action, detail, err := assigner.AssignMQL(ctx, q, ws, c, now)
					if err != nil {
						return err
					}
					if owner != nil {
						if err := q.SetContactOwner(ctx, ws, c.ID, *owner); err != nil {
							return err
						}
						c.OwnerID = owner
					}
					hist = append(hist, store.HistoryRecord{ObjectType: "contact", ObjectID: c.ID, Action: action, Actor: Actor, Detail: detail})
				}
				if s.Lifecycle != nil {
					c := *contacts[sc.ContactID]
					c.LifecycleStage = "mql"
					if err := s.Lifecycle.StageChanged(ctx, q, ws, &c, p.stage); err != nil {
						return err
					}
				}
			}
		}
		if err := q.PutContactScores(ctx, ws, out); err != nil {
			return err
		}
		res.Applied = len(rows)
		return q.AddHistories(ctx, ws, hist)
	}()
	if err != nil {
		return Result{Submitted: len(events), Errors: []EventError{}, Promoted: []int64{}}, err
	}
	res.Rejected = len(res.Errors)
	return res, nil
}

// validate checks one event on its own; field is "" when it is fine.
func validate(ev Event, cfg Config, now time.Time) (p pending, field, msg string) {
	p.ev = ev
	if ev.Kind == "" {
		return p, "kind", "is required"
	}
	if _, ok := cfg.EventWeights[ev.Kind]; !ok {
		return p, "kind", fmt.Sprintf("%q is not an event kind of this workspace (%s)", clip(ev.Kind, 64), joinKinds(cfg.EventWeights))
	}
	if ev.ContactID < 0 {
		return p, "contact_id", "must be a positive id"
	}
	if ev.Email != "" {
		e, err := crm.NormalizeEmail(ev.Email)
		if err != nil {
			return p, "email", err.Error()
		}
		p.email = e
	}
	if ev.ContactID == 0 && p.email == "" {
		return p, "contact_id", "contact_id or email is required"
	}
	if ev.OccurredAt.IsZero() {
		p.ev.OccurredAt = now
	} else {
		p.ev.OccurredAt = ev.OccurredAt.UTC().Truncate(time.Microsecond)
	}
	if p.ev.OccurredAt.After(now.Add(futureSkew)) {
		return p, "occurred_at", "is in the future"
	}
	if p.ev.OccurredAt.Before(oldest) {
		return p, "occurred_at", "is before 2000"
	}
	if len(ev.URL) > 2000 {
		return p, "url", "at most 2000 characters"
	}
	if len(ev.Title) > 500 {
		return p, "title", "at most 500 characters"
	}
	return p, "", ""
}

func joinKinds(m map[string]float64) string {
	ks := sortedKinds(m)
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// topLines are the fit rules and events that add most to a contact's score at
// now, largest first, as a rep reads them: "+15 title contains 'VP'", "+10 viewed
// /pricing …". Only promotions ask, so reading recent events here is cheap.
func topLines(ctx context.Context, q store.Q, ws, contactID int64, hits []FitHit, now time.Time, h time.Duration) ([]string, error) {
	evs, err := q.RecentEngagementEvents(ctx, ws, contactID, 50)
	if err != nil {
		return nil, err
	}
	lines := make([]Line, 0, len(hits)+len(evs))
	for _, f := range hits {
		lines = append(lines, fitLine(f))
	}
	for _, e := range evs {
		if e.Weight > 0 {
			lines = append(lines, eventLine(e.Kind, e.Weight, e.OccurredAt, e.Detail["url"], e.Detail["title"], now, h))
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Points > lines[j].Points })
	if len(lines) > topN {
		lines = lines[:topN]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out, nil
}

// Current is a contact's score at a moment, decayed from what is stored.
type Current struct {
	Score      float64    `json:"score"`
	Fit        float64    `json:"fit"`
	Engagement float64    `json:"engagement"`
	DueAt      *time.Time `json:"due_at,omitempty"`
}

// Scores returns the current scores of contacts of ws at now (a queue or list
// page); contacts never scored are absent. Fit is as of the last event or rescore.
func (s *Service) Scores(ctx context.Context, ws int64, ids []int64, now time.Time) (map[int64]Current, error) {
	q := s.St.Read()
	cfg, err := loadConfig(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	scores, err := q.ContactScores(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Current, len(scores))
	for id, sc := range scores {
		eng := Engagement{Value: sc.EngagementValue, At: sc.EngagementAt}.ValueAt(now, cfg.HalfLife())
		out[id] = Current{Score: sc.Fit + eng, Fit: sc.Fit, Engagement: eng, DueAt: sc.DueAt}
	}
	return out, nil
}

// Breakdown explains contact's score at now: the fit rules that hold today, the
// most recent events with what each still adds, and what older events add.
func (s *Service) Breakdown(ctx context.Context, ws, contactID int64, now time.Time, recent int) (Breakdown, error) {
	q := s.St.Read()
	c, err := q.GetContact(ctx, ws, contactID)
	if err != nil {
		return Breakdown{}, err
	}
	var acct *model.Account
	if c.AccountID != nil {
		a, err := q.GetAccount(ctx, ws, *c.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Breakdown{}, err
		}
		if err == nil {
			acct = &a
		}
	}
	cfg, err := loadConfig(ctx, q, ws)
	if err != nil {
		return Breakdown{}, err
	}
	fit, hits := cfg.Fit(&c, acct)
	var sc *store.ContactScore
	if got, err := q.GetContactScore(ctx, ws, contactID); err == nil {
		sc = &got
	} else if !errors.Is(err, store.ErrNotFound) {
		return Breakdown{}, err
	}
	if recent <= 0 {
		recent = 10
	}
	evs, err := q.RecentEngagementEvents(ctx, ws, contactID, min(recent, 100))
	if err != nil {
		return Breakdown{}, err
	}
	return breakdownOf(cfg, contactID, hits, fit, sc, evs, now), nil
}
