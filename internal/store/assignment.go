package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Assignment tables: pools, their members, assignments and the per-workspace SLA
// settings. The choice of rep is made in Go (internal/assignment); the store
// counts load, locks the pool's cursor and records the result.

var poolRoles = map[string]bool{model.RoleLDR: true, model.RoleAE: true, model.RoleCSM: true}

// CreatePool inserts a pool of ws. Name, role (ldr, ae, csm) and a positive
// capacity are required.
func (q Q) CreatePool(ctx context.Context, ws int64, p *model.Pool) error {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return &FieldError{Field: "name", Message: "is required"}
	case !poolRoles[p.Role]:
		return &FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of ldr, ae, csm", p.Role)}
	case p.Capacity < 1:
		return &FieldError{Field: "capacity", Message: "must be at least 1 open item per rep"}
	}
	now := Now()
	p.CreatedAt, p.UpdatedAt, p.CursorUserID = now, now, nil
	err := q.db.QueryRowContext(ctx, `INSERT INTO assignment_pools (workspace_id, name, role, team, regions, industries, capacity, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id`,
		ws, p.Name, p.Role, p.Team, encodeList(p.Regions), encodeList(p.Industries), p.Capacity, now).Scan(&p.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create pool", err)
	}
	return nil
}

const poolCols = `id, name, role, team, regions, industries, capacity, cursor_user_id, created_at, updated_at`

func scanPool(r rowScanner) (model.Pool, error) {
	var p model.Pool
	var regions, industries jsonText
	var cursor sql.NullInt64
	var c, u dbTime
	err := r.Scan(&p.ID, &p.Name, &p.Role, &p.Team, &regions, &industries, &p.Capacity, &cursor, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: pool: %w", err)
	}
	p.Regions, p.Industries, p.CursorUserID, p.CreatedAt, p.UpdatedAt = decodeList(regions), decodeList(industries), intPtr(cursor), c.T, u.T
	return p, nil
}

