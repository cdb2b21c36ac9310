package economics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// A spend file is small (a ledger has a few rows per month and channel), so it
// is read and written in one transaction and answered at once, instead of the
// durable chunked job the record importer uses. It shares that importer's CSV
// reader (internal/importer/csvin): BOM, delimiter sniffing, line:column
// positions, number notation and enum suggestions behave the same.

// MaxSpendRows bounds one spend import.
const MaxSpendRows = 100_000

// spendColumns maps header spellings to fields.
var spendColumns = map[string]string{
	"month": "month", "period": "month", "date": "month", "booked_month": "month",
	"amount": "amount", "cost": "amount", "spend": "amount", "value": "amount",
	"currency": "currency", "ccy": "currency",
	"category": "category", "type": "category", "cost_category": "category",
	"channel": "channel", "source": "channel",
	"segment": "segment", "motion": "motion",
	"note": "note", "notes": "note", "description": "note", "memo": "note",
	"external_id": "external_id", "id": "external_id", "reference": "external_id", "ref": "external_id",
}

var requiredSpendColumns = []string{"month", "amount", "category"}

// ImportError is one rejected row: where, which column and why.
type ImportError struct {
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	Raw    string `json:"raw,omitempty"`
}

// ImportReport reconciles a spend import: Rows = Accepted + Merged + Rejected.
// Accepted rows created an entry; Merged rows updated the entry (stored, or
// from an earlier row of the file) that their external_id names.
type ImportReport struct {
	Filename       string        `json:"filename,omitempty"`
	Rows           int           `json:"rows"`
	Accepted       int           `json:"accepted"`
	Merged         int           `json:"merged"`
	Rejected       int           `json:"rejected"`
	Reconciles     bool          `json:"reconciles"`
	Delimiter      string        `json:"delimiter"`
	Columns        []string      `json:"columns"`
	IgnoredColumns []string      `json:"ignored_columns"`
	Errors         []ImportError `json:"errors"`
}

// FileError is a problem with the file as a whole (its header, an unclosed
// quote); nothing of it was imported. Line and Column are 0 when unknown.
type FileError struct {
	Line, Column int
	Reason       string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d:%d: %s", e.Line, e.Column, e.Reason)
	}
	return e.Reason
}

type spendRow struct {
	line  int
	raw   string
	cols  []int // byte column of each field
	e     model.SpendEntry
	set   map[string]bool // fields the row gave a non-blank value
	extID string
}

