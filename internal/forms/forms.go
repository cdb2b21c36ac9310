// Package forms is the digital motion's front door (PRODUCT.md §3): embeddable
// forms that create or update a contact, capture UTM parameters and consent with
// the consent text's version, stitch the visitor's anonymous browsing to the
// contact, and — for trial and contact-sales requests — open a deal in the
// digital pipeline with an AE and a speed-to-lead clock, all in one transaction.
// It also keeps the content library that gated forms hand out.
package forms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Stitcher joins a visitor's earlier anonymous events to a contact, in the
// caller's transaction (internal/tracking).
type Stitcher interface {
	Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) error
}

// Exiter ends a contact's nurture enrollments whose sequences exit on reason, in
// the caller's transaction (internal/sequences).
type Exiter interface {
	Exit(ctx context.Context, q store.Q, ws, contactID int64, reason string) error
}

// Enroller starts the nurture sequences a form submission triggers, in the
// caller's transaction (internal/sequences; trigger kind "form", ref the key).
type Enroller interface {
	Trigger(ctx context.Context, q store.Q, ws int64, kind, ref string, contactID int64) (int, error)
}

// Confirmer sends the double opt-in message for a pending submission, in the
// caller's transaction (through the send ledger of internal/mail).
type Confirmer interface {
	SendConfirmation(ctx context.Context, q store.Q, ws int64, contactID int64, form model.Form, confirmURL string) error
}

// Service runs forms and the content library.
type Service struct {
	St         *store.Store
	CRM        *crm.Service
	Scoring    *scoring.Service
	Assignment *assignment.Service
	// Optional collaborators; nil skips their step.
	Stitcher  Stitcher
	Exiter    Exiter
	Confirmer Confirmer
	Enroller  Enroller
	// BaseURL is where confirmation links point (config base_url).
	BaseURL string
	// Now is the clock (nil: store.Now); tests set it.
	Now func() time.Time
	// Limits caps submissions per IP and per form (nil: DefaultLimits).
	Limits     *Limiter
	limitsOnce sync.Once
	// Secret signs gated download links (nil: the install secret
	// "content_download" in the database, shared by every serve process).
	Secret   []byte
	secretMu sync.Mutex
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return store.Now()
}

// Actor signs the changes a form submission makes in record history.
func actor(ws int64, f model.Form) model.Actor {
	return model.Actor{Workspace: ws, Label: "form: " + f.Name}
}

// contactFields are the contact fields a form may ask; custom.<key> asks a
// contact custom field.
var contactFields = []string{"email", "first_name", "last_name", "title", "phone"}

// Reserved inputs every form accepts besides its fields.
const (
	fieldHoneypot = "_hp"       // hidden; a bot fills it
	fieldVisitor  = "_vid"      // the tracking script's anonymous visitor id
	fieldConsent  = "consent"   // the consent checkbox
	fieldRedirect = "_redirect" // must be the form's redirect URL or an allowed origin's page
)

// UTMFields are captured from hidden inputs on every form.
var UTMFields = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

const (
	maxName   = 200
	maxText   = 4000
	maxFields = 30
	maxValue  = 2000
)

func fe(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// NewKey is a form's public key: unguessable, URL-safe, not a database id.
func NewKey() string { return newKey() }

func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "f_" + base64.RawURLEncoding.EncodeToString(b)
}

// validate checks f against the workspace's custom fields and assets.
func (s *Service) validate(ctx context.Context, q store.Q, ws int64, f *model.Form) error {
	f.Name = strings.TrimSpace(f.Name)
	switch {
	case f.Name == "":
		return fe("name", "is required")
	case len(f.Name) > maxName:
		return fe("name", "is longer than %d characters", maxName)
	case !slices.Contains(model.FormKinds, f.Kind):
		return fe("kind", "%q is not one of %s", f.Kind, strings.Join(model.FormKinds, ", "))
	case len(f.Fields)+len(f.Progressive) > maxFields:
		return fe("fields", "at most %d fields in all", maxFields)
	}
	defs, err := q.CustomFields(ctx, ws, "contact")
	if err != nil {
		return err
	}
	custom := map[string]bool{}
	for _, d := range defs {
		custom["custom."+d.Key] = true
	}
	seen := map[string]bool{}
	hasEmail := false
	check := func(list string, fs []model.FormField) error {
		for i := range fs {
			ff := &fs[i]
			at := fmt.Sprintf("%s[%d].field", list, i)
			ff.Field, ff.Label = strings.TrimSpace(ff.Field), strings.TrimSpace(ff.Label)
			switch {
			case ff.Field == "":
				return fe(at, "is required")
			case !slices.Contains(contactFields, ff.Field) && !custom[ff.Field]:
				return fe(at, "%q is not a contact field (%s) or a contact custom field (custom.<key>)", ff.Field, strings.Join(contactFields, ", "))
			case seen[ff.Field]:
				return fe(at, "%q is asked twice", ff.Field)
			case len(ff.Label) > maxName:
				return fe(fmt.Sprintf("%s[%d].label", list, i), "is longer than %d characters", maxName)
			}
			seen[ff.Field] = true
			if ff.Label == "" {
				ff.Label = label(ff.Field)
			}
			if ff.Field == "email" {
				if list != "fields" {
					return fe(at, "email is always asked; it cannot be progressive")
				}
				hasEmail, ff.Required = true, true
			}
		}
		return nil
	}
	if err := check("fields", f.Fields); err != nil {
		return err
	}
	if err := check("progressive", f.Progressive); err != nil {
		return err
	}
	if !hasEmail {
		f.Fields = append([]model.FormField{{Field: "email", Label: "Work email", Required: true}}, f.Fields...)
	}
	f.ConsentText, f.ConsentVersion = strings.TrimSpace(f.ConsentText), strings.TrimSpace(f.ConsentVersion)
	switch {
	case len(f.ConsentText) > maxText:
		return fe("consent_text", "is longer than %d characters", maxText)
	case f.ConsentText != "" && f.ConsentVersion == "":
		return fe("consent_version", "is required with a consent text, so each contact's consent names the wording they agreed to")
	case f.ConsentText == "" && f.DoubleOptIn:
		return fe("double_opt_in", "needs a consent text to confirm")
	}
	if f.RedirectURL != "" {
		if err := absURL(f.RedirectURL); err != nil {
			return fe("redirect_url", "%s", err)
		}
	}
	for i, o := range f.AllowedOrigins {
		norm, err := origin(o)
		if err != nil {
			return fe(fmt.Sprintf("allowed_origins[%d]", i), "%s", err)
		}
		f.AllowedOrigins[i] = norm
	}
	if f.AllowedOrigins == nil {
		f.AllowedOrigins = []string{}
	}
	switch {
	case f.Kind == "gated_content" && f.AssetID == nil:
		return fe("asset_id", "is required for a gated_content form: it is what the form hands over")
	case f.AssetID != nil:
		if _, err := q.GetAsset(ctx, ws, *f.AssetID); errors.Is(err, store.ErrNotFound) {
			return fe("asset_id", "no asset %d in this workspace", *f.AssetID)
		} else if err != nil {
			return err
		}
	}
	return nil
}