// GetPool returns one pool of ws.
func (q Q) GetPool(ctx context.Context, ws, id int64) (model.Pool, error) {
	return scanPool(q.db.QueryRowContext(ctx, `SELECT `+poolCols+` FROM assignment_pools WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// LockPool reads a pool for an assignment and, on PostgreSQL, locks its row until
// the transaction ends, so concurrent serve processes advance the round-robin
// cursor one at a time. SQLite needs no lock: its single writer already
// serialises write transactions (BEGIN IMMEDIATE).
func (q Q) LockPool(ctx context.Context, ws, id int64) (model.Pool, error) {
	lock := ""
	if q.kind == Postgres {
		lock = " FOR UPDATE"
	}
	return scanPool(q.db.QueryRowContext(ctx, `SELECT `+poolCols+` FROM assignment_pools WHERE workspace_id=$1 AND id=$2`+lock, ws, id))
}

// Pools lists the pools of ws by id; role and team narrow it when not empty.
func (q Q) Pools(ctx context.Context, ws int64, role, team string) ([]model.Pool, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+poolCols+` FROM assignment_pools
		WHERE workspace_id=$1 AND ($2 = '' OR role = $2) AND ($3 = '' OR team = $3) ORDER BY id`, ws, role, team)
	if err != nil {
		return nil, fmt.Errorf("store: pools: %w", err)
	}
	defer rows.Close()
	out := []model.Pool{}
	for rows.Next() {
		p, err := scanPool(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePool replaces the name, role, team, territory and capacity of a pool of
// ws (the round-robin cursor is kept). A foreign or missing id is ErrNotFound.
func (q Q) UpdatePool(ctx context.Context, ws int64, p *model.Pool) error {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return &FieldError{Field: "name", Message: "is required"}
	case !poolRoles[p.Role]:
		return &FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of ldr, ae, csm", p.Role)}
	case p.Capacity < 1:
		return &FieldError{Field: "capacity", Message: "must be at least 1 open item per rep"}
	}
	now := Now()
	res, err := q.db.ExecContext(ctx, `UPDATE assignment_pools SET name=$3, role=$4, team=$5, regions=$6, industries=$7, capacity=$8, updated_at=$9
		WHERE workspace_id=$1 AND id=$2`, ws, p.ID, p.Name, p.Role, p.Team, encodeList(p.Regions), encodeList(p.Industries), p.Capacity, now)
	if err != nil && isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	if err := affected(res, err, "update pool"); err != nil {
		return err
	}
	p.UpdatedAt = now
	return nil
}

// DeletePool removes a pool of ws and its memberships; the assignments it made
// stay as history (they keep the pool id as a plain number).
func (q Q) DeletePool(ctx context.Context, ws, id int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM pool_members WHERE workspace_id=$1 AND pool_id=$2`, ws, id); err != nil {
		return fmt.Errorf("store: delete pool members: %w", err)
	}
	res, err := q.db.ExecContext(ctx, `DELETE FROM assignment_pools WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete pool")
}

// SetPoolCursor records the rep a pool assigned to last; the next assignment
// continues after them.
func (q Q) SetPoolCursor(ctx context.Context, ws, poolID, userID int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE assignment_pools SET cursor_user_id=$3, updated_at=$4 WHERE workspace_id=$1 AND id=$2`, ws, poolID, userID, Now())
	return affected(res, err, "set pool cursor")
}

// SetPoolMember adds a rep to a pool of ws or updates their availability and
// territory. The rep must be a member of the workspace.
func (q Q) SetPoolMember(ctx context.Context, ws int64, m model.PoolMember) error {
	if _, err := q.GetPool(ctx, ws, m.PoolID); err != nil {
		return err
	}
	if _, err := q.Membership(ctx, ws, m.UserID); errors.Is(err, ErrNotFound) {
		return &FieldError{Field: "user_id", Message: "is not a member of this workspace"}
	} else if err != nil {
		return err
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO pool_members (pool_id, workspace_id, user_id, active, out_of_office_until, regions, industries)
		VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (pool_id, user_id) DO UPDATE SET active=excluded.active, out_of_office_until=excluded.out_of_office_until,
			regions=excluded.regions, industries=excluded.industries`,
		m.PoolID, ws, m.UserID, m.Active, nullTime(m.OutOfOfficeUntil), encodeList(m.Regions), encodeList(m.Industries))
	if err != nil {
		return wrapWrite("set pool member", err)
	}
	return nil
}

// RemovePoolMember takes a rep out of a pool; their assignments stay.
func (q Q) RemovePoolMember(ctx context.Context, ws, poolID, userID int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM pool_members WHERE workspace_id=$1 AND pool_id=$2 AND user_id=$3`, ws, poolID, userID)
	return affected(res, err, "remove pool member")
}

// PoolMembers lists a pool's reps by user id, each with OpenItems: their
// assignments in ws (from any pool) assigned after since, through the
// (workspace_id, user_id, assigned_at) index.
func (q Q) PoolMembers(ctx context.Context, ws, poolID int64, since time.Time) ([]model.PoolMember, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT m.pool_id, m.user_id, m.active, m.out_of_office_until, m.regions, m.industries,
			(SELECT COUNT(*) FROM assignments a WHERE a.workspace_id = m.workspace_id AND a.user_id = m.user_id AND a.assigned_at > $3)
		FROM pool_members m WHERE m.workspace_id=$1 AND m.pool_id=$2 ORDER BY m.user_id`, ws, poolID, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: pool members: %w", err)
	}
	defer rows.Close()
	out := []model.PoolMember{}
	for rows.Next() {
		var m model.PoolMember
		var ooo dbTime
		var regions, industries jsonText
		if err := rows.Scan(&m.PoolID, &m.UserID, &m.Active, &ooo, &regions, &industries, &m.OpenItems); err != nil {
			return nil, fmt.Errorf("store: pool members: %w", err)
		}
		m.OutOfOfficeUntil, m.Regions, m.Industries = ooo.ptr(), decodeList(regions), decodeList(industries)
		out = append(out, m)
	}
	return out, rows.Err()
}

// InsertAssignment records an assignment of ws and sets its id.
func (q Q) InsertAssignment(ctx context.Context, ws int64, a *model.Assignment) error {
	a.AssignedAt, a.SLADueAt = a.AssignedAt.UTC(), a.SLADueAt.UTC()
	err := q.db.QueryRowContext(ctx, `INSERT INTO assignments (workspace_id, pool_id, user_id, object_type, object_id, motion, reason, assigned_at, sla_due_at, first_touch_at, breached)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		ws, a.PoolID, a.UserID, a.ObjectType, a.ObjectID, a.Motion, a.Reason, a.AssignedAt, a.SLADueAt, nullTime(a.FirstTouchAt), a.Breached).Scan(&a.ID)
	if err != nil {
		return wrapWrite("insert assignment", err)
	}
	return nil
}

const assignmentCols = `id, pool_id, user_id, object_type, object_id, motion, reason, assigned_at, sla_due_at, first_touch_at, breached`

