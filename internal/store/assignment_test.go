package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The assignment tables on both dialects: pool validation names the field, pools
// and members stay in their workspace, load counts only the rolling window, and
// SLA settings default when unset and are validated when saved.
// Not parallel: twoWorkspaces shares a counter with the conformance suite.
func TestAssignmentStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		var rep model.User
		pool := model.Pool{Name: " Inbound ", Role: "ldr", Team: "smb", Regions: []string{"EMEA"}, Capacity: 3}
		err := st.InTx(ctx, func(q store.Q) error {
			for _, c := range []struct {
				p     model.Pool
				field string
			}{
				{model.Pool{Role: "ldr", Capacity: 1}, "name"},
				{model.Pool{Name: "x", Role: "admin", Capacity: 1}, "role"},
				{model.Pool{Name: "x", Role: "ae"}, "capacity"},
			} {
				var fe *store.FieldError
				if err := q.CreatePool(ctx, a, &c.p); !errors.As(err, &fe) || fe.Field != c.field {
					t.Errorf("%+v: want FieldError on %s, got %v", c.p, c.field, err)
				}
			}
			if err := q.CreatePool(ctx, a, &pool); err != nil {
				return err
			}
			for _, p := range []model.Pool{{Name: "AE", Role: "ae", Team: "ent", Capacity: 1}, {Name: "Inbound", Role: "ldr", Capacity: 1}} {
				if err := q.CreatePool(ctx, b, &p); err != nil { // same name in another workspace is fine
					return err
				}
			}
			rep = model.User{Email: fmt.Sprintf("rep-%d@example.com", a)}
			if err := q.CreateUser(ctx, &rep); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, a, rep.ID, model.RoleLDR); err != nil {
				return err
			}
			ooo := now.Add(time.Hour)
			if err := q.SetPoolMember(ctx, a, model.PoolMember{PoolID: pool.ID, UserID: rep.ID, Active: true, Industries: []string{"fintech"}}); err != nil {
				return err
			}
			// Upsert: availability and territory change in place.
			if err := q.SetPoolMember(ctx, a, model.PoolMember{PoolID: pool.ID, UserID: rep.ID, Active: false, OutOfOfficeUntil: &ooo, Regions: []string{"NA"}}); err != nil {
				return err
			}
			var fe *store.FieldError
			if err := q.SetPoolMember(ctx, b, model.PoolMember{PoolID: pool.ID, UserID: rep.ID}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B adds to A's pool: %v", err)
			}
			bPools, _ := q.Pools(ctx, b, "", "")
			if err := q.SetPoolMember(ctx, b, model.PoolMember{PoolID: bPools[0].ID, UserID: rep.ID}); !errors.As(err, &fe) || fe.Field != "user_id" {
				t.Errorf("non-member: %v", err)
			}
			for i, at := range []time.Time{now.Add(-30 * 24 * time.Hour), now.Add(-29 * 24 * time.Hour), now} {
				x := model.Assignment{PoolID: pool.ID, UserID: rep.ID, ObjectType: "deal", ObjectID: int64(i + 1), Motion: "digital", Reason: "r", AssignedAt: at, SLADueAt: at.Add(time.Hour)}
				if err := q.InsertAssignment(ctx, a, &x); err != nil {
					return err
				}
			}
			if err := q.SetPoolCursor(ctx, b, pool.ID, rep.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B moves A's cursor: %v", err)
			}
			return q.SetPoolCursor(ctx, a, pool.ID, rep.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		// A unique violation ends the transaction on PostgreSQL: its own.
		err = st.InTx(ctx, func(q store.Q) error {
			dup := model.Pool{Name: "Inbound", Role: "ae", Capacity: 1}
			return q.CreatePool(ctx, a, &dup)
		})
		if ce := (*store.ConflictError)(nil); !errors.As(err, &ce) || ce.Field != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		r := st.Read()
		p, err := r.GetPool(ctx, a, pool.ID)
		if err != nil || p.Name != "Inbound" || p.Team != "smb" || fmt.Sprint(p.Regions) != "[EMEA]" || len(p.Industries) != 0 || p.Capacity != 3 ||
			p.CursorUserID == nil || *p.CursorUserID != rep.ID || p.CreatedAt.IsZero() {
			t.Fatalf("pool: %+v %v", p, err)
		}
		if _, err := r.GetPool(ctx, b, pool.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B reads A's pool: %v", err)
		}
		if ps, err := r.Pools(ctx, b, "ae", "ent"); err != nil || len(ps) != 1 || ps[0].Name != "AE" {
			t.Fatalf("pools by role and team: %+v %v", ps, err)
		}
		if ps, err := r.Pools(ctx, b, "ldr", ""); err != nil || len(ps) != 1 || ps[0].Name != "Inbound" {
			t.Fatalf("pools by role: %+v %v", ps, err)
		}
		// The window is (since, ∞): the item exactly 30 days old is out.
		ms, err := r.PoolMembers(ctx, a, pool.ID, now.Add(-30*24*time.Hour))
		if err != nil || len(ms) != 1 || ms[0].OpenItems != 2 || ms[0].Active || ms[0].OutOfOfficeUntil == nil ||
			!ms[0].OutOfOfficeUntil.Equal(now.Add(time.Hour)) || fmt.Sprint(ms[0].Regions) != "[NA]" || len(ms[0].Industries) != 0 {
			t.Fatalf("members: %+v %v", ms, err)
		}
		if ms, err := r.PoolMembers(ctx, b, pool.ID, now); err != nil || len(ms) != 0 {
			t.Fatalf("B lists A's members: %+v %v", ms, err)
		}
		// Settings: defaults, validation, round trip, per workspace.
		if s, err := r.AssignmentSettings(ctx, a); err != nil || s.Timezone != "" || len(s.SLAMinutes) != 0 || s.SLAMinutes == nil {
			t.Fatalf("default settings: %+v %v", s, err)
		}
		err = st.InTx(ctx, func(q store.Q) error {
			var fe *store.FieldError
			if err := q.SetAssignmentSettings(ctx, a, model.AssignmentSettings{Timezone: "Mars/Olympus"}); !errors.As(err, &fe) || fe.Field != "timezone" {
				t.Errorf("bad zone: %v", err)
			}
			if err := q.SetAssignmentSettings(ctx, a, model.AssignmentSettings{SLAMinutes: map[string]int{"digital": 0}}); !errors.As(err, &fe) || fe.Field != "sla_minutes.digital" {
				t.Errorf("bad sla: %v", err)
			}
			if err := q.SetAssignmentSettings(ctx, a, model.AssignmentSettings{Timezone: "Europe/Paris"}); err != nil {
				return err
			}
			return q.SetAssignmentSettings(ctx, a, model.AssignmentSettings{Timezone: "Europe/Berlin", SLAMinutes: map[string]int{"digital": 30}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := r.AssignmentSettings(ctx, a); err != nil || s.Timezone != "Europe/Berlin" || s.SLAMinutes["digital"] != 30 {
			t.Fatalf("settings: %+v %v", s, err)
		}
		if s, err := r.AssignmentSettings(ctx, b); err != nil || s.Timezone != "" {
			t.Fatalf("B sees A's settings: %+v %v", s, err)
		}
		// Removing a member keeps their assignments; deleting the workspace drops all.
		err = st.InTx(ctx, func(q store.Q) error {
			if err := q.RemovePoolMember(ctx, b, pool.ID, rep.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("B removes A's member: %v", err)
			}
			return q.RemovePoolMember(ctx, a, pool.ID, rep.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if as, err := r.Assignments(ctx, a, "deal", 3); err != nil || len(as) != 1 || as[0].UserID != rep.ID || as[0].FirstTouchAt != nil || as[0].Breached {
			t.Fatalf("assignments after removal: %+v %v", as, err)
		}
	})
}
