package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A confined Scope (the partner role) reads only its owner's records on both
// dialects: contacts and deals it owns, accounts it owns or whose contacts it
// owns, activities it owns or on its contacts; everything else is
// ErrNotFound, lists leave it out, and the desk queue drops the unassigned.
// Not parallel: twoWorkspaces shares a counter with the conformance suite.
func TestScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := twoWorkspaces(t, st)
		var partner, rep model.User
		var mine, theirs, unowned model.Contact
		var ownAcct, leadAcct, otherAcct model.Account
		var ownAct, onLead, otherAct model.Activity
		var ownDeal, otherDeal model.Deal
		err := st.InTx(ctx, func(q store.Q) error {
			partner = model.User{Email: fmt.Sprintf("sdr-%d@outsourced.example", ws)}
			rep = model.User{Email: fmt.Sprintf("ldr-%d@client.example", ws)}
			for _, u := range []*model.User{&partner, &rep} {
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			if err := q.SetMembership(ctx, ws, partner.ID, model.RolePartner); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, ws, rep.ID, model.RoleLDR); err != nil {
				return err
			}
			ownAcct = model.Account{Name: "Own Co", Currency: "USD", OwnerID: &partner.ID, Custom: model.Custom{}}
			leadAcct = model.Account{Name: "Lead Co", Currency: "USD", OwnerID: &rep.ID, Custom: model.Custom{}}
			otherAcct = model.Account{Name: "Other Co", Currency: "USD", OwnerID: &rep.ID, Custom: model.Custom{}}
			for _, a := range []*model.Account{&ownAcct, &leadAcct, &otherAcct} {
				if err := q.CreateAccount(ctx, ws, a); err != nil {
					return err
				}
			}
			mine = model.Contact{Email: fmt.Sprintf("lead-%d@lead.example", ws), LifecycleStage: "mql", OwnerID: &partner.ID, AccountID: &leadAcct.ID, Custom: model.Custom{}}
			theirs = model.Contact{Email: fmt.Sprintf("other-%d@other.example", ws), LifecycleStage: "mql", OwnerID: &rep.ID, AccountID: &otherAcct.ID, Custom: model.Custom{}}
			unowned = model.Contact{Email: fmt.Sprintf("free-%d@other.example", ws), LifecycleStage: "mql", Custom: model.Custom{}}
			for _, c := range []*model.Contact{&mine, &theirs, &unowned} {
				if err := q.CreateContact(ctx, ws, c); err != nil {
					return err
				}
			}
			now := time.Now().UTC()
			ownAct = model.Activity{Kind: "task", Subject: "follow up", OccurredAt: now, OwnerID: &partner.ID, Custom: model.Custom{}}
			onLead = model.Activity{Kind: "call", Subject: "earlier call by the LDR", OccurredAt: now, OwnerID: &rep.ID, ContactID: &mine.ID, Custom: model.Custom{}}
			otherAct = model.Activity{Kind: "call", Subject: "not theirs", OccurredAt: now, OwnerID: &rep.ID, ContactID: &theirs.ID, Custom: model.Custom{}}
			for _, a := range []*model.Activity{&ownAct, &onLead, &otherAct} {
				if err := q.CreateActivity(ctx, ws, a); err != nil {
					return err
				}
			}
			ownDeal = model.Deal{Name: "own", Currency: "USD", Pipeline: "digital", Stage: "qualified", OwnerID: &partner.ID, Custom: model.Custom{}}
			otherDeal = model.Deal{Name: "other", Currency: "USD", Pipeline: "digital", Stage: "qualified", OwnerID: &rep.ID, AccountID: &leadAcct.ID, Custom: model.Custom{}}
			for _, d := range []*model.Deal{&ownDeal, &otherDeal} {
				if err := q.CreateDeal(ctx, ws, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		whole := st.Read()
		q := whole.Scoped(store.Scope{Owner: partner.ID})
		nothing := whole.Scoped(store.Scope{Owner: -1})

		get := func(q store.Q, kind string, id int64) error {
			var err error
			switch kind {
			case "contact":
				_, err = q.GetContact(ctx, ws, id)
			case "account":
				_, err = q.GetAccount(ctx, ws, id)
			case "activity":
				_, err = q.GetActivity(ctx, ws, id)
			case "deal":
				_, err = q.GetDeal(ctx, ws, id)
			}
			return err
		}
		for _, c := range []struct {
			kind    string
			id      int64
			visible bool
		}{
			{"contact", mine.ID, true}, {"contact", theirs.ID, false}, {"contact", unowned.ID, false},
			{"account", ownAcct.ID, true}, {"account", leadAcct.ID, true}, {"account", otherAcct.ID, false},
			{"activity", ownAct.ID, true}, {"activity", onLead.ID, true}, {"activity", otherAct.ID, false},
			{"deal", ownDeal.ID, true}, {"deal", otherDeal.ID, false},
		} {
			err := get(q, c.kind, c.id)
			if c.visible && err != nil {
				t.Errorf("partner cannot see its %s %d: %v", c.kind, c.id, err)
			}
			if !c.visible && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("partner sees %s %d: %v", c.kind, c.id, err)
			}
			if err := get(whole, c.kind, c.id); err != nil {
				t.Errorf("unscoped %s %d: %v", c.kind, c.id, err)
			}
			if err := get(nothing, c.kind, c.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("scope of no one sees %s %d: %v", c.kind, c.id, err)
			}
		}
		if _, err := q.ContactByEmail(ctx, ws, theirs.Email); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("contact by email outside the scope: %v", err)
		}

		all := store.ListParams{Limit: 50, Count: true}
		cs, err := q.ListContacts(ctx, ws, all, nil)
		if err != nil || len(cs.Items) != 1 || cs.Items[0].ID != mine.ID || *cs.Total != 1 {
			t.Errorf("contacts: %+v %v", cs, err)
		}
		as, err := q.ListAccounts(ctx, ws, store.ListParams{Limit: 50, Count: true, Sort: "name"}, nil)
		if err != nil || len(as.Items) != 2 || as.Items[0].ID != leadAcct.ID || as.Items[1].ID != ownAcct.ID || *as.Total != 2 {
			t.Errorf("accounts: %+v %v", as, err)
		}
		acts, err := q.ListActivities(ctx, ws, all, nil)
		ids := []int64{}
		for _, a := range acts.Items {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, []int64{ownAct.ID, onLead.ID}) || *acts.Total != 2 {
			t.Errorf("activities %v (want %d, %d): %v", ids, ownAct.ID, onLead.ID, err)
		}
		// A filter cannot widen the scope.
		ds, err := q.ListDeals(ctx, ws, store.ListParams{Limit: 50, Filters: []store.Filter{{Field: "account_id", Op: "eq", Value: fmt.Sprint(leadAcct.ID)}}}, nil)
		if err != nil || len(ds.Items) != 0 {
			t.Errorf("deals at the lead's account: %+v %v", ds, err)
		}

		// The desk: the partner's own MQLs only; an LDR also sees the unassigned.
		rows, err := q.QueueCandidates(ctx, ws, rep.ID, 50)
		if err != nil || len(rows) != 1 || rows[0].Contact.ID != mine.ID {
			t.Errorf("partner queue: %+v %v", rows, err)
		}
		rows, err = whole.QueueCandidates(ctx, ws, rep.ID, 50)
		if err != nil || len(rows) != 2 {
			t.Errorf("LDR queue (own + unassigned): %+v %v", rows, err)
		}
	})
}

