package sequences

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

var fieldOps = []string{"eq", "ne", "gt", "gte", "lt", "lte", "contains", "set", "unset"}

// holds evaluates a branch condition for e and says why, for the step log.
func (r *runner) holds(ctx context.Context, e *model.Enrollment, seq *model.Sequence, c *model.StepCondition) (bool, string, error) {
	switch c.Kind {
	case "opened", "clicked":
		var step int64
		if c.Step != nil && *c.Step < len(seq.Steps) {
			step = seq.Steps[*c.Step].ID
		} else if e.LastSendStepID != nil {
			step = *e.LastSendStepID
		}
		if step == 0 {
			return false, "no email sent yet", nil
		}
		if r.s.Signals == nil {
			return false, "engagement signals are not connected", nil
		}
		f := r.s.Signals.Opened
		if c.Kind == "clicked" {
			f = r.s.Signals.Clicked
		}
		ok, err := f(ctx, r.q, r.ws, e.ID, step)
		return ok, fmt.Sprintf("%s step %d: %t", c.Kind, step, ok), err
	case "visited":
		if r.s.Signals == nil {
			return false, "engagement signals are not connected", nil
		}
		ok, err := r.s.Signals.Visited(ctx, r.q, r.ws, e.ContactID, c.URL, e.EnrolledAt)
		return ok, fmt.Sprintf("visited %q since enrolment: %t", c.URL, ok), err
	case "score":
		score, err := r.score(ctx, e.ContactID)
		if err != nil {
			return false, "", err
		}
		return score >= c.Score, fmt.Sprintf("score %.1f >= %g: %t", score, c.Score, score >= c.Score), nil
	case "field":
		ct, err := r.contact(ctx, e.ContactID)
		if err != nil {
			return false, "", err
		}
		v, err := r.fieldValue(ctx, ct, c.Field)
		if err != nil {
			return false, "", err
		}
		ok := compare(v, c.Op, c.Value)
		return ok, fmt.Sprintf("%s (%v) %s %v: %t", c.Field, v, c.Op, c.Value, ok), nil
	}
	return false, "", fmt.Errorf("unknown condition %q", c.Kind)
}

// score is the contact's current score through scoring's read path (decay
// applied); without it, the stored total.
func (r *runner) score(ctx context.Context, contactID int64) (float64, error) {
	if r.s.Scores != nil {
		m, err := r.s.Scores.Scores(ctx, r.ws, []int64{contactID}, r.now)
		if err != nil {
			return 0, err
		}
		return m[contactID].Score, nil
	}
	sc, err := r.q.GetContactScore(ctx, r.ws, contactID)
	if err == store.ErrNotFound {
		return 0, nil
	}
	return sc.Total, err
}

// fieldValue reads a contact field, custom.<key>, or account.<field> of its account.
func (r *runner) fieldValue(ctx context.Context, c *model.Contact, field string) (any, error) {
	if key, ok := strings.CutPrefix(field, "custom."); ok {
		return c.Custom[key], nil
	}
	if af, ok := strings.CutPrefix(field, "account."); ok {
		if c.AccountID == nil {
			return nil, nil
		}
		a, err := r.q.GetAccount(ctx, r.ws, *c.AccountID)
		if err == store.ErrNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if key, ok := strings.CutPrefix(af, "custom."); ok {
			return a.Custom[key], nil
		}
		return accountField(&a, af), nil
	}
	switch field {
	case "email":
		return c.Email, nil
	case "first_name":
		return c.FirstName, nil
	case "last_name":
		return c.LastName, nil
	case "title":
		return c.Title, nil
	case "lifecycle_stage":
		return c.LifecycleStage, nil
	case "source":
		return c.Source, nil
	case "utm_source":
		return c.UTMSource, nil
	case "utm_medium":
		return c.UTMMedium, nil
	case "utm_campaign":
		return c.UTMCampaign, nil
	case "owner_id":
		if c.OwnerID == nil {
			return nil, nil
		}
		return *c.OwnerID, nil
	}
	return nil, nil
}

func accountField(a *model.Account, f string) any {
	switch f {
	case "name":
		return a.Name
	case "domain":
		return a.Domain
	case "industry":
		return a.Industry
	case "region":
		return a.Region
	case "segment":
		return a.Segment
	case "motion":
		return a.Motion
	case "employees":
		return a.Employees
	}
	return nil
}

// compare applies op; numbers compare as numbers, the rest as case-insensitive text.
func compare(v any, op string, want any) bool {
	set := v != nil && fmt.Sprint(v) != ""
	switch op {
	case "set":
		return set
	case "unset":
		return !set
	}
	if !set {
		return op == "ne"
	}
	vn, vok := number(v)
	wn, wok := number(want)
	if vok && wok {
		switch op {
		case "eq":
			return vn == wn
		case "ne":
			return vn != wn
		case "gt":
			return vn > wn
		case "gte":
			return vn >= wn
		case "lt":
			return vn < wn
		case "lte":
			return vn <= wn
		}
	}
	vs, ws := strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(want))
	switch op {
	case "eq":
		return vs == ws
	case "ne":
		return vs != ws
	case "contains":
		return strings.Contains(vs, ws)
	case "gt":
		return vs > ws
	case "gte":
		return vs >= ws
	case "lt":
		return vs < ws
	case "lte":
		return vs <= ws
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}
