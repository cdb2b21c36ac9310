package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// Deferred sync (docs/benchmarks.md, "Open pixel and click"; docs/store.md).
//
// A SQLite commit under synchronous=FULL writes the transaction's pages to the
// WAL and fsyncs the WAL before it returns, holding the one write lock: the
// next transaction cannot start until the disk has answered. For the open
// pixel and the click redirect, whose requests wait for their event to be
// durable, that made throughput (events per commit ÷ fsync time) and the
// latency a function of the disk's fsync time.
//
// InTxDeferSync commits one transaction without that fsync
// (synchronous=NORMAL for this transaction only; every other transaction
// keeps FULL) and SyncWAL fsyncs the WAL afterwards, outside the write lock.
// A caller that answers only after SyncWAL keeps the same promise as FULL —
// what was answered is on disk — while the writer commits the next batch
// during the fsync, and one fsync covers every batch committed before it
// began. Between the commit and SyncWAL the change is in the WAL in the
// operating system's cache: it survives a crash of this process, not of the
// machine; nobody was told it was stored.
//
// PostgreSQL the same way: the transaction commits with synchronous_commit =
// off (it returns without waiting for the WAL flush), and SyncWAL runs a
// one-statement transaction that takes a transaction id, whose synchronous
// commit flushes the WAL up to its own commit record — past every earlier
// commit. Until then an unflushed commit is lost if the server crashes, with
// everything else of its transaction; nobody was told it was stored.

// DeferSync reports whether InTxDeferSync leaves the sync to SyncWAL.
func (s *Store) DeferSync() bool { return true }

// InTxDeferSync is InTx whose commit does not wait for the disk (see above):
// call SyncWAL before telling anyone the change is stored.
func (s *Store) InTxDeferSync(ctx context.Context, fn func(q Q) error) error {
	_, err := s.inTxDeferSync(ctx, fn)
	return err
}

// InTxSharedSync is InTx — durable when it returns — for writers that run
// side by side, such as the send ledger's delivery workers: on SQLite each
// commit skips its own fsync and then waits for one that covers it, so
// callers that commit while another's fsync runs share the next one instead
// of queueing one each behind the write lock (docs/mail.md, "Sending").
// PostgreSQL shares WAL flushes between concurrent commits itself: InTx.
func (s *Store) InTxSharedSync(ctx context.Context, fn func(q Q) error) error {
	if s.Kind == Postgres {
		return s.InTx(ctx, fn)
	}
	seq, err := s.inTxDeferSync(ctx, fn)
	if err != nil {
		return err
	}
	return s.syncCovering(seq)
}

func (s *Store) inTxDeferSync(ctx context.Context, fn func(q Q) error) (seq uint64, err error) {
	if s.Kind == Postgres {
		return 0, s.InTx(ctx, func(q Q) error {
			if _, err := q.db.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return fmt.Errorf("store: relax sync: %w", err)
			}
			return fn(q)
		})
	}
	// Statements asked for by earlier transactions are prepared while the
	// connection is free (preparing needs it; see stmtCache).
	s.stmts.prepareWanted(ctx, s.W)
	// The pragma applies to the connection and cannot change inside a
	// transaction: take the one write connection, relax it, run the
	// transaction, restore FULL before anyone else gets the connection.
	conn, err := s.W.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return 0, fmt.Errorf("store: relax sync: %w", err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=FULL"); rerr != nil {
			// Never hand a relaxed connection to the next writer: drop it
			// (the pool opens a new one with the DSN's FULL).
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("store: restore sync: %w", rerr))
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(Q{db: tx, tx: tx, kind: s.Kind, stmts: &s.stmts}); err != nil {
		_ = tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	// Counted while the write connection is still held: commits are
	// numbered in the order they reached the WAL.
	return s.wal.committed.Add(1), nil
}

// walSyncer holds the WAL file open for SyncWAL.
type walSyncer struct {
	// committed numbers the commits made without their fsync; synced is the
	// highest of them an fsync is known to cover (under mu).
	committed atomic.Uint64
	mu        sync.Mutex
	synced    uint64
	syncs     atomic.Int64 // fsyncs done (tests)
	f         *os.File
	info      os.FileInfo
}

// syncCovering returns once deferred commit seq is durable: at once when an
// fsync that began after it finished already, else after one more fsync,
// which also covers every commit made before it began.
func (s *Store) syncCovering(seq uint64) error {
	w := &s.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.synced >= seq {
		return nil
	}
	return s.syncLocked()
}

// SyncWAL makes every transaction committed so far durable: an fsync of
// SQLite's WAL file, or a synchronous commit on PostgreSQL. Safe for
// concurrent use.
//
// Frames committed under NORMAL are either still in the WAL — the fsync
// covers them — or were copied into the database by a checkpoint, which
// syncs the WAL before and the database after copying (SQLite's rule in WAL
// mode at NORMAL). The WAL is a new file only when every connection closed
// (the last one checkpoints and deletes it); the handle is reopened when the
// path names another file, and then the directory is synced too, as SQLite
// does on the first sync of a new WAL.
func (s *Store) SyncWAL() error {
	if s.Kind == Postgres {
		// Autocommit: one round trip, one synchronous commit.
		if _, err := s.W.ExecContext(context.Background(), "SELECT pg_current_xact_id()"); err != nil {
			return fmt.Errorf("store: sync wal: %w", err)
		}
		return nil
	}
	w := &s.wal
	w.mu.Lock()
	defer w.mu.Unlock()
	return s.syncLocked()
}

// syncLocked is SyncWAL's work, with wal.mu held.
func (s *Store) syncLocked() error {
	w := &s.wal
	// Every commit counted by now is in the WAL file (or checkpointed from
	// it) before the fsync starts: the fsync covers it.
	covers := w.committed.Load()
	if err := s.fsyncWAL(); err != nil {
		return err
	}
	w.synced = max(w.synced, covers)
	return nil
}

// fsyncWAL fsyncs the WAL file (with wal.mu held).
func (s *Store) fsyncWAL() error {
	w := &s.wal
	path := s.DSN + "-wal"
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		// No WAL: everything was checkpointed (and synced) into the database.
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: sync wal: %w", err)
	}
	newFile := w.f == nil || !os.SameFile(info, w.info)
	if newFile {
		if w.f != nil {
			w.f.Close()
		}
		if w.f, err = os.Open(path); err != nil {
			w.f = nil
			return fmt.Errorf("store: sync wal: %w", err)
		}
		w.info = info
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("store: sync wal: %w", err)
	}
	w.syncs.Add(1)
	if newFile {
		d, err := os.Open(filepath.Dir(path))
		if err != nil {
			return fmt.Errorf("store: sync wal directory: %w", err)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return fmt.Errorf("store: sync wal directory: %w", err)
		}
	}
	return nil
}
