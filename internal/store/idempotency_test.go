package store_test

import (
	"context"
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
		tx(func(q store.Q) error { return q.ReleaseIdemKey(ctx, a, "key:1", "k1") })
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
