package store

// SetSearchProbeRows sets how many rows a PostgreSQL search's probe reads and
// returns a function that restores it. Only for tests that do not run in
// parallel with others.
func SetSearchProbeRows(n int) (restore func()) {
	old := searchProbeRows
	searchProbeRows = n
	return func() { searchProbeRows = old }
}

// WALSyncs is how many fsyncs of the WAL SyncWAL and InTxSharedSync did.
func (s *Store) WALSyncs() int64 { return s.wal.syncs.Load() }

// WALCommitted is how many commits skipped their own fsync so far.
func (s *Store) WALCommitted() uint64 { return s.wal.committed.Load() }

// HoldWALSync blocks every WAL fsync, as a slow disk would, until release.
func (s *Store) HoldWALSync() (release func()) {
	s.wal.mu.Lock()
	return s.wal.mu.Unlock
}
