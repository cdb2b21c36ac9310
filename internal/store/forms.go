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

// Forms, their submissions and the content library (internal/forms validates;
// the store writes and reads, always within a workspace, except FormByKey which
// is how a public submission finds its workspace).

const formCols = `id, workspace_id, public_key, name, kind, fields, progressive, consent_text, consent_version, double_opt_in, redirect_url, allowed_origins, asset_id, created_at, updated_at`

func scanForm(r rowScanner) (model.Form, int64, error) {
	var f model.Form
	var ws int64
	var fields, prog, origins jsonText
	var asset sql.NullInt64
	var c, u dbTime
	err := r.Scan(&f.ID, &ws, &f.Key, &f.Name, &f.Kind, &fields, &prog, &f.ConsentText, &f.ConsentVersion, &f.DoubleOptIn, &f.RedirectURL, &origins, &asset, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return f, 0, ErrNotFound
	}
	if err != nil {
		return f, 0, fmt.Errorf("store: form: %w", err)
	}
	f.Fields, f.Progressive = []model.FormField{}, []model.FormField{}
	_ = json.Unmarshal(fields, &f.Fields)
	_ = json.Unmarshal(prog, &f.Progressive)
	f.AllowedOrigins = decodeList(origins)
	f.AssetID, f.CreatedAt, f.UpdatedAt = intPtr(asset), c.T, u.T
	return f, ws, nil
}

// CreateForm inserts f (validated by the caller) into ws.
func (q Q) CreateForm(ctx context.Context, ws int64, f *model.Form) error {
	now := Now()
	f.CreatedAt, f.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO forms (workspace_id, public_key, name, kind, fields, progressive, consent_text, consent_version, double_opt_in, redirect_url, allowed_origins, asset_id, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13) RETURNING id`,
		ws, f.Key, f.Name, f.Kind, encodeJSON(f.Fields), encodeJSON(f.Progressive), f.ConsentText, f.ConsentVersion, f.DoubleOptIn, f.RedirectURL, encodeList(f.AllowedOrigins), nullInt(f.AssetID), now).Scan(&f.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create form", err)
	}
	return nil
}

// UpdateForm writes f back (its key never changes: pages embed it).
func (q Q) UpdateForm(ctx context.Context, ws int64, f *model.Form) error {
	f.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE forms SET name=$3, kind=$4, fields=$5, progressive=$6, consent_text=$7, consent_version=$8, double_opt_in=$9, redirect_url=$10, allowed_origins=$11, asset_id=$12, updated_at=$13
		WHERE workspace_id=$1 AND id=$2`,
		ws, f.ID, f.Name, f.Kind, encodeJSON(f.Fields), encodeJSON(f.Progressive), f.ConsentText, f.ConsentVersion, f.DoubleOptIn, f.RedirectURL, encodeList(f.AllowedOrigins), nullInt(f.AssetID), f.UpdatedAt)
	if isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	return affected(res, err, "update form")
}

// GetForm reads form id of ws.
func (q Q) GetForm(ctx context.Context, ws, id int64) (model.Form, error) {
	f, _, err := scanForm(q.db.QueryRowContext(ctx, `SELECT `+formCols+` FROM forms WHERE workspace_id=$1 AND id=$2`, ws, id))
	return f, err
}

// FormByKey finds a form and its workspace by public key: the only lookup a
// public submission makes, so the workspace never comes from the client.
func (q Q) FormByKey(ctx context.Context, key string) (model.Form, int64, error) {
	return scanForm(q.db.QueryRowContext(ctx, `SELECT `+formCols+` FROM forms WHERE public_key=$1`, key))
}

