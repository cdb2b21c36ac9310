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
	// EffectAt is when the request's own change committed (zero: it has not,
	// or the request made none). A key in progress with an effect lost its
	// answer to a crash: it must not run again (WithIdemEffect).
	EffectAt time.Time
}

type idemEffectKey struct{}

type idemEffect struct {
	ws             int64
	principal, key string
}

// WithIdemEffect returns a context whose write transactions (InTx) also mark
// the idempotency key (ws, principal, key) as having taken effect, in the
// same transaction as the change. The Idempotency-Key middleware hands it to
// the handler: a crash after the handler's commit and before its answer is
// stored then leaves a key that says the request ran.
func WithIdemEffect(ctx context.Context, ws int64, principal, key string) context.Context {
	return context.WithValue(ctx, idemEffectKey{}, idemEffect{ws: ws, principal: principal, key: key})
}

// markIdemEffect runs in InTx before the commit when ctx carries a key.
func markIdemEffect(ctx context.Context, q Q) error {
	m, ok := ctx.Value(idemEffectKey{}).(idemEffect)
	if !ok {
		return nil
	}
	_, err := q.db.ExecContext(ctx, `UPDATE idempotency_keys SET effect_at=$4 WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND status=0 AND effect_at IS NULL`,
		m.ws, m.principal, m.key, Now())
	if err != nil {
		return fmt.Errorf("store: mark idempotency key: %w", err)
	}
	return nil
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
		created_at=$7, locked_until=$8, completed_at=NULL, effect_at=NULL
		WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND created_at < $9`,
		ws, k.Principal, k.Key, k.Method, k.Path, k.RequestHash, k.CreatedAt.UTC(), k.LockedUntil.UTC(), expired.UTC())
	if err != nil {
		return k, false, fmt.Errorf("store: claim idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return k, true, nil
	}
	var old IdemKey
	var cr, lk, ef dbTime
	err = q.db.QueryRowContext(ctx, `SELECT principal, idem_key, method, path, request_hash, status, content_type, location, body, created_at, locked_until, effect_at
		FROM idempotency_keys WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3`, ws, k.Principal, k.Key).
		Scan(&old.Principal, &old.Key, &old.Method, &old.Path, &old.RequestHash, &old.Status, &old.ContentType, &old.Location, &old.Body, &cr, &lk, &ef)
	if errors.Is(err, sql.ErrNoRows) {
		// Deleted between the statements (the cleanup job): try once more.
		return q.ClaimIdemKey(ctx, ws, k, expired)
	}
	if err != nil {
		return k, false, fmt.Errorf("store: read idempotency key: %w", err)
	}
	old.CreatedAt, old.LockedUntil, old.EffectAt = cr.T, lk.T, ef.T
	return old, false, nil
}

// ReclaimIdemKey takes over an in-progress key whose lock ran out (its
// request's process ended) and whose request made no change, for a new
// attempt with the same body hash.
func (q Q) ReclaimIdemKey(ctx context.Context, ws int64, principal, key, hash string, now, lockedUntil time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE idempotency_keys SET locked_until=$6
		WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND request_hash=$4 AND status=0 AND effect_at IS NULL AND locked_until < $5`,
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

// ReleaseIdemKey forgets a key whose request failed on the server's side
// without a change, so a retry runs again. A key whose request did change
// something (effect_at) is kept in progress with its lock ended: a retry is
// told the outcome is unknown instead of running it twice.
func (q Q) ReleaseIdemKey(ctx context.Context, ws int64, principal, key string, now time.Time) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND status=0 AND effect_at IS NULL`, ws, principal, key)
	if err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	_, err = q.db.ExecContext(ctx, `UPDATE idempotency_keys SET locked_until=$4 WHERE workspace_id=$1 AND principal=$2 AND idem_key=$3 AND status=0 AND locked_until > $4`, ws, principal, key, now.UTC())
	if err != nil {
		return fmt.Errorf("store: release idempotency key: %w", err)
	}
	return nil
}

// AdminUnlockIdemKeys ends the lock of every key still in progress, of every
// workspace. Only for a SQLite start: one process owns the file, so a key in
// progress belongs to a process that is gone. It returns how many keys it
// unlocked and how many of those had taken effect (their answer is lost).
func (q Q) AdminUnlockIdemKeys(ctx context.Context, now time.Time) (unlocked, lost int64, err error) {
	err = q.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(effect_at) FROM idempotency_keys WHERE status=0 AND locked_until > $1`, now.UTC()).Scan(&unlocked, &lost)
	if err != nil {
		return 0, 0, fmt.Errorf("store: unlock idempotency keys: %w", err)
	}
	if unlocked == 0 {
		return 0, 0, nil
	}
	if _, err := q.db.ExecContext(ctx, `UPDATE idempotency_keys SET locked_until=$1 WHERE status=0 AND locked_until > $1`, now.UTC()); err != nil {
		return 0, 0, fmt.Errorf("store: unlock idempotency keys: %w", err)
	}
	return unlocked, lost, nil
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
