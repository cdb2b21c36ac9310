package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// One claim over two workspaces: each row is judged against its own
// workspace's suppressions and contact, suppressed rows keep their own reason
// (they are now written one statement per reason), rows not due stay planned,
// and the claim's plan setting does not leak into the rest of the transaction.
func TestClaimDueSendsMixed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		now := store.Now()
		type row struct {
			ws                 int64
			email, first, sup  string
			consentNone, gone  bool
			later              bool
			wantState, wantWhy string
			id                 int64
		}
		rows := []*row{
			{ws: a, email: "ok@x.io", first: "Ann", wantState: store.SendClaimed},
			{ws: a, email: "unsub@x.io", first: "Uma", sup: store.SuppressUnsub, wantState: store.SendSuppressed, wantWhy: "suppressed: " + store.SuppressUnsub},
			{ws: a, email: "hard@x.io", first: "Hal", sup: store.SuppressHard, wantState: store.SendSuppressed, wantWhy: "suppressed: " + store.SuppressHard},
			{ws: a, email: "none@x.io", first: "Nia", consentNone: true, wantState: store.SendSuppressed, wantWhy: "no consent (consent basis none)"},
			{ws: a, email: "gone@x.io", first: "Gus", gone: true, wantState: store.SendSuppressed, wantWhy: "contact deleted"},
			{ws: a, email: "later@x.io", first: "Lea", later: true, wantState: store.SendPlanned},
			// Workspace b suppresses ok@x.io (a's row must still be claimed) and
			// sends to unsub@x.io, which only a suppressed.
			{ws: b, email: "ok@x.io", first: "Bea", sup: store.SuppressUnsub, wantState: store.SendSuppressed, wantWhy: "suppressed: " + store.SuppressUnsub},
			{ws: b, email: "unsub@x.io", first: "Bob", wantState: store.SendClaimed},
			{ws: b, email: "none@x.io", first: "Ned", consentNone: true, wantState: store.SendSuppressed, wantWhy: "no consent (consent basis none)"},
		}
		var gone [][2]int64
		err := st.InTx(ctx, func(q store.Q) error {
			for i, r := range rows {
				c := model.Contact{Email: r.email, FirstName: r.first, LifecycleStage: "lead"}
				if r.consentNone {
					c.ConsentBasis = "none"
				}
				if err := q.CreateContact(ctx, r.ws, &c); err != nil {
					return err
				}
				due := now.Add(-time.Duration(len(rows)-i) * time.Second)
				if r.later {
					due = now.Add(time.Hour)
				}
				s := store.Send{DedupeKey: "k" + r.email, ContactID: c.ID, TemplateID: 1, ToEmail: r.email, MessageID: "<" + r.first + "@x>", DueAt: due}
				if _, err := q.PlanSend(ctx, r.ws, &s); err != nil {
					return err
				}
				r.id = s.ID
				if r.sup != "" {
					if _, err := q.Suppress(ctx, r.ws, r.email, r.sup, "test"); err != nil {
						return err
					}
				}
				if r.gone {
					gone = append(gone, [2]int64{r.ws, c.ID})
				}
			}
			// Deleted last: SQLite hands a deleted highest rowid to the next
			// contact, which the ledger row would then join.
			for _, g := range gone {
				if err := q.DeleteContact(ctx, g[0], g[1]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var claimed []store.ClaimedSend
		var sup []store.Send
		err = st.InTx(ctx, func(q store.Q) (err error) {
			claimed, sup, err = q.AdminClaimDueSends(ctx, now, 100, "t")
			if err != nil || st.Kind != store.Postgres {
				return err
			}
			var sortOn string
			if err := q.Tx().QueryRowContext(ctx, `SELECT current_setting('enable_sort')`).Scan(&sortOn); err != nil {
				return err
			}
			if sortOn != "on" {
				t.Errorf("enable_sort after the claim = %q, want it restored to on", sortOn)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]*row{}
		for _, r := range rows {
			byID[r.id] = r
		}
		// Claimed rows come in due order with their own workspace's contact.
		var got []string
		for _, c := range claimed {
			r := byID[c.ID]
			if r == nil || c.Workspace != r.ws || c.Contact.FirstName != r.first || c.State != store.SendClaimed || c.Attempts != 1 {
				t.Errorf("claimed %+v (contact %+v), want row %+v", c.Send, c.Contact, r)
				continue
			}
			got = append(got, r.first)
		}
		if len(got) != 2 || got[0] != "Ann" || got[1] != "Bob" {
			t.Errorf("claimed %v, want [Ann Bob] in due order", got)
		}
		if len(sup) != 6 {
			t.Errorf("suppressed %d rows, want 6", len(sup))
		}
		for _, r := range rows {
			s, err := st.Read().GetSend(ctx, r.ws, r.id)
			if err != nil {
				t.Fatal(err)
			}
			if s.State != r.wantState || s.LastText != r.wantWhy {
				t.Errorf("%s in ws %d: state %q (%q), want %q (%q)", r.email, r.ws, s.State, s.LastText, r.wantState, r.wantWhy)
			}
			if (s.State == store.SendSuppressed) != (s.FinishedAt != nil) {
				t.Errorf("%s in ws %d: state %s, finished_at %v", r.email, r.ws, s.State, s.FinishedAt)
			}
		}
	})
}
