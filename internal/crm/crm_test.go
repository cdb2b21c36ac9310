package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"https://www.Acme.com/about": "acme.com", "bob@Sub.Acme.io": "sub.acme.io", "acme.com.": "acme.com", "": "",
	} {
		if got, err := crm.NormalizeDomain(in); err != nil || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"localhost", "acme..com", "-acme.com", "http://"} {
		if _, err := crm.NormalizeDomain(bad); err == nil {
			t.Errorf("NormalizeDomain(%q) accepted", bad)
		}
	}
	if got, err := crm.NormalizeEmail(" Ann@Acme.COM "); err != nil || got != "ann@acme.com" {
		t.Errorf("NormalizeEmail: %q %v", got, err)
	}
	for _, bad := range []string{"Ann <ann@acme.com>", "ann@localhost", "ann", ""} {
		if _, err := crm.NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestDealRulesAndHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t, store.SQLite)
	w := model.Workspace{Name: "W", Slug: "w", Currency: "EUR"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	s := &crm.Service{St: st}
	act := model.Actor{Workspace: w.ID, Label: "test"}
	d, err := s.CreateDeal(ctx, act, crm.Fields{"name": "Big", "pipeline": "high_touch", "amount": 100.0})
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != "suspect" || d.Currency != "EUR" || d.ClosedAt != nil {
		t.Fatalf("defaults: %+v", d)
	}
	d, err = s.UpdateDeal(ctx, act, d.ID, crm.Fields{"stage": "Negotiation", "outcome": "lost", "loss_reason": "price"})
	if err != nil || d.Stage != "negotiation" || d.ClosedAt == nil || d.LossReason != "price" {
		t.Fatalf("closing: %+v %v", d, err)
	}
	// Reopening clears the close date and the loss reason.
	d, err = s.UpdateDeal(ctx, act, d.ID, crm.Fields{"outcome": ""})
	if err != nil || d.ClosedAt != nil || d.LossReason != "" {
		t.Fatalf("reopen: %+v %v", d, err)
	}
	_, err = s.UpdateDeal(ctx, act, d.ID, crm.Fields{"stage": "trial"})
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "stage" {
		t.Fatalf("stage of another pipeline: %v", err)
	}
	h, err := st.Read().History(ctx, w.ID, "deal", d.ID)
	if err != nil || len(h) != 3 {
		t.Fatalf("history: %+v %v", h, err)
	}
	var detail map[string]any
	if err := json.Unmarshal(h[1].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if s, ok := detail["stage"].([]any); !ok || s[0] != "suspect" || s[1] != "negotiation" {
		t.Fatalf("stage change not in history: %s", h[1].Detail)
	}
	// Another workspace's id answers like a missing one.
	if _, err := s.UpdateDeal(ctx, model.Actor{Workspace: w.ID + 1}, d.ID, crm.Fields{"name": "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("foreign update: %v", err)
	}
	if _, err := s.CreateContact(ctx, act, crm.Fields{"email": "a@b.io", "account_id": 999.0}); !errors.As(err, &fe) || fe.Field != "account_id" {
		t.Fatalf("dangling account: %v", err)
	}
}
