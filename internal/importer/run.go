package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Summary is what an import decided, stored with it and shown in its report.
type Summary struct {
	Delimiter   string            `json:"delimiter"`
	Columns     map[string]string `json:"columns"`                   // header → field
	Ignored     []string          `json:"ignored_columns,omitempty"` // headers not imported
	DateFormats map[string]string `json:"date_formats,omitempty"`    // header → decision
	Unlinked    map[string]int64  `json:"unlinked,omitempty"`        // implicit links that found nothing
	// MQLs counts contacts the import made MQLs, by what speed-to-lead did with
	// them: "assigned" to an LDR, or "unassigned" (the reason is in each one's history).
	MQLs map[string]int64 `json:"mqls,omitempty"`
	// GatesUnmet counts deals imported into a stage whose earlier stages' exit
	// criteria they do not meet; each is flagged needs_review with a
	// "gates_unmet: …" reason. GatesUnmetDeals lists their ids (the first 1,000).
	GatesUnmet      int64   `json:"gates_unmet,omitempty"`
	GatesUnmetDeals []int64 `json:"gates_unmet_deal_ids,omitempty"`
}

// val is one parsed cell.
type val struct {
	set bool
	s   string
	n   int64
	f   float64
	b   bool
	t   time.Time
}

type rowErr struct {
	col    int
	column string
	reason string
}

// job is the state of one import run.
// analyzeAfterRows: smaller imports leave the statistics to autovacuum.
const analyzeAfterRows = 20_000

// isPowerOf4 is n in 1, 4, 16, 64, …: ANALYZE after those batches keeps
// the statistics within a factor of four of the table an import grows, at
// a handful of ANALYZEs however long the file.
func isPowerOf4(n int64) bool { return n > 0 && n&(n-1) == 0 && n&0x5555555555555555 != 0 }

// bulkTables are the tables an import of each object grows.
var bulkTables = map[string]string{"contact": "contacts", "account": "accounts", "deal": "deals"}

type job struct {
	batches  int64 // batches written
	s        *Service
	ctx      context.Context
	ws       int64
	im       *model.Import
	obj      string
	opts     Options
	cols     []column
	idx      map[string]int // field name → position in cols
	nf       csvin.NumberFormat
	delim    rune
	currency string
	members  map[string]int64
	sum      *Summary
	pipes    []model.PipelineDef // the workspace's pipelines, loaded by the first deal batch
	// running totals, persisted with each batch (writer side)
	rows, accepted, rejected, merged int64
	batch                            []pending           // the batch being written
	errs                             []model.ImportError // its rejections
	cur                              *parsed             // the batch being read (reader side)
	progress                         func(model.Import)
}

// pending is a parsed row waiting for its batch to be written.
type pending struct {
	line   int
	raw    string
	vals   []val
	custom model.Custom
}

// Run executes (or resumes) import id of ws and returns its final state. progress,
// when not nil, is called after every batch.
func (s *Service) Run(ctx context.Context, ws, id int64, progress func(model.Import)) (model.Import, error) {
	im, err := s.St.Read().GetImport(ctx, ws, id)
	if err != nil {
		return im, err
	}
	if im.Status == "done" || im.Status == "failed" {
		return im, nil
	}
	if err := s.St.InTx(ctx, func(q store.Q) error { return q.SetImportStatus(ctx, ws, id, "running", "") }); err != nil {
		return im, err
	}
	j := &job{s: s, ctx: ctx, ws: ws, im: &im, obj: im.ObjectType, opts: decodeOptions(im.Options), progress: progress,
		rows: im.Rows, accepted: im.Accepted, rejected: im.Rejected, merged: im.Merged,
		sum: &Summary{Columns: map[string]string{}, DateFormats: map[string]string{}, Unlinked: map[string]int64{}, MQLs: map[string]int64{}}}
	runErr := j.run()
	var fe *fileError
	switch {
	case errors.As(runErr, &fe):
		err = s.St.InTx(ctx, func(q store.Q) error {
			if err := q.SetImportSummary(ctx, ws, id, j.sum); err != nil {
				return err
			}
			return q.SetImportStatus(ctx, ws, id, "failed", storable(fe.msg))
		})
	case runErr != nil:
		return im, fmt.Errorf("importer: run %d: %w", id, runErr)
	default:
		err = s.St.InTx(ctx, func(q store.Q) error {
			if err := q.SetImportSummary(ctx, ws, id, j.sum); err != nil {
				return err
			}
			if err := q.DeleteImportChunks(ctx, id); err != nil {
				return err
			}
			return q.SetImportStatus(ctx, ws, id, "done", "")
		})
	}
	if err != nil {
		return im, err
	}
	final, err := s.St.Read().GetImport(ctx, ws, id)
	if err != nil {
		return final, err
	}
	return final, runErr
}

