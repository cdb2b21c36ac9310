// Package export writes records as CSV that is safe to open in a spreadsheet: any
// cell that a spreadsheet would run as a formula (starting with = + - @ tab or CR)
// is prefixed with a single quote (OWASP's recommendation), so an exported contact
// named "=HYPERLINK(...)" stays text.
package export

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Objects lists what can be exported.
var Objects = []string{"accounts", "contacts", "deals", "activities"}

// Neutralize makes a cell safe against spreadsheet formula injection. A value
// that starts with an apostrophe gets one more too, so the import can undo
// exactly what was added (importer: csvin.Unneutralize) and an export imports
// back to the same records.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

func i64(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func custom(c model.Custom) string {
	if len(c) == 0 {
		return ""
	}
	var parts []string
	for k, v := range c {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, ";")
}

// Write streams every record of object in ws to w as CSV, page by page, and
// returns the number of rows written.
func Write(ctx context.Context, st *store.Store, ws int64, object string, w io.Writer) (int64, error) {
	cw := csv.NewWriter(w)
	var n int64
	emit := func(rec []string) error {
		for i := range rec {
			rec[i] = Neutralize(rec[i])
		}
		n++
		return cw.Write(rec)
	}
	q := st.Read()
	p := store.ListParams{Sort: "id", Limit: store.MaxPageSize}
	var err error
	switch object {
	case "accounts":
		err = cw.Write([]string{"id", "external_id", "name", "domain", "employees", "annual_revenue_minor", "budget_minor", "currency", "industry", "region", "owner_id", "segment", "motion", "custom", "created_at"})
		for err == nil {
			var page store.Page[model.Account]
			if page, err = q.ListAccounts(ctx, ws, p, nil); err != nil {
				break
			}
			for _, a := range page.Items {
				if err = emit([]string{strconv.FormatInt(a.ID, 10), a.ExternalID, a.Name, a.Domain, i64(a.Employees), i64(a.AnnualRevenue), i64(a.Budget), a.Currency, a.Industry, a.Region, i64(a.OwnerID), a.Segment, a.Motion, custom(a.Custom), ts(&a.CreatedAt)}); err != nil {
					break
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
	case "contacts":
		err = cw.Write([]string{"id", "external_id", "email", "first_name", "last_name", "title", "phone", "account_id", "lifecycle_stage", "owner_id", "source", "utm_source", "utm_medium", "utm_campaign", "consent_basis", "consent_source", "consent_at", "custom", "created_at"})
		for err == nil {
			var page store.Page[model.Contact]
			if page, err = q.ListContacts(ctx, ws, p, nil); err != nil {
				break
			}
			for _, c := range page.Items {
				if err = emit([]string{strconv.FormatInt(c.ID, 10), c.ExternalID, c.Email, c.FirstName, c.LastName, c.Title, c.Phone, i64(c.AccountID), c.LifecycleStage, i64(c.OwnerID), c.Source, c.UTMSource, c.UTMMedium, c.UTMCampaign, c.ConsentBasis, c.ConsentSource, ts(c.ConsentAt), custom(c.Custom), ts(&c.CreatedAt)}); err != nil {
					break
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
	case "deals":
		err = cw.Write([]string{"id", "external_id", "account_id", "name", "amount_minor", "currency", "pipeline", "stage", "owner_id", "expected_close_date", "outcome", "loss_reason", "closed_at", "custom", "created_at"})
		for err == nil {
			var page store.Page[model.Deal]
			if page, err = q.ListDeals(ctx, ws, p, nil); err != nil {
				break
			}
			for _, d := range page.Items {
				if err = emit([]string{strconv.FormatInt(d.ID, 10), d.ExternalID, i64(d.AccountID), d.Name, strconv.FormatInt(d.Amount, 10), d.Currency, d.Pipeline, d.Stage, i64(d.OwnerID), d.ExpectedCloseDate, d.Outcome, d.LossReason, ts(d.ClosedAt), custom(d.Custom), ts(&d.CreatedAt)}); err != nil {
					break
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
	case "activities":
		err = cw.Write([]string{"id", "external_id", "kind", "subject", "occurred_at", "duration_minutes", "owner_id", "contact_id", "account_id", "deal_id", "participants", "custom"})
		for err == nil {
			var page store.Page[model.Activity]
			if page, err = q.ListActivities(ctx, ws, p, nil); err != nil {
				break
			}
			for _, a := range page.Items {
				if err = emit([]string{strconv.FormatInt(a.ID, 10), a.ExternalID, a.Kind, a.Subject, ts(&a.OccurredAt), strconv.FormatInt(a.DurationMinutes, 10), i64(a.OwnerID), i64(a.ContactID), i64(a.AccountID), i64(a.DealID), strings.Join(a.Participants, ";"), custom(a.Custom)}); err != nil {
					break
				}
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
	default:
		return 0, &store.FieldError{Field: "object", Message: fmt.Sprintf("%q is not one of %s", object, strings.Join(Objects, ", "))}
	}
	if err != nil {
		return n, fmt.Errorf("export %s: %w", object, err)
	}
	cw.Flush()
	return n, cw.Error()
}

// WriteImportErrors streams an import's rejected rows as CSV (line, column, field,
// reason, raw) a page at a time, so a file of a million bad rows never sits in
// memory. The import must belong to ws (else no rows). Cells are formula-safe: they
// echo what someone uploaded.
func WriteImportErrors(ctx context.Context, st *store.Store, ws, importID int64, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "column", "field", "reason", "raw"}); err != nil {
		return err
	}
	var line, col int64
	for {
		page, err := st.Read().ImportErrorsAfter(ctx, ws, importID, line, col, 5000)
		if err != nil {
			return err
		}
		for _, e := range page {
			rec := []string{strconv.FormatInt(e.Line, 10), strconv.FormatInt(e.Col, 10), Neutralize(e.Field), Neutralize(e.Reason), Neutralize(e.Raw)}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		if len(page) < 5000 {
			break
		}
		line, col = page[len(page)-1].Line, page[len(page)-1].Col
	}
	cw.Flush()
	return cw.Error()
}
