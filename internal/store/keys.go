package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// CreateAPIKey stores a key's hash and the member it acts for (k.UserID).
func (q Q) CreateAPIKey(ctx context.Context, k *model.APIKey, hash string) error {
	k.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO api_keys (workspace_id, name, role, prefix, key_hash, created_at, created_by_user_id) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
		k.WorkspaceID, k.Name, k.Role, k.Prefix, hash, k.CreatedAt, nullInt(k.UserID)).Scan(&k.ID)
	if err != nil {
		return wrapWrite("create api key", err)
	}
	return nil
}

func scanKey(r rowScanner, extra ...any) (model.APIKey, error) {
	var k model.APIKey
	var c, l, rv dbTime
	var user sql.NullInt64
	err := r.Scan(append([]any{&k.ID, &k.WorkspaceID, &k.Name, &k.Role, &k.Prefix, &c, &l, &rv, &user}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("store: api key: %w", err)
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt, k.UserID = c.T, l.ptr(), rv.ptr(), intPtr(user)
	return k, nil
}

const keyCols = `id, workspace_id, name, role, prefix, created_at, last_used_at, revoked_at, created_by_user_id`

// APIKeyByHash finds an unrevoked key by the hash of its secret. It is the one
// lookup not scoped by workspace: the key is what names the workspace. A key
// that acts for a member (its owner, created_by_user_id) is found only while
// that member belongs to the key's workspace and is not disabled, so a removal
// or a disable takes effect on the next request (and an enable restores it).
func (q Q) APIKeyByHash(ctx context.Context, hash string) (model.APIKey, error) {
	var role sql.NullString
	k, err := scanKey(q.db.QueryRowContext(ctx, `SELECT k.id, k.workspace_id, k.name, k.role, k.prefix, k.created_at, k.last_used_at, k.revoked_at, k.created_by_user_id,
			(SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
			  WHERE m.workspace_id = k.workspace_id AND m.user_id = k.created_by_user_id AND NOT u.disabled)
		FROM api_keys k
		WHERE k.key_hash=$1 AND k.revoked_at IS NULL`, hash), &role)
	if err != nil {
		return k, err
	}
	if k.UserID != nil && !role.Valid {
		return model.APIKey{}, ErrNotFound
	}
	k.MemberRole = role.String
	return k, nil
}

// ListAPIKeys lists a workspace's keys, newest first.
func (q Q) ListAPIKeys(ctx context.Context, ws int64) ([]model.APIKey, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE workspace_id=$1 ORDER BY id DESC`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	defer rows.Close()
	out := []model.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key of ws.
func (q Q) RevokeAPIKey(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at=$3 WHERE workspace_id=$1 AND id=$2 AND revoked_at IS NULL`, ws, id, Now())
	return affected(res, err, "revoke api key")
}

// TouchAPIKey records use, at most once a minute per key to keep reads cheap.
func (q Q) TouchAPIKey(ctx context.Context, id int64, now time.Time) error {
	_, err := q.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at=$2 WHERE id=$1 AND (last_used_at IS NULL OR last_used_at < $3)`, id, now, now.Add(-time.Minute))
	return err
}

// Audit appends a security-relevant action to the audit log.
func (q Q) Audit(ctx context.Context, e model.AuditEntry) error {
	if len(e.Detail) == 0 {
		e.Detail = []byte("{}")
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO audit_log (workspace_id, user_id, api_key_id, action, target_type, target_id, detail, ip, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		nullInt(e.WorkspaceID), nullInt(e.UserID), nullInt(e.APIKeyID), e.Action, e.TargetType, nullInt(e.TargetID), string(e.Detail), e.IP, Now())
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit returns the newest audit entries of ws.
func (q Q) ListAudit(ctx context.Context, ws int64, limit int) ([]model.AuditEntry, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, workspace_id, user_id, api_key_id, action, target_type, target_id, detail, ip, created_at FROM audit_log WHERE workspace_id=$1 ORDER BY id DESC LIMIT $2`, ws, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	out := []model.AuditEntry{}
	for rows.Next() {
		var e model.AuditEntry
		var w, u, k, t sql.NullInt64
		var d jsonText
		var c dbTime
		if err := rows.Scan(&e.ID, &w, &u, &k, &e.Action, &e.TargetType, &t, &d, &e.IP, &c); err != nil {
			return nil, err
		}
		e.WorkspaceID, e.UserID, e.APIKeyID, e.TargetID, e.Detail, e.CreatedAt = intPtr(w), intPtr(u), intPtr(k), intPtr(t), []byte(d), c.T
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddHistory records one change to a record.
func (q Q) AddHistory(ctx context.Context, ws int64, objType string, objID int64, action string, detail any, actor string) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO record_history (workspace_id, object_type, object_id, action, detail, actor, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		ws, objType, objID, action, encodeJSON(detail), actor, Now())
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	return nil
}

// History lists the changes of one record, newest first.
func (q Q) History(ctx context.Context, ws int64, objType string, objID int64) ([]model.HistoryEntry, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, object_type, object_id, action, detail, actor, created_at FROM record_history WHERE workspace_id=$1 AND object_type=$2 AND object_id=$3 ORDER BY id DESC LIMIT 200`, ws, objType, objID)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	defer rows.Close()
	out := []model.HistoryEntry{}
	for rows.Next() {
		var h model.HistoryEntry
		var d jsonText
		var c dbTime
		if err := rows.Scan(&h.ID, &h.ObjectType, &h.ObjectID, &h.Action, &d, &h.Actor, &c); err != nil {
			return nil, err
		}
		h.Detail, h.CreatedAt = []byte(d), c.T
		out = append(out, h)
	}
	return out, rows.Err()
}

// CreateCustomField defines a custom field.
func (q Q) CreateCustomField(ctx context.Context, ws int64, f *model.CustomField) error {
	f.CreatedAt = Now()
	if f.Options == nil {
		f.Options = []string{}
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO custom_fields (workspace_id, object_type, key, label, type, options, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
		ws, f.ObjectType, f.Key, f.Label, f.Type, encodeJSON(f.Options), f.CreatedAt).Scan(&f.ID)
	if err != nil {
		return wrapWrite("create custom field", err)
	}
	return nil
}

// CustomFields lists the custom fields of ws, optionally of one object type.
func (q Q) CustomFields(ctx context.Context, ws int64, objType string) ([]model.CustomField, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, object_type, key, label, type, options, created_at FROM custom_fields WHERE workspace_id=$1 AND ($2 = '' OR object_type=$2) ORDER BY object_type, key`, ws, objType)
	if err != nil {
		return nil, fmt.Errorf("store: custom fields: %w", err)
	}
	defer rows.Close()
	out := []model.CustomField{}
	for rows.Next() {
		var f model.CustomField
		var o jsonText
		var c dbTime
		if err := rows.Scan(&f.ID, &f.ObjectType, &f.Key, &f.Label, &f.Type, &o, &c); err != nil {
			return nil, err
		}
		f.CreatedAt = c.T
		_ = jsonUnmarshal(o, &f.Options)
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteCustomField removes a definition (values stay in records until overwritten).
func (q Q) DeleteCustomField(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM custom_fields WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete custom field")
}
