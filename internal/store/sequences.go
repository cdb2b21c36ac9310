package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Nurture sequences: sequences and their steps, enrollments with their indexed
// due time, and the per-enrollment step log. Rules (what a step does, what is
// valid) live in internal/sequences; the store keeps the schedule durable.

const sequenceCols = `id, name, status, trigger_kind, trigger_ref, exit_rules, send_window, staleness_minutes, created_at, updated_at`

func scanSequence(r rowScanner) (model.Sequence, error) {
	var s model.Sequence
	var rules, window jsonText
	var c, u dbTime
	err := r.Scan(&s.ID, &s.Name, &s.Status, &s.Trigger.Kind, &s.Trigger.Ref, &rules, &window, &s.StalenessMinutes, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: sequence: %w", err)
	}
	s.ExitRules = decodeList(rules)
	if len(window) > 0 && string(window) != "null" {
		s.SendWindow = &model.SendWindow{}
		if err := json.Unmarshal(window, s.SendWindow); err != nil {
			return s, fmt.Errorf("store: sequence %d send window: %w", s.ID, err)
		}
	}
	s.CreatedAt, s.UpdatedAt = c.T, u.T
	s.Steps = []model.SequenceStep{}
	return s, nil
}

func windowArg(w *model.SendWindow) any {
	if w == nil {
		return nil
	}
	return encodeJSON(w)
}

// CreateSequence inserts s and its steps (already validated by internal/sequences).
func (q Q) CreateSequence(ctx context.Context, ws int64, s *model.Sequence) error {
	now := Now()
	s.CreatedAt, s.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO sequences (workspace_id, name, status, trigger_kind, trigger_ref, exit_rules, send_window, staleness_minutes, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
		ws, s.Name, s.Status, s.Trigger.Kind, s.Trigger.Ref, encodeList(s.ExitRules), windowArg(s.SendWindow), s.StalenessMinutes, now).Scan(&s.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create sequence", err)
	}
	return q.putSteps(ctx, ws, s)
}

// UpdateSequence writes s's settings and steps. A position that existed keeps
// its step id (so a send key "enrollment:E:step:S" never repeats for new content
// at an old position by getting a fresh id); positions past the new end go.
func (q Q) UpdateSequence(ctx context.Context, ws int64, s *model.Sequence) error {
	s.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE sequences SET name=$3, trigger_kind=$4, trigger_ref=$5, exit_rules=$6, send_window=$7, staleness_minutes=$8, updated_at=$9
		WHERE workspace_id=$1 AND id=$2`,
		ws, s.ID, s.Name, s.Trigger.Kind, s.Trigger.Ref, encodeList(s.ExitRules), windowArg(s.SendWindow), s.StalenessMinutes, s.UpdatedAt)
	if isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	if err := affected(res, err, "update sequence"); err != nil {
		return err
	}
	return q.putSteps(ctx, ws, s)
}

func (q Q) putSteps(ctx context.Context, ws int64, s *model.Sequence) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM sequence_steps WHERE workspace_id=$1 AND sequence_id=$2 AND position >= $3`, ws, s.ID, len(s.Steps)); err != nil {
		return fmt.Errorf("store: trim sequence steps: %w", err)
	}
	for i := range s.Steps {
		st := &s.Steps[i]
		st.ID = 0
		cfg := *st
		cfg.ID, cfg.Kind = 0, ""
		err := q.db.QueryRowContext(ctx, `INSERT INTO sequence_steps (workspace_id, sequence_id, position, kind, config) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (sequence_id, position) DO UPDATE SET kind=excluded.kind, config=excluded.config RETURNING id`,
			ws, s.ID, i, st.Kind, encodeJSON(cfg)).Scan(&st.ID)
		if err != nil {
			return wrapWrite("put sequence step", err)
		}
	}
	return nil
}

