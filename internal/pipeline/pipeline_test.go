package pipeline_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func members(states ...string) []model.CommitteeMember {
	var out []model.CommitteeMember
	for i := 0; i+1 < len(states); i += 2 {
		out = append(out, model.CommitteeMember{ContactID: int64(i), Role: states[i], Signoff: states[i+1]})
	}
	return out
}

// TestCoverage: approved sign-offs are counted once per contact; rejected and
// pending ones do not count; each required role needs an approved holder.
func TestCoverage(t *testing.T) {
	rule := model.CommitteeRule{MinApproved: 6, Roles: []string{"economic_buyer", "legal"}}
	cases := []struct {
		name  string
		m     []model.CommitteeMember
		codes []string
		have  int
	}{
		{"none", nil, []string{"committee_approved", "committee_role", "committee_role"}, 0},
		{"five approved, legal rejected", members("economic_buyer", "approved", "legal", "rejected", "champion", "approved", "finance", "approved", "procurement", "approved", "influencer", "approved"),
			[]string{"committee_approved", "committee_role"}, 5},
		{"six approved without legal", members("economic_buyer", "approved", "champion", "approved", "finance", "approved", "procurement", "approved", "influencer", "approved", "end_user", "approved", "legal", "pending"),
			[]string{"committee_role"}, 6},
		{"met", members("economic_buyer", "approved", "legal", "approved", "champion", "approved", "finance", "approved", "procurement", "approved", "influencer", "approved"), nil, 6},
	}
	for _, c := range cases {
		got := pipeline.Coverage(rule, c.m)
		var codes []string
		for _, u := range got {
			codes = append(codes, u.Code)
			if u.Code == "committee_approved" && (u.Have != c.have || u.Need != 6) {
				t.Errorf("%s: have %d need %d", c.name, u.Have, u.Need)
			}
		}
		if len(codes) != len(c.codes) {
			t.Errorf("%s: %v, want %v", c.name, codes, c.codes)
			continue
		}
		for i := range codes {
			if codes[i] != c.codes[i] {
				t.Errorf("%s: %v, want %v", c.name, codes, c.codes)
			}
		}
	}
}

