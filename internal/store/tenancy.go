package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// CreateWorkspace inserts a tenant.
func (q Q) CreateWorkspace(ctx context.Context, w *model.Workspace) error {
	w.CreatedAt = Now()
	if w.Currency == "" {
		w.Currency = "USD"
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO workspaces (name, slug, currency, created_at) VALUES ($1,$2,$3,$4) RETURNING id`, w.Name, w.Slug, w.Currency, w.CreatedAt).Scan(&w.ID)
	if err != nil {
		return wrapWrite("create workspace", err)
	}
	return nil
}

// GetWorkspace loads a workspace by id.
func (q Q) GetWorkspace(ctx context.Context, id int64) (model.Workspace, error) {
	var w model.Workspace
	var created dbTime
	err := q.db.QueryRowContext(ctx, `SELECT id, name, slug, currency, created_at FROM workspaces WHERE id=$1`, id).Scan(&w.ID, &w.Name, &w.Slug, &w.Currency, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	w.CreatedAt = created.T
	if err != nil {
		return w, fmt.Errorf("store: get workspace: %w", err)
	}
	return w, nil
}

// WorkspaceBySlug loads a workspace by its slug (CLI flags name workspaces by slug).
func (q Q) WorkspaceBySlug(ctx context.Context, slug string) (model.Workspace, error) {
	var w model.Workspace
	var created dbTime
	err := q.db.QueryRowContext(ctx, `SELECT id, name, slug, currency, created_at FROM workspaces WHERE slug=$1`, slug).Scan(&w.ID, &w.Name, &w.Slug, &w.Currency, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	w.CreatedAt = created.T
	if err != nil {
		return w, fmt.Errorf("store: workspace by slug: %w", err)
	}
	return w, nil
}

// AdminCountWorkspaces counts every workspace (used to decide whether to seed demo data).
func (q Q) AdminCountWorkspaces(ctx context.Context) (int64, error) {
	var n int64
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&n)
	return n, err
}

const userCols = `id, email, name, password_hash, disabled, created_at`

func scanUser(r rowScanner) (model.User, error) {
	var u model.User
	var created dbTime
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Disabled, &created)
	u.CreatedAt = created.T
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("store: user: %w", err)
	}
	return u, nil
}

// CreateUser inserts a user; email must already be normalised.
func (q Q) CreateUser(ctx context.Context, u *model.User) error {
	u.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, disabled, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`, u.Email, u.Name, u.PasswordHash, u.Disabled, u.CreatedAt).Scan(&u.ID)
	if err != nil {
		return wrapWrite("create user", err)
	}
	return nil
}

// UserByEmail loads a user by normalised email.
func (q Q) UserByEmail(ctx context.Context, email string) (model.User, error) {
	return scanUser(q.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email=$1`, email))
}

// GetUser loads a user by id.
func (q Q) GetUser(ctx context.Context, id int64) (model.User, error) {
	return scanUser(q.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id=$1`, id))
}

// SetPassword replaces a user's password hash and ends all their sessions.
func (q Q) SetPassword(ctx context.Context, userID int64, hash string) error {
	res, err := q.db.ExecContext(ctx, `UPDATE users SET password_hash=$2 WHERE id=$1`, userID, hash)
	if err := affected(res, err, "set password"); err != nil {
		return err
	}
	_, err = q.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=$1`, userID)
	if err != nil {
		return fmt.Errorf("store: end sessions: %w", err)
	}
	return nil
}

// SetMembership grants or changes a user's role in a workspace.
func (q Q) SetMembership(ctx context.Context, ws, userID int64, role string) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`, ws, userID, role, Now())
	if err != nil {
		return fmt.Errorf("store: set membership: %w", err)
	}
	return nil
}

// RemoveMembership takes a user out of a workspace.
func (q Q) RemoveMembership(ctx context.Context, ws, userID int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM memberships WHERE workspace_id=$1 AND user_id=$2`, ws, userID)
	return affected(res, err, "remove membership")
}

// Membership returns the user's role in ws, or ErrNotFound.
func (q Q) Membership(ctx context.Context, ws, userID int64) (model.Membership, error) {
	var m model.Membership
	err := q.db.QueryRowContext(ctx, `SELECT m.workspace_id, w.name, m.user_id, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.workspace_id=$1 AND m.user_id=$2`, ws, userID).Scan(&m.WorkspaceID, &m.WorkspaceName, &m.UserID, &m.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("store: membership: %w", err)
	}
	return m, nil
}

// UserMemberships lists the workspaces a user belongs to (the workspace switcher).
func (q Q) UserMemberships(ctx context.Context, userID int64) ([]model.Membership, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT m.workspace_id, w.name, m.user_id, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id=$1 ORDER BY w.name`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	defer rows.Close()
	var out []model.Membership
	for rows.Next() {
		var m model.Membership
		if err := rows.Scan(&m.WorkspaceID, &m.WorkspaceName, &m.UserID, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// WorkspaceMembers lists the members of ws (owners to pick from).
func (q Q) WorkspaceMembers(ctx context.Context, ws int64) ([]model.Membership, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT m.workspace_id, w.name, m.user_id, u.email, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id JOIN users u ON u.id = m.user_id WHERE m.workspace_id=$1 ORDER BY u.email`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	defer rows.Close()
	var out []model.Membership
	for rows.Next() {
		var m model.Membership
		if err := rows.Scan(&m.WorkspaceID, &m.WorkspaceName, &m.UserID, &m.UserEmail, &m.Role); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Session is a server-side login session; only the token's hash is stored.
type Session struct {
	IDHash      string
	UserID      int64
	WorkspaceID *int64
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

// CreateSession stores a new session.
func (q Q) CreateSession(ctx context.Context, s Session) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, workspace_id, created_at, last_seen_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		s.IDHash, s.UserID, nullInt(s.WorkspaceID), s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// GetSession loads a live session by token hash.
func (q Q) GetSession(ctx context.Context, idHash string) (Session, error) {
	var s Session
	var ws sql.NullInt64
	var c, l, e dbTime
	err := q.db.QueryRowContext(ctx, `SELECT id_hash, user_id, workspace_id, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash=$1`, idHash).Scan(&s.IDHash, &s.UserID, &ws, &c, &l, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: get session: %w", err)
	}
	s.WorkspaceID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt = intPtr(ws), c.T, l.T, e.T
	return s, nil
}

// TouchSession records activity and the selected workspace.
func (q Q) TouchSession(ctx context.Context, idHash string, ws *int64, seen time.Time) error {
	_, err := q.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at=$2, workspace_id=$3 WHERE id_hash=$1`, idHash, seen, nullInt(ws))
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session (logout).
func (q Q) DeleteSession(ctx context.Context, idHash string) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash=$1`, idHash)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (q Q) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("store: expire sessions: %w", err)
	}
	return res.RowsAffected()
}

// AdminListWorkspaces lists every workspace (CLI administration only).
func (q Q) AdminListWorkspaces(ctx context.Context) ([]model.Workspace, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, name, slug, currency, created_at FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list workspaces: %w", err)
	}
	defer rows.Close()
	out := []model.Workspace{}
	for rows.Next() {
		var w model.Workspace
		var c dbTime
		if err := rows.Scan(&w.ID, &w.Name, &w.Slug, &w.Currency, &c); err != nil {
			return nil, err
		}
		w.CreatedAt = c.T
		out = append(out, w)
	}
	return out, rows.Err()
}