// Assignments lists the assignments of one object of ws, newest first.
func (q Q) Assignments(ctx context.Context, ws int64, objectType string, objectID int64) ([]model.Assignment, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+assignmentCols+` FROM assignments WHERE workspace_id=$1 AND object_type=$2 AND object_id=$3 ORDER BY id DESC`, ws, objectType, objectID)
	if err != nil {
		return nil, fmt.Errorf("store: assignments: %w", err)
	}
	defer rows.Close()
	out := []model.Assignment{}
	for rows.Next() {
		var a model.Assignment
		var at, due, touch dbTime
		if err := rows.Scan(&a.ID, &a.PoolID, &a.UserID, &a.ObjectType, &a.ObjectID, &a.Motion, &a.Reason, &at, &due, &touch, &a.Breached); err != nil {
			return nil, fmt.Errorf("store: assignments: %w", err)
		}
		a.AssignedAt, a.SLADueAt, a.FirstTouchAt = at.T, due.T, touch.ptr()
		out = append(out, a)
	}
	return out, rows.Err()
}

// TouchAssignments stops the SLA clock of an object's untouched assignments in
// ws: the first touch is recorded once, and a touch after the due time marks the
// assignment breached. It returns how many it stopped.
func (q Q) TouchAssignments(ctx context.Context, ws int64, objectType string, objectID int64, at time.Time) (int64, error) {
	at = at.UTC()
	res, err := q.db.ExecContext(ctx, `UPDATE assignments SET first_touch_at=$4, breached = (sla_due_at < $4)
		WHERE workspace_id=$1 AND object_type=$2 AND object_id=$3 AND first_touch_at IS NULL`, ws, objectType, objectID, at)
	if err != nil {
		return 0, fmt.Errorf("store: touch assignments: %w", err)
	}
	return res.RowsAffected()
}

// BreachCounts counts, per pool and rep of ws, assignments touched late and
// assignments still untouched past their due time at now. Pairs with neither
// are left out.
func (q Q) BreachCounts(ctx context.Context, ws int64, now time.Time) ([]model.BreachCount, error) {
	return q.BreachCountsSince(ctx, ws, now, time.Unix(0, 0))
}

// BreachCountsSince is BreachCounts counting only breaches first touched at or
// after since (overdue items are counted whenever they were assigned).
func (q Q) BreachCountsSince(ctx context.Context, ws int64, now, since time.Time) ([]model.BreachCount, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT pool_id, user_id,
			SUM(CASE WHEN breached AND first_touch_at >= $3 THEN 1 ELSE 0 END),
			SUM(CASE WHEN first_touch_at IS NULL AND sla_due_at < $2 THEN 1 ELSE 0 END)
		FROM assignments WHERE workspace_id=$1 AND ((breached AND first_touch_at >= $3) OR (first_touch_at IS NULL AND sla_due_at < $2))
		GROUP BY pool_id, user_id ORDER BY pool_id, user_id`, ws, now.UTC(), since.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: breach counts: %w", err)
	}
	defer rows.Close()
	out := []model.BreachCount{}
	for rows.Next() {
		var b model.BreachCount
		if err := rows.Scan(&b.PoolID, &b.UserID, &b.Breached, &b.Overdue); err != nil {
			return nil, fmt.Errorf("store: breach counts: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// AssignmentSettings returns the SLA settings of ws; a workspace that never set
// them gets the zero value (UTC, default SLAs).
func (q Q) AssignmentSettings(ctx context.Context, ws int64) (model.AssignmentSettings, error) {
	s := model.AssignmentSettings{SLAMinutes: map[string]int{}}
	var mins jsonText
	err := q.db.QueryRowContext(ctx, `SELECT timezone, sla_minutes FROM assignment_settings WHERE workspace_id=$1`, ws).Scan(&s.Timezone, &mins)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("store: assignment settings: %w", err)
	}
	if err := jsonUnmarshal(mins, &s.SLAMinutes); err != nil {
		return s, fmt.Errorf("store: assignment settings: %w", err)
	}
	return s, nil
}

// SetAssignmentSettings stores the SLA settings of ws. The timezone must be an
// IANA name ("" for UTC) and each SLA a positive number of business minutes.
func (q Q) SetAssignmentSettings(ctx context.Context, ws int64, s model.AssignmentSettings) error {
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return &FieldError{Field: "timezone", Message: fmt.Sprintf("%q is not a known time zone", s.Timezone)}
	}
	for motion, m := range s.SLAMinutes {
		if m < 1 {
			return &FieldError{Field: "sla_minutes." + motion, Message: "must be at least 1 business minute"}
		}
	}
	if s.SLAMinutes == nil {
		s.SLAMinutes = map[string]int{}
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO assignment_settings (workspace_id, timezone, sla_minutes, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (workspace_id) DO UPDATE SET timezone=excluded.timezone, sla_minutes=excluded.sla_minutes, updated_at=excluded.updated_at`,
		ws, s.Timezone, encodeJSON(s.SLAMinutes), Now())
	if err != nil {
		return wrapWrite("set assignment settings", err)
	}
	return nil
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	return encodeJSON(l)
}

func decodeList(b jsonText) []string {
	out := []string{}
	_ = jsonUnmarshal(b, &out) // written only by encodeList
	return out
}
