package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/store"
)

// `rightsize economics partner-statement` prints a partner's month: March 2026
// with a retainer of 1,000.00, 2 meetings × 50.00 and 1 accepted SQL × 200.00
// = 1,300.00; the pending SQL is listed, not billed.
func TestCLIPartnerStatement(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	if code, _, errs := run(t, "workspace", "create", "--db", db, "--name", "Acme", "--slug", "acme"); code != 0 {
		t.Fatalf("workspace: %s", errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.Read().WorkspaceBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	var rep int64
	err = st.InTx(ctx, func(q store.Q) error {
		u := model.User{Email: "rep@sdr.example"}
		if err := q.CreateUser(ctx, &u); err != nil {
			return err
		}
		rep = u.ID
		if err := q.SetMembership(ctx, w.ID, u.ID, model.RolePartner); err != nil {
			return err
		}
		c := model.Contact{Email: "bea@buyer.example", LifecycleStage: "sql", Custom: model.Custom{}}
		if err := q.CreateContact(ctx, w.ID, &c); err != nil {
			return err
		}
		for _, d := range []int{4, 18} {
			a := model.Activity{Kind: "meeting", Subject: "Intro", OccurredAt: time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC), OwnerID: &rep, ContactID: &c.ID, Participants: []string{}, Custom: model.Custom{}}
			if err := q.CreateActivity(ctx, w.ID, &a); err != nil {
				return err
			}
		}
		decided := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
		for _, h := range []model.Handoff{
			{ContactID: c.ID, FromUserID: &rep, Kind: "ldr_to_ae", CreatedAt: decided.AddDate(0, 0, -1), Decision: model.HandoffAccepted, DecidedAt: &decided},
			{ContactID: c.ID, FromUserID: &rep, Kind: "ldr_to_ae", CreatedAt: decided},
		} {
			if err := q.InsertHandoffAt(ctx, w.ID, &h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := &partners.Service{St: st}
	p, err := svc.Create(ctx, model.Actor{Label: "test", Workspace: w.ID, Role: model.RoleAdmin},
		partners.Input{Name: "SDR Co", StartMonth: "2026-02", UserIDs: []int64{rep}, PartnerTerms: model.PartnerTerms{RetainerMonthly: 100_000, FeePerMeeting: 5_000, FeePerSQL: 20_000}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	code, out, errs := run(t, "economics", "partner-statement", "--db", db, "--workspace", "acme", "--month", "2026-03", "--json")
	if code != 0 {
		t.Fatalf("partner-statement: %d %s", code, errs)
	}
	var r struct {
		Month      string               `json:"month"`
		Statements []partners.Statement `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Month != "2026-03" || len(r.Statements) != 1 {
		t.Fatalf("json %v\n%s", err, out)
	}
	s := r.Statements[0]
	if s.PartnerID != p.ID || s.Total != 130_000 || s.Currency != "USD" || s.Work.Meetings != 2 || s.Work.SQLsAccepted != 1 || len(s.Pending) != 1 {
		t.Errorf("statement %+v", s)
	}
	code, out, errs = run(t, "economics", "partner-statement", "--db", db, "--workspace", "acme", "--month", "2026-03", "--partner", "sdr co", "--records")
	if !strings.Contains(out, "Total owed") {
		t.Errorf("no total: %s", out)
	}
	for _, want := range []string{"SDR Co", "2026-03 (closed)", "2 × 50.00 USD = 100.00 USD", "1 × 200.00 USD = 200.00 USD", "1,300.00 USD\n", "1 SQL(s) await", "handoff "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("table lacks %q: %d\n%s%s", want, code, out, errs)
		}
	}
	if code, _, errs := run(t, "economics", "partner-statement", "--db", db, "--workspace", "acme", "--month", "March"); code != 2 || !strings.Contains(errs, "--month") {
		t.Errorf("bad month: %d %s", code, errs)
	}
	if code, _, errs := run(t, "economics", "partner-statement", "--db", db, "--workspace", "acme", "--partner", "nobody"); code != 1 || !strings.Contains(errs, "no partner") {
		t.Errorf("unknown partner: %d %s", code, errs)
	}
}