func (j *job) open() (*csvin.Reader, error) {
	r, err := csvin.Open(j.s.St.ImportReader(j.ctx, j.ws, j.im.ID), csvin.Options{Delimiter: delimRune(j.opts.Delimiter)})
	if err != nil {
		var he *csvin.HeaderError
		var fe *csvin.FatalError
		if errors.As(err, &he) || errors.As(err, &fe) {
			return nil, &fileError{msg: "line 1: " + err.Error()}
		}
		if j.ctx.Err() != nil {
			return nil, j.ctx.Err()
		}
		return nil, &fileError{msg: err.Error()}
	}
	return r, nil
}

var required = map[string]string{"contact": "email", "account": "name", "deal": "name", "activity": "kind", "subscription": "start_date"}

func (j *job) run() error {
	q := j.s.St.Read()
	customs, err := q.CustomFields(j.ctx, j.ws, j.obj)
	if err != nil {
		return err
	}
	w, err := q.GetWorkspace(j.ctx, j.ws)
	if err != nil {
		return err
	}
	j.currency = w.Currency
	members, err := q.WorkspaceMembers(j.ctx, j.ws)
	if err != nil {
		return err
	}
	j.members = map[string]int64{}
	for _, m := range members {
		j.members[m.UserEmail] = m.UserID
	}
	r, err := j.open()
	if err != nil {
		return err
	}
	j.delim = r.Delimiter()
	j.nf = r.NumberFormat()
	j.sum.Delimiter = string(j.delim)
	cols, ignored, err := planColumns(j.obj, r.Header(), j.opts, customs)
	if err != nil {
		return &fileError{msg: err.Error()}
	}
	j.cols, j.sum.Ignored = cols, ignored
	j.idx = map[string]int{}
	for i, c := range cols {
		name := c.t.name
		if c.custom != nil {
			name = "custom." + c.custom.Key
		}
		j.idx[name] = i
		j.sum.Columns[c.header] = name
	}
	if _, ok := j.idx[required[j.obj]]; !ok {
		return &fileError{msg: fmt.Sprintf("line 1: no column for the required field %q (columns: %s); map one with a mapping", required[j.obj], strings.Join(r.Header(), ", "))}
	}
	if err := j.decideDates(); err != nil {
		return err
	}
	batchSize := j.s.BatchSize
	if batchSize <= 0 {
		batchSize = 5_000
	}
	// Reading and parsing run here while the previous batch is written on another
	// goroutine (one batch in flight): on two cores the parse hides behind the write.
	batches := make(chan *parsed, 1)
	failed := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		for b := range batches {
			if err := j.write(b); err != nil {
				close(failed)
				werr <- err
				for range batches { // let the reader finish its send
				}
				return
			}
		}
		werr <- nil
	}()
	send := func() bool {
		b := j.cur
		j.cur = &parsed{}
		select {
		case batches <- b:
			return true
		case <-failed:
			return false
		}
	}
	readErr := j.read(r, batchSize, send)
	if j.cur.n > 0 {
		send()
	}
	close(batches)
	if err := <-werr; err != nil {
		return err
	}
	return readErr
}

// parsed is a batch of rows read and parsed, waiting to be written.
type parsed struct {
	rows []pending
	errs []model.ImportError // rows rejected while parsing
	n    int64               // records read, rejected ones included
}

