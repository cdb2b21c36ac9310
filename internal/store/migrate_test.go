package store_test

import (
	"context"
	"testing"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Twelve nodes started together on one empty PostgreSQL database each run Migrate
// (docs/scaling.md, "Upgrades"): the migrations are applied once, every node
// starts, and the schema is complete.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	dsn := storetest.NewEmptyPostgresDSN(t)
	ctx := context.Background()
	const nodes = 12
	stores := make([]*store.Store, nodes)
	for i := range stores {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	errs := make(chan error, nodes)
	for _, st := range stores {
		go func() { errs <- st.Migrate(ctx) }()
	}
	for range nodes {
		if err := <-errs; err != nil {
			t.Errorf("a node's migration: %v", err)
		}
	}
	var applied, contacts int
	if err := stores[0].R.QueryRowContext(ctx, `SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].R.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts`).Scan(&contacts); err != nil {
		t.Fatalf("schema incomplete: %v", err)
	}
	var distinct int
	if err := stores[0].R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct {
		t.Errorf("%d migration rows for %d versions: a migration was applied twice", applied, distinct)
	}
}
