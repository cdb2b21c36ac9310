package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps statements prepared on SQLite's one write connection from
// one transaction to the next, so a hot write (the open/click group commit)
// does not parse its statement again in every transaction — parsing a
// multi-row INSERT cost as much CPU as running it (docs/benchmarks.md).
//
// database/sql reuses a statement prepared on the database inside a
// transaction on the same connection (Tx.StmtContext), but preparing on the
// database needs a free connection, and inside a transaction SQLite's only
// one is taken. So a statement asked for inside a transaction is noted, runs
// unprepared that time, and is prepared before the next transaction takes the
// connection (prepareWanted).
type stmtCache struct {
	mu    sync.Mutex
	ready map[string]*sql.Stmt
	want  map[string]struct{}
}

// stmtCacheMax bounds the statements kept (their texts differ by row count
// and workspace); a full cache starts over.
const stmtCacheMax = 64

// lookup returns text's prepared statement, or nil (and notes text).
func (c *stmtCache) lookup(text string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.ready[text]; st != nil {
		return st
	}
	if c.want == nil {
		c.want = map[string]struct{}{}
	}
	if len(c.want) < stmtCacheMax {
		c.want[text] = struct{}{}
	}
	return nil
}

// prepareWanted prepares on db what lookup noted. The caller holds no
// connection of db. A statement that fails to prepare just runs unprepared.
func (c *stmtCache) prepareWanted(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	want := c.want
	c.want = nil
	c.mu.Unlock()
	for text := range want {
		st, err := db.PrepareContext(ctx, text)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.ready[text] != nil {
			st.Close()
		} else {
			if len(c.ready) >= stmtCacheMax {
				for _, old := range c.ready {
					old.Close() // database/sql defers the close while a transaction uses it
				}
				c.ready = nil
			}
			if c.ready == nil {
				c.ready = map[string]*sql.Stmt{}
			}
			c.ready[text] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.ready {
		st.Close()
	}
	c.ready, c.want = nil, nil
}

// exec runs text in q's transaction, prepared when q has a cache and the
// statement is ready there, else as a one-off.
func (q Q) exec(ctx context.Context, text string, args ...any) error {
	_, err := q.execResult(ctx, text, args...)
	return err
}

// execResult is exec with the statement's result (rows affected).
func (q Q) execResult(ctx context.Context, text string, args ...any) (sql.Result, error) {
	if q.stmts != nil && q.tx != nil {
		if st := q.stmts.lookup(text); st != nil {
			return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	return q.db.ExecContext(ctx, text, args...)
}

// query is exec for a statement that returns rows.
func (q Q) query(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if q.stmts != nil && q.tx != nil {
		if st := q.stmts.lookup(text); st != nil {
			return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		}
	}
	return q.db.QueryContext(ctx, text, args...)
}