// read streams the file into batches of batchSize, skipping the records a previous
// run already committed; send hands a full batch to the writer (false: the writer
// failed, stop). A file that cannot be read further ends with a fileError after the
// rows before it are handed over.
func (j *job) read(r *csvin.Reader, batchSize int, send func() bool) error {
	skip := j.rows
	var n int64
	j.cur = &parsed{}
	for {
		row, err := r.Next()
		if err == io.EOF {
			return nil
		}
		var re *csvin.RowError
		if errors.As(err, &re) {
			n++
			if n <= skip {
				continue
			}
			j.cur.n++
			j.reject(row.Line, j.rawRow(row.Fields), rowErr{col: re.Col, column: re.Column, reason: re.Reason}, re.Line)
			continue
		}
		if err != nil {
			var fe *csvin.FatalError
			if errors.As(err, &fe) {
				return &fileError{msg: fmt.Sprintf("line %d:%d: %s; rows before it were imported", fe.Line, fe.Col, fe.Reason)}
			}
			if j.ctx.Err() != nil {
				return j.ctx.Err()
			}
			return &fileError{msg: err.Error()}
		}
		n++
		if n <= skip {
			continue
		}
		j.cur.n++
		j.add(row)
		if len(j.cur.rows)+len(j.cur.errs) >= batchSize {
			if !send() {
				return nil // the writer's error is the one to report
			}
		}
	}
}

// write commits one parsed batch.
func (j *job) write(b *parsed) error {
	j.batch, j.errs = b.rows, b.errs
	j.rows += b.n
	j.rejected += int64(len(b.errs))
	return j.flush()
}

func (j *job) decideDates() error {
	var dateCols []int
	for i, c := range j.cols {
		if c.t.kind == kDate || c.t.kind == kTime || (c.custom != nil && c.custom.Type == "date") {
			dateCols = append(dateCols, i)
		}
	}
	if len(dateCols) == 0 {
		return nil
	}
	if j.opts.DateFormat != "" {
		l, err := csvin.ParseLayout(j.opts.DateFormat)
		if err != nil {
			return &fileError{msg: err.Error()}
		}
		for _, i := range dateCols {
			j.cols[i].date = l
			j.sum.DateFormats[j.cols[i].header] = "forced: " + l.String()
		}
		return nil
	}
	// First streaming pass: each date column decides its own day/month order.
	r, err := j.open()
	if err != nil {
		return err
	}
	dets := make([]csvin.DateDetector, len(dateCols))
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *csvin.RowError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			break // the second pass reports it with its position
		}
		for k, i := range dateCols {
			if c := j.cols[i].idx; c < len(row.Fields) {
				dets[k].Add(row.Fields[c], row.Line)
			}
		}
	}
	for k, i := range dateCols {
		d, err := dets[k].Decide()
		if err != nil {
			// Contradicting values: only unambiguous dates are accepted and the
			// ambiguous ones are rejected with this reason.
			j.cols[i].date = csvin.LayoutUnknown
			j.sum.DateFormats[j.cols[i].header] = "undecided: " + err.Error()
			continue
		}
		j.cols[i].date = d.Layout
		j.sum.DateFormats[j.cols[i].header] = d.Reason
	}
	return nil
}

func (j *job) rawRow(fields []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = j.delim
	_ = w.Write(fields)
	w.Flush()
	return storable(strings.TrimRight(b.String(), "\r\n"))
}