// GetSequence loads one sequence of ws with its steps.
func (q Q) GetSequence(ctx context.Context, ws, id int64) (model.Sequence, error) {
	s, err := scanSequence(q.db.QueryRowContext(ctx, `SELECT `+sequenceCols+` FROM sequences WHERE workspace_id=$1 AND id=$2`, ws, id))
	if err != nil {
		return s, err
	}
	steps, err := q.sequenceSteps(ctx, ws, []int64{id})
	s.Steps = steps[id]
	if s.Steps == nil {
		s.Steps = []model.SequenceStep{}
	}
	return s, err
}

// SequencesByID loads several sequences of ws with their steps (a claimed batch).
func (q Q) SequencesByID(ctx context.Context, ws int64, ids []int64) (map[int64]*model.Sequence, error) {
	out := map[int64]*model.Sequence{}
	err := q.scoringIn(ctx, ws, `SELECT `+sequenceCols+` FROM sequences WHERE workspace_id = $1 AND `, "id", "", ids, func(rows *sql.Rows) error {
		s, err := scanSequence(rows)
		out[s.ID] = &s
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: sequences by id: %w", err)
	}
	steps, err := q.sequenceSteps(ctx, ws, ids)
	for id, s := range out {
		if st := steps[id]; st != nil {
			s.Steps = st
		}
	}
	return out, err
}

func (q Q) sequenceSteps(ctx context.Context, ws int64, ids []int64) (map[int64][]model.SequenceStep, error) {
	out := map[int64][]model.SequenceStep{}
	err := q.scoringIn(ctx, ws, `SELECT sequence_id, id, kind, config FROM sequence_steps WHERE workspace_id = $1 AND `, "sequence_id", " ORDER BY sequence_id, position", ids, func(rows *sql.Rows) error {
		var seq int64
		var st model.SequenceStep
		var cfg jsonText
		var kind string
		if err := rows.Scan(&seq, &st.ID, &kind, &cfg); err != nil {
			return err
		}
		id := st.ID
		if err := json.Unmarshal(cfg, &st); err != nil {
			return err
		}
		st.ID, st.Kind = id, kind
		out[seq] = append(out[seq], st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sequence steps: %w", err)
	}
	return out, nil
}

// Sequences lists the sequences of ws by name, with their steps.
func (q Q) Sequences(ctx context.Context, ws int64) ([]model.Sequence, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+sequenceCols+` FROM sequences WHERE workspace_id=$1 ORDER BY name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: sequences: %w", err)
	}
	out := []model.Sequence{}
	var ids []int64
	for rows.Next() {
		s, err := scanSequence(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
		ids = append(ids, s.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sequences: %w", err)
	}
	steps, err := q.sequenceSteps(ctx, ws, ids)
	for i := range out {
		if st := steps[out[i].ID]; st != nil {
			out[i].Steps = st
		}
	}
	return out, err
}

// SequencesTriggeredBy lists the ids of active sequences of ws whose trigger is
// kind/ref, through sequences_trigger.
func (q Q) SequencesTriggeredBy(ctx context.Context, ws int64, kind, ref string) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT id FROM sequences WHERE workspace_id=$1 AND trigger_kind=$2 AND trigger_ref=$3 AND status='active' ORDER BY id`, ws, kind, ref)
	if err != nil {
		return nil, fmt.Errorf("store: sequences triggered by %s: %w", kind, err)
	}
	return ids, nil
}

// SetSequenceStatus moves a sequence of ws to status and carries its running
// enrollments along: pausing parks every active one (paused_by 'sequence'),
// activating wakes the ones the sequence parked. It returns how many moved.
func (q Q) SetSequenceStatus(ctx context.Context, ws, id int64, status string) (int64, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE sequences SET status=$3, updated_at=$4 WHERE workspace_id=$1 AND id=$2`, ws, id, status, Now())
	if err := affected(res, err, "set sequence status"); err != nil {
		return 0, err
	}
	var stmt string
	switch status {
	case "paused":
		stmt = `UPDATE enrollments SET status='paused', paused_by='sequence', updated_at=$3 WHERE workspace_id=$1 AND sequence_id=$2 AND status='active'`
	case "active":
		stmt = `UPDATE enrollments SET status='active', paused_by='', updated_at=$3 WHERE workspace_id=$1 AND sequence_id=$2 AND status='paused' AND paused_by='sequence'`
	default:
		return 0, nil
	}
	res, err = q.db.ExecContext(ctx, stmt, ws, id, Now())
	if err != nil {
		return 0, fmt.Errorf("store: carry enrollments to %s: %w", status, err)
	}
	return res.RowsAffected()
}

// DeleteSequence removes a sequence of ws with its steps, enrollments and log.
func (q Q) DeleteSequence(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM sequences WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete sequence")
}

const enrollmentCols = `id, workspace_id, sequence_id, contact_id, status, paused_by, position, next_due_at, hold_reason, exit_reason, source, last_send_step_id, enrolled_at, updated_at, ended_at`

func scanEnrollment(r rowScanner) (model.Enrollment, error) {
	var e model.Enrollment
	var due, enrolled, updated, ended dbTime
	var last sql.NullInt64
	err := r.Scan(&e.ID, &e.WorkspaceID, &e.SequenceID, &e.ContactID, &e.Status, &e.PausedBy, &e.Position, &due, &e.HoldReason, &e.ExitReason, &e.Source, &last, &enrolled, &updated, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("store: enrollment: %w", err)
	}
	e.NextDueAt, e.LastSendStepID, e.EnrolledAt, e.UpdatedAt, e.EndedAt = due.ptr(), intPtr(last), enrolled.T, updated.T, ended.ptr()
	return e, nil
}

// InsertEnrollment enrols a contact of ws. It returns false, and writes nothing,
// when the contact already has a running enrollment in the sequence.
func (q Q) InsertEnrollment(ctx context.Context, ws int64, e *model.Enrollment) (bool, error) {
	now := Now()
	e.WorkspaceID, e.EnrolledAt, e.UpdatedAt = ws, now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status, paused_by, position, next_due_at, source, enrolled_at, updated_at)
		SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$9 WHERE EXISTS (SELECT 1 FROM contacts WHERE workspace_id=$1 AND id=$3)
		ON CONFLICT DO NOTHING RETURNING id`,
		ws, e.SequenceID, e.ContactID, e.Status, e.PausedBy, e.Position, nullTime(e.NextDueAt), e.Source, now).Scan(&e.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrapWrite("insert enrollment", err)
	}
	return true, nil
}

// GetEnrollment loads one enrollment of ws. With lock (in a write transaction)
// PostgreSQL locks the row against a worker's claim.
func (q Q) GetEnrollment(ctx context.Context, ws, id int64, lock bool) (model.Enrollment, error) {
	suffix := ""
	if lock && q.kind == Postgres {
		suffix = " FOR UPDATE"
	}
	return scanEnrollment(q.db.QueryRowContext(ctx, `SELECT `+enrollmentCols+` FROM enrollments WHERE workspace_id=$1 AND id=$2`+suffix, ws, id))
}

// EnrollmentFilter narrows Enrollments; zero values match everything.
type EnrollmentFilter struct {
	SequenceID int64
	ContactID  int64
	Status     string
	AfterID    int64
	Limit      int
}

// Enrollments lists enrollments of ws by id.
func (q Q) Enrollments(ctx context.Context, ws int64, f EnrollmentFilter) ([]model.Enrollment, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+enrollmentCols+` FROM enrollments WHERE workspace_id=$1
		AND ($2 = 0 OR sequence_id=$2) AND ($3 = 0 OR contact_id=$3) AND ($4 = '' OR status=$4) AND id > $5 ORDER BY id LIMIT $6`,
		ws, f.SequenceID, f.ContactID, f.Status, f.AfterID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: enrollments: %w", err)
	}
	defer rows.Close()
	out := []model.Enrollment{}
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AdminClaimDueEnrollments claims up to limit active enrollments, of every
// workspace, whose next_due_at is at or before now, oldest due first, through
// enrollments_due. On PostgreSQL the rows stay locked until the transaction ends
// and rows another worker holds are skipped (SKIP LOCKED), so concurrent workers
// take disjoint batches; SQLite's single writer runs one batch at a time.
func (q Q) AdminClaimDueEnrollments(ctx context.Context, now time.Time, limit int) ([]model.Enrollment, error) {
	suffix := ""
	if q.kind == Postgres {
		suffix = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+enrollmentCols+` FROM enrollments WHERE status='active' AND next_due_at <= $1 ORDER BY next_due_at LIMIT $2`+suffix, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim due enrollments: %w", err)
	}
	defer rows.Close()
	var out []model.Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AdminCountDue counts the active enrollments of every workspace due at or
// before now (an index-only count over enrollments_due): a dispatch enqueues
// one batch job per BatchSize of them.
func (q Q) AdminCountDue(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM enrollments WHERE status = 'active' AND next_due_at <= $1`, now.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count due enrollments: %w", err)
	}
	return n, nil
}

// SaveEnrollments writes the state of enrollments of ws after steps ran: status,
// position, due time, hold and exit reasons, last email. Only rows still
// running are written, so an exit recorded meanwhile in the same transaction
// (a set_field step that made the contact a customer) is not undone.
func (q Q) SaveEnrollments(ctx context.Context, ws int64, es []model.Enrollment) error {
	if len(es) == 0 {
		return nil
	}
	now := Now()
	if q.kind == Postgres {
		n := len(es)
		ids, pos, last := make([]int64, n), make([]int64, n), make([]*int64, n)
		due, ended := make([]*time.Time, n), make([]*time.Time, n)
		status, paused, hold, exit := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, e := range es {
			ids[i], pos[i], last[i], due[i], ended[i] = e.ID, int64(e.Position), e.LastSendStepID, e.NextDueAt, e.EndedAt
			status[i], paused[i], hold[i], exit[i] = e.Status, e.PausedBy, e.HoldReason, e.ExitReason
		}
		_, err := q.db.ExecContext(ctx, `UPDATE enrollments e SET status=v.status, paused_by=v.paused, position=v.pos, next_due_at=v.due,
				hold_reason=v.hold, exit_reason=v.exit, last_send_step_id=v.last, ended_at=v.ended, updated_at=$2
			FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::text[], $9::text[], $10::bigint[], $11::timestamptz[])
				AS v(id, status, paused, pos, due, hold, exit, last, ended)
			WHERE e.workspace_id=$1 AND e.id=v.id AND e.status IN ('active', 'paused', 'held')`,
			ws, now, ids, status, paused, pos, due, hold, exit, last, ended)
		if err != nil {
			return fmt.Errorf("store: save enrollments: %w", err)
		}
		return nil
	}
	// SQLite: one UPDATE … FROM json_each per call. A prepared per-row UPDATE
	// spent most of its time binding 11 arguments per row (BenchmarkRunDue).
	// The unary + keeps the planner off the workspace index: json_each is the
	// outer loop and each row is found by its primary key (otherwise it scans
	// the workspace's enrollments once per JSON row).
	rows := make([][]any, len(es))
	for i, e := range es {
		rows[i] = []any{e.ID, e.Status, e.PausedBy, e.Position, sqliteTimeJSON(e.NextDueAt), e.HoldReason, e.ExitReason, e.LastSendStepID, sqliteTimeJSON(e.EndedAt)}
	}
	blob, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("store: save enrollments: %w", err)
	}
	_, err = q.db.ExecContext(ctx, `UPDATE enrollments SET status=v.status, paused_by=v.paused, position=v.pos, next_due_at=v.due,
			hold_reason=v.hold, exit_reason=v.exit, last_send_step_id=v.last, ended_at=v.ended, updated_at=$2
		FROM (SELECT value->>0 AS id, value->>1 AS status, value->>2 AS paused, value->>3 AS pos, value->>4 AS due,
				value->>5 AS hold, value->>6 AS exit, value->>7 AS last, value->>8 AS ended FROM json_each($3)) AS v
		WHERE +enrollments.workspace_id=$1 AND enrollments.id=v.id AND +enrollments.status IN ('active', 'paused', 'held')`, ws, now, string(blob))
	if err != nil {
		return fmt.Errorf("store: save enrollments: %w", err)
	}
	return nil
}

// sqliteTimeJSON formats t as the SQLite driver stores times (_time_format=sqlite),
// so a time passed through JSON compares and scans like a bound one; nil is null.
func sqliteTimeJSON(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
}

// EnrollmentStatus reads the current status of one enrollment of ws inside the
// running transaction (a step may have exited it).
func (q Q) EnrollmentStatus(ctx context.Context, ws, id int64) (string, error) {
	var s string
	err := q.db.QueryRowContext(ctx, `SELECT status FROM enrollments WHERE workspace_id=$1 AND id=$2`, ws, id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return s, err
}

// ExitEnrollments ends the running enrollments of contact in ws whose sequence
// has the exit rule reason ("manual" ends every one; seqID > 0 narrows to one
// sequence). It returns the exited enrollments as they were.
func (q Q) ExitEnrollments(ctx context.Context, ws, contactID, seqID int64, reason string, at time.Time) ([]model.Enrollment, error) {
	rows, err := q.db.QueryContext(ctx, `UPDATE enrollments SET status='exited', exit_reason=$3, next_due_at=NULL, paused_by='', ended_at=$4, updated_at=$4
		WHERE workspace_id=$1 AND contact_id=$2 AND status IN ('active', 'paused', 'held') AND ($5 = 0 OR sequence_id=$5)
		AND ($3 = 'manual' OR sequence_id IN (SELECT id FROM sequences WHERE workspace_id=$1 AND exit_rules LIKE $6))
		RETURNING `+enrollmentCols, ws, contactID, reason, at.UTC(), seqID, `%"`+reason+`"%`)
	if err != nil {
		return nil, fmt.Errorf("store: exit enrollments: %w", err)
	}
	defer rows.Close()
	var out []model.Enrollment
	for rows.Next() {
		e, err := scanEnrollment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SetEnrollmentState writes one enrollment of ws (pause, resume, release, skip).
func (q Q) SetEnrollmentState(ctx context.Context, ws int64, e *model.Enrollment) error {
	e.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE enrollments SET status=$3, paused_by=$4, position=$5, next_due_at=$6, hold_reason=$7, exit_reason=$8, ended_at=$9, updated_at=$10
		WHERE workspace_id=$1 AND id=$2`, ws, e.ID, e.Status, e.PausedBy, e.Position, nullTime(e.NextDueAt), e.HoldReason, e.ExitReason, nullTime(e.EndedAt), e.UpdatedAt)
	return affected(res, err, "set enrollment state")
}

