package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rightsize/rightsize/internal/model"
)

const contactCols = `id, external_id, email, first_name, last_name, title, phone, account_id, lifecycle_stage, owner_id, source, utm_source, utm_medium, utm_campaign, consent_basis, consent_source, consent_at, custom, created_at, updated_at`

var contactList = listSpec{
	table: "contacts",
	cols:  contactCols,
	fields: map[string]fieldSpec{
		"id": {"id", fID, true}, "email": {"email", fText, true}, "external_id": {"external_id", fText, false},
		"first_name": {"first_name", fText, true}, "last_name": {"last_name", fText, true}, "title": {"title", fText, true},
		"phone": {"phone", fText, false}, "account_id": {"account_id", fID, false}, "lifecycle_stage": {"lifecycle_stage", fText, true},
		"owner_id": {"owner_id", fID, false}, "source": {"source", fText, true}, "utm_source": {"utm_source", fText, false},
		"utm_medium": {"utm_medium", fText, false}, "utm_campaign": {"utm_campaign", fText, false},
		"consent_basis": {"consent_basis", fText, false}, "created_at": {"created_at", fTime, true}, "updated_at": {"updated_at", fTime, true},
	},
	search: []string{"email", "first_name", "last_name"},
	fts:    "contacts_fts",
	trgm:   "LOWER(email || ' ' || first_name || ' ' || last_name)",
	// Validated against model.LifecycleStages (lower-cased) and NormalizeEmail.
	lower: map[string]bool{"lifecycle_stage": true, "email": true},
	// Newest first by id: contacts get created_at = now at insert, so id order is
	// creation order, and the rowid needs no index and no sort.
	defSort: "-id",
}