// Forms lists the forms of ws by name.
func (q Q) Forms(ctx context.Context, ws int64) ([]model.Form, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+formCols+` FROM forms WHERE workspace_id=$1 ORDER BY name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: forms: %w", err)
	}
	defer rows.Close()
	out := []model.Form{}
	for rows.Next() {
		f, _, err := scanForm(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteForm removes form id of ws and its submissions.
func (q Q) DeleteForm(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM forms WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete form")
}

// FormStats counts a form's submissions by status.
func (q Q) FormStats(ctx context.Context, ws, formID int64) (map[string]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM form_submissions WHERE workspace_id=$1 AND form_id=$2 GROUP BY status`, ws, formID)
	if err != nil {
		return nil, fmt.Errorf("store: form stats: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: form stats: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// InsertSubmission records one post of a form of ws (at s.CreatedAt when set —
// demo data and history loaded from elsewhere — else now); token, when not
// empty, is the double opt-in confirmation token.
func (q Q) InsertSubmission(ctx context.Context, ws int64, s *model.Submission, token string) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = Now()
	}
	s.CreatedAt = s.CreatedAt.UTC()
	var tok any
	if token != "" {
		tok = token
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO form_submissions (workspace_id, form_id, status, contact_id, deal_id, visitor_id, fields, utm, consent_version, ip, confirm_token, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		ws, s.FormID, s.Status, nullInt(s.ContactID), nullInt(s.DealID), s.VisitorID, encodeJSON(s.Fields), encodeJSON(s.UTM), s.ConsentVersion, s.IP, tok, s.CreatedAt).Scan(&s.ID)
	if err != nil {
		return wrapWrite("insert submission", err)
	}
	return nil
}

const submissionCols = `id, form_id, status, contact_id, deal_id, visitor_id, fields, utm, consent_version, ip, confirmed_at, created_at`

func scanSubmission(r rowScanner) (model.Submission, error) {
	var s model.Submission
	var contact, deal sql.NullInt64
	var fields, utm jsonText
	var confirmed, c dbTime
	err := r.Scan(&s.ID, &s.FormID, &s.Status, &contact, &deal, &s.VisitorID, &fields, &utm, &s.ConsentVersion, &s.IP, &confirmed, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: submission: %w", err)
	}
	s.Fields, s.UTM = map[string]string{}, map[string]string{}
	_ = json.Unmarshal(fields, &s.Fields)
	_ = json.Unmarshal(utm, &s.UTM)
	s.ContactID, s.DealID, s.ConfirmedAt, s.CreatedAt = intPtr(contact), intPtr(deal), confirmed.ptr(), c.T
	return s, nil
}

// Submissions lists the latest submissions of a form of ws, newest first.
func (q Q) Submissions(ctx context.Context, ws, formID int64, limit int) ([]model.Submission, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+submissionCols+` FROM form_submissions WHERE workspace_id=$1 AND form_id=$2 ORDER BY id DESC LIMIT $3`, ws, formID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: submissions: %w", err)
	}
	defer rows.Close()
	out := []model.Submission{}
	for rows.Next() {
		s, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetSubmission reads submission id of ws.
func (q Q) GetSubmission(ctx context.Context, ws, id int64) (model.Submission, error) {
	return scanSubmission(q.db.QueryRowContext(ctx, `SELECT `+submissionCols+` FROM form_submissions WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// SubmissionByToken finds a pending double opt-in by its confirmation token and
// returns it with its workspace.
func (q Q) SubmissionByToken(ctx context.Context, token string) (model.Submission, int64, error) {
	var ws int64
	row := q.db.QueryRowContext(ctx, `SELECT workspace_id, `+submissionCols+` FROM form_submissions WHERE confirm_token=$1`, token)
	var s model.Submission
	var contact, deal sql.NullInt64
	var fields, utm jsonText
	var confirmed, c dbTime
	err := row.Scan(&ws, &s.ID, &s.FormID, &s.Status, &contact, &deal, &s.VisitorID, &fields, &utm, &s.ConsentVersion, &s.IP, &confirmed, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return s, 0, ErrNotFound
	}
	if err != nil {
		return s, 0, fmt.Errorf("store: submission by token: %w", err)
	}
	s.Fields, s.UTM = map[string]string{}, map[string]string{}
	_ = json.Unmarshal(fields, &s.Fields)
	_ = json.Unmarshal(utm, &s.UTM)
	s.ContactID, s.DealID, s.ConfirmedAt, s.CreatedAt = intPtr(contact), intPtr(deal), confirmed.ptr(), c.T
	return s, ws, nil
}

// ConfirmSubmission marks a pending submission of ws confirmed at at; false
// when it was already confirmed (a second click changes nothing).
func (q Q) ConfirmSubmission(ctx context.Context, ws, id int64, at time.Time) (bool, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE form_submissions SET status='accepted', confirmed_at=$3 WHERE workspace_id=$1 AND id=$2 AND status='pending_confirmation'`, ws, id, at.UTC())
	if err != nil {
		return false, wrapWrite("confirm submission", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// OpenTrialDeal finds an open digital deal that a trial or contact request of
// contactID already opened, so a second request does not open another.
func (q Q) OpenTrialDeal(ctx context.Context, ws, contactID int64) (int64, bool, error) {
	var id int64
	err := q.db.QueryRowContext(ctx, `SELECT d.id FROM form_submissions s JOIN deals d ON d.workspace_id = s.workspace_id AND d.id = s.deal_id
		WHERE s.workspace_id=$1 AND s.contact_id=$2 AND d.outcome = '' ORDER BY s.id DESC LIMIT 1`, ws, contactID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: open trial deal: %w", err)
	}
	return id, true, nil
}

const assetCols = `id, title, url, type, stage, segment, topic, created_at, updated_at, file_name, file_type, file_size`

func scanAsset(r rowScanner) (model.Asset, error) {
	var a model.Asset
	var c, u dbTime
	var f model.AssetFile
	err := r.Scan(&a.ID, &a.Title, &a.URL, &a.Type, &a.Stage, &a.Segment, &a.Topic, &c, &u, &f.Name, &f.ContentType, &f.Size)
	if err == nil && f.ContentType != "" {
		a.File = &f
	}
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: asset: %w", err)
	}
	a.CreatedAt, a.UpdatedAt = c.T, u.T
	return a, nil
}

// CreateAsset inserts a content library item of ws.
func (q Q) CreateAsset(ctx context.Context, ws int64, a *model.Asset) error {
	now := Now()
	a.CreatedAt, a.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO content_assets (workspace_id, title, url, type, stage, segment, topic, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id`,
		ws, a.Title, a.URL, a.Type, a.Stage, a.Segment, a.Topic, now).Scan(&a.ID)
	if err != nil {
		return wrapWrite("create asset", err)
	}
	return nil
}

// UpdateAsset writes a back.
func (q Q) UpdateAsset(ctx context.Context, ws int64, a *model.Asset) error {
	a.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE content_assets SET title=$3, url=$4, type=$5, stage=$6, segment=$7, topic=$8, updated_at=$9 WHERE workspace_id=$1 AND id=$2`,
		ws, a.ID, a.Title, a.URL, a.Type, a.Stage, a.Segment, a.Topic, a.UpdatedAt)
	return affected(res, err, "update asset")
}

// GetAsset reads asset id of ws.
func (q Q) GetAsset(ctx context.Context, ws, id int64) (model.Asset, error) {
	return scanAsset(q.db.QueryRowContext(ctx, `SELECT `+assetCols+` FROM content_assets WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// Assets lists the content library of ws, newest first.
func (q Q) Assets(ctx context.Context, ws int64) ([]model.Asset, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+assetCols+` FROM content_assets WHERE workspace_id=$1 ORDER BY id DESC`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: assets: %w", err)
	}
	defer rows.Close()
	out := []model.Asset{}
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAsset removes asset id of ws; forms that gated it stop handing it out.
func (q Q) DeleteAsset(ctx context.Context, ws, id int64) error {
	if _, err := q.db.ExecContext(ctx, `UPDATE forms SET asset_id = NULL WHERE workspace_id=$1 AND asset_id=$2`, ws, id); err != nil {
		return wrapWrite("delete asset", err)
	}
	if _, err := q.db.ExecContext(ctx, `DELETE FROM content_files WHERE workspace_id=$1 AND asset_id=$2`, ws, id); err != nil {
		return wrapWrite("delete asset file", err)
	}
	res, err := q.db.ExecContext(ctx, `DELETE FROM content_assets WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete asset")
}

// PutAssetFile stores (or replaces) the uploaded file of asset id of ws and
// its metadata on the asset row; ErrNotFound for an asset outside ws.
func (q Q) PutAssetFile(ctx context.Context, ws, id int64, f model.AssetFile, sha256 string, data []byte) error {
	now := Now()
	res, err := q.db.ExecContext(ctx, `UPDATE content_assets SET file_name=$3, file_type=$4, file_size=$5, updated_at=$6 WHERE workspace_id=$1 AND id=$2`,
		ws, id, f.Name, f.ContentType, int64(len(data)), now)
	if err := affected(res, err, "put asset file"); err != nil {
		return err
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO content_files (workspace_id, asset_id, sha256, data, created_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (workspace_id, asset_id) DO UPDATE SET sha256=excluded.sha256, data=excluded.data, created_at=excluded.created_at`,
		ws, id, sha256, data, now)
	if err != nil {
		return wrapWrite("put asset file", err)
	}
	return nil
}

// RemoveAssetFile drops the uploaded file of asset id of ws.
func (q Q) RemoveAssetFile(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE content_assets SET file_name='', file_type='', file_size=0, updated_at=$3 WHERE workspace_id=$1 AND id=$2`, ws, id, Now())
	if err := affected(res, err, "remove asset file"); err != nil {
		return err
	}
	if _, err = q.db.ExecContext(ctx, `DELETE FROM content_files WHERE workspace_id=$1 AND asset_id=$2`, ws, id); err != nil {
		return wrapWrite("remove asset file", err)
	}
	return nil
}

// AssetFileData reads the bytes of asset id's uploaded file in ws;
// ErrNotFound when the asset is outside ws or has no file.
func (q Q) AssetFileData(ctx context.Context, ws, id int64) ([]byte, string, error) {
	var data []byte
	var sum string
	err := q.db.QueryRowContext(ctx, `SELECT data, sha256 FROM content_files WHERE workspace_id=$1 AND asset_id=$2`, ws, id).Scan(&data, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: asset file: %w", err)
	}
	return data, sum, nil
}
