package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MailIMAP is a workspace's reply mailbox (migration 00017, docs/mail.md):
// where Rightsize polls for replies. PasswordEnc is the sealed password
// (internal/mail encrypts it); it never leaves the server.
type MailIMAP struct {
	Enabled     bool
	Host        string
	Port        int
	TLS         string
	Username    string
	PasswordEnc string
	Mailbox     string
	LastPollAt  *time.Time
	LastError   string
	LastFetched int
	UpdatedBy   string
	UpdatedAt   time.Time
}

const imapCols = `enabled, host, port, tls_mode, username, password_enc, mailbox, last_poll_at, last_error, last_fetched, updated_by, updated_at`

func scanIMAP(r rowScanner) (MailIMAP, error) {
	var m MailIMAP
	var last, upd dbTime
	err := r.Scan(&m.Enabled, &m.Host, &m.Port, &m.TLS, &m.Username, &m.PasswordEnc, &m.Mailbox, &last, &m.LastError, &m.LastFetched, &m.UpdatedBy, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("store: mail imap: %w", err)
	}
	m.LastPollAt, m.UpdatedAt = last.ptr(), upd.T
	return m, nil
}

// GetMailIMAP loads ws's reply mailbox; ErrNotFound when none is configured.
func (q Q) GetMailIMAP(ctx context.Context, ws int64) (MailIMAP, error) {
	return scanIMAP(q.db.QueryRowContext(ctx, `SELECT `+imapCols+` FROM mail_imap WHERE workspace_id=$1`, ws))
}

// SaveMailIMAP creates or replaces ws's mailbox settings; the last poll's
// outcome is kept (a new row starts with none).
func (q Q) SaveMailIMAP(ctx context.Context, ws int64, m *MailIMAP) error {
	m.UpdatedAt = Now()
	_, err := q.db.ExecContext(ctx, `INSERT INTO mail_imap (workspace_id, enabled, host, port, tls_mode, username, password_enc, mailbox, updated_by, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
		ON CONFLICT (workspace_id) DO UPDATE SET enabled=excluded.enabled, host=excluded.host, port=excluded.port, tls_mode=excluded.tls_mode,
		username=excluded.username, password_enc=excluded.password_enc, mailbox=excluded.mailbox, updated_by=excluded.updated_by, updated_at=excluded.updated_at`,
		ws, m.Enabled, m.Host, m.Port, m.TLS, m.Username, m.PasswordEnc, m.Mailbox, m.UpdatedBy, m.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: save mail imap: %w", err)
	}
	return nil
}

// RecordIMAPPoll keeps the outcome of ws's latest poll (errText "" on success).
func (q Q) RecordIMAPPoll(ctx context.Context, ws int64, at time.Time, fetched int, errText string) error {
	_, err := q.db.ExecContext(ctx, `UPDATE mail_imap SET last_poll_at=$2, last_fetched=$3, last_error=$4 WHERE workspace_id=$1`, ws, at.UTC(), fetched, errText)
	if err != nil {
		return fmt.Errorf("store: record imap poll: %w", err)
	}
	return nil
}

// AdminIMAPWorkspaces lists the workspaces with an enabled reply mailbox, for
// the poll job (which then reads each workspace's own row).
func (q Q) AdminIMAPWorkspaces(ctx context.Context) ([]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT workspace_id FROM mail_imap WHERE enabled ORDER BY workspace_id`)
	if err != nil {
		return nil, fmt.Errorf("store: imap workspaces: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
