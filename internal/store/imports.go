package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/rightsize/rightsize/internal/model"
)

// ChunkSize is how much of an uploaded file one import_chunks row holds. Files live
// in the database so any worker node can run the import, and are read back one chunk
// at a time so an import never holds the whole file in memory.
const ChunkSize = 1 << 20

const importCols = `id, object_type, filename, status, options, bytes, rows_total, accepted, rejected, merged, error, summary, created_by, created_at, started_at, finished_at`

func scanImport(r rowScanner) (model.Import, error) {
	var im model.Import
	var opts, sum jsonText
	var c, s, f dbTime
	err := r.Scan(&im.ID, &im.ObjectType, &im.Filename, &im.Status, &opts, &im.Bytes, &im.Rows, &im.Accepted, &im.Rejected, &im.Merged, &im.Error, &sum, &im.CreatedBy, &c, &s, &f)
	if errors.Is(err, sql.ErrNoRows) {
		return im, ErrNotFound
	}
	if err != nil {
		return im, fmt.Errorf("store: import: %w", err)
	}
	im.Options, im.Summary = []byte(opts), []byte(sum)
	im.CreatedAt, im.StartedAt, im.FinishedAt = c.T, s.ptr(), f.ptr()
	return im, nil
}

// CreateImport records a new import in status "uploading".
func (q Q) CreateImport(ctx context.Context, ws int64, im *model.Import) error {
	im.CreatedAt = Now()
	if im.Status == "" {
		im.Status = "uploading"
	}
	if len(im.Options) == 0 {
		im.Options = []byte("{}")
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO imports (workspace_id, object_type, filename, status, options, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
		ws, im.ObjectType, im.Filename, im.Status, string(im.Options), im.CreatedBy, im.CreatedAt).Scan(&im.ID)
	if err != nil {
		return wrapWrite("create import", err)
	}
	return nil
}

// AddImportChunk stores the seq-th chunk of an import's file.
func (q Q) AddImportChunk(ctx context.Context, importID int64, seq int, data []byte) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO import_chunks (import_id, seq, data) VALUES ($1,$2,$3)`, importID, seq, data)
	if err != nil {
		return fmt.Errorf("store: import chunk: %w", err)
	}
	_, err = q.db.ExecContext(ctx, `UPDATE imports SET bytes = bytes + $2 WHERE id=$1`, importID, len(data))
	return err
}

// GetImport loads an import of ws.
func (q Q) GetImport(ctx context.Context, ws, id int64) (model.Import, error) {
	return scanImport(q.db.QueryRowContext(ctx, `SELECT `+importCols+` FROM imports WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// ListImports lists the newest imports of ws.
func (q Q) ListImports(ctx context.Context, ws int64, limit int) ([]model.Import, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+importCols+` FROM imports WHERE workspace_id=$1 ORDER BY id DESC LIMIT $2`, ws, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list imports: %w", err)
	}
	defer rows.Close()
	out := []model.Import{}
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// SetImportStatus moves an import to status; "running" stamps started_at, "done" and
// "failed" stamp finished_at.
func (q Q) SetImportStatus(ctx context.Context, ws, id int64, status, errMsg string) error {
	now := Now()
	var stmt string
	switch status {
	case "running":
		stmt = `UPDATE imports SET status=$3, error=$4, started_at=$5 WHERE workspace_id=$1 AND id=$2`
	case "done", "failed":
		stmt = `UPDATE imports SET status=$3, error=$4, finished_at=$5 WHERE workspace_id=$1 AND id=$2`
	default:
		res, err := q.db.ExecContext(ctx, `UPDATE imports SET status=$3, error=$4 WHERE workspace_id=$1 AND id=$2`, ws, id, status, errMsg)
		return affected(res, err, "import status")
	}
	res, err := q.db.ExecContext(ctx, stmt, ws, id, status, errMsg, now)
	return affected(res, err, "import status")
}

// SetImportCounts writes the running reconciliation of an import. It is written in
// the same transaction as the rows it counts, so a resumed import knows exactly
// where to continue.
func (q Q) SetImportCounts(ctx context.Context, ws, id, rows, accepted, rejected, merged int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE imports SET rows_total=$3, accepted=$4, rejected=$5, merged=$6 WHERE workspace_id=$1 AND id=$2`, ws, id, rows, accepted, rejected, merged)
	return affected(res, err, "import counts")
}

// SetImportSummary stores what the import decided (date formats, ignored columns,
// unlinked references) as JSON.
func (q Q) SetImportSummary(ctx context.Context, ws, id int64, summary any) error {
	res, err := q.db.ExecContext(ctx, `UPDATE imports SET summary=$3 WHERE workspace_id=$1 AND id=$2`, ws, id, encodeJSON(summary))
	return affected(res, err, "import summary")
}

// AddImportErrors stores rejected rows, 200 to a statement: a file of bad rows must
// not cost a round trip per row.
func (q Q) AddImportErrors(ctx context.Context, importID int64, errs []model.ImportError) error {
	const per = 200
	for start := 0; start < len(errs); start += per {
		part := errs[start:min(start+per, len(errs))]
		args := make([]any, 0, len(part)*6)
		for _, e := range part {
			args = append(args, importID, e.Line, e.Col, e.Field, e.Reason, e.Raw)
		}
		stmt := insertSQL(q.kind, "INSERT INTO import_errors (import_id, line, col, field, reason, raw) VALUES ", 6, len(part)) + " ON CONFLICT DO NOTHING"
		if _, err := q.db.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("store: import errors: %w", err)
		}
	}
	return nil
}

// ImportErrors lists an import's rejected rows in file order. The import must
// belong to ws.
func (q Q) ImportErrors(ctx context.Context, ws, importID int64, limit int) ([]model.ImportError, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT e.line, e.col, e.field, e.reason, e.raw FROM import_errors e JOIN imports i ON i.id = e.import_id WHERE i.workspace_id=$1 AND e.import_id=$2 ORDER BY e.line, e.col LIMIT $3`, ws, importID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: import errors: %w", err)
	}
	defer rows.Close()
	out := []model.ImportError{}
	for rows.Next() {
		var e model.ImportError
		if err := rows.Scan(&e.Line, &e.Col, &e.Field, &e.Reason, &e.Raw); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ImportReader streams an import's stored file chunk by chunk.
func (s *Store) ImportReader(ctx context.Context, ws, importID int64) io.Reader {
	return &chunkReader{ctx: ctx, s: s, ws: ws, id: importID}
}

type chunkReader struct {
	ctx  context.Context
	s    *Store
	ws   int64
	id   int64
	seq  int
	buf  []byte
	done bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.s.R.QueryRowContext(r.ctx, `SELECT c.data FROM import_chunks c JOIN imports i ON i.id = c.import_id WHERE i.workspace_id=$1 AND c.import_id=$2 AND c.seq=$3`, r.ws, r.id, r.seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.done = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: read import chunk %d: %w", r.seq, err)
		}
		r.seq++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// DeleteImportChunks drops a finished import's file.
func (q Q) DeleteImportChunks(ctx context.Context, importID int64) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM import_chunks WHERE import_id=$1`, importID)
	return err
}

// ImportErrorsAfter pages through an import's rejected rows in file order, after the
// position (line, col) of the last row of the previous page; (0, 0) starts.
func (q Q) ImportErrorsAfter(ctx context.Context, ws, importID, line, col int64, limit int) ([]model.ImportError, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT e.line, e.col, e.field, e.reason, e.raw FROM import_errors e JOIN imports i ON i.id = e.import_id
		WHERE i.workspace_id=$1 AND e.import_id=$2 AND (e.line > $3 OR (e.line = $3 AND e.col > $4)) ORDER BY e.line, e.col LIMIT $5`, ws, importID, line, col, limit)
	if err != nil {
		return nil, fmt.Errorf("store: import errors: %w", err)
	}
	defer rows.Close()
	out := make([]model.ImportError, 0, limit)
	for rows.Next() {
		var e model.ImportError
		if err := rows.Scan(&e.Line, &e.Col, &e.Field, &e.Reason, &e.Raw); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
