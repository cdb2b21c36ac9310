package mail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// waitFor polls cond until it holds or a deadline passes (no sleeps as
// synchronisation: the deadline only bounds a failing test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A full queue answers at once with errEngageFull and counts the event as
// dropped, instead of holding it without bound; what was queued before is
// still written once the writer can commit again.
func TestEngageQueueFull(t *testing.T) {
	st := storetest.New(t, store.SQLite)
	ctx := context.Background()
	s, err := New(ctx, st, Options{BaseURL: "https://crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.EngageMaxPending = 1
	// Hold SQLite's one write connection: the writer's transaction waits.
	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- st.InTx(ctx, func(q store.Q) error { close(holding); <-release; return nil })
	}()
	<-holding
	tok := EngageToken{Kind: store.MailOpen, Workspace: 1, Send: 12345}
	errs := make(chan error, 2)
	go func() { _, err := s.record(ctx, tok, "Mozilla/5.0"); errs <- err }()
	w := s.writer()
	waitFor(t, "the writer to take the first event", func() bool { return w.inflight.Load() == 1 })
	go func() { _, err := s.record(ctx, tok, "Mozilla/5.0"); errs <- err }()
	waitFor(t, "the second event to queue", func() bool { w.mu.Lock(); defer w.mu.Unlock(); return len(w.queue) == 1 })
	if _, err := s.record(ctx, tok, "Mozilla/5.0"); !errors.Is(err, errEngageFull) {
		t.Fatalf("third event with a full queue: %v, want errEngageFull", err)
	}
	if got := s.EngageStats(); got.Dropped != 1 || got.Unknown != 0 {
		t.Fatalf("stats while blocked %+v, want 1 dropped", got)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Send 12345 does not exist: both queued events resolve to "unknown".
	if got := s.EngageStats(); got.Dropped != 1 || got.Unknown != 2 || got.Recorded != 0 {
		t.Fatalf("stats after release %+v, want 1 dropped, 2 unknown", got)
	}
	s.Close()
	if _, err := s.record(ctx, tok, "Mozilla/5.0"); !errors.Is(err, errEngageClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// EngageEarlyAck bounds the answered events that are not yet durable: with
// the writer held up by another transaction, the first N opens are answered
// at once and the next one waits for its own event; once the writer goes on,
// SyncEngagement returns with nothing left waiting for the disk.
func TestEngageEarlyAckBound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s, err := New(ctx, st, Options{BaseURL: "https://crm.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.EngageEarlyAck = 2
		// Hold the writer up: SQLite's one write connection in a
		// transaction; on PostgreSQL the sends table it reads first, locked.
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if st.Kind == store.Postgres {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE send_ledger IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
		}
		tok := EngageToken{Kind: store.MailOpen, Workspace: 1, Send: 12345}
		for i := range 2 {
			if _, err := s.record(ctx, tok, "Mozilla/5.0"); err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
		}
		w := s.writer()
		third := make(chan error, 1)
		go func() { _, err := s.record(ctx, tok, "Mozilla/5.0"); third <- err }()
		waitFor(t, "the third event to queue", func() bool {
			w.mu.Lock()
			defer w.mu.Unlock()
			return int64(len(w.queue))+w.inflight.Load() == 3
		})
		w.mu.Lock()
		unsynced := w.unsynced
		w.mu.Unlock()
		if unsynced != 2 {
			t.Fatalf("%d answered events not durable, want 2 (the bound)", unsynced)
		}
		select {
		case err := <-third:
			t.Fatalf("the third open was answered (%v) past the bound while the writer was held", err)
		default:
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := <-third; err != nil {
			t.Fatal(err)
		}
		if err := s.SyncEngagement(ctx); err != nil {
			t.Fatal(err)
		}
		w.mu.Lock()
		unsynced = w.unsynced
		w.mu.Unlock()
		// Send 12345 does not exist: the three events resolve to "unknown".
		if got := s.EngageStats(); unsynced != 0 || got.Unknown != 3 || got.Dropped != 0 {
			t.Fatalf("after release: %d not durable, stats %+v; want 0, 3 unknown", unsynced, got)
		}
	})
}
