package assignment_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
}

func TestValidatePool(t *testing.T) {
	for _, c := range []struct {
		p     model.Pool
		field string
	}{
		{model.Pool{Name: " ", Role: "ldr", Capacity: 1}, "name"},
		{model.Pool{Name: "x", Role: "sdr", Capacity: 1}, "role"},
		{model.Pool{Name: "x", Role: "", Capacity: 1}, "role"},
		{model.Pool{Name: "x", Role: "ae", Capacity: 0}, "capacity"},
		{model.Pool{Name: "x", Role: "ae", Capacity: -1}, "capacity"},
		{model.Pool{Name: "x", Role: "ae", Capacity: 1, Team: string(make([]byte, 65))}, "team"},
	} {
		wantField(t, assignment.ValidatePool(&c.p), c.field)
	}
	p := model.Pool{Name: " SMB ", Role: " LDR ", Capacity: 1, Regions: []string{"EMEA", " ", "emea", "NA"}}
	if err := assignment.ValidatePool(&p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "SMB" || p.Role != "ldr" || len(p.Regions) != 2 || p.Regions[1] != "NA" {
		t.Errorf("normalised %+v", p)
	}
}

func TestValidateSettings(t *testing.T) {
	for _, c := range []struct {
		s     model.AssignmentSettings
		field string
	}{
		{model.AssignmentSettings{Timezone: "Mars/Olympus"}, "timezone"},
		{model.AssignmentSettings{Timezone: "Local"}, "timezone"},
		{model.AssignmentSettings{Timezone: "UTC", SLAMinutes: map[string]int{"digital": 0}}, "sla_minutes.digital"},
		{model.AssignmentSettings{Timezone: "UTC", SLAMinutes: map[string]int{"high_touch": -5}}, "sla_minutes.high_touch"},
		{model.AssignmentSettings{Timezone: "UTC", SLAMinutes: map[string]int{"partner": 5}}, "sla_minutes.partner"},
	} {
		wantField(t, assignment.ValidateSettings(&c.s), c.field)
	}
	s := model.AssignmentSettings{Timezone: " ", SLAMinutes: map[string]int{"digital": 30}}
	if err := assignment.ValidateSettings(&s); err != nil || s.Timezone != "UTC" {
		t.Fatalf("%v %+v", err, s)
	}
}

// TestPoolService: the service writes pools and members of the actor's
// workspace only; another workspace's pool is ErrNotFound and its users are
// refused like unknown ones. Settings merge per motion and fill defaults.
func TestPoolService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := setup(t, st, 2), setup(t, st, 1)
		svc := &assignment.Service{St: st, Now: func() time.Time { return monday }}
		actA := model.Actor{Label: "test", Workspace: a.ws, Role: model.RoleAdmin}
		actB := model.Actor{Label: "test", Workspace: b.ws, Role: model.RoleAdmin}

		p, err := svc.CreatePool(ctx, actA, model.Pool{Name: "SMB", Role: "ldr", Capacity: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreatePool(ctx, actA, model.Pool{Name: "SMB", Role: "ae", Capacity: 3}); err == nil {
			t.Fatal("a duplicate name was accepted")
		}
		if _, err := svc.SetMember(ctx, actA, p.ID, a.users[0], assignment.MemberInput{}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.SetMember(ctx, actA, p.ID, b.users[0], assignment.MemberInput{})
		wantField(t, err, "user_id")
		_, err = svc.SetMember(ctx, actA, p.ID, 999999999, assignment.MemberInput{})
		wantField(t, err, "user_id")

		// B cannot see or touch A's pool.
		name := "Hijacked"
		for what, err := range map[string]error{
			"update": func() error { _, err := svc.UpdatePool(ctx, actB, p.ID, assignment.PoolPatch{Name: &name}); return err }(),
			"delete": svc.DeletePool(ctx, actB, p.ID),
			"member": func() error {
				_, err := svc.SetMember(ctx, actB, p.ID, b.users[0], assignment.MemberInput{})
				return err
			}(),
			"remove": svc.RemoveMember(ctx, actB, p.ID, a.users[0]),
			"read":   func() error { _, err := svc.PoolDetail(ctx, b.ws, p.ID); return err }(),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s from B: %v, want ErrNotFound", what, err)
			}
		}
		d, err := svc.PoolDetail(ctx, a.ws, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != "SMB" || len(d.Members) != 1 || d.Members[0].UserID != a.users[0] || !d.Members[0].Active || d.Members[0].Email == "" {
			t.Fatalf("pool after B's attempts: %+v", d)
		}

		// Out of office and inactive are stored; an update keeps the cursor and members.
		off := false
		until := monday.Add(48 * time.Hour)
		if _, err := svc.SetMember(ctx, actA, p.ID, a.users[0], assignment.MemberInput{Active: &off, OutOfOfficeUntil: &until}); err != nil {
			t.Fatal(err)
		}
		cap5 := 5
		if _, err := svc.UpdatePool(ctx, actA, p.ID, assignment.PoolPatch{Capacity: &cap5}); err != nil {
			t.Fatal(err)
		}
		zero := 0
		_, err = svc.UpdatePool(ctx, actA, p.ID, assignment.PoolPatch{Capacity: &zero})
		wantField(t, err, "capacity")
		d, _ = svc.PoolDetail(ctx, a.ws, p.ID)
		if d.Capacity != 5 || d.Name != "SMB" || d.Members[0].Active || d.Members[0].OutOfOfficeUntil == nil || !d.Members[0].OutOfOfficeUntil.Equal(until) {
			t.Fatalf("after update: %+v %+v", d.Pool, d.Members)
		}

		// Settings: defaults filled, a motion left out keeps its saved value.
		if s, _ := svc.Settings(ctx, a.ws); s.Timezone != "UTC" || s.SLAMinutes["digital"] != 60 || s.SLAMinutes["high_touch"] != 480 {
			t.Fatalf("default settings %+v", s)
		}
		if _, err := svc.SaveSettings(ctx, actA, model.AssignmentSettings{Timezone: "Europe/Berlin", SLAMinutes: map[string]int{"high_touch": 240}}); err != nil {
			t.Fatal(err)
		}
		s, err := svc.SaveSettings(ctx, actA, model.AssignmentSettings{Timezone: "Europe/Berlin", SLAMinutes: map[string]int{"digital": 30}})
		if err != nil {
			t.Fatal(err)
		}
		if s.SLAMinutes["digital"] != 30 || s.SLAMinutes["high_touch"] != 240 {
			t.Fatalf("merged settings %+v", s)
		}
		if s, _ := svc.Settings(ctx, b.ws); s.Timezone != "UTC" {
			t.Errorf("B's settings changed: %+v", s)
		}

		if err := svc.RemoveMember(ctx, actA, p.ID, a.users[0]); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeletePool(ctx, actA, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PoolDetail(ctx, a.ws, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted pool: %v", err)
		}
	})
}
