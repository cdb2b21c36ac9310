package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Idempotency keys: claimed once per (workspace, principal, key); an expired
// row counts as absent; a lock that ran out can be taken over only with the
// same request hash; the cleanup deletes rows older than the cutoff.
func TestIdempotencyKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		now := store.Now()
		k := store.IdemKey{Principal: "key:1", Key: "k1", Method: "POST", Path: "/api/v1/contacts", RequestHash: "h1", CreatedAt: now, LockedUntil: now.Add(10 * time.Minute)}
		claim := func(ws int64, k store.IdemKey, expired time.Time) (store.IdemKey, bool) {
			t.Helper()
			var got store.IdemKey
			var ok bool
			err := st.InTx(ctx, func(q store.Q) error {
				var err error
				got, ok, err = q.ClaimIdemKey(ctx, ws, k, expired)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return got, ok
		}
		tx := func(fn func(q store.Q) error) {
			t.Helper()
			if err := st.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := claim(a, k, now.Add(-24*time.Hour)); !ok {
			t.Fatal("first claim refused")
		}
		old, ok := claim(a, k, now.Add(-24*time.Hour))
		if ok || old.Status != 0 || old.RequestHash != "h1" {
			t.Fatalf("second claim: %v %+v", ok, old)
		}
		// Another workspace and another principal have their own keys.
		if _, ok := claim(b, k, now.Add(-24*time.Hour)); !ok {
			t.Fatal("workspace B could not claim A's key name")
		}
		k2 := k
		k2.Principal = "user:9"
		if _, ok := claim(a, k2, now.Add(-24*time.Hour)); !ok {
			t.Fatal("another principal could not claim the key name")
		}
		// The lock runs out: only the same request takes it over.
		later := now.Add(11 * time.Minute)
		tx(func(q store.Q) error {
			if ok, err := q.ReclaimIdemKey(ctx, a, "key:1", "k1", "other-hash", later, later.Add(time.Minute)); ok || err != nil {
				t.Fatalf("reclaim with another hash: %v %v", ok, err)
			}
			if ok, err := q.ReclaimIdemKey(ctx, a, "key:1", "k1", "h1", now, now.Add(time.Minute)); ok || err != nil {
				t.Fatalf("reclaim before the lock ran out: %v %v", ok, err)
			}
			if ok, err := q.ReclaimIdemKey(ctx, a, "key:1", "k1", "h1", later, later.Add(time.Minute)); !ok || err != nil {
				t.Fatalf("reclaim: %v %v", ok, err)
			}
			return q.CompleteIdemKey(ctx, a, "key:1", "k1", 201, "application/json", "/api/v1/contacts/5", []byte(`{"id":5}`), later)
		})
		done, ok := claim(a, k, now.Add(-24*time.Hour))
		if ok || done.Status != 201 || string(done.Body) != `{"id":5}` || done.Location != "/api/v1/contacts/5" || done.ContentType != "application/json" {
			t.Fatalf("completed key: %v %+v", ok, done)
		}
		// A day later the row counts as absent, before the cleanup runs.
		next := k
		next.RequestHash, next.CreatedAt, next.LockedUntil = "h2", now.Add(25*time.Hour), now.Add(25*time.Hour+10*time.Minute)
		if _, ok := claim(a, next, now.Add(time.Hour)); !ok {
			t.Fatal("an expired key was not claimable")
		}
		// Release forgets an in-progress key only.
		tx(func(q store.Q) error { return q.ReleaseIdemKey(ctx, a, "key:1", "k1", store.Now()) })
		if _, ok := claim(a, k, now.Add(-24*time.Hour)); !ok {
			t.Fatal("a released key was not claimable")
		}
		// Cleanup: rows created before the cutoff go.
		tx(func(q store.Q) error {
			n, err := q.AdminDeleteIdemKeys(ctx, now.Add(time.Second))
			if err != nil || n != 3 { // A's k1, B's k1, A's user:9 k1
				t.Fatalf("cleanup deleted %d (%v), want 3", n, err)
			}
			return nil
		})
	})
}

// A keyed request's change marks its key in the change's own transaction
// (WithIdemEffect): a rolled-back transaction leaves no mark; a marked key is
// never taken over after its lock nor forgotten by a release (its lock ends
// instead), and AdminUnlockIdemKeys (a SQLite start) ends every lock and
// counts the marked keys whose answer was lost.
func TestIdempotencyEffectMark(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, _ := twoWorkspaces(t, st)
		now := store.Now()
		for _, key := range []string{"rolled-back", "committed", "untouched"} {
			k := store.IdemKey{Principal: "key:1", Key: key, Method: "POST", Path: "/api/v1/contacts", RequestHash: "h", CreatedAt: now, LockedUntil: now.Add(10 * time.Minute)}
			if err := st.InTx(ctx, func(q store.Q) error { _, _, err := q.ClaimIdemKey(ctx, a, k, now.Add(-24*time.Hour)); return err }); err != nil {
				t.Fatal(err)
			}
		}
		boom := errors.New("handler failed")
		if err := st.InTx(store.WithIdemEffect(ctx, a, "key:1", "rolled-back"), func(q store.Q) error { return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := st.InTx(store.WithIdemEffect(ctx, a, "key:1", "committed"), func(q store.Q) error { return nil }); err != nil {
			t.Fatal(err)
		}
		get := func(key string) store.IdemKey {
			t.Helper()
			var got store.IdemKey
			err := st.InTx(ctx, func(q store.Q) error {
				var err error
				got, _, err = q.ClaimIdemKey(ctx, a, store.IdemKey{Principal: "key:1", Key: key, RequestHash: "h", CreatedAt: now, LockedUntil: now}, now.Add(-24*time.Hour))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := get("rolled-back"); !got.EffectAt.IsZero() {
			t.Fatalf("a rolled-back transaction marked its key: %+v", got)
		}
		if got := get("committed"); got.EffectAt.IsZero() {
			t.Fatalf("a committed transaction left its key unmarked: %+v", got)
		}
		later := now.Add(11 * time.Minute)
		err := st.InTx(ctx, func(q store.Q) error {
			if ok, err := q.ReclaimIdemKey(ctx, a, "key:1", "committed", "h", later, later.Add(time.Minute)); ok || err != nil {
				t.Fatalf("a key whose request took effect was taken over: %v %v", ok, err)
			}
			if ok, err := q.ReclaimIdemKey(ctx, a, "key:1", "rolled-back", "h", later, later.Add(time.Minute)); !ok || err != nil {
				t.Fatalf("a key without effect could not be taken over after its lock: %v %v", ok, err)
			}
			n, lost, err := q.AdminUnlockIdemKeys(ctx, now)
			if err != nil || n != 3 || lost != 1 {
				t.Fatalf("unlock: %d unlocked, %d lost, %v; want 3, 1", n, lost, err)
			}
			return q.ReleaseIdemKey(ctx, a, "key:1", "committed", now)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := get("committed"); got.EffectAt.IsZero() || got.Status != 0 || got.LockedUntil.After(now) {
			t.Fatalf("released key with an effect: %+v; want kept, in progress, unlocked", got)
		}
	})
}
