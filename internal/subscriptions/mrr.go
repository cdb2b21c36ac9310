package subscriptions

import (
	"context"
	"sort"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// derive computes an account's MRR movements from its subscription changes.
//
// The account is looked at day by day: its state at the end of a day (which
// subscriptions are active and their MRR) against the end of the day before,
// with every change of that day applied in recording order. Per currency:
//   - no active subscription before, one after: new (the first time ever) or
//     reactivation, for the MRR after;
//   - active before, none after: churn, for the MRR before — so ending one of
//     two subscriptions is a contraction, and only the last one is churn;
//   - active before and after: expansion or contraction by the difference
//     (nothing when it is zero).
//
// New, reactivation and churn are written even at zero MRR: they are the
// customer (logo) events economics counts. The signed movements of an account
// therefore sum, up to any day, to its MRR at the end of that day, which is
// what makes MRR_end = MRR_start + new + expansion + reactivation −
// contraction − churn hold for every period. Several subscriptions changing on
// one day net into one movement; it names the subscription only when exactly
// one changed.
func derive(changes []model.SubscriptionChange) []model.MRRMovement {
	cs := append([]model.SubscriptionChange(nil), changes...)
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].EffectiveDate != cs[j].EffectiveDate {
			return cs[i].EffectiveDate < cs[j].EffectiveDate
		}
		return cs[i].ID < cs[j].ID
	})
	byCur := map[string][]model.SubscriptionChange{}
	var curs []string
	for _, c := range cs {
		if _, ok := byCur[c.Currency]; !ok {
			curs = append(curs, c.Currency)
		}
		byCur[c.Currency] = append(byCur[c.Currency], c)
	}
	sort.Strings(curs)
	var out []model.MRRMovement
	for _, cur := range curs {
		out = append(out, deriveCurrency(cur, byCur[cur])...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

type subState struct {
	mrr    int64
	active bool
}

func (s subState) contribution() int64 {
	if s.active {
		return s.mrr
	}
	return 0
}

func deriveCurrency(cur string, cs []model.SubscriptionChange) []model.MRRMovement {
	state := map[int64]subState{}
	agg := func() (bool, int64) {
		var any bool
		var sum int64
		for _, s := range state {
			any = any || s.active
			sum += s.contribution()
		}
		return any, sum
	}
	var out []model.MRRMovement
	ever := false
	for i := 0; i < len(cs); {
		day := cs[i].EffectiveDate
		beforeActive, beforeMRR := agg()
		before := map[int64]subState{}
		for ; i < len(cs) && cs[i].EffectiveDate == day; i++ {
			c := cs[i]
			if _, seen := before[c.SubscriptionID]; !seen {
				before[c.SubscriptionID] = state[c.SubscriptionID]
			}
			state[c.SubscriptionID] = subState{mrr: c.MRR, active: c.Active}
		}
		afterActive, afterMRR := agg()
		var changed []int64
		for id, b := range before {
			if a := state[id]; a.active != b.active || a.contribution() != b.contribution() {
				changed = append(changed, id)
			}
		}
		var kind string
		var amount int64
		switch {
		case !beforeActive && afterActive:
			kind, amount = "new", afterMRR
			if ever {
				kind = "reactivation"
			}
		case beforeActive && !afterActive:
			kind, amount = "churn", beforeMRR
		case beforeActive && afterActive && afterMRR > beforeMRR:
			kind, amount = "expansion", afterMRR-beforeMRR
		case beforeActive && afterActive && afterMRR < beforeMRR:
			kind, amount = "contraction", beforeMRR-afterMRR
		}
		if afterActive {
			ever = true
		}
		if kind == "" {
			continue
		}
		m := model.MRRMovement{Date: day, Month: day[:7], Kind: kind, Amount: amount, Currency: cur}
		if len(changed) == 1 {
			id := changed[0]
			m.SubscriptionID = &id
		}
		out = append(out, m)
	}
	return out
}

// sync derives the account's movements from its changes and brings the stored
// ones in line: unchanged days keep their row (and id), changed days are
// rewritten, days without a movement any more are deleted. New and rewritten
// rows carry the account's current segment and motion.
func sync(ctx context.Context, q store.Q, ws, accountID int64) error {
	changes, err := q.AccountSubscriptionChanges(ctx, ws, accountID)
	if err != nil {
		return err
	}
	want := derive(changes)
	have, err := q.AccountMovements(ctx, ws, accountID)
	if err != nil {
		return err
	}
	key := func(m *model.MRRMovement) string { return m.Currency + "|" + m.Date }
	stored := make(map[string]*model.MRRMovement, len(have))
	for i := range have {
		stored[key(&have[i])] = &have[i]
	}
	var acct *model.Account
	account := func() (*model.Account, error) {
		if acct == nil {
			a, err := q.GetAccount(ctx, ws, accountID)
			if err != nil {
				return nil, err
			}
			acct = &a
		}
		return acct, nil
	}
	for i := range want {
		w := &want[i]
		w.AccountID = accountID
		h, ok := stored[key(w)]
		if ok {
			delete(stored, key(w))
			if h.Kind == w.Kind && h.Amount == w.Amount && samePtr(h.SubscriptionID, w.SubscriptionID) {
				continue
			}
		}
		a, err := account()
		if err != nil {
			return err
		}
		w.Segment, w.Motion = a.Segment, a.Motion
		if ok {
			w.ID = h.ID
			if err := q.UpdateMovement(ctx, ws, w); err != nil {
				return err
			}
			continue
		}
		if err := q.InsertMovement(ctx, ws, w); err != nil {
			return err
		}
	}
	for _, h := range stored {
		if err := q.DeleteMovement(ctx, ws, h.ID); err != nil {
			return err
		}
	}
	return nil
}

func samePtr(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
