// Package importer runs CSV imports of accounts, contacts, deals and activities as
// durable jobs: the file is stored in the database in chunks (so any worker node can
// run it), a River job streams it back, and every row ends accepted, merged into an
// existing record, or rejected with line:column and a reason, so
// rows = accepted + rejected + merged always holds.
//
// Each batch of rows is written in one transaction together with the running counts,
// so a job that dies half-way resumes exactly where the last batch ended.
package importer

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	pipelinePkg "github.com/rightsize/rightsize/internal/pipeline"
	"io"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"github.com/riverqueue/river"
)

// Service creates and runs imports.
type Service struct {
	St    *store.Store
	CRM   *crm.Service
	River *river.Client[*sql.Tx]
	// Router, when set, routes every imported account in its batch's transaction,
	// as crm does for accounts written through the API and UI; the batch's
	// decisions are written together.
	Router *routing.Service
	// Subs writes imported subscriptions (and their MRR movements) in the
	// batch's transaction; nil refuses subscription imports.
	Subs *subscriptions.Service
	// BatchSize is how many rows one write transaction takes (default 5,000: large
	// enough that the commit's fsync is noise, small enough that the batch being
	// written and the one being read stay well inside the memory budget).
	BatchSize int
}

// Options says how to read and map a file. Every field is optional.
type Options struct {
	// Mapping maps a source column header to a field name ("email",
	// "custom.tier"); "" or "-" ignores the column. Unmapped headers are matched
	// by field name, custom field key or label, and common CRM spellings.
	Mapping map[string]string `json:"mapping,omitempty"`
	// ValueMaps maps, per field, source values to Rightsize values, e.g.
	// {"stage": {"Discovery": "approach"}, "outcome": {"Gewonnen": "won"}}.
	ValueMaps map[string]map[string]string `json:"value_maps,omitempty"`
	// DateFormat forces how ambiguous dates are read: "iso", "dmy" or "mdy". By
	// default each date column is decided from its own values.
	DateFormat string `json:"date_format,omitempty"`
	// Delimiter forces the field delimiter (",", ";" or "\t"); sniffed by default.
	Delimiter string `json:"delimiter,omitempty"`
	// Pipeline is the deals' pipeline when the file has no pipeline column
	// (default: inferred from the stage name, else "digital").
	Pipeline string `json:"pipeline,omitempty"`
}

// Validate checks the options and names the bad one.
func (o Options) Validate() error {
	switch o.DateFormat {
	case "", "iso", "dmy", "mdy":
	default:
		return &store.FieldError{Field: "date_format", Message: fmt.Sprintf("%q is not iso, dmy or mdy", o.DateFormat)}
	}
	switch o.Delimiter {
	case "", ",", ";", "\t", "tab":
	default:
		return &store.FieldError{Field: "delimiter", Message: fmt.Sprintf("%q is not , ; or tab", o.Delimiter)}
	}
	return nil
}

// Create stores the file, then enqueues its job in the transaction that marks it
// queued. The upload is written chunk by chunk in short transactions so a slow
// client never holds the database's write lock.
func (s *Service) Create(ctx context.Context, act model.Actor, objectType, filename string, r io.Reader, opts Options) (model.Import, error) {
	im, err := s.store(ctx, act, objectType, filename, r, opts)
	if err != nil {
		return im, err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SetImportStatus(ctx, act.Workspace, im.ID, "queued", ""); err != nil {
			return err
		}
		_, err := s.River.InsertTx(ctx, q.Tx(), Args{WorkspaceID: act.Workspace, ImportID: im.ID}, &river.InsertOpts{MaxAttempts: 5})
		return err
	})
	if err != nil {
		return im, fmt.Errorf("importer: enqueue: %w", err)
	}
	return s.St.Read().GetImport(ctx, act.Workspace, im.ID)
}

// CreateLocal stores the file without a job, for callers that run the import in
// their own process (the CLI, which shows a progress bar).
func (s *Service) CreateLocal(ctx context.Context, act model.Actor, objectType, filename string, r io.Reader, opts Options) (model.Import, error) {
	im, err := s.store(ctx, act, objectType, filename, r, opts)
	if err != nil {
		return im, err
	}
	if err := s.St.InTx(ctx, func(q store.Q) error { return q.SetImportStatus(ctx, act.Workspace, im.ID, "queued", "") }); err != nil {
		return im, err
	}
	return s.St.Read().GetImport(ctx, act.Workspace, im.ID)
}