func TestMoveSpans(t *testing.T) {
	p := pipeline.Defaults()[0]
	deal := func(stage, outcome string) *model.Deal {
		return &model.Deal{Pipeline: "high_touch", Stage: stage, Outcome: outcome}
	}
	cases := []struct {
		before, after *model.Deal
		from, to      int
	}{
		{nil, deal("suspect", ""), 0, 0},
		{nil, deal("close", ""), 0, 4},
		{deal("approach", ""), deal("negotiation", ""), 2, 3},
		{deal("approach", ""), deal("order", ""), 2, 5},
		{deal("close", ""), deal("prospect", ""), 0, 0},
		{deal("approach", ""), deal("order", "lost"), 0, 0},
		{deal("close", ""), deal("close", "won"), 4, 5},
		{deal("order", "won"), deal("order", "won"), 0, 0},
		{&model.Deal{Pipeline: "digital", Stage: "trial"}, deal("negotiation", ""), 0, 3},
	}
	for i, c := range cases {
		sp := pipeline.Move(p, c.before, c.after)
		if sp.From != c.from || sp.To != c.to {
			t.Errorf("case %d: span %d..%d, want %d..%d", i, sp.From, sp.To, c.from, c.to)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := pipeline.Defaults()
	if _, err := pipeline.Validate(ok, nil); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := func(mut func(ps []model.PipelineDef) []model.PipelineDef, field string) {
		t.Helper()
		ps := mut(pipeline.Defaults())
		_, err := pipeline.Validate(ps, map[string]string{"contract_url": "text", "seats": "number"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("want error on %s, got %v", field, err)
		}
	}
	bad(func(ps []model.PipelineDef) []model.PipelineDef { ps[0].Stages[1].Probability = 101; return ps }, "pipelines[0].stages[1].probability")
	bad(func(ps []model.PipelineDef) []model.PipelineDef {
		ps[1].Stages[2].ForecastCategory = "maybe"
		return ps
	}, "pipelines[1].stages[2].forecast_category")
	bad(func(ps []model.PipelineDef) []model.PipelineDef { ps[0].Stages[3].Key = "approach"; return ps }, "pipelines[0].stages[3].key")
	bad(func(ps []model.PipelineDef) []model.PipelineDef { ps[0].Stages[0].Key = "lost"; return ps }, "pipelines[0].stages[0].key")
	bad(func(ps []model.PipelineDef) []model.PipelineDef {
		ps[0].Stages[2].Exit.RequiredFields = []string{"amount", "custom.nope"}
		return ps
	}, "pipelines[0].stages[2].exit.required_fields[1]")
	bad(func(ps []model.PipelineDef) []model.PipelineDef {
		ps[0].Stages[2].Exit.Documents = []string{"seats"}
		return ps
	}, "pipelines[0].stages[2].exit.documents[0]")
	bad(func(ps []model.PipelineDef) []model.PipelineDef {
		ps[0].Stages[4].Exit.Committee.Roles = []string{"ceo"}
		return ps
	}, "pipelines[0].stages[4].exit.committee.roles[0]")
	bad(func(ps []model.PipelineDef) []model.PipelineDef { return ps[:1] }, "pipelines")
	bad(func(ps []model.PipelineDef) []model.PipelineDef { ps[1].Stages = nil; return ps }, "pipelines[1].stages")
}

// TestDocumentAndFields: a document criterion wants an http(s) URL in the
// named custom field; required custom fields want a value.
func TestDocumentAndFields(t *testing.T) {
	s := model.StageDef{Key: "negotiation", Name: "Negotiation", Exit: model.ExitCriteria{RequiredFields: []string{"custom.po"}, Documents: []string{"contract_url"}}}
	d := &model.Deal{Custom: model.Custom{"contract_url": "file:///c:/x.docx", "po": " "}}
	if got := pipeline.StageUnmet(s, d, pipeline.Facts{}); len(got) != 2 || got[0].Code != "required_field" || got[1].Code != "document" || got[1].Field != "custom.contract_url" {
		t.Fatalf("unmet %+v", got)
	}
	d.Custom = model.Custom{"contract_url": "https://docs.example/contract.pdf", "po": "PO-1"}
	if got := pipeline.StageUnmet(s, d, pipeline.Facts{}); len(got) != 0 {
		t.Fatalf("met, got %+v", got)
	}
}

func TestStale(t *testing.T) {
	s := model.StageDef{StaleDays: 14}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	entered := now.Add(-20 * 24 * time.Hour)
	recent := now.Add(-3 * 24 * time.Hour)
	old := now.Add(-15 * 24 * time.Hour)
	if !pipeline.IsStale(s, entered, nil, now) || pipeline.IsStale(s, entered, &recent, now) || !pipeline.IsStale(s, entered, &old, now) {
		t.Error("stale by activity")
	}
	if pipeline.IsStale(model.StageDef{}, entered, nil, now) {
		t.Error("stale_days 0 is never stale")
	}
}

// TestSaveAndCommitteeStore runs the store side on both stores: saved
// pipelines replace the defaults, an empty save restores them, and committee
// members round-trip with their sign-off stamp.
func TestSaveAndCommitteeStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := model.Workspace{Name: "W", Slug: "w", Currency: "EUR"}
		if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		s := &pipeline.Service{St: st, Now: func() time.Time { return now }}
		act := model.Actor{Workspace: w.ID, Label: "user:a@x.io", Role: model.RoleAdmin}
		ps := pipeline.Defaults()
		ps[1].Stages[0].StaleDays = 2
		set, err := s.Save(ctx, act, ps)
		if err != nil || set.Default || set.Pipelines[1].Stages[0].StaleDays != 2 {
			t.Fatalf("save %+v %v", set, err)
		}
		if set, err = s.Save(ctx, act, nil); err != nil || !set.Default {
			t.Fatalf("reset %+v %v", set, err)
		}
		var deal model.Deal
		var contact model.Contact
		err = st.InTx(ctx, func(q store.Q) error {
			deal = model.Deal{Name: "D", Currency: "EUR", Pipeline: "high_touch", Stage: "close", Custom: model.Custom{}}
			if err := q.CreateDeal(ctx, w.ID, &deal); err != nil {
				return err
			}
			contact = model.Contact{Email: "cfo@x.io", FirstName: "Ann", LastName: "Cfo", LifecycleStage: "lead", Custom: model.Custom{}}
			return q.CreateContact(ctx, w.ID, &contact)
		})
		if err != nil {
			t.Fatal(err)
		}
		role, so := "economic_buyer", "approved"
		m, err := s.PutMember(ctx, act, deal.ID, contact.ID, pipeline.MemberInput{Role: &role, Signoff: &so})
		if err != nil || m.Signoff != "approved" || m.SignoffAt == nil || !m.SignoffAt.Equal(now) || m.RecordedBy != "user:a@x.io" || m.Name != "Ann Cfo" {
			t.Fatalf("member %+v %v", m, err)
		}
		if _, err := s.PutMember(ctx, act, deal.ID, 999999, pipeline.MemberInput{Role: &role}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing contact: %v", err)
		}
		c, err := s.DealChecklist(ctx, w.ID, deal)
		if err != nil || len(c.Committee) != 1 || len(c.Unmet) != 2 || c.Unmet[0].Have != 1 {
			t.Fatalf("checklist %+v %v", c, err)
		}
	})
}
