package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Mail delivery's tables (migration 00007, docs/mail.md): sender identity,
// templates, the send ledger and the suppression list. internal/mail owns the
// rules; the store keeps rows and runs the claim transaction.

// Send ledger states. A row moves planned → claimed → smtp_started → one of the
// final states; deferred rows become due again at due_at.
const (
	SendPlanned     = "planned"
	SendClaimed     = "claimed"
	SendStarted     = "smtp_started"
	SendAccepted    = "accepted"
	SendDeferred    = "deferred"
	SendBounced     = "bounced"
	SendSuppressed  = "suppressed"
	SendUnknown     = "unknown"
	SuppressUnsub   = "unsubscribed"
	SuppressHard    = "hard_bounce"
	SuppressSoftLim = "soft_bounce_limit"
	SuppressCompl   = "complaint"
	SuppressManual  = "manual"
)

// MailSender is a workspace's sender identity. RatePerSec 0 means unlimited.
type MailSender struct {
	FromName      string  `json:"from_name"`
	FromAddress   string  `json:"from_address"`
	ReplyTo       string  `json:"reply_to"`
	PostalAddress string  `json:"postal_address"`
	RatePerSec    float64 `json:"rate_per_sec"`
	DKIMDomain    string  `json:"dkim_domain"`
	DKIMSelector  string  `json:"dkim_selector"`
	DKIMKeyPEM    string  `json:"-"`
	// TrackOff is the inverse of the column track_engagement (default on), so a
	// zero MailSender tracks like a new row does.
	TrackOff  bool      `json:"-"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GetMailSender loads ws's sender; ErrNotFound when none is configured.
func (q Q) GetMailSender(ctx context.Context, ws int64) (MailSender, error) {
	var s MailSender
	var at dbTime
	var track bool
	err := q.db.QueryRowContext(ctx, `SELECT from_name, from_address, reply_to, postal_address, rate_per_sec, dkim_domain, dkim_selector, dkim_key_pem, updated_by, updated_at, track_engagement FROM mail_senders WHERE workspace_id=$1`, ws).
		Scan(&s.FromName, &s.FromAddress, &s.ReplyTo, &s.PostalAddress, &s.RatePerSec, &s.DKIMDomain, &s.DKIMSelector, &s.DKIMKeyPEM, &s.UpdatedBy, &at, &track)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: mail sender: %w", err)
	}
	s.UpdatedAt, s.TrackOff = at.T, !track
	return s, nil
}

// SaveMailSender creates or replaces ws's sender.
func (q Q) SaveMailSender(ctx context.Context, ws int64, s *MailSender) error {
	s.UpdatedAt = Now()
	_, err := q.db.ExecContext(ctx, `INSERT INTO mail_senders (workspace_id, from_name, from_address, reply_to, postal_address, rate_per_sec, dkim_domain, dkim_selector, dkim_key_pem, updated_by, updated_at, track_engagement)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
		ON CONFLICT (workspace_id) DO UPDATE SET from_name=excluded.from_name, from_address=excluded.from_address, reply_to=excluded.reply_to,
		postal_address=excluded.postal_address, rate_per_sec=excluded.rate_per_sec, dkim_domain=excluded.dkim_domain, dkim_selector=excluded.dkim_selector,
		dkim_key_pem=excluded.dkim_key_pem, updated_by=excluded.updated_by, updated_at=excluded.updated_at, track_engagement=excluded.track_engagement`,
		ws, s.FromName, s.FromAddress, s.ReplyTo, s.PostalAddress, s.RatePerSec, s.DKIMDomain, s.DKIMSelector, s.DKIMKeyPEM, s.UpdatedBy, s.UpdatedAt, !s.TrackOff)
	if err != nil {
		return fmt.Errorf("store: save mail sender: %w", err)
	}
	return nil
}

// MailTemplate is a message a send renders.
type MailTemplate struct {
	ID        int64
	Name      string
	Subject   string
	HTML      string
	Text      string
	UpdatedAt time.Time
}

// SaveMailTemplate inserts t (ID 0) or updates it; a foreign id is ErrNotFound.
func (q Q) SaveMailTemplate(ctx context.Context, ws int64, t *MailTemplate) error {
	t.UpdatedAt = Now()
	if t.ID == 0 {
		err := q.db.QueryRowContext(ctx, `INSERT INTO mail_templates (workspace_id, name, subject, html, text, updated_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`,
			ws, t.Name, t.Subject, t.HTML, t.Text, t.UpdatedAt).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("store: create mail template: %w", err)
		}
		return nil
	}
	res, err := q.db.ExecContext(ctx, `UPDATE mail_templates SET name=$3, subject=$4, html=$5, text=$6, updated_at=$7 WHERE workspace_id=$1 AND id=$2`,
		ws, t.ID, t.Name, t.Subject, t.HTML, t.Text, t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: update mail template: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// GetMailTemplate loads one template of ws.
func (q Q) GetMailTemplate(ctx context.Context, ws, id int64) (MailTemplate, error) {
	t := MailTemplate{ID: id}
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT name, subject, html, text, updated_at FROM mail_templates WHERE workspace_id=$1 AND id=$2`, ws, id).
		Scan(&t.Name, &t.Subject, &t.HTML, &t.Text, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("store: mail template: %w", err)
	}
	t.UpdatedAt = at.T
	return t, nil
}