func (s *Service) store(ctx context.Context, act model.Actor, objectType, filename string, r io.Reader, opts Options) (model.Import, error) {
	obj, ok := ObjectTypes[objectType]
	if !ok {
		return model.Import{}, &store.FieldError{Field: "object", Message: fmt.Sprintf("%q is not accounts, contacts, deals, activities or subscriptions", objectType)}
	}
	if err := opts.Validate(); err != nil {
		return model.Import{}, err
	}
	if opts.Pipeline != "" {
		// The workspace's own pipelines (they are editable), not the built-in keys.
		ps, _, err := pipelinePkg.Load(ctx, s.St.Read(), act.Workspace)
		if err != nil {
			return model.Import{}, err
		}
		if _, ok := pipelinePkg.Find(ps, opts.Pipeline); !ok {
			return model.Import{}, &store.FieldError{Field: "pipeline", Message: fmt.Sprintf("%q is not a pipeline (%s)", opts.Pipeline, strings.Join(pipelinePkg.Keys(ps), ", "))}
		}
	}
	raw, _ := json.Marshal(opts)
	im := model.Import{ObjectType: obj, Filename: filename, Options: raw, CreatedBy: act.Label}
	if err := s.St.InTx(ctx, func(q store.Q) error { return q.CreateImport(ctx, act.Workspace, &im) }); err != nil {
		return im, err
	}
	// The upload is checked against the CSV limits as it streams in, so a file
	// with a runaway field or row is refused at once, naming line:column,
	// instead of failing later in the job.
	r = csvin.NewGuard(r, delimRune(opts.Delimiter), csvin.DefaultLimits)
	buf := make([]byte, store.ChunkSize)
	var total int64
	for seq := 0; ; seq++ {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			total += int64(n)
			chunk := buf[:n]
			if err := s.St.InTx(ctx, func(q store.Q) error { return q.AddImportChunk(ctx, im.ID, seq, chunk) }); err != nil {
				return im, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		var le *csvin.LimitError
		if errors.As(rerr, &le) {
			_ = s.St.InTx(ctx, func(q store.Q) error {
				return q.SetImportStatus(ctx, act.Workspace, im.ID, "failed", le.Error())
			})
			return im, &LimitError{Err: le, field: &store.FieldError{Field: "file", Message: le.Error()}}
		}
		if rerr != nil {
			_ = s.St.InTx(ctx, func(q store.Q) error {
				return q.SetImportStatus(ctx, act.Workspace, im.ID, "failed", "upload interrupted: "+rerr.Error())
			})
			return im, fmt.Errorf("importer: upload: %w", rerr)
		}
	}
	if total == 0 {
		_ = s.St.InTx(ctx, func(q store.Q) error {
			return q.SetImportStatus(ctx, act.Workspace, im.ID, "failed", "the file is empty")
		})
		return im, &store.FieldError{Field: "file", Message: "the file is empty"}
	}
	im.Bytes = total
	return im, nil
}

// Args is the River job that runs one import.
type Args struct {
	WorkspaceID int64 `json:"workspace_id"`
	ImportID    int64 `json:"import_id"`
}

// Kind names the job.
func (Args) Kind() string { return "import" }

// Worker runs import jobs.
type Worker struct {
	river.WorkerDefaults[Args]
	Svc *Service
}

// Work runs the import; a file-level problem ends the import as failed without a
// retry (the file will not change), a database error is retried by River, and
// when the last attempt fails the import is marked failed so it never shows
// "running" forever.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	_, err := w.Svc.Run(ctx, job.Args.WorkspaceID, job.Args.ImportID, nil)
	var fe *fileError
	if errors.As(err, &fe) {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) { // the import (or its workspace) was deleted
		return river.JobCancel(err)
	}
	if err != nil && job.Attempt >= job.MaxAttempts && ctx.Err() == nil {
		msg := fmt.Sprintf("gave up after %d attempts: %v", job.Attempt, err)
		if ferr := w.Svc.St.InTx(ctx, func(q store.Q) error {
			return q.SetImportStatus(ctx, job.Args.WorkspaceID, job.Args.ImportID, "failed", msg)
		}); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// LimitError is an upload refused for passing a CSV limit (csvin.Limits):
// the import is marked failed. It is also a field error on "file", so forms
// show it next to the file input.
type LimitError struct {
	Err   *csvin.LimitError
	field *store.FieldError
}

func (e *LimitError) Error() string   { return e.Err.Error() }
func (e *LimitError) Unwrap() []error { return []error{e.Err, e.field} }

// fileError is a problem with the file itself; the import is marked failed.
type fileError struct{ msg string }

func (e *fileError) Error() string { return e.msg }

func decodeOptions(raw []byte) Options {
	var o Options
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &o) // written by store(), from a validated Options
	}
	return o
}

func delimRune(s string) rune {
	switch s {
	case ";":
		return ';'
	case "\t", "tab":
		return '\t'
	case ",":
		return ','
	}
	return 0
}

var _ = strings.TrimSpace
