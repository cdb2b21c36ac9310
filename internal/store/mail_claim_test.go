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

// The delivery loop's step between groups in one statement: the previous
// group accepted, the next started; a row recovered meanwhile keeps its
// state, and a start row not claimed by this claimer fails the whole step.
func TestAcceptAndStartSends(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := twoWorkspaces(t, st)
		now := store.Now()
		var ids []int64
		err := st.InTx(ctx, func(q store.Q) error {
			for i := range 6 {
				c := model.Contact{Email: string(rune('a'+i)) + "@x.io", LifecycleStage: "lead"}
				if err := q.CreateContact(ctx, ws, &c); err != nil {
					return err
				}
				s := store.Send{DedupeKey: c.Email, ContactID: c.ID, TemplateID: 1, ToEmail: c.Email, MessageID: "<" + c.Email + ">", DueAt: now.Add(time.Duration(i-10) * time.Second)}
				if _, err := q.PlanSend(ctx, ws, &s); err != nil {
					return err
				}
				ids = append(ids, s.ID)
			}
			if _, _, err := q.AdminClaimDueSends(ctx, now, 4, "me"); err != nil {
				return err
			}
			if _, _, err := q.AdminClaimDueSends(ctx, now, 2, "other"); err != nil {
				return err
			}
			if err := q.AdminStartSends(ctx, ids[:2], "me", now); err != nil {
				return err
			}
			// ids[1] was recovered meanwhile (a stale process's row).
			return q.AdminFinishSends(ctx, []store.SendOutcome{{ID: ids[1], Workspace: ws, State: store.SendUnknown}}, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		state := func(id int64) store.Send {
			t.Helper()
			s, err := st.Read().GetSend(ctx, ws, id)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		later := now.Add(time.Minute)
		// ids[4] is claimed by "other": the step fails and changes nothing.
		err = st.InTx(ctx, func(q store.Q) error {
			return q.AdminAcceptAndStartSends(ctx, ids[:2], []int64{ids[2], ids[4]}, "me", later)
		})
		if err == nil {
			t.Fatal("started a row claimed by another process")
		}
		for i, want := range []string{store.SendStarted, store.SendUnknown, store.SendClaimed, store.SendClaimed, store.SendClaimed, store.SendClaimed} {
			if s := state(ids[i]); s.State != want {
				t.Fatalf("after a failed step, row %d is %s, want %s", i, s.State, want)
			}
		}
		err = st.InTx(ctx, func(q store.Q) error {
			return q.AdminAcceptAndStartSends(ctx, ids[:2], ids[2:4], "me", later)
		})
		if err != nil {
			t.Fatal(err)
		}
		if s := state(ids[0]); s.State != store.SendAccepted || s.LastCode != 250 || s.FinishedAt == nil || !s.FinishedAt.Equal(later) || s.StartedAt == nil || !s.StartedAt.Equal(now) {
			t.Errorf("accepted row: %+v", s)
		}
		if s := state(ids[1]); s.State != store.SendUnknown {
			t.Errorf("recovered row: %s, want it left unknown", s.State)
		}
		for _, id := range ids[2:4] {
			if s := state(id); s.State != store.SendStarted || s.StartedAt == nil || !s.StartedAt.Equal(later) || s.FinishedAt != nil || s.LastCode != 0 {
				t.Errorf("started row: %+v", s)
			}
		}
		for _, id := range ids[4:] {
			if s := state(id); s.State != store.SendClaimed {
				t.Errorf("other's row: %s", s.State)
			}
		}
	})
}