// MailTemplateByName finds a template of ws by name (the newest when several
// share it): system messages (the double opt-in confirmation) keep theirs by name.
func (q Q) MailTemplateByName(ctx context.Context, ws int64, name string) (MailTemplate, error) {
	var id int64
	err := q.db.QueryRowContext(ctx, `SELECT id FROM mail_templates WHERE workspace_id=$1 AND name=$2 ORDER BY id DESC LIMIT 1`, ws, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return MailTemplate{}, ErrNotFound
	}
	if err != nil {
		return MailTemplate{}, fmt.Errorf("store: mail template %q: %w", name, err)
	}
	return q.GetMailTemplate(ctx, ws, id)
}

// InstallSecret returns the install-wide secret called name, storing gen() the
// first time. It is not workspace data: one key signs every workspace's tokens,
// each token naming its workspace inside the signed part.
func (q Q) InstallSecret(ctx context.Context, name string, gen func() string) (string, error) {
	if _, err := q.db.ExecContext(ctx, `INSERT INTO mail_secrets (name, value, created_at) VALUES ($1,$2,$3) ON CONFLICT (name) DO NOTHING`, name, gen(), Now()); err != nil {
		return "", fmt.Errorf("store: install secret: %w", err)
	}
	var v string
	if err := q.db.QueryRowContext(ctx, `SELECT value FROM mail_secrets WHERE name=$1`, name).Scan(&v); err != nil {
		return "", fmt.Errorf("store: install secret: %w", err)
	}
	return v, nil
}

