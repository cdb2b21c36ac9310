package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Users, throttling and password resets (docs/security-sessions.md). None of
// these is workspace data: a user, their sessions and their reset tokens belong
// to the install, like the users table itself.

// SetUserDisabled disables or enables a user. Disabling ends every session of
// the user in the same statement batch; their API keys are refused by
// APIKeyByHash while they stay disabled.
func (q Q) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	res, err := q.db.ExecContext(ctx, `UPDATE users SET disabled=$2 WHERE id=$1`, userID, disabled)
	if err := affected(res, err, "set user disabled"); err != nil {
		return err
	}
	if disabled {
		return q.DeleteUserSessions(ctx, userID)
	}
	return nil
}

// DeleteUserSessions ends every session of a user.
func (q Q) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=$1`, userID); err != nil {
		return fmt.Errorf("store: end sessions: %w", err)
	}
	return nil
}

// CountUserSessions counts a user's sessions (tests and the CLI's report).
func (q Q) CountUserSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id=$1`, userID).Scan(&n)
	return n, err
}

// APIKeyOwner is the member key id of ws acts for (api_keys.created_by_user_id;
// nil: a workspace key made from the CLI or before owners were recorded).
func (q Q) APIKeyOwner(ctx context.Context, ws, id int64) (*int64, error) {
	var u sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT created_by_user_id FROM api_keys WHERE workspace_id=$1 AND id=$2`, ws, id).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: api key owner: %w", err)
	}
	return intPtr(u), nil
}

// ---- throttling ---------------------------------------------------------------

// ThrottleState reads key's window: when it started and how many hits it has.
// A key never hit answers zero hits.
func (q Q) ThrottleState(ctx context.Context, key string) (int, time.Time, error) {
	var hits int
	var start dbTime
	err := q.db.QueryRowContext(ctx, `SELECT hits, window_start FROM auth_throttle WHERE key=$1`, key).Scan(&hits, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: throttle state: %w", err)
	}
	return hits, start.T, nil
}

// ThrottleHit counts one hit on key at now. A window that started at or before
// expired (now minus the window length) starts again at now with one hit. One
// statement, so concurrent hits from several processes all count.
func (q Q) ThrottleHit(ctx context.Context, key string, now, expired time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO auth_throttle (key, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN auth_throttle.window_start <= $3 THEN 1 ELSE auth_throttle.hits + 1 END,
			window_start = CASE WHEN auth_throttle.window_start <= $3 THEN excluded.window_start ELSE auth_throttle.window_start END`,
		key, now, expired)
	if err != nil {
		return fmt.Errorf("store: throttle hit: %w", err)
	}
	return nil
}

// ThrottleClear forgets key (a successful login clears its account's failures).
func (q Q) ThrottleClear(ctx context.Context, key string) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM auth_throttle WHERE key=$1`, key); err != nil {
		return fmt.Errorf("store: throttle clear: %w", err)
	}
	return nil
}

// AdminDeleteStaleThrottle removes windows that started at or before cutoff.
func (q Q) AdminDeleteStaleThrottle(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM auth_throttle WHERE window_start <= $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: throttle sweep: %w", err)
	}
	return res.RowsAffected()
}

// ---- password resets ------------------------------------------------------------

// CreatePasswordReset stores the hash of a reset token for a user.
func (q Q) CreatePasswordReset(ctx context.Context, tokenHash string, userID int64, now, expires time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1,$2,$3,$4)`, tokenHash, userID, now, expires)
	if err != nil {
		return fmt.Errorf("store: create password reset: %w", err)
	}
	return nil
}

// PasswordResetUser is the user of an unused, unexpired reset token, or
// ErrNotFound.
func (q Q) PasswordResetUser(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	var uid int64
	err := q.db.QueryRowContext(ctx, `SELECT user_id FROM password_resets WHERE token_hash=$1 AND used_at IS NULL AND expires_at > $2`, tokenHash, now).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: password reset: %w", err)
	}
	return uid, nil
}

// UsePasswordReset marks an unused, unexpired token used and returns its user;
// ErrNotFound when the token is unknown, used or expired. The update is the
// check, so two concurrent uses cannot both succeed.
func (q Q) UsePasswordReset(ctx context.Context, tokenHash string, now time.Time) (int64, error) {
	var uid int64
	err := q.db.QueryRowContext(ctx, `UPDATE password_resets SET used_at=$2 WHERE token_hash=$1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id`, tokenHash, now).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: use password reset: %w", err)
	}
	return uid, nil
}

