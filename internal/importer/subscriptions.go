package importer

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// writeSubscriptions imports subscriptions (docs/subscriptions.md): each row
// links to its account by explicit account_external_id, account_domain (or an
// unambiguous account_name) — a subscription without an account is rejected —
// and optionally to a deal by deal_external_id. internal/subscriptions writes
// it with its changes and the account's MRR movements in this batch's
// transaction; a row it refuses is rejected with the column at fault.
func (j *job) writeSubscriptions(q store.Q) error {
	if j.s.Subs == nil {
		return &fileError{msg: "subscriptions cannot be imported: the subscriptions service is not configured"}
	}
	var deals []string
	for i := range j.batch {
		deals = append(deals, j.get(&j.batch[i], "deal_external_id").s)
	}
	dealIDs, err := q.LookupIDs(j.ctx, j.ws, "deals", "external_id", uniq(deals))
	if err != nil {
		return err
	}
	links, err := j.loadAccountLinks(q, nil)
	if err != nil {
		return err
	}
	act := model.Actor{Workspace: j.ws, Label: "import:" + strconv.FormatInt(j.im.ID, 10)}
	for i := range j.batch {
		p := &j.batch[i]
		acct, field, reason := j.account(p, links)
		if reason != "" {
			j.rejectPending(p, field, reason)
			continue
		}
		if acct == nil {
			j.rejectPending(p, "account_external_id", "a subscription needs its account: give account_external_id or account_domain")
			continue
		}
		row := subscriptions.ImportRow{AccountID: *acct, ExternalID: j.get(p, "external_id").s, Status: j.get(p, "status").s}
		if v := j.get(p, "deal_external_id"); v.set {
			id, ok := dealIDs[v.s]
			if !ok {
				j.rejectPending(p, "deal_external_id", fmt.Sprintf("no deal with external id %q", v.s))
				continue
			}
			row.DealID = &id
		}
		text := func(f string) *string {
			if v := j.get(p, f); v.set {
				return &v.s
			}
			return nil
		}
		num := func(f string) *int64 {
			if v := j.get(p, f); v.set {
				return &v.n
			}
			return nil
		}
		row.Plan, row.Currency, row.Interval = text("plan"), text("currency"), text("interval")
		row.StartDate, row.EndDate, row.RenewalDate = text("start_date"), text("end_date"), text("renewal_date")
		row.Quantity, row.UnitPrice, row.TermMonths = num("quantity"), num("unit_price"), num("term_months")
		if v := j.get(p, "auto_renew"); v.set {
			row.AutoRenew = &v.b
		}
		merged, err := j.s.Subs.Import(j.ctx, q, act, row)
		var fe *store.FieldError
		var ce *store.ConflictError
		switch {
		case errors.As(err, &fe):
			j.rejectPending(p, j.subscriptionColumn(p, fe.Field), fe.Message)
			continue
		case errors.As(err, &ce):
			j.rejectPending(p, ce.Field, ce.Error())
			continue
		case err != nil:
			return err
		case merged:
			j.merged++
		default:
			j.accepted++
		}
	}
	return nil
}

// subscriptionColumn maps a field the subscriptions service named to the
// import field whose column the rejection points at.
func (j *job) subscriptionColumn(p *pending, field string) string {
	switch field {
	case "deal_id":
		return "deal_external_id"
	case "account_id", subscriptions.AccountField:
		for _, f := range []string{"account_external_id", "account_domain", "account_name"} {
			if j.get(p, f).set {
				return f
			}
		}
		return "account_external_id"
	}
	return field
}