// InsertStepLogs appends step log rows of ws.
func (q Q) InsertStepLogs(ctx context.Context, ws int64, ls []model.StepLog) error {
	if len(ls) == 0 {
		return nil
	}
	if q.kind == Postgres {
		n := len(ls)
		enr, seq, pos := make([]int64, n), make([]int64, n), make([]int64, n)
		step := make([]*int64, n)
		out, det := make([]string, n), make([]string, n)
		at := make([]time.Time, n)
		for i, l := range ls {
			enr[i], seq[i], pos[i], step[i], out[i], det[i], at[i] = l.EnrollmentID, l.SequenceID, int64(l.Position), l.StepID, l.Outcome, l.Detail, l.At.UTC()
		}
		_, err := q.db.ExecContext(ctx, `INSERT INTO sequence_step_log (workspace_id, enrollment_id, sequence_id, step_id, position, outcome, detail, at)
			SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::timestamptz[])`,
			ws, enr, seq, step, pos, out, det, at)
		if err != nil {
			return fmt.Errorf("store: insert step log: %w", err)
		}
		return nil
	}
	return q.scoringInsert(ctx, `INSERT INTO sequence_step_log (workspace_id, enrollment_id, sequence_id, step_id, position, outcome, detail, at) VALUES `, "", 8, len(ls), func(i int, args []any) []any {
		l := ls[i]
		return append(args, ws, l.EnrollmentID, l.SequenceID, nullInt(l.StepID), l.Position, l.Outcome, l.Detail, l.At.UTC())
	})
}

