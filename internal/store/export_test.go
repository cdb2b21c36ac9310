package store

// SetSearchProbeRows sets how many rows a PostgreSQL search's probe reads and
// returns a function that restores it. Only for tests that do not run in
// parallel with others.
func SetSearchProbeRows(n int) (restore func()) {
	old := searchProbeRows
	searchProbeRows = n
	return func() { searchProbeRows = old }
}
