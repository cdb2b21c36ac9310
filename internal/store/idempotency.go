package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Idempotency keys of POST /api/v1 requests (migration 00020, docs/api.md).
// The middleware in internal/api decides; these methods keep the rows.

// IdemKey is a stored key: the request it belongs to and, once the request
// finished (Status > 0), the response to replay.
type IdemKey struct {
	Principal   string
	Key         string
	Method      string
	Path        string
	RequestHash string
	Status      int // 0: the first request is still running
	ContentType string
	Location    string
	Body        []byte
	CreatedAt   time.Time
	LockedUntil time.Time
}

// ClaimIdemKey starts k for the first request that sends it: it inserts the
// row in progress (Status 0, held until k.LockedUntil) and reports true. When
// ws already holds the key for this principal, it returns the stored row and
// false, unless that row was created before expired: then the old row is
// replaced and the claim succeeds.
func (q Q) ClaimIdemKey(ctx context.Context, ws int64, k IdemKey, expired time.Time) (IdemKey, bool, error) {
	res, err := q.db.ExecContext(ctx, `INSERT INTO idempotency_keys (workspace_id, principal, idem_key, method, path, request_hash, status, created_at, locked_until)
		VALUES ($1,$2,$3,$4,$5,$6,0,$7,$8) ON CONFLICT (workspace_id, principal, idem_key) DO NOTHING`,
		ws, k.Principal, k.Key, k.Method, k.Path, k.RequestHash, k.CreatedAt.UTC(), k.LockedUntil.UTC())
	if err != nil {
		return k, false, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return k, true, nil
	}
	// An expired row the cleanup job has not reached yet counts as absent.
	res, err = q.db.ExecContext(ctx, `UPDATE idempotency_keys SET method=$4, path=$5, request_hash=$6, status=0, content_type='', location='', body=NULL,
		created_at=$7, locked_until=$8, completed_at=NULL
		WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND created_at < $9`,
		ws, k.Principal, k.Key, k.Method, k.Path, k.RequestHash, k.CreatedAt.UTC(), k.LockedUntil.UTC(), expired.UTC())
	if err != nil {
		return k, false, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return k, true, nil
	}
	var old IdemKey
	var cr, lk dbTime
	err = q.db.QueryRowContext(ctx, `SELECT principal, idem_key, method, path, request_hash, status, content_type, location, body, created_at, locked_until
		FROM idempotency_keys WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3`, ws, k.Principal, k.Key).
		Scan(&old.Principal, &old.Key, &old.Method, &old.Path, &old.RequestHash, &old.Status, &old.ContentType, &old.Location, &old.Body, &cr, &lk)
	if errors.Is(err, sql.ErrNoRows) {
		// Deleted between the statements (the cleanup job): try once more.
		return q.ClaimIdemKey(ctx, ws, k, expired)
	}
	if err != nil {
		return k, false, fmt.Errorf("store: read idempotency key: %w", err)
	}
	old.CreatedAt, old.LockedUntil = cr.T, lk.T
	return old, false, nil
}

// ReclaimIdemKey takes over an in-progress key whose lock ran out (its
// request's process ended), for a new attempt with the same body hash.
func (q Q) ReclaimIdemKey(ctx context.Context, ws int64, principal, key, hash string, now, lockedUntil time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE idempotency_keys SET locked_until=$6
		WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND request_hash=$4 AND status=0 AND locked_until < $5`,
		ws, principal, key, hash, now.UTC(), lockedUntil.UTC())
	if err != nil {
		return false, fmt.Errorf("store: reclaim idempotency key: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CompleteIdemKey stores the response of the request that holds the key.
func (q Q) CompleteIdemKey(ctx context.Context, ws int64, principal, key string, status int, ctype, location string, body []byte, now time.Time) error {
	_, err := q.db.ExecContext(ctx, `UPDATE idempotency_keys SET status=$4, content_type=$5, location=$6, body=$7, completed_at=$8
		WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3`, ws, principal, key, status, ctype, location, body, now.UTC())
	if err != nil {
		return fmt.Errorf("store: complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdemKey forgets a key whose request failed on the server's side, so
// a retry runs again.
func (q Q) ReleaseIdemKey(ctx context.Context, ws int64, principal, key string) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND status=0`, ws, principal, key)
	if err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// AdminDeleteIdemKeys deletes the keys of every workspace created before
// cutoff and returns how many.
func (q Q) AdminDeleteIdemKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: delete idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// ---- install-wide flags ---------------------------------------------------------

// FlagSendingPaused is set by `rightsize restore`; while it is set no mail,
// sequence step or webhook goes out.
const FlagSendingPaused = "sending_paused"

// InstanceFlag is one install-wide switch.
type InstanceFlag struct {
	Name  string    `json:"-"`
	Value string    `json:"reason"`
	SetBy string    `json:"set_by"`
	SetAt time.Time `json:"since"`
}

// AdminFlag loads flag name; ErrNotFound when it is not set.
func (q Q) AdminFlag(ctx context.Context, name string) (InstanceFlag, error) {
	f := InstanceFlag{Name: name}
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT value, set_by, set_at FROM instance_flags WHERE name=$1`, name).Scan(&f.Value, &f.SetBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("store: instance flag: %w", err)
	}
	f.SetAt = at.T
	return f, nil
}

// AdminSetFlag sets (or replaces) flag f.
func (q Q) AdminSetFlag(ctx context.Context, f InstanceFlag) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO instance_flags (name, value, set_by, set_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (name) DO UPDATE SET value=excluded.value, set_by=excluded.set_by, set_at=excluded.set_at`, f.Name, f.Value, f.SetBy, f.SetAt.UTC())
	if err != nil {
		return fmt.Errorf("store: set instance flag: %w", err)
	}
	return nil
}

// AdminClearFlag removes flag name; it reports whether it was set.
func (q Q) AdminClearFlag(ctx context.Context, name string) (bool, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM instance_flags WHERE name=$1`, name)
	if err != nil {
		return false, fmt.Errorf("store: clear instance flag: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AdminSendingPaused reports whether sending is paused (a restore not yet
// confirmed by an admin).
func (q Q) AdminSendingPaused(ctx context.Context) (bool, error) {
	_, err := q.AdminFlag(ctx, FlagSendingPaused)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
