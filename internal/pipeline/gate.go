package pipeline

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Facts are what exit criteria look at besides the deal's own fields.
type Facts struct {
	Activities map[string]int // activity count by kind
	Committee  []model.CommitteeMember
}

// LoadFacts reads the deal's activities and committee (none for an unsaved deal).
func LoadFacts(ctx context.Context, q store.Q, ws int64, dealID int64) (Facts, error) {
	if dealID == 0 {
		return Facts{Activities: map[string]int{}}, nil
	}
	acts, err := q.DealActivityKinds(ctx, ws, dealID)
	if err != nil {
		return Facts{}, err
	}
	cm, err := q.Committee(ctx, ws, dealID)
	if err != nil {
		return Facts{}, err
	}
	return Facts{Activities: acts, Committee: cm}, nil
}

// StageUnmet lists what d lacks to leave stage s, in criteria order.
func StageUnmet(s model.StageDef, d *model.Deal, f Facts) []model.Unmet {
	var out []model.Unmet
	add := func(u model.Unmet) { u.Stage = s.Key; out = append(out, u) }
	for _, field := range s.Exit.RequiredFields {
		if !fieldSet(d, field) {
			add(model.Unmet{Code: "required_field", Field: field, Need: 1, Message: fmt.Sprintf("%s is required to leave %s", field, s.Name)})
		}
	}
	for _, kind := range s.Exit.Activities {
		if f.Activities[kind] == 0 {
			add(model.Unmet{Code: "activity", Kind: kind, Need: 1, Message: fmt.Sprintf("a %s activity is required to leave %s", strings.ReplaceAll(kind, "_", " "), s.Name)})
		}
	}
	if s.Exit.Committee != nil {
		for _, u := range Coverage(*s.Exit.Committee, f.Committee) {
			u.Message += " to leave " + s.Name
			add(u)
		}
	}
	for _, doc := range s.Exit.Documents {
		if !isURL(d.Custom[doc]) {
			add(model.Unmet{Code: "document", Field: "custom." + doc, Need: 1, Message: fmt.Sprintf("a linked document (custom.%s, an http(s) URL) is required to leave %s", doc, s.Name)})
		}
	}
	return out
}

// Coverage checks a committee against a rule: at least MinApproved members
// approved (each contact counts once, whatever its role), and for every listed
// role at least one approved member holding it. A rejected sign-off counts as
// not approved.
func Coverage(rule model.CommitteeRule, members []model.CommitteeMember) []model.Unmet {
	approved := 0
	roles := map[string]bool{}
	for _, m := range members {
		if m.Signoff == "approved" {
			approved++
			roles[m.Role] = true
		}
	}
	var out []model.Unmet
	if approved < rule.MinApproved {
		out = append(out, model.Unmet{Code: "committee_approved", Need: rule.MinApproved, Have: approved,
			Message: fmt.Sprintf("%d of %d required committee sign-offs approved", approved, rule.MinApproved)})
	}
	for _, r := range rule.Roles {
		if !roles[r] {
			out = append(out, model.Unmet{Code: "committee_role", Role: r, Need: 1,
				Message: fmt.Sprintf("an approved %s sign-off is required", strings.ReplaceAll(r, "_", " "))})
		}
	}
	return out
}

func fieldSet(d *model.Deal, field string) bool {
	switch field {
	case "amount":
		return d.Amount > 0
	case "expected_close_date":
		return d.ExpectedCloseDate != ""
	case "owner_id":
		return d.OwnerID != nil
	case "account_id":
		return d.AccountID != nil
	}
	if k, ok := strings.CutPrefix(field, "custom."); ok {
		v, ok := d.Custom[k]
		if !ok || v == nil {
			return false
		}
		if s, isStr := v.(string); isStr {
			return strings.TrimSpace(s) != ""
		}
		return true
	}
	return false
}

func isURL(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Span is the stages a write leaves: from index From (inclusive) to To
// (exclusive) of pipeline P. Empty when the write moves nowhere forward.
type Span struct {
	P        model.PipelineDef
	From, To int
}

// Move works out which stages a write from before (nil on create) to after
// leaves. A lost or no_decision outcome leaves nothing (a deal can be lost from
// any stage); a won outcome counts as reaching the last stage; entering a
// pipeline (create, or a pipeline change) counts from its first stage; a move
// backward leaves nothing.
func Move(p model.PipelineDef, before, after *model.Deal) Span {
	sp := Span{P: p}
	if after.Outcome == "lost" || after.Outcome == "no_decision" {
		return sp
	}
	to := p.Index(after.Stage)
	if after.Outcome == "won" {
		to = len(p.Stages) - 1
	}
	from := 0
	if before != nil && before.Pipeline == after.Pipeline {
		from = p.Index(before.Stage)
		if before.Outcome == "won" {
			from = len(p.Stages) - 1
		}
	}
	if from < 0 {
		from = 0
	}
	if to > from {
		sp.From, sp.To = from, to
	}
	return sp
}

// Unmet lists what d lacks to leave every stage of the span.
func (sp Span) Unmet(d *model.Deal, f Facts) []model.Unmet {
	var out []model.Unmet
	for i := sp.From; i < sp.To; i++ {
		out = append(out, StageUnmet(sp.P.Stages[i], d, f)...)
	}
	return out
}

// Gate checks a deal write inside its transaction: it returns the unmet exit
// criteria of every stage the write leaves (nil when the move is allowed).
func Gate(ctx context.Context, q store.Q, ws int64, p model.PipelineDef, before, after *model.Deal) ([]model.Unmet, error) {
	sp := Move(p, before, after)
	if sp.To <= sp.From {
		return nil, nil
	}
	f, err := LoadFacts(ctx, q, ws, after.ID)
	if err != nil {
		return nil, err
	}
	return sp.Unmet(after, f), nil
}

// ReviewReason is the needs_review reason of a deal written (created or
// imported) into a stage whose earlier gates it does not meet.
func ReviewReason(unmet []model.Unmet) string {
	msgs := make([]string, len(unmet))
	for i, u := range unmet {
		msgs[i] = u.Message
	}
	r := "gates_unmet: " + strings.Join(msgs, "; ")
	if len(r) > 500 {
		r = strings.ToValidUTF8(r[:497], "") + "..."
	}
	return r
}