// Fingerprint sees a changed value, a new row and nothing else; skipped
// columns do not count.
func TestFingerprint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := twoWorkspaces(t, st)
		c := model.Contact{Email: fmt.Sprintf("fp-%d@example.com", ws), LifecycleStage: "lead", Custom: model.Custom{}}
		if err := st.InTx(ctx, func(q store.Q) error { return q.CreateContact(ctx, ws, &c) }); err != nil {
			t.Fatal(err)
		}
		before, err := st.Fingerprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := before["contacts"]; !ok || before["contacts"].Rows == 0 || before["goose_db_version"].Rows == 0 {
			t.Fatalf("tables: %v", before)
		}
		again, _ := st.Fingerprint(ctx)
		if !maps.Equal(before, again) {
			t.Fatal("two reads differ")
		}
		skipped := fpSkip(t, st)
		c.Title = "VP"
		if err := st.InTx(ctx, func(q store.Q) error { return q.UpdateContact(ctx, ws, &c) }); err != nil {
			t.Fatal(err)
		}
		after, _ := st.Fingerprint(ctx)
		for table, s := range after {
			if changed := s != before[table]; changed != (table == "contacts") {
				t.Errorf("%s changed: %v", table, changed)
			}
		}
		// Leaving out the columns that moved hides the change.
		if fpSkip(t, st) != skipped {
			t.Error("skipped columns still count")
		}
	})
}

func fpSkip(t *testing.T, st *store.Store) store.TableState {
	t.Helper()
	fp, err := st.Fingerprint(context.Background(), "contacts.title", "contacts.updated_at")
	if err != nil {
		t.Fatal(err)
	}
	return fp["contacts"]
}