func scanContact(r rowScanner, extra ...any) (model.Contact, int64, error) {
	var c model.Contact
	var ext sql.NullString
	var acct, owner sql.NullInt64
	var consent, created, updated dbTime
	var custom jsonText
	dest := append([]any{&c.ID, &ext, &c.Email, &c.FirstName, &c.LastName, &c.Title, &c.Phone, &acct, &c.LifecycleStage, &owner, &c.Source, &c.UTMSource, &c.UTMMedium, &c.UTMCampaign, &c.ConsentBasis, &c.ConsentSource, &consent, &custom, &created, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return c, 0, err
	}
	c.ExternalID = str(ext)
	c.AccountID, c.OwnerID = intPtr(acct), intPtr(owner)
	c.ConsentAt = consent.ptr()
	c.Custom = decodeCustom(custom)
	c.CreatedAt, c.UpdatedAt = created.T, updated.T
	return c, c.ID, nil
}

// GetContact loads one contact of workspace ws.
func (q Q) GetContact(ctx context.Context, ws, id int64) (model.Contact, error) {
	query, args := q.scopedOne(`SELECT `+contactCols+` FROM contacts WHERE workspace_id = $1 AND id = $2`, "contacts", ws, id)
	c, _, err := scanContact(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: get contact %d: %w", id, err)
	}
	return c, nil
}

// ContactByEmail finds a contact by normalised email.
func (q Q) ContactByEmail(ctx context.Context, ws int64, email string) (model.Contact, error) {
	query, args := q.scopedOne(`SELECT `+contactCols+` FROM contacts WHERE workspace_id = $1 AND email = $2`, "contacts", ws, email)
	c, _, err := scanContact(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: contact by email: %w", err)
	}
	return c, nil
}

func contactArgs(ws int64, c *model.Contact) []any {
	return []any{ws, nullStr(c.ExternalID), c.Email, c.FirstName, c.LastName, c.Title, c.Phone, nullInt(c.AccountID), c.LifecycleStage, nullInt(c.OwnerID), c.Source, c.UTMSource, c.UTMMedium, c.UTMCampaign, c.ConsentBasis, c.ConsentSource, nullTime(c.ConsentAt), encodeCustom(c.Custom)}
}

// CreateContact inserts c and sets its id and timestamps.
func (q Q) CreateContact(ctx context.Context, ws int64, c *model.Contact) error {
	now := Now()
	c.CreatedAt, c.UpdatedAt = now, now
	args := append(contactArgs(ws, c), now)
	err := q.db.QueryRowContext(ctx, `INSERT INTO contacts (workspace_id, external_id, email, first_name, last_name, title, phone, account_id, lifecycle_stage, owner_id, source, utm_source, utm_medium, utm_campaign, consent_basis, consent_source, consent_at, custom, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$19) RETURNING id`, args...).Scan(&c.ID)
	if err != nil {
		return wrapWrite("create contact", err)
	}
	return nil
}

// UpdateContact writes every field of c.
func (q Q) UpdateContact(ctx context.Context, ws int64, c *model.Contact) error {
	c.UpdatedAt = Now()
	args := append(contactArgs(ws, c), c.UpdatedAt, c.ID)
	res, err := q.db.ExecContext(ctx, `UPDATE contacts SET external_id=$2, email=$3, first_name=$4, last_name=$5, title=$6, phone=$7, account_id=$8, lifecycle_stage=$9, owner_id=$10, source=$11, utm_source=$12, utm_medium=$13, utm_campaign=$14, consent_basis=$15, consent_source=$16, consent_at=$17, custom=$18, updated_at=$19
		WHERE workspace_id=$1 AND id=$20`, args...)
	return affected(res, err, "update contact")
}

// SetContactOwner sets only the owner of contact id, leaving updated_at alone:
// it is part of the change that caused it (an MQL promotion assigning an LDR),
// and scoring tells a contact no one touched since it was promoted by updated_at.
func (q Q) SetContactOwner(ctx context.Context, ws, id, ownerID int64) error {
	res, err := q.db.ExecContext(ctx, `UPDATE contacts SET owner_id=$3 WHERE workspace_id=$1 AND id=$2`, ws, id, ownerID)
	return affected(res, err, "set contact owner")
}

// DeleteContact removes a contact; its activities stay, unlinked.
func (q Q) DeleteContact(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM contacts WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete contact")
}

// ListContacts pages through contacts.
func (q Q) ListContacts(ctx context.Context, ws int64, p ListParams, customTypes map[string]string) (Page[model.Contact], error) {
	bl, err := buildList(q, contactList, ws, p, customTypes)
	if err != nil {
		return Page[model.Contact]{}, err
	}
	page, err := runList(ctx, q, "contacts", bl, scanContact)
	if err == nil && p.Count {
		page.Total, err = q.count(ctx, bl)
	}
	return page, err
}

// MergeContacts folds loser into winner: activities, participants and history move,
// the winner's blank fields are filled from the loser, the loser is deleted.
func (q Q) MergeContacts(ctx context.Context, ws, winnerID, loserID int64, actor string) (model.Contact, error) {
	if winnerID == loserID {
		return model.Contact{}, &FieldError{Field: "merge_id", Message: "cannot merge a contact into itself"}
	}
	w, err := q.GetContact(ctx, ws, winnerID)
	if err != nil {
		return w, err
	}
	l, err := q.GetContact(ctx, ws, loserID)
	if err != nil {
		return w, err
	}
	for _, stmt := range []string{
		`UPDATE activities SET contact_id=$3 WHERE workspace_id=$1 AND contact_id=$2`,
		`UPDATE record_history SET object_id=$3 WHERE workspace_id=$1 AND object_type='contact' AND object_id=$2`,
	} {
		if _, err := q.db.ExecContext(ctx, stmt, ws, loserID, winnerID); err != nil {
			return w, fmt.Errorf("store: merge contacts: %w", err)
		}
	}
	if err := q.DeleteContact(ctx, ws, loserID); err != nil {
		return w, err
	}
	fillStr(&w.ExternalID, l.ExternalID)
	fillStr(&w.FirstName, l.FirstName)
	fillStr(&w.LastName, l.LastName)
	fillStr(&w.Title, l.Title)
	fillStr(&w.Phone, l.Phone)
	fillStr(&w.Source, l.Source)
	fillStr(&w.UTMSource, l.UTMSource)
	fillStr(&w.UTMMedium, l.UTMMedium)
	fillStr(&w.UTMCampaign, l.UTMCampaign)
	if w.ConsentAt == nil && l.ConsentAt != nil {
		w.ConsentBasis, w.ConsentSource, w.ConsentAt = l.ConsentBasis, l.ConsentSource, l.ConsentAt
	}
	fillInt(&w.AccountID, l.AccountID)
	fillInt(&w.OwnerID, l.OwnerID)
	fillCustom(w.Custom, l.Custom)
	if err := q.UpdateContact(ctx, ws, &w); err != nil {
		return w, err
	}
	err = q.AddHistory(ctx, ws, "contact", winnerID, "merged", map[string]any{"merged_id": loserID, "merged_email": l.Email}, actor)
	return w, err
}