// Send is one send-ledger row.
type Send struct {
	ID           int64  `json:"id"`
	DedupeKey    string `json:"dedupe_key"`
	EnrollmentID *int64 `json:"enrollment_id,omitempty"`
	StepID       *int64 `json:"step_id,omitempty"`
	ContactID    int64  `json:"contact_id"`
	TemplateID   int64  `json:"template_id"`
	// Vars are per-send template variables ({{.Vars.name}}), e.g. a link.
	Vars        map[string]string `json:"-"`
	ToEmail     string            `json:"to_email"`
	MessageID   string            `json:"message_id"`
	State       string            `json:"state"`
	Attempts    int               `json:"attempts"`
	SoftBounces int               `json:"soft_bounces"`
	LastCode    int               `json:"last_code"`
	LastText    string            `json:"last_text"`
	DueAt       time.Time         `json:"due_at"`
	ClaimedAt   *time.Time        `json:"claimed_at,omitempty"`
	StartedAt   *time.Time        `json:"started_at,omitempty"`
	FinishedAt  *time.Time        `json:"finished_at,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	Workspace   int64             `json:"-"`
}

const sendCols = `id, workspace_id, dedupe_key, enrollment_id, step_id, contact_id, template_id, to_email, message_id, state, attempts, soft_bounces, last_code, last_text, due_at, claimed_at, started_at, finished_at, created_at`

func scanSend(r rowScanner) (Send, error) {
	var s Send
	var enr, step sql.NullInt64
	var due, cl, st, fin, cr dbTime
	err := r.Scan(&s.ID, &s.Workspace, &s.DedupeKey, &enr, &step, &s.ContactID, &s.TemplateID, &s.ToEmail, &s.MessageID, &s.State, &s.Attempts, &s.SoftBounces, &s.LastCode, &s.LastText, &due, &cl, &st, &fin, &cr)
	s.EnrollmentID, s.StepID = intPtr(enr), intPtr(step)
	s.DueAt, s.ClaimedAt, s.StartedAt, s.FinishedAt, s.CreatedAt = due.T, cl.ptr(), st.ptr(), fin.ptr(), cr.T
	return s, err
}

// PlanSend records a send for ws unless one with the same dedupe key exists;
// created is false (and s holds the existing row) when it did. ToEmail is stored
// lower-case so suppression matches it.
func (q Q) PlanSend(ctx context.Context, ws int64, s *Send) (created bool, err error) {
	now := Now()
	s.ToEmail = strings.ToLower(strings.TrimSpace(s.ToEmail))
	if s.DueAt.IsZero() {
		s.DueAt = now
	}
	var id int64
	vars := "{}"
	if len(s.Vars) > 0 {
		vars = encodeJSON(s.Vars)
	}
	err = q.db.QueryRowContext(ctx, `INSERT INTO send_ledger (workspace_id, dedupe_key, enrollment_id, step_id, contact_id, template_id, vars, to_email, message_id, state, due_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$11,$7,$8,'planned',$9,$10,$10) ON CONFLICT (workspace_id, dedupe_key) DO NOTHING RETURNING id`,
		ws, s.DedupeKey, nullInt(s.EnrollmentID), nullInt(s.StepID), s.ContactID, s.TemplateID, s.ToEmail, s.MessageID, s.DueAt.UTC(), now, vars).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		*s, err = scanSend(q.db.QueryRowContext(ctx, `SELECT `+sendCols+` FROM send_ledger WHERE workspace_id=$1 AND dedupe_key=$2`, ws, s.DedupeKey))
		if err != nil {
			return false, fmt.Errorf("store: plan send: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: plan send: %w", err)
	}
	s.ID, s.State, s.Workspace, s.CreatedAt = id, SendPlanned, ws, now
	return true, nil
}

// GetSend loads one ledger row of ws.
func (q Q) GetSend(ctx context.Context, ws, id int64) (Send, error) {
	s, err := scanSend(q.db.QueryRowContext(ctx, `SELECT `+sendCols+` FROM send_ledger WHERE workspace_id=$1 AND id=$2`, ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: send: %w", err)
	}
	return s, nil
}

// ListSends lists ws's ledger rows in state (all states when ""), newest first.
func (q Q) ListSends(ctx context.Context, ws int64, state string, limit int) ([]Send, error) {
	query := `SELECT ` + sendCols + ` FROM send_ledger WHERE workspace_id=$1`
	args := []any{ws}
	if state != "" {
		query += ` AND state=$2`
		args = append(args, state)
	}
	query += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list sends: %w", err)
	}
	defer rows.Close()
	var out []Send
	for rows.Next() {
		s, err := scanSend(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sends: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AdminSendByMessageID finds the ledger row carrying a Message-ID, in any
// workspace: inbound bounce events name only the message. The row names its
// workspace, and every write that follows is scoped to it.
func (q Q) AdminSendByMessageID(ctx context.Context, messageID string) (Send, error) {
	s, err := scanSend(q.db.QueryRowContext(ctx, `SELECT `+sendCols+` FROM send_ledger WHERE message_id=$1`, messageID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: send by message id: %w", err)
	}
	return s, nil
}

// ClaimedSend is a row handed to a sender with what it needs to render.
type ClaimedSend struct {
	Send
	Contact model.Contact
	Account model.Account
}

// AdminClaimDueSends claims up to limit due rows of every workspace in one
// transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent claimers take
// disjoint rows; SQLite has one writer). Suppression and consent are re-checked
// here: a suppressed address, a deleted contact or consent basis "none" turns
// the row suppressed instead of claimed. Must run inside InTx.
func (q Q) AdminClaimDueSends(ctx context.Context, now time.Time, limit int, claimer string) (claimed []ClaimedSend, suppressed []Send, err error) {
	lock, queued := "", `l.state IN ('planned','deferred')`
	if q.kind == Postgres {
		// queued is the due index's predicate there (migration 00031).
		lock, queued = ` FOR UPDATE OF l SKIP LOCKED`, `l.queued`
		// Walk the partial index in due order, whatever the statistics say.
		// Right after a burst of planned rows (before autovacuum analyses the
		// table) PostgreSQL estimates a few dozen due rows and picks a bitmap
		// scan joining and sorting every due row to return 100: each claim
		// then cost O(due rows) — 19 ms of server CPU per claim at 20,000
		// rows, two thirds of the ledger's PostgreSQL CPU (`rightsize bench
		// send`). With sorts off the only plan left for ORDER BY ... LIMIT is
		// the index scan with nested-loop lookups, which stops after limit rows.
		restore, serr := q.setLocal(ctx, "enable_sort", "off")
		if serr != nil {
			return nil, nil, fmt.Errorf("store: claim sends: %w", serr)
		}
		defer func() {
			if rerr := restore(); rerr != nil && err == nil {
				claimed, suppressed, err = nil, nil, fmt.Errorf("store: claim sends: %w", rerr)
			}
		}()
	}
	rows, err := q.query(ctx, `SELECT l.id, l.workspace_id, l.dedupe_key, l.enrollment_id, l.step_id, l.contact_id, l.template_id, l.to_email, l.message_id, l.attempts, l.soft_bounces, l.last_code, l.last_text, l.due_at, l.created_at, l.vars,
		c.id, c.first_name, c.last_name, c.title, c.phone, c.lifecycle_stage, c.consent_basis, c.custom, a.id, a.name, a.domain, a.industry, a.region, sp.reason
		FROM send_ledger l
		LEFT JOIN contacts c ON c.workspace_id=l.workspace_id AND c.id=l.contact_id
		LEFT JOIN accounts a ON a.workspace_id=c.workspace_id AND a.id=c.account_id
		LEFT JOIN suppressions sp ON sp.workspace_id=l.workspace_id AND sp.email=l.to_email
		WHERE `+queued+` AND l.due_at <= $1
		ORDER BY l.due_at, l.id LIMIT $2`+lock, now.UTC(), limit)
	if err != nil {
		return nil, nil, fmt.Errorf("store: claim sends: %w", err)
	}
	defer rows.Close()
	var okIDs, supIDs []int64
	var reasons []string
	for rows.Next() {
		var cs ClaimedSend
		var enr, step, cid, aid sql.NullInt64
		// The row's state and its claimed/started/finished times are not read:
		// the claim sets the state, and the times are not used by a sender.
		var due, cr dbTime
		var first, last, title, phone, stage, consent, aname, adomain, aind, areg, reason sql.NullString
		var custom, vars jsonText
		s := &cs.Send
		if err := rows.Scan(&s.ID, &s.Workspace, &s.DedupeKey, &enr, &step, &s.ContactID, &s.TemplateID, &s.ToEmail, &s.MessageID, &s.Attempts, &s.SoftBounces, &s.LastCode, &s.LastText, &due, &cr, &vars,
			&cid, &first, &last, &title, &phone, &stage, &consent, &custom, &aid, &aname, &adomain, &aind, &areg, &reason); err != nil {
			return nil, nil, fmt.Errorf("store: claim sends: %w", err)
		}
		s.EnrollmentID, s.StepID = intPtr(enr), intPtr(step)
		s.DueAt, s.CreatedAt = due.T, cr.T
		if len(vars) > 2 {
			_ = json.Unmarshal(vars, &s.Vars) // written only by PlanSend
		}
		why := ""
		switch {
		case reason.Valid:
			why = "suppressed: " + reason.String
		case !cid.Valid:
			why = "contact deleted"
		case consent.String == "none":
			why = "no consent (consent basis none)"
		}
		if why != "" {
			s.State, s.LastText = SendSuppressed, why
			supIDs, reasons = append(supIDs, s.ID), append(reasons, why)
			suppressed = append(suppressed, *s)
			continue
		}
		cs.Contact = model.Contact{ID: cid.Int64, Email: s.ToEmail, FirstName: first.String, LastName: last.String, Title: title.String, Phone: phone.String, LifecycleStage: stage.String, ConsentBasis: consent.String, Custom: decodeCustom(custom)}
		if aid.Valid {
			cs.Account = model.Account{ID: aid.Int64, Name: aname.String, Domain: adomain.String, Industry: aind.String, Region: areg.String}
		}
		s.State, s.Attempts = SendClaimed, s.Attempts+1
		okIDs = append(okIDs, s.ID)
		claimed = append(claimed, cs)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: claim sends: %w", err)
	}
	rows.Close()
	if len(okIDs) > 0 {
		in, args := idListFixed(okIDs, 3)
		if err := q.exec(ctx, `UPDATE send_ledger SET state='claimed', claimed_by=$1, claimed_at=$2, updated_at=$2, attempts=attempts+1 WHERE id IN (`+in+`)`, append([]any{claimer, now.UTC()}, args...)...); err != nil {
			return nil, nil, fmt.Errorf("store: claim sends: %w", err)
		}
	}
	// Suppressed rows: one statement per reason (there are few), not per row.
	byWhy := map[string][]int64{}
	var whys []string
	for i, id := range supIDs {
		if byWhy[reasons[i]] == nil {
			whys = append(whys, reasons[i])
		}
		byWhy[reasons[i]] = append(byWhy[reasons[i]], id)
	}
	for _, why := range whys {
		in, args := idListFixed(byWhy[why], 3)
		if err := q.exec(ctx, `UPDATE send_ledger SET state='suppressed', last_text=$1, finished_at=$2, updated_at=$2 WHERE id IN (`+in+`)`, append([]any{why, now.UTC()}, args...)...); err != nil {
			return nil, nil, fmt.Errorf("store: suppress sends: %w", err)
		}
	}
	return claimed, suppressed, nil
}