// storable shows a NUL or invalid UTF-8 (why a row may have been rejected,
// in its raw text, a header or a reason quoting the cell) as U+FFFD, so the
// rejection itself can be stored on PostgreSQL.
func storable(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

func (j *job) reject(line int, raw string, e rowErr, errLine int) {
	if errLine == 0 {
		errLine = line
	}
	j.cur.errs = append(j.cur.errs, model.ImportError{Line: int64(errLine), Col: int64(e.col), Field: storable(e.column), Reason: storable(e.reason), Raw: raw})
}

// add parses one row into a pending record, or rejects it naming the cell.
func (j *job) add(row csvin.Row) {
	vals := make([]val, len(j.cols))
	var custom model.Custom
	for i := range j.cols {
		c := &j.cols[i]
		s := strings.TrimSpace(csvin.Unneutralize(strings.TrimSpace(row.Fields[c.idx])))
		if c.values != nil {
			if m, ok := c.values[strings.ToLower(s)]; ok {
				s = m
			}
		}
		if s == "" {
			continue
		}
		v, err := j.parse(c, s)
		if err != nil {
			line, col := row.Pos(c.idx)
			j.reject(row.Line, j.rawRow(row.Fields), rowErr{col: col, column: c.header, reason: err.Error()}, line)
			return
		}
		if c.custom != nil {
			if custom == nil {
				custom = model.Custom{}
			}
			custom[c.custom.Key] = customValue(c.custom, v)
			continue
		}
		vals[i] = v
	}
	j.cur.rows = append(j.cur.rows, pending{line: row.Line, raw: j.rawRowLazy(row.Fields), vals: vals, custom: custom})
}

// rawRowLazy keeps the fields so a row rejected at write time (a conflict) can still
// be shown; it is only encoded when needed.
func (j *job) rawRowLazy(fields []string) string {
	return strings.Join(fields, "\x00")
}

func (j *job) rawOf(p pending) string { return j.rawRow(strings.Split(p.raw, "\x00")) }

func customValue(cf *model.CustomField, v val) any {
	switch cf.Type {
	case "number":
		return v.f
	case "bool":
		return v.b
	}
	return v.s
}

func (j *job) parse(c *column, s string) (val, error) {
	if c.custom != nil {
		switch c.custom.Type {
		case "number":
			n, _, err := j.nf.ParseFixed(s, 6)
			if err != nil {
				return val{}, err
			}
			return val{set: true, f: float64(n) / 1e6}, nil
		case "bool":
			b, _, err := csvin.ParseBool(s)
			if err != nil {
				return val{}, err
			}
			return val{set: true, b: b}, nil
		case "date":
			t, err := csvin.ParseDate(s, c.date)
			if err != nil {
				return val{}, err
			}
			return val{set: true, s: t.Format("2006-01-02")}, nil
		case "enum":
			m, err := csvin.MatchEnum(s, c.custom.Options, nil)
			if err != nil {
				return val{}, err
			}
			return val{set: true, s: m}, nil
		}
		if len(s) > 2000 {
			return val{}, fmt.Errorf("longer than 2000 characters")
		}
		return val{set: true, s: s}, nil
	}
	switch c.t.kind {
	case kEmail:
		e, err := csvin.NormalizeEmail(s)
		if err != nil {
			return val{}, err
		}
		return val{set: true, s: e}, nil
	case kDomain:
		d, err := csvin.NormalizeDomain(s)
		if err != nil {
			return val{}, err
		}
		return val{set: true, s: d}, nil
	case kInt:
		n, _, err := j.nf.ParseInt(s)
		if err != nil {
			return val{}, err
		}
		if n < 0 {
			return val{}, fmt.Errorf("%q must not be negative", s)
		}
		return val{set: true, n: n}, nil
	case kMoney:
		n, _, err := j.nf.ParseMoney(s)
		if err != nil {
			return val{}, err
		}
		if n < 0 {
			return val{}, fmt.Errorf("%q must not be negative", s)
		}
		return val{set: true, n: n}, nil
	case kDate:
		t, err := csvin.ParseDate(s, c.date)
		if err != nil {
			return val{}, err
		}
		return val{set: true, s: t.Format("2006-01-02"), t: t}, nil
	case kTime:
		t, err := csvin.ParseDate(s, c.date)
		if err != nil {
			return val{}, err
		}
		return val{set: true, t: t.UTC().Truncate(time.Microsecond)}, nil
	case kEnum, kOutcome:
		m, err := c.t.enum.Match(s)
		if err != nil {
			return val{}, err
		}
		return val{set: true, s: m}, nil
	case kCurrency:
		u := strings.ToUpper(s)
		if len(u) != 3 || strings.Trim(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return val{}, fmt.Errorf("%q is not a 3-letter currency code", s)
		}
		return val{set: true, s: u}, nil
	case kList:
		return val{set: true, s: s}, nil
	case kBool:
		b, _, err := csvin.ParseBool(s)
		if err != nil {
			return val{}, err
		}
		return val{set: true, b: b}, nil
	}
	if c.t.max > 0 && len(s) > c.t.max {
		return val{}, fmt.Errorf("longer than %d characters", c.t.max)
	}
	return val{set: true, s: s}, nil
}

// get returns the parsed value of field in p (zero when the file has no such column).
func (j *job) get(p *pending, field string) val {
	if i, ok := j.idx[field]; ok {
		return p.vals[i]
	}
	return val{}
}

func (j *job) has(field string) bool { _, ok := j.idx[field]; return ok }

// flush writes the batch, its rejections and the running counts in one transaction.
func (j *job) flush() error {
	if len(j.batch) == 0 && len(j.errs) == 0 {
		return nil
	}
	err := j.s.St.InTx(j.ctx, func(q store.Q) error {
		var err error
		switch j.obj {
		case "contact":
			err = j.writeContacts(q)
		case "account":
			err = j.writeAccounts(q)
		case "deal":
			err = j.writeDeals(q)
		case "activity":
			err = j.writeActivities(q)
		case "subscription":
			err = j.writeSubscriptions(q)
		}
		if err != nil {
			return err
		}
		if err := q.AddImportErrors(j.ctx, j.im.ID, j.errs); err != nil {
			return err
		}
		return q.SetImportCounts(j.ctx, j.ws, j.im.ID, j.rows, j.accepted, j.rejected, j.merged)
	})
	if err != nil {
		return err
	}
	faults.Point(faults.ImportAfterBatch)
	j.batches++
	if t := bulkTables[j.obj]; t != "" && j.rows >= analyzeAfterRows && isPowerOf4(j.batches) {
		// PostgreSQL's statistics follow the table as a large import grows
		// it (isPowerOf4). At 1M contacts this took the import from about
		// 30,000 to over 40,000 rows/s (docs/benchmarks.md). Statistics are
		// an optimisation: a failure is logged and the import goes on.
		if err := j.s.St.AnalyzeTable(j.ctx, t); err != nil {
			slog.WarnContext(j.ctx, "import: statistics not refreshed", "import", j.im.ID, "err", err)
		}
	}
	j.batch, j.errs = nil, nil
	if j.progress != nil {
		im := *j.im
		im.Rows, im.Accepted, im.Rejected, im.Merged, im.Status = j.rows, j.accepted, j.rejected, j.merged, "running"
		j.progress(im)
	}
	return nil
}

// rejectPending turns a parsed row into a rejection at write time (a reference or
// uniqueness problem found against the database).
func (j *job) rejectPending(p *pending, field, reason string) {
	col := 0
	header := field
	if i, ok := j.idx[field]; ok {
		header = j.cols[i].header
		col = j.colOf(p, j.cols[i].idx)
	}
	j.rejected++
	j.errs = append(j.errs, model.ImportError{Line: int64(p.line), Col: int64(col), Field: storable(header), Reason: storable(reason), Raw: j.rawOf(*p)})
}

// colOf computes the byte column of field index fi in a pending row's line (valid
// for rows without embedded newlines before that field, which is what a
// reference column almost always is).
func (j *job) colOf(p *pending, fi int) int {
	fields := strings.Split(p.raw, "\x00")
	col := 1
	for k := 0; k < fi && k < len(fields); k++ {
		f := fields[k]
		if strings.ContainsAny(f, "\"\r\n") || strings.ContainsRune(f, j.delim) {
			col += len(f) + 2 + strings.Count(f, "\"")
		} else {
			col += len(f)
		}
		col++
	}
	return col
}

func (j *job) owner(p *pending) (*int64, string) {
	v := j.get(p, "owner_email")
	if !v.set {
		return nil, ""
	}
	id, ok := j.members[v.s]
	if !ok {
		return nil, fmt.Sprintf("%q is not a member of this workspace", v.s)
	}
	return &id, ""
}

func opt[T any](v T) *T { return &v }
