// Package routing decides an account's segment and sales motion from per-workspace
// rules (PRODUCT.md §2): ordered segment rules over firmographics (first match
// wins, the last one is a catch-all), then ordered routing rules mapping a segment
// plus optional conditions to a motion, pipeline, team and assignment policy.
//
// Rules are structured conditions evaluated in Go, validated on save; no rule text
// ever reaches SQL. Every change of an account's segment or motion is recorded
// with the rules that fired, the values they saw and a sentence saying why, in the
// same transaction as the write that caused it; the account's open deals are
// flagged for review rather than moved. See docs/routing.md.
package routing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/pipeline"
	"strings"
	"sync"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Service routes accounts and keeps the rules. The zero value works for Route
// (which uses the caller's transaction); St is needed by the other methods.
type Service struct {
	St *store.Store
	// River, when set, gets the re-routing job a rule change enqueues.
	River *river.Client[*sql.Tx]
	// OnDecision, when set, hears every recorded decision (first routing,
	// re-routing, a manual choice) in the transaction that records it;
	// rerouted says the account's segment or motion changed from a previous
	// one. Webhooks emit from here.
	OnDecision func(ctx context.Context, q store.Q, ws int64, d *model.RoutingDecision, rerouted bool) error

	mu     sync.Mutex
	recent [8]cached // compiled rules of the last few write transactions
	next   int
}

// cached holds a transaction's compiled rules, so an import batch of 10,000
// accounts reads and compiles them once. Keying by the *sql.Tx is safe: the
// entry keeps the pointer alive, so a later transaction cannot reuse its address.
type cached struct {
	tx *sql.Tx
	ws int64
	rs *Ruleset
}

// Load reads and compiles the rules of ws through q.
func Load(ctx context.Context, q store.Q, ws int64) (*Ruleset, error) {
	segs, err := q.SegmentRules(ctx, ws)
	if err != nil {
		return nil, err
	}
	routes, err := q.RoutingRules(ctx, ws)
	if err != nil {
		return nil, err
	}
	return Compile(segs, routes)
}

func (s *Service) ruleset(ctx context.Context, q store.Q, ws int64) (*Ruleset, error) {
	tx := q.Tx()
	if tx != nil {
		s.mu.Lock()
		for _, c := range s.recent {
			if c.tx == tx && c.ws == ws {
				s.mu.Unlock()
				return c.rs, nil
			}
		}
		s.mu.Unlock()
	}
	rs, err := Load(ctx, q, ws)
	if err != nil || tx == nil {
		return rs, err
	}
	s.mu.Lock()
	s.recent[s.next] = cached{tx: tx, ws: ws, rs: rs}
	s.next = (s.next + 1) % len(s.recent)
	s.mu.Unlock()
	return rs, nil
}

// forget drops cached rules of tx (the rules changed inside it).
func (s *Service) forget(tx *sql.Tx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.recent {
		if s.recent[i].tx == tx {
			s.recent[i] = cached{}
		}
	}
}

// Route decides a's segment and motion inside the caller's write transaction q.
// It runs after a client's fields were applied and before a is written; prev is
// the account as stored (nil for a new one; only its segment and motion are read).
// The function it returns, when not nil, must run after the write, when a has its
// id: it records the decision and flags the account's open deals for review.
//
// A client that sets segment or motion to a new value decides by hand: the value
// stands (the other one, if empty, comes from the rules), is recorded as a manual
// decision, and pins the account until a client clears segment or motion again.
// Otherwise the rules decide, and a decision is stored only when the segment or
// motion changes (or the account is routed for the first time). why says what
// caused the write ("updated by user:ann@acme.com").
func (s *Service) Route(ctx context.Context, q store.Q, ws int64, prev, a *model.Account, why string) (func() error, error) {
	p, err := s.decide(ctx, q, ws, prev, a, why)
	if err != nil || p == nil {
		return nil, err
	}
	return func() error { return s.record(ctx, q, ws, []*pending{p}) }, nil
}

// Batch routes the accounts written in one transaction (an import batch) and
// records their decisions together on Flush (COPY on PostgreSQL, multi-row
// statements on SQLite).
type Batch struct {
	s       *Service
	ctx     context.Context
	q       store.Q
	ws      int64
	pending []*pending
}

// Batch starts a batch in the caller's write transaction q.
func (s *Service) Batch(ctx context.Context, q store.Q, ws int64) *Batch {
	return &Batch{s: s, ctx: ctx, q: q, ws: ws}
}

// Route is Service.Route for one account of the batch; the function it returns
// (never nil) queues the decision once the account is written.
func (b *Batch) Route(prev, a *model.Account, why string) (func() error, error) {
	p, err := b.s.decide(b.ctx, b.q, b.ws, prev, a, why)
	if err != nil || p == nil {
		return func() error { return nil }, err
	}
	return func() error { b.pending = append(b.pending, p); return nil }, nil
}