// DeletePasswordResets removes every reset token of a user (after a password
// change no older link may set it again).
func (q Q) DeletePasswordResets(ctx context.Context, userID int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id=$1`, userID); err != nil {
		return fmt.Errorf("store: delete password resets: %w", err)
	}
	return nil
}

// AdminDeleteStalePasswordResets removes tokens that expired before cutoff.
func (q Q) AdminDeleteStalePasswordResets(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM password_resets WHERE expires_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: password reset sweep: %w", err)
	}
	return res.RowsAffected()
}

// ---- system mail ---------------------------------------------------------------

// SystemMail is one transactional message to a user (not a workspace contact):
// a password reset link. BodyEnc is sealed by the mail layer and wiped when the
// row is finished.
type SystemMail struct {
	ID        int64
	DedupeKey string
	Kind      string
	ToEmail   string
	Subject   string
	BodyEnc   string
	State     string
	Attempts  int
	LastCode  int
	LastText  string
	DueAt     time.Time
	ExpiresAt time.Time
	CreatedAt time.Time
}

// System mail states: planned → smtp_started → accepted | failed | expired |
// unknown (the connection broke after the body went out).
const (
	SystemMailPlanned = "planned"
	SystemMailStarted = "smtp_started"
	SystemMailSent    = "accepted"
	SystemMailFailed  = "failed"
	SystemMailExpired = "expired"
	SystemMailUnknown = "unknown"
)

// PlanSystemMail inserts m as planned; a dedupe key seen before is a no-op
// (created false).
func (q Q) PlanSystemMail(ctx context.Context, m *SystemMail) (bool, error) {
	now := Now()
	m.State, m.CreatedAt = SystemMailPlanned, now
	if m.DueAt.IsZero() {
		m.DueAt = now
	}
	res, err := q.db.ExecContext(ctx, `INSERT INTO system_mail (dedupe_key, kind, to_email, subject, body_enc, state, due_at, expires_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) ON CONFLICT (dedupe_key) DO NOTHING`,
		m.DedupeKey, m.Kind, m.ToEmail, m.Subject, m.BodyEnc, m.State, m.DueAt, m.ExpiresAt, now)
	if err != nil {
		return false, fmt.Errorf("store: plan system mail: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const systemMailCols = `id, dedupe_key, kind, to_email, subject, body_enc, state, attempts, last_code, last_text, due_at, expires_at, created_at`

func scanSystemMail(r rowScanner) (SystemMail, error) {
	var m SystemMail
	var due, exp, c dbTime
	err := r.Scan(&m.ID, &m.DedupeKey, &m.Kind, &m.ToEmail, &m.Subject, &m.BodyEnc, &m.State, &m.Attempts, &m.LastCode, &m.LastText, &due, &exp, &c)
	m.DueAt, m.ExpiresAt, m.CreatedAt = due.T, exp.T, c.T
	return m, err
}

// ClaimSystemMail moves up to limit due planned rows to smtp_started (attempts
// + 1) and returns them; the caller sends them after this commits, so a crash
// mid-send leaves them smtp_started (never sent twice; RecoverSystemMail marks
// them unknown). PostgreSQL: FOR UPDATE SKIP LOCKED keeps processes apart.
func (q Q) ClaimSystemMail(ctx context.Context, now time.Time, limit int) ([]SystemMail, error) {
	lock := ""
	if q.kind == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+systemMailCols+` FROM system_mail WHERE state='planned' AND due_at <= $1 ORDER BY due_at, id LIMIT $2`+lock, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim system mail: %w", err)
	}
	var out []SystemMail
	for rows.Next() {
		m, err := scanSystemMail(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if _, err := q.db.ExecContext(ctx, `UPDATE system_mail SET state='smtp_started', attempts=attempts+1, started_at=$2, updated_at=$2 WHERE id=$1`, out[i].ID, now); err != nil {
			return nil, fmt.Errorf("store: claim system mail: %w", err)
		}
		out[i].State = SystemMailStarted
		out[i].Attempts++
	}
	return out, nil
}

// FinishSystemMail records a final state and wipes the sealed body.
func (q Q) FinishSystemMail(ctx context.Context, id int64, state string, code int, text string, now time.Time) error {
	_, err := q.db.ExecContext(ctx, `UPDATE system_mail SET state=$2, last_code=$3, last_text=$4, body_enc='', updated_at=$5 WHERE id=$1`, id, state, code, text, now)
	if err != nil {
		return fmt.Errorf("store: finish system mail: %w", err)
	}
	return nil
}

// RetrySystemMail puts a row back to planned, due at due (a refused
// connection or a 4xx answer).
func (q Q) RetrySystemMail(ctx context.Context, id int64, due time.Time, code int, text string, now time.Time) error {
	_, err := q.db.ExecContext(ctx, `UPDATE system_mail SET state='planned', due_at=$2, last_code=$3, last_text=$4, updated_at=$5 WHERE id=$1`, id, due, code, text, now)
	if err != nil {
		return fmt.Errorf("store: retry system mail: %w", err)
	}
	return nil
}

// AdminRecoverSystemMail marks rows left in smtp_started since before cutoff
// unknown (the server may have accepted them; never re-sent) and wipes their
// bodies.
func (q Q) AdminRecoverSystemMail(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE system_mail SET state='unknown', body_enc='', last_text='the process stopped during SMTP; the message may or may not have gone out', updated_at=$2
		WHERE state='smtp_started' AND started_at < $1`, cutoff, Now())
	if err != nil {
		return 0, fmt.Errorf("store: recover system mail: %w", err)
	}
	return res.RowsAffected()
}

// AdminSystemMail lists the newest system mail rows (operators and tests).
func (q Q) AdminSystemMail(ctx context.Context, limit int) ([]SystemMail, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+systemMailCols+` FROM system_mail ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list system mail: %w", err)
	}
	defer rows.Close()
	var out []SystemMail
	for rows.Next() {
		m, err := scanSystemMail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AdminDeleteIdleSessions removes sessions not seen since before cutoff (past
// the idle timeout; requests already refuse them).
func (q Q) AdminDeleteIdleSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: idle sessions: %w", err)
	}
	return res.RowsAffected()
}

// AdminExpireSystemMail finishes planned rows whose expiry passed before now.
func (q Q) AdminExpireSystemMail(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE system_mail SET state='expired', body_enc='', last_text='expired before it could be sent', updated_at=$1 WHERE state='planned' AND expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: expire system mail: %w", err)
	}
	return res.RowsAffected()
}