// setLocal sets a PostgreSQL setting for the rest of q's transaction and
// returns a func that puts the previous value back (so one statement's plan
// choice does not leak into the caller's later statements).
func (q Q) setLocal(ctx context.Context, name, value string) (restore func() error, err error) {
	var old, set string
	if err := q.db.QueryRowContext(ctx, `SELECT current_setting($1), set_config($1, $2, true)`, name, value).Scan(&old, &set); err != nil {
		return nil, fmt.Errorf("set %s: %w", name, err)
	}
	return func() error {
		if err := q.db.QueryRowContext(ctx, `SELECT set_config($1, $2, true)`, name, old).Scan(&set); err != nil {
			return fmt.Errorf("restore %s: %w", name, err)
		}
		return nil
	}, nil
}

// idList renders "$k,$k+1,..." for ids and their arguments.
func idList(ids []int64, first int) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
		args[i] = id
	}
	return b.String(), args
}

// idListFixed is idList padded with copies of the last id to 10 entries, or
// to a multiple of 100, so the ledger's IN lists have a few statement texts
// (kept prepared: stmtCache on SQLite, pgx's cache on PostgreSQL) instead of
// one per length. Repeating an id in an IN list selects nothing more.
func idListFixed(ids []int64, first int) (string, []any) {
	size := 10
	for size < len(ids) {
		size = (size/100 + 1) * 100
	}
	padded := make([]int64, size)
	n := copy(padded, ids)
	for i := n; i < size; i++ {
		padded[i] = ids[n-1]
	}
	return idList(padded, first)
}

