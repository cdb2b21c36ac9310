package store

import (
	"context"
	"database/sql"
	"fmt"
)

type rowScanner interface{ Scan(dest ...any) error }

// runList executes a built list and pages it. scan reads one row's entity columns
// plus the extra sort column and returns the item and its id.
func runList[T any](ctx context.Context, q Q, what string, bl *builtList, scan func(r rowScanner, extra ...any) (T, int64, error)) (Page[T], error) {
	if bl.probeSQL != "" {
		page, err := runPage(ctx, q, what, bl, bl.probeSQL, scan)
		if err != nil || page.NextCursor != "" {
			return page, err
		}
		// Not a full page among the rows the probe read: the index finds the rest.
	}
	return runPage(ctx, q, what, bl, bl.sql, scan)
}

func runPage[T any](ctx context.Context, q Q, what string, bl *builtList, query string, scan func(r rowScanner, extra ...any) (T, int64, error)) (Page[T], error) {
	var page Page[T]
	rows, err := q.db.QueryContext(ctx, query, bl.args...)
	if err != nil {
		return page, fmt.Errorf("store: list %s: %w", what, err)
	}
	defer rows.Close()
	page.Items = make([]T, 0, bl.limit)
	var lastSort any
	var lastID int64
	n := 0
	for rows.Next() {
		var sv any
		var sort dbTime
		var sint sql.NullInt64
		var sstr sql.NullString
		switch bl.sortTyp {
		case fTime:
			sv = &sort
		case fInt, fID:
			sv = &sint
		default:
			sv = &sstr
		}
		item, id, err := scan(rows, sv)
		if err != nil {
			return page, fmt.Errorf("store: list %s: %w", what, err)
		}
		n++
		if n > bl.limit {
			page.NextCursor = encodeCursor(lastSort, lastID)
			break
		}
		page.Items = append(page.Items, item)
		lastID = id
		switch bl.sortTyp {
		case fTime:
			lastSort = sort.T
		case fInt, fID:
			lastSort = sint.Int64
		default:
			lastSort = sstr.String
		}
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("store: list %s: %w", what, err)
	}
	return page, nil
}

func (q Q) count(ctx context.Context, bl *builtList) (*int64, error) {
	var n int64
	if err := q.db.QueryRowContext(ctx, bl.countSQL, bl.countArgs...).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: count: %w", err)
	}
	return &n, nil
}