// StepLogs lists the log of one enrollment of ws in order.
func (q Q) StepLogs(ctx context.Context, ws, enrollmentID int64) ([]model.StepLog, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT enrollment_id, sequence_id, step_id, position, outcome, detail, at FROM sequence_step_log
		WHERE workspace_id=$1 AND enrollment_id=$2 ORDER BY id`, ws, enrollmentID)
	if err != nil {
		return nil, fmt.Errorf("store: step log: %w", err)
	}
	defer rows.Close()
	out := []model.StepLog{}
	for rows.Next() {
		var l model.StepLog
		var step sql.NullInt64
		var at dbTime
		if err := rows.Scan(&l.EnrollmentID, &l.SequenceID, &step, &l.Position, &l.Outcome, &l.Detail, &at); err != nil {
			return nil, fmt.Errorf("store: step log: %w", err)
		}
		l.StepID, l.At = intPtr(step), at.T
		out = append(out, l)
	}
	return out, rows.Err()
}

// StepOutcomeCounts counts, for a sequence of ws, each step's log rows by outcome
// and (entered) distinct enrollments, keyed by step id.
func (q Q) StepOutcomeCounts(ctx context.Context, ws, seqID int64) (map[int64]map[string]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT step_id, outcome, COUNT(*) FROM sequence_step_log WHERE workspace_id=$1 AND sequence_id=$2 AND step_id IS NOT NULL
		GROUP BY step_id, outcome
		UNION ALL SELECT step_id, 'entered', COUNT(DISTINCT enrollment_id) FROM sequence_step_log WHERE workspace_id=$1 AND sequence_id=$2 AND step_id IS NOT NULL AND outcome <> 'exited'
		GROUP BY step_id`, ws, seqID)
	if err != nil {
		return nil, fmt.Errorf("store: step stats: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int64{}
	for rows.Next() {
		var step, n int64
		var outcome string
		if err := rows.Scan(&step, &outcome, &n); err != nil {
			return nil, fmt.Errorf("store: step stats: %w", err)
		}
		if out[step] == nil {
			out[step] = map[string]int64{}
		}
		out[step][outcome] += n
	}
	return out, rows.Err()
}

// ExitCounts counts a sequence's exited enrollments of ws by the last email they
// got (0 = none yet) and exit reason: what each email led to.
func (q Q) ExitCounts(ctx context.Context, ws, seqID int64) (map[int64]map[string]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT COALESCE(last_send_step_id, 0), exit_reason, COUNT(*) FROM enrollments
		WHERE workspace_id=$1 AND sequence_id=$2 AND status='exited' GROUP BY COALESCE(last_send_step_id, 0), exit_reason`, ws, seqID)
	if err != nil {
		return nil, fmt.Errorf("store: exit counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int64{}
	for rows.Next() {
		var step, n int64
		var reason string
		if err := rows.Scan(&step, &reason, &n); err != nil {
			return nil, fmt.Errorf("store: exit counts: %w", err)
		}
		if out[step] == nil {
			out[step] = map[string]int64{}
		}
		out[step][reason] = n
	}
	return out, rows.Err()
}

// EnrollmentCounts counts the enrollments of a sequence of ws by status.
func (q Q) EnrollmentCounts(ctx context.Context, ws, seqID int64) (map[string]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM enrollments WHERE workspace_id=$1 AND sequence_id=$2 GROUP BY status`, ws, seqID)
	if err != nil {
		return nil, fmt.Errorf("store: enrollment counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: enrollment counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// ContactIDsOfAccount lists the contacts of one account of ws (a segment trigger
// enrols them).
func (q Q) ContactIDsOfAccount(ctx context.Context, ws, accountID int64) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT id FROM contacts WHERE workspace_id=$1 AND account_id=$2 ORDER BY id`, ws, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: contacts of account: %w", err)
	}
	return ids, nil
}

// InsertEnrollments enrols many contacts of ws at once (bulk enrolment and
// benchmarks); a contact with a running enrollment in the sequence is skipped.
// Contacts must belong to ws: the caller has checked them.
func (q Q) InsertEnrollments(ctx context.Context, ws int64, es []model.Enrollment) error {
	if len(es) == 0 {
		return nil
	}
	now := Now()
	if q.kind == Postgres {
		n := len(es)
		seq, con, pos := make([]int64, n), make([]int64, n), make([]int64, n)
		status, src := make([]string, n), make([]string, n)
		due := make([]*time.Time, n)
		for i, e := range es {
			seq[i], con[i], pos[i], status[i], src[i], due[i] = e.SequenceID, e.ContactID, int64(e.Position), e.Status, e.Source, e.NextDueAt
		}
		_, err := q.db.ExecContext(ctx, `INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status, position, next_due_at, source, enrolled_at, updated_at)
			SELECT $1, s, c, st, p, d, src, $2, $2 FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::timestamptz[], $8::text[]) AS v(s, c, st, p, d, src)
			ON CONFLICT DO NOTHING`, ws, now, seq, con, status, pos, due, src)
		if err != nil {
			return fmt.Errorf("store: insert enrollments: %w", err)
		}
		return nil
	}
	return q.scoringInsert(ctx, `INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status, position, next_due_at, source, enrolled_at, updated_at) VALUES `, " ON CONFLICT DO NOTHING", 9, len(es), func(i int, args []any) []any {
		e := es[i]
		return append(args, ws, e.SequenceID, e.ContactID, e.Status, e.Position, nullTime(e.NextDueAt), e.Source, now, now)
	})
}

// PreferKeyedPlans pins by-key plans for the rest of a due-steps batch transaction
// (PostgreSQL; no-op on SQLite). Everything such a batch does is by key or by the
// ordered due index, but on a table whose statistics are missing or stale (just bulk
// loaded: no ANALYZE yet) the planner estimated a few hundred due rows and chose a
// bitmap scan plus a sort of every due row for the claim, and a hash join against a
// full scan for the bulk UPDATE: O(N) per batch, quadratic over a large backlog
// (1M enrollments ran at ~450/s). SET LOCAL ends with the transaction.
func (q Q) PreferKeyedPlans(ctx context.Context) error {
	if q.kind != Postgres || q.tx == nil {
		return nil
	}
	if _, err := q.db.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`); err != nil {
		return fmt.Errorf("store: prefer keyed plans: %w", err)
	}
	return nil
}