// AdminStartSends moves claimed rows to smtp_started: from here on a crash leaves
// them unknown, never re-sent. claimer must match the claim.
func (q Q) AdminStartSends(ctx context.Context, ids []int64, claimer string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := idListFixed(ids, 3)
	res, err := q.execResult(ctx, `UPDATE send_ledger SET state='smtp_started', started_at=$1, updated_at=$1 WHERE state='claimed' AND claimed_by=$2 AND id IN (`+in+`)`, append([]any{now.UTC(), claimer}, args...)...)
	if err != nil {
		return fmt.Errorf("store: start sends: %w", err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return fmt.Errorf("store: start sends: %d of %d rows still claimed by %s", n, len(ids), claimer)
	}
	return nil
}

// SendOutcome is what happened to one started or claimed row.
type SendOutcome struct {
	ID         int64
	Workspace  int64
	Email      string
	State      string // accepted, deferred, bounced, suppressed, unknown, planned (released)
	Code       int
	Text       string
	DueAt      time.Time // deferred: when to try again
	SoftBounce bool      // a 4xx from the recipient's server
	Suppress   string    // non-empty: add Email to the suppression list with this reason
}

// AdminFinishSends records outcomes in one transaction (accepted rows in one
// statement) and adds the suppressions they call for. Only rows still in
// claimed or smtp_started change, so a late writer cannot undo a recovery.
func (q Q) AdminFinishSends(ctx context.Context, outs []SendOutcome, now time.Time) error {
	now = now.UTC()
	var acc []int64
	for _, o := range outs {
		if o.State == SendAccepted && o.Suppress == "" {
			acc = append(acc, o.ID)
			continue
		}
		soft := 0
		if o.SoftBounce {
			soft = 1
		}
		due := o.DueAt
		if due.IsZero() {
			due = now
		}
		var fin any = now
		if o.State == SendDeferred || o.State == SendPlanned {
			fin = nil
		}
		if _, err := q.db.ExecContext(ctx, `UPDATE send_ledger SET state=$2, last_code=$3, last_text=$4, due_at=$5, soft_bounces=soft_bounces+$6, finished_at=$7, updated_at=$8 WHERE id=$1 AND state IN ('claimed','smtp_started')`,
			o.ID, o.State, o.Code, o.Text, due.UTC(), soft, fin, now); err != nil {
			return fmt.Errorf("store: finish send: %w", err)
		}
		if o.Suppress != "" {
			if _, err := q.Suppress(ctx, o.Workspace, o.Email, o.Suppress, "smtp"); err != nil {
				return err
			}
		}
	}
	for len(acc) > 0 {
		n := min(len(acc), 500)
		in, args := idListFixed(acc[:n], 2)
		if err := q.exec(ctx, `UPDATE send_ledger SET state='accepted', last_code=250, last_text='', finished_at=$1, updated_at=$1 WHERE state='smtp_started' AND id IN (`+in+`)`, append([]any{now}, args...)...); err != nil {
			return fmt.Errorf("store: finish sends: %w", err)
		}
		acc = acc[n:]
	}
	return nil
}

// AdminRecoverSends runs at start-up and periodically: rows left in
// smtp_started since before cutoff become unknown (SMTP may have accepted them,
// so they are shown to an operator and never re-sent); rows only claimed since
// before cutoff never reached SMTP and return to planned. It returns the rows
// it marked unknown.
func (q Q) AdminRecoverSends(ctx context.Context, cutoff time.Time) ([]Send, error) {
	cutoff = cutoff.UTC()
	now := Now()
	if _, err := q.db.ExecContext(ctx, `UPDATE send_ledger SET state='planned', claimed_by='', updated_at=$2 WHERE state='claimed' AND claimed_at < $1`, cutoff, now); err != nil {
		return nil, fmt.Errorf("store: recover claimed sends: %w", err)
	}
	rows, err := q.db.QueryContext(ctx, `UPDATE send_ledger SET state='unknown', last_text='process stopped during SMTP; not re-sent', finished_at=$2, updated_at=$2 WHERE state='smtp_started' AND started_at < $1 RETURNING `+sendCols, cutoff, now)
	if err != nil {
		return nil, fmt.Errorf("store: recover started sends: %w", err)
	}
	defer rows.Close()
	var out []Send
	for rows.Next() {
		s, err := scanSend(rows)
		if err != nil {
			return nil, fmt.Errorf("store: recover started sends: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Suppress adds email to ws's suppression list; added is false when it was there
// already (the first reason is kept).
func (q Q) Suppress(ctx context.Context, ws int64, email, reason, source string) (added bool, err error) {
	res, err := q.db.ExecContext(ctx, `INSERT INTO suppressions (workspace_id, email, reason, source, created_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT (workspace_id, email) DO NOTHING`,
		ws, strings.ToLower(strings.TrimSpace(email)), reason, source, Now())
	if err != nil {
		return false, fmt.Errorf("store: suppress: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Suppression is one suppressed address.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// GetSuppression loads ws's suppression of email; ErrNotFound when it is not suppressed.
func (q Q) GetSuppression(ctx context.Context, ws int64, email string) (Suppression, error) {
	var s Suppression
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT email, reason, source, created_at FROM suppressions WHERE workspace_id=$1 AND email=$2`, ws, strings.ToLower(strings.TrimSpace(email))).
		Scan(&s.Email, &s.Reason, &s.Source, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: suppression: %w", err)
	}
	s.CreatedAt = at.T
	return s, nil
}

// AddSoftBounce counts one more soft bounce on a row of ws (an inbound event)
// and returns the address's total across the ledger.
func (q Q) AddSoftBounce(ctx context.Context, ws, id int64, code int, text string) (int, error) {
	var email string
	err := q.db.QueryRowContext(ctx, `UPDATE send_ledger SET soft_bounces=soft_bounces+1, last_code=$3, last_text=$4, updated_at=$5 WHERE workspace_id=$1 AND id=$2 RETURNING to_email`, ws, id, code, text, Now()).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: soft bounce: %w", err)
	}
	return q.SoftBounces(ctx, ws, email)
}

// SoftBounces is the number of soft bounces recorded for email in ws.
func (q Q) SoftBounces(ctx context.Context, ws int64, email string) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(soft_bounces),0) FROM send_ledger WHERE workspace_id=$1 AND to_email=$2`, ws, strings.ToLower(email)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: soft bounces: %w", err)
	}
	return n, nil
}

// MarkSendBounced records an asynchronous hard bounce or complaint on a row of ws.
func (q Q) MarkSendBounced(ctx context.Context, ws, id int64, code int, text string) error {
	now := Now()
	_, err := q.db.ExecContext(ctx, `UPDATE send_ledger SET state='bounced', last_code=$3, last_text=$4, finished_at=COALESCE(finished_at,$5), updated_at=$5 WHERE workspace_id=$1 AND id=$2 AND state IN ('accepted','unknown','deferred','smtp_started')`, ws, id, code, text, now)
	if err != nil {
		return fmt.Errorf("store: bounce send: %w", err)
	}
	return nil
}

// MailReply is an inbound answer to one of our sends.
type MailReply struct {
	ID          int64
	MessageID   string
	SendID      int64
	ContactID   int64
	FromAddress string
	Subject     string
	AutoReply   bool
	ActivityID  *int64
	CreatedAt   time.Time
}

// InsertMailReply records a reply of ws; false (and nothing written) when a
// reply with the same Message-ID was recorded before (a redelivery).
func (q Q) InsertMailReply(ctx context.Context, ws int64, r *MailReply) (bool, error) {
	r.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO mail_replies (workspace_id, message_id, send_id, contact_id, from_address, subject, auto_reply, activity_id, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING id`,
		ws, r.MessageID, r.SendID, r.ContactID, r.FromAddress, r.Subject, r.AutoReply, nullInt(r.ActivityID), r.CreatedAt).Scan(&r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: insert mail reply: %w", err)
	}
	return true, nil
}

// SetMailReplyActivity links a recorded reply to the activity that shows it.
func (q Q) SetMailReplyActivity(ctx context.Context, ws, id, activityID int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE mail_replies SET activity_id=$3 WHERE workspace_id=$1 AND id=$2`, ws, id, activityID)
	return affected(res, err, "set mail reply activity")
}

// MailReplies lists a contact's replies of ws, newest first.
func (q Q) MailReplies(ctx context.Context, ws, contactID int64) ([]MailReply, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, message_id, send_id, contact_id, from_address, subject, auto_reply, activity_id, created_at FROM mail_replies WHERE workspace_id=$1 AND contact_id=$2 ORDER BY id DESC`, ws, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: mail replies: %w", err)
	}
	defer rows.Close()
	var out []MailReply
	for rows.Next() {
		var r MailReply
		var act sql.NullInt64
		var at dbTime
		if err := rows.Scan(&r.ID, &r.MessageID, &r.SendID, &r.ContactID, &r.FromAddress, &r.Subject, &r.AutoReply, &act, &at); err != nil {
			return nil, fmt.Errorf("store: mail replies: %w", err)
		}
		r.ActivityID, r.CreatedAt = intPtr(act), at.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// AdminPlainDKIMKeys returns, per workspace, DKIM keys still stored in plain
// text (saved before keys were sealed; sealed ones start with "v1:").
func (q Q) AdminPlainDKIMKeys(ctx context.Context) (map[int64]string, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT workspace_id, dkim_key_pem FROM mail_senders WHERE dkim_key_pem <> '' AND dkim_key_pem NOT LIKE 'v1:%'`)
	if err != nil {
		return nil, fmt.Errorf("store: plain dkim keys: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var ws int64
		var pem string
		if err := rows.Scan(&ws, &pem); err != nil {
			return nil, err
		}
		out[ws] = pem
	}
	return out, rows.Err()
}

// SetDKIMKey replaces ws's stored DKIM key old with enc (only if it is still old).
func (q Q) SetDKIMKey(ctx context.Context, ws int64, old, enc string) error {
	if _, err := q.db.ExecContext(ctx, `UPDATE mail_senders SET dkim_key_pem=$3 WHERE workspace_id=$1 AND dkim_key_pem=$2`, ws, old, enc); err != nil {
		return fmt.Errorf("store: set dkim key: %w", err)
	}
	return nil
}