func label(field string) string {
	field = strings.TrimPrefix(field, "custom.")
	field = strings.ReplaceAll(field, "_", " ")
	if field == "" {
		return field
	}
	return strings.ToUpper(field[:1]) + field[1:]
}

// absURL accepts an absolute http(s) URL.
func absURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http or https URL")
	}
	return nil
}

// origin normalises "https://Example.com/" to "https://example.com".
func origin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%q must be an origin: scheme://host[:port], nothing after", s)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// CreateForm validates and saves a new form with a fresh public key.
func (s *Service) CreateForm(ctx context.Context, act model.Actor, f model.Form) (model.Form, error) {
	f.Key = newKey()
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := s.validate(ctx, q, act.Workspace, &f); err != nil {
			return err
		}
		if err := q.CreateForm(ctx, act.Workspace, &f); err != nil {
			return err
		}
		return q.AddHistory(ctx, act.Workspace, "form", f.ID, "created", map[string]any{"name": f.Name, "kind": f.Kind}, act.Label)
	})
	return f, err
}

// UpdateForm replaces form id's settings; its key stays.
func (s *Service) UpdateForm(ctx context.Context, act model.Actor, id int64, f model.Form) (model.Form, error) {
	err := s.St.InTx(ctx, func(q store.Q) error {
		old, err := q.GetForm(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		f.ID, f.Key, f.CreatedAt = old.ID, old.Key, old.CreatedAt
		if err := s.validate(ctx, q, act.Workspace, &f); err != nil {
			return err
		}
		if err := q.UpdateForm(ctx, act.Workspace, &f); err != nil {
			return err
		}
		return q.AddHistory(ctx, act.Workspace, "form", f.ID, "updated", map[string]any{"name": f.Name, "kind": f.Kind}, act.Label)
	})
	return f, err
}

// validateAsset checks a content library item; hasFile says an uploaded file
// is (or will be) stored, which makes the URL optional.
func validateAsset(a *model.Asset, hasFile bool) error {
	a.Title, a.URL = strings.TrimSpace(a.Title), strings.TrimSpace(a.URL)
	switch {
	case a.Title == "":
		return fe("title", "is required")
	case len(a.Title) > maxName:
		return fe("title", "is longer than %d characters", maxName)
	case a.URL == "" && !hasFile:
		return fe("url", "is required (or upload a file)")
	case !slices.Contains(model.AssetTypes, a.Type):
		return fe("type", "%q is not one of %s", a.Type, strings.Join(model.AssetTypes, ", "))
	case a.Stage != "" && !slices.Contains(model.AssetStages, a.Stage):
		return fe("stage", "%q is not one of %s", a.Stage, strings.Join(model.AssetStages, ", "))
	case a.Segment != "" && !slices.Contains(model.Segments, a.Segment):
		return fe("segment", "%q is not one of %s", a.Segment, strings.Join(model.Segments, ", "))
	case len(a.Topic) > maxName:
		return fe("topic", "is longer than %d characters", maxName)
	}
	if a.URL == "" {
		return nil
	}
	if err := absURL(a.URL); err != nil {
		return fe("url", "%s", err)
	}
	return nil
}

// SaveAsset creates (a.ID == 0) or updates a content library item; an
// uploaded file it has is kept (SaveAssetFile replaces it).
func (s *Service) SaveAsset(ctx context.Context, act model.Actor, a model.Asset) (model.Asset, error) {
	return s.SaveAssetFile(ctx, act, a, nil)
}