// ImportSpend reads a spend CSV (header: month, amount, category; optional
// currency, channel, segment, motion, note, external_id — common spellings
// accepted) into the actor's workspace. Each row is checked like an API
// entry; a bad row is rejected with its line:column and reason and the rest go
// on. A row whose external_id is already stored, or repeats an earlier row,
// is merged: its non-blank cells overwrite, blank cells keep the value. The
// file is written in one transaction; a file-level problem is a *FileError.
func (s *Service) ImportSpend(ctx context.Context, act model.Actor, filename string, r io.Reader) (ImportReport, error) {
	rep := ImportReport{Filename: filename, Columns: []string{}, IgnoredColumns: []string{}, Errors: []ImportError{}}
	cr, err := csvin.Open(r, csvin.Options{})
	if err != nil {
		var he *csvin.HeaderError
		if errors.As(err, &he) {
			return rep, &FileError{Line: 1, Column: he.Column, Reason: "header: " + he.Reason}
		}
		return rep, &FileError{Reason: err.Error()}
	}
	rep.Delimiter = string(cr.Delimiter())
	idx := map[string]int{}
	for i, h := range cr.Header() {
		f, ok := spendColumns[normKey(h)]
		if !ok {
			rep.IgnoredColumns = append(rep.IgnoredColumns, h)
			continue
		}
		if _, dup := idx[f]; dup {
			return rep, &FileError{Line: cr.HeaderLine(), Column: i + 1, Reason: fmt.Sprintf("header: columns %q and %q both give the %s", cr.Header()[idx[f]], h, f)}
		}
		idx[f] = i
		rep.Columns = append(rep.Columns, f)
	}
	for _, f := range requiredSpendColumns {
		if _, ok := idx[f]; !ok {
			return rep, &FileError{Line: cr.HeaderLine(), Reason: fmt.Sprintf("header: no %s column (a spend file needs month, amount and category)", f)}
		}
	}
	var rows []*spendRow
	nf := cr.NumberFormat()
	for {
		row, err := cr.Next()
		if err == io.EOF {
			break
		}
		var fe *csvin.FatalError
		if errors.As(err, &fe) {
			return rep, &FileError{Line: fe.Line, Column: fe.Col, Reason: fe.Reason}
		}
		var re *csvin.RowError
		if errors.As(err, &re) {
			rep.Rows++
			field := re.Column
			if f, ok := spendColumns[normKey(re.Column)]; ok {
				field = f
			}
			rep.reject(re.Line, re.Col, field, re.Reason, strings.Join(row.Fields, string(cr.Delimiter())))
			continue
		}
		if err != nil {
			return rep, &FileError{Reason: err.Error()}
		}
		rep.Rows++
		if rep.Rows > MaxSpendRows {
			return rep, &FileError{Line: row.Line, Reason: fmt.Sprintf("more than %d rows; split the file", MaxSpendRows)}
		}
		sr := &spendRow{line: row.Line, raw: strings.Join(row.Fields, string(cr.Delimiter())), set: map[string]bool{}}
		sr.cols = make([]int, len(row.Fields))
		for i := range row.Fields {
			sr.cols[i] = row.Col(i)
		}
		get := func(f string) (string, int) {
			i, ok := idx[f]
			if !ok {
				return "", 0
			}
			v := strings.TrimSpace(row.Fields[i])
			if v != "" {
				sr.set[f] = true
			}
			return v, sr.cols[i]
		}
		bad := func(f string, col int, reason string) {
			rep.reject(sr.line, col, f, reason, sr.raw)
			sr = nil
		}
		e := &sr.e
		for _, f := range []string{"month", "currency", "category", "channel", "segment", "motion", "note", "external_id"} {
			v, _ := get(f)
			switch f {
			case "month":
				e.Month = v
			case "currency":
				e.Currency = v
			case "category":
				e.Category = v
			case "channel":
				e.Channel = v
			case "segment":
				e.Segment = v
			case "motion":
				e.Motion = v
			case "note":
				e.Note = v
			case "external_id":
				e.ExternalID = v
			}
		}
		sr.extID = e.ExternalID
		if amount, col := get("amount"); amount != "" {
			// Decimals of the row's currency; a row without one is read with 2
			// and checked against the workspace currency below.
			n, _, err := nf.ParseFixed(amount, Digits(strings.ToUpper(e.Currency)))
			if err != nil {
				bad("amount", col, err.Error())
				continue
			}
			e.Amount = n
		}
		rows = append(rows, sr)
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		wsCur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		stored, err := q.SpendByExternalID(ctx, act.Workspace)
		if err != nil {
			return err
		}
		inFile := map[string]*model.SpendEntry{}
		for _, sr := range rows {
			e := sr.e
			if sr.extID != "" {
				prev, ok := inFile[sr.extID]
				if !ok {
					if st, found := stored[sr.extID]; found {
						prev = &st
					}
				}
				if prev != nil {
					e = mergeSpend(*prev, sr.e, sr.set)
				}
			}
			if e.ID == 0 && !sr.set["amount"] {
				rep.reject(sr.line, sr.col(idx, "amount"), "amount", "is blank", sr.raw)
				continue
			}
			if err := ValidateSpend(&e, wsCur); err != nil {
				var fe *store.FieldError
				if !errors.As(err, &fe) {
					return err
				}
				rep.reject(sr.line, sr.col(idx, fe.Field), fe.Field, fe.Message, sr.raw)
				continue
			}
			if sr.set["amount"] && !sr.set["currency"] && Digits(e.Currency) != 2 {
				// The amount was read with 2 decimals before the workspace
				// currency was known; a 0- or 3-decimal currency needs it named.
				rep.reject(sr.line, sr.col(idx, "amount"), "amount", fmt.Sprintf("add a currency column: %s has %d decimals", e.Currency, Digits(e.Currency)), sr.raw)
				continue
			}
			if e.ID != 0 {
				if err := q.UpdateSpend(ctx, act.Workspace, &e); err != nil {
					return err
				}
				rep.Merged++
			} else {
				if err := q.CreateSpend(ctx, act.Workspace, &e); err != nil {
					return err
				}
				rep.Accepted++
			}
			if e.ExternalID != "" {
				saved := e
				inFile[e.ExternalID] = &saved
			}
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "spend_import", "spend", nil, map[string]any{"filename": filename, "rows": rep.Rows, "accepted": rep.Accepted, "merged": rep.Merged, "rejected": rep.Rejected})
	})
	if err != nil {
		return rep, err
	}
	// Rows checked while reading and rows checked while writing, in file order.
	sort.SliceStable(rep.Errors, func(i, j int) bool {
		a, b := rep.Errors[i], rep.Errors[j]
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	})
	rep.Reconciles = rep.Rows == rep.Accepted+rep.Merged+rep.Rejected
	return rep, nil
}

// mergeSpend overwrites prev with the row's non-blank cells.
func mergeSpend(prev, row model.SpendEntry, set map[string]bool) model.SpendEntry {
	out := prev
	if set["month"] {
		out.Month = row.Month
	}
	if set["amount"] {
		out.Amount = row.Amount
	}
	if set["currency"] {
		out.Currency = row.Currency
	}
	if set["category"] {
		out.Category = row.Category
	}
	if set["channel"] {
		out.Channel = row.Channel
	}
	if set["segment"] || set["motion"] {
		// Attribution changes as a pair: a row naming one keeps the other.
		if set["segment"] {
			out.Segment = row.Segment
		}
		if set["motion"] {
			out.Motion = row.Motion
		}
	}
	if set["note"] {
		out.Note = row.Note
	}
	return out
}

// col is the byte column of field f in the row (that of its first cell when
// the file has no such column).
func (sr *spendRow) col(idx map[string]int, f string) int {
	if i, ok := idx[f]; ok && i < len(sr.cols) {
		return sr.cols[i]
	}
	if len(sr.cols) > 0 {
		return sr.cols[0]
	}
	return 1
}

func (rep *ImportReport) reject(line, col int, field, reason, raw string) {
	rep.Rejected++
	if len(raw) > 2000 {
		raw = raw[:2000]
	}
	if len(rep.Errors) < 1000 {
		rep.Errors = append(rep.Errors, ImportError{Line: line, Column: col, Field: field, Reason: reason, Raw: raw})
	}
}