// Flush records the queued decisions and flags re-routed accounts' open deals.
// Call it before the transaction commits.
func (b *Batch) Flush() error {
	err := b.s.record(b.ctx, b.q, b.ws, b.pending)
	b.pending = b.pending[:0]
	return err
}

// pending is a decision waiting for its account to be written.
type pending struct {
	a       *model.Account
	rec     model.RoutingDecision
	reroute bool // flag the account's open deals
}

// decide applies the routing to a and returns what to record, or nil.
func (s *Service) decide(ctx context.Context, q store.Q, ws int64, prev, a *model.Account, why string) (*pending, error) {
	var prevSeg, prevMot string
	if prev != nil {
		prevSeg, prevMot = prev.Segment, prev.Motion
	}
	manualSeg := a.Segment != "" && (prev == nil || a.Segment != prevSeg)
	manualMot := a.Motion != "" && (prev == nil || a.Motion != prevMot)
	cleared := (prevSeg != "" && a.Segment == "") || (prevMot != "" && a.Motion == "")
	rs, err := s.ruleset(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	var acv *int64
	if rs.UsesExpectedACV() && a.ID != 0 {
		if acv, err = q.MaxOpenDealAmount(ctx, ws, a.ID); err != nil {
			return nil, err
		}
	}
	ruled := rs.Evaluate(a, acv)
	p := &pending{a: a, rec: model.RoutingDecision{TriggeredBy: why, PreviousSegment: prevSeg, PreviousMotion: prevMot}}

	switch {
	case manualSeg || manualMot:
		d := rs.manual(a, acv, ruled, manualSeg, manualMot)
		a.Segment, a.Motion = d.Segment, d.Motion
		fill(&p.rec, d)
		p.rec.Manual = true
	default:
		a.Segment, a.Motion = ruled.Segment, ruled.Motion
		changed := ruled.Segment != prevSeg || ruled.Motion != prevMot
		routedBefore := prevSeg != "" || prevMot != ""
		if (changed || cleared) && prev != nil && routedBefore {
			// A manual decision holds until a client clears it; clearing one
			// is itself worth recording, even when the rules agree.
			last, err := q.LatestRoutingDecision(ctx, ws, a.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			pinned := err == nil && last.Manual
			if pinned && !cleared {
				a.Segment, a.Motion = prevSeg, prevMot
				return nil, nil
			}
			if !changed && !pinned {
				return nil, nil
			}
		} else if !changed && prev != nil {
			return nil, nil
		}
		fill(&p.rec, ruled)
	}
	p.reroute = prev != nil && (prevSeg != "" || prevMot != "") && (a.Segment != prevSeg || a.Motion != prevMot)
	return p, nil
}

// record writes decisions of accounts that now have their ids.
func (s *Service) record(ctx context.Context, q store.Q, ws int64, ps []*pending) error {
	if len(ps) == 0 {
		return nil
	}
	recs := make([]*model.RoutingDecision, len(ps))
	for i, p := range ps {
		p.rec.AccountID = p.a.ID
		recs[i] = &p.rec
	}
	if err := q.InsertRoutingDecisions(ctx, ws, recs); err != nil {
		return err
	}
	for _, p := range ps {
		if !p.reroute {
			continue
		}
		r := &p.rec
		reason := fmt.Sprintf("account re-routed from %s/%s to %s/%s: %s", orNone(r.PreviousSegment), orNone(r.PreviousMotion), r.Segment, r.Motion, r.Reason)
		if _, err := q.FlagOpenDeals(ctx, ws, r.AccountID, reason); err != nil {
			return err
		}
	}
	if s.OnDecision != nil {
		for _, p := range ps {
			if err := s.OnDecision(ctx, q, ws, &p.rec, p.reroute); err != nil {
				return err
			}
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func fill(rec *model.RoutingDecision, d Decision) {
	rec.Segment, rec.Motion, rec.Pipeline, rec.Team, rec.Policy = d.Segment, d.Motion, d.Pipeline, d.Team, d.Policy
	rec.SegmentRuleID, rec.RoutingRuleID = d.SegmentRule.id(), d.RoutingRule.id()
	rec.Reason = d.Reason
	rec.Inputs, _ = json.Marshal(d.Inputs)
}

// manual builds the decision for a segment and/or motion set by hand; what the
// client left empty comes from the rules, and the reason says what the rules
// would have decided.
func (rs *Ruleset) manual(a *model.Account, acv *int64, ruled Decision, bySeg, byMot bool) Decision {
	x := facts{a: a, acv: acv}
	d := ruled
	var set []string
	if bySeg {
		var buf []byte
		d, buf = rs.route(x, a.Segment, RuleRef{}, nil)
		d.Reason, d.Inputs = string(buf), ruled.Inputs
		set = append(set, "segment "+a.Segment)
	}
	if byMot {
		d.Motion = a.Motion
		d.Pipeline = a.Motion // each motion has the pipeline of its name
		d.Team, d.Policy, d.RoutingRule = "", "owner_keeps", RuleRef{}
		set = append(set, "motion "+a.Motion)
	}
	reason := strings.Join(set, " and ") + " set by hand"
	switch {
	case bySeg && !byMot:
		reason += "; " + d.Reason
	case byMot && !bySeg:
		reason += "; segment by the rules: " + strings.SplitN(ruled.Reason, "; ", 2)[0]
	}
	d.Reason = reason + " (the rules alone give " + ruled.Segment + " → " + ruled.Motion + ")"
	return d
}

// Rules returns the rules ws uses: its stored lists, or the defaults for a list
// it has not stored.
func (s *Service) Rules(ctx context.Context, ws int64) (RuleSet, error) {
	q := s.St.Read()
	segs, err := q.SegmentRules(ctx, ws)
	if err != nil {
		return RuleSet{}, err
	}
	routes, err := q.RoutingRules(ctx, ws)
	if err != nil {
		return RuleSet{}, err
	}
	set := RuleSet{SegmentRules: segs, RoutingRules: routes}
	if len(segs) == 0 {
		set.SegmentRules, set.DefaultSegmentRules = DefaultSegmentRules(), true
	}
	if len(routes) == 0 {
		set.RoutingRules, set.DefaultRoutingRules = DefaultRoutingRules(), true
	}
	return set, nil
}

// SaveRules validates set and replaces both rule lists of the actor's workspace in
// one transaction (an empty list, or Default* set, returns that list to the
// defaults), audits the change and, with a River client, enqueues in the same
// transaction the job that re-routes the workspace's existing accounts
// (RerouteAll).
func (s *Service) SaveRules(ctx context.Context, act model.Actor, set RuleSet) (RuleSet, error) {
	ws := act.Workspace
	if set.DefaultSegmentRules {
		set.SegmentRules = nil
	}
	if set.DefaultRoutingRules {
		set.RoutingRules = nil
	}
	var out RuleSet
	err := s.St.InTx(ctx, func(q store.Q) error {
		defs, err := q.CustomFields(ctx, ws, "account")
		if err != nil {
			return err
		}
		types := make(map[string]string, len(defs))
		for _, d := range defs {
			types[d.Key] = d.Type
		}
		ps, _, err := pipeline.Load(ctx, q, ws)
		if err != nil {
			return err
		}
		if out, err = ValidateFor(set, types, pipeline.Keys(ps)); err != nil {
			return err
		}
		if err := q.ReplaceSegmentRules(ctx, ws, out.SegmentRules); err != nil {
			return err
		}
		if err := q.ReplaceRoutingRules(ctx, ws, out.RoutingRules); err != nil {
			return err
		}
		s.forget(q.Tx())
		detail, _ := json.Marshal(map[string]int{"segment_rules": len(out.SegmentRules), "routing_rules": len(out.RoutingRules)})
		var wsp *int64
		if ws != 0 {
			wsp = &ws
		}
		if err := q.Audit(ctx, model.AuditEntry{WorkspaceID: wsp, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "routing_rules_update", TargetType: "routing_rules", Detail: detail, IP: act.IP}); err != nil {
			return err
		}
		if s.River == nil {
			return nil
		}
		_, err = s.River.InsertTx(ctx, q.Tx(), RerouteArgs{WorkspaceID: ws, Why: "routing rules changed by " + act.Label}, &river.InsertOpts{MaxAttempts: 5})
		return err
	})
	if err != nil {
		return RuleSet{}, err
	}
	if out.DefaultSegmentRules {
		out.SegmentRules = DefaultSegmentRules()
	}
	if out.DefaultRoutingRules {
		out.RoutingRules = DefaultRoutingRules()
	}
	return out, nil
}

// Decisions lists an account's routing history, newest first: the answer to "why
// is this account in this motion?".
func (s *Service) Decisions(ctx context.Context, ws, accountID int64) ([]model.RoutingDecision, error) {
	if _, err := s.St.Read().GetAccount(ctx, ws, accountID); err != nil {
		return nil, err
	}
	return s.St.Read().RoutingDecisions(ctx, ws, accountID, 100)
}

// Explain evaluates an account against the current rules without changing
// anything: what routing would decide now, and why.
func (s *Service) Explain(ctx context.Context, ws, accountID int64) (Decision, error) {
	q := s.St.Read()
	a, err := q.GetAccount(ctx, ws, accountID)
	if err != nil {
		return Decision{}, err
	}
	rs, err := Load(ctx, q, ws)
	if err != nil {
		return Decision{}, err
	}
	var acv *int64
	if rs.UsesExpectedACV() {
		if acv, err = q.MaxOpenDealAmount(ctx, ws, a.ID); err != nil {
			return Decision{}, err
		}
	}
	return rs.Evaluate(&a, acv), nil
}