// SendCounts is what became of a step's emails: accepted by the receiving
// server, and opened or clicked by a person (machine events excluded).
type SendCounts struct{ Delivered, Opened, Clicked int64 }

// SequenceSendCounts counts, per step of sequence seqID of ws, the sends the
// mail layer delivered and the ones a person opened or clicked.
func (q Q) SequenceSendCounts(ctx context.Context, ws, seqID int64) (map[int64]SendCounts, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT l.step_id,
		SUM(CASE WHEN l.state = 'accepted' THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM mail_events m WHERE m.workspace_id = l.workspace_id AND m.send_id = l.id AND m.kind IN ('open','click') AND NOT m.machine) THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM mail_events m WHERE m.workspace_id = l.workspace_id AND m.send_id = l.id AND m.kind = 'click' AND NOT m.machine) THEN 1 ELSE 0 END)
		FROM send_ledger l JOIN enrollments e ON e.workspace_id = l.workspace_id AND e.id = l.enrollment_id
		WHERE l.workspace_id = $1 AND e.sequence_id = $2 AND l.step_id IS NOT NULL
		GROUP BY l.step_id`, ws, seqID)
	if err != nil {
		return nil, fmt.Errorf("store: sequence send counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]SendCounts{}
	for rows.Next() {
		var step int64
		var c SendCounts
		if err := rows.Scan(&step, &c.Delivered, &c.Opened, &c.Clicked); err != nil {
			return nil, fmt.Errorf("store: sequence send counts: %w", err)
		}
		out[step] = c
	}
	return out, rows.Err()
}
