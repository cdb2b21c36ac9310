package forms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Input is one public submission as the HTTP layer read it.
type Input struct {
	Values map[string]string
	IP     string
	// Origin is the page's origin (Origin header) when the browser sent one.
	Origin string
}

// Outcome is what a submission did. Spam submissions look accepted to the
// sender (a bot learns nothing) but write no contact.
type Outcome struct {
	Form       model.Form
	Submission model.Submission
	Contact    *model.Contact
	Deal       *model.Deal
	// Redirect is where an HTML post goes next (the form's redirect URL, or a
	// _redirect the form allows), "" for the built-in thank-you page.
	Redirect string
	// Asset is the gated content the form hands over.
	Asset *model.Asset
	// Pending is true when double opt-in waits for the contact's confirmation.
	Pending bool
	// AssetURL is the hand-over link: the asset's URL, or a signed /d/ link
	// to its uploaded file ("" while double opt-in is pending).
	AssetURL string
}

// Rejection errors the HTTP layer maps to statuses.
var (
	ErrOrigin    = errors.New("forms: origin not allowed")
	ErrThrottled = errors.New("forms: too many submissions")
)

// ThrottledError says how long to wait (Retry-After).
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return "too many submissions; retry later" }
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Submit runs one public submission of the form with public key key.
func (s *Service) Submit(ctx context.Context, key string, in Input) (Outcome, error) {
	var out Outcome
	f, ws, err := s.St.Read().FormByKey(ctx, key)
	if err != nil {
		return out, err
	}
	out.Form = f
	if in.Origin != "" && len(f.AllowedOrigins) > 0 && !slices.Contains(f.AllowedOrigins, strings.ToLower(in.Origin)) {
		return out, fmt.Errorf("%w: %s", ErrOrigin, in.Origin)
	}
	now := s.now()
	if wait := s.limits().Allow(in.IP, key, now); wait > 0 {
		return out, &ThrottledError{RetryAfter: wait}
	}
	vals, utm, err := s.read(f, in.Values)
	if err != nil {
		return out, err
	}
	sub := model.Submission{FormID: f.ID, Status: "accepted", VisitorID: in.Values[fieldVisitor], Fields: vals, UTM: utm, IP: in.IP}
	if len(sub.VisitorID) > 100 {
		return out, fe(fieldVisitor, "is longer than 100 characters")
	}
	if redirect := strings.TrimSpace(in.Values[fieldRedirect]); redirect != "" {
		if !s.redirectAllowed(f, redirect) {
			return out, fe(fieldRedirect, "%q is not this form's redirect URL or a page of its allowed origins", redirect)
		}
		out.Redirect = redirect
	} else {
		out.Redirect = f.RedirectURL
	}
	if strings.TrimSpace(in.Values[fieldHoneypot]) != "" {
		sub.Status, sub.Fields, sub.UTM = "spam", map[string]string{}, map[string]string{}
		err := s.St.InTx(ctx, func(q store.Q) error { return q.InsertSubmission(ctx, ws, &sub, "") })
		out.Submission = sub
		return out, err
	}
	consented := f.ConsentText != ""
	if consented {
		sub.ConsentVersion = f.ConsentVersion
	}
	if f.AssetID != nil {
		// The signing key is loaded before the transaction (SQLite has one writer).
		if _, err := s.secret(ctx); err != nil {
			return out, err
		}
	}
	token := ""
	if f.DoubleOptIn {
		sub.Status, token, out.Pending = "pending_confirmation", confirmToken(), true
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		act := actor(ws, f)
		c, err := s.upsertContact(ctx, q, act, f, vals, utm, consented && !f.DoubleOptIn, now)
		if err != nil {
			return err
		}
		sub.ContactID = &c.ID
		if s.Stitcher != nil && sub.VisitorID != "" {
			if err := s.Stitcher.Stitch(ctx, q, ws, sub.VisitorID, c.ID); err != nil {
				return err
			}
		}
		if f.Kind == "trial_request" || f.Kind == "contact_sales" {
			d, err := s.raiseHand(ctx, q, act, f, &c, now)
			if err != nil {
				return err
			}
			sub.DealID, out.Deal = &d.ID, &d
		}
		if f.AssetID != nil {
			a, err := q.GetAsset(ctx, ws, *f.AssetID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				out.Asset = &a
			}
		}
		if err := s.score(ctx, q, ws, f, c.ID, out.Asset, now); err != nil {
			return err
		}
		if err := q.InsertSubmission(ctx, ws, &sub, token); err != nil {
			return err
		}
		if out.Asset != nil && !out.Pending {
			if out.AssetURL, err = s.downloadURL(ctx, ws, *out.Asset, sub.ID); err != nil {
				return err
			}
		}
		if f.DoubleOptIn && s.Confirmer != nil {
			if err := s.Confirmer.SendConfirmation(ctx, q, ws, c.ID, f, strings.TrimRight(s.BaseURL, "/")+"/subscribe/confirm/"+token); err != nil {
				return err
			}
		}
		// Nurture follows a sign-up or a download; a raised hand has just exited it.
		if s.Enroller != nil && f.Kind != "trial_request" && f.Kind != "contact_sales" {
			if _, err := s.Enroller.Trigger(ctx, q, ws, "form", f.Key, c.ID); err != nil {
				return err
			}
		}
		if err := q.AddHistory(ctx, ws, "contact", c.ID, "form_submitted", map[string]any{"form_id": f.ID, "form": f.Name, "kind": f.Kind, "submission_id": sub.ID, "utm": utm}, act.Label); err != nil {
			return err
		}
		out.Contact = &c
		return nil
	})
	out.Submission = sub
	return out, err
}

// read checks the posted values against the form: known fields only, required
// ones present, email valid, consent ticked when the form asks for it. It
// returns the field values and the UTM parameters.
func (s *Service) read(f model.Form, in map[string]string) (map[string]string, map[string]string, error) {
	vals, utm := map[string]string{}, map[string]string{}
	asked := map[string]model.FormField{}
	for _, ff := range append(append([]model.FormField{}, f.Fields...), f.Progressive...) {
		asked[ff.Field] = ff
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.TrimSpace(in[k])
		if why := store.BadText(k + v); why != "" {
			// A NUL or invalid UTF-8 would fail the write on PostgreSQL.
			return nil, nil, fe(strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", "\uFFFD"), "\uFFFD"), "%s", why)
		}
		switch {
		case k == fieldHoneypot || k == fieldVisitor || k == fieldConsent || k == fieldRedirect:
			continue
		case len(v) > maxValue:
			return nil, nil, fe(k, "is longer than %d characters", maxValue)
		case slices.Contains(UTMFields, k):
			if v != "" {
				utm[k] = v
			}
		case asked[k].Field != "":
			if v != "" {
				vals[k] = v
			}
		default:
			return nil, nil, fe(k, "is not a field of this form")
		}
	}
	for _, ff := range f.Fields {
		if ff.Required && vals[ff.Field] == "" {
			return nil, nil, fe(ff.Field, "is required")
		}
	}
	addr, err := mail.ParseAddress(vals["email"])
	if err != nil || addr.Name != "" || !strings.Contains(addr.Address, ".") {
		return nil, nil, fe("email", "%q is not an email address", vals["email"])
	}
	vals["email"] = strings.ToLower(addr.Address)
	if f.ConsentText != "" && !truthy(in[fieldConsent]) {
		return nil, nil, fe(fieldConsent, "must be ticked to agree to: %s", f.ConsentText)
	}
	return vals, utm, nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}

func (s *Service) redirectAllowed(f model.Form, u string) bool {
	if u == f.RedirectURL {
		return true
	}
	for _, o := range f.AllowedOrigins {
		if strings.HasPrefix(u, o+"/") || u == o {
			return true
		}
	}
	return false
}

func confirmToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// upsertContact creates the contact or fills in what the form learned. A value
// already on the contact is overwritten only by a non-empty answer; source and
// UTM parameters are first touch (set on creation only).
func (s *Service) upsertContact(ctx context.Context, q store.Q, act model.Actor, f model.Form, vals, utm map[string]string, consent bool, now time.Time) (model.Contact, error) {
	fields := crm.Fields{}
	for k, v := range vals {
		fields[k] = v
	}
	if consent {
		fields["consent_basis"], fields["consent_source"], fields["consent_at"] = "consent", fmt.Sprintf("form %s (%s), consent text %s", f.Key, f.Name, f.ConsentVersion), now.Format(time.RFC3339)
	}
	existing, err := q.ContactByEmail(ctx, act.Workspace, vals["email"])
	switch {
	case errors.Is(err, store.ErrNotFound):
		fields["source"] = "form"
		for k, v := range utm {
			if k == "utm_source" || k == "utm_medium" || k == "utm_campaign" {
				fields[k] = v
			}
		}
		fields["lifecycle_stage"] = "lead"
		if f.Kind == "newsletter" {
			fields["lifecycle_stage"] = "subscriber"
		}
		return s.CRM.CreateContactIn(ctx, q, act, fields)
	case err != nil:
		return model.Contact{}, err
	}
	delete(fields, "email")
	// A subscriber who fills in a real form becomes a lead; later stages stay.
	if existing.LifecycleStage == "visitor" || (existing.LifecycleStage == "subscriber" && f.Kind != "newsletter") {
		fields["lifecycle_stage"] = "lead"
	}
	if len(fields) == 0 {
		return existing, nil
	}
	return s.CRM.UpdateContactIn(ctx, q, act, existing.ID, fields)
}

// before reports whether stage a comes before b in the funnel (disqualified and
// nurture count as before everything, so a raised hand brings them back).
func before(a, b string) bool {
	order := []string{"disqualified", "nurture", "visitor", "subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist"}
	return slices.Index(order, a) < slices.Index(order, b)
}

// raiseHand is a trial or contact-sales request: the contact becomes an
// opportunity, a deal opens in the digital pipeline (or the open one from an
// earlier request is reused), an AE is assigned with the SLA clock running, and
// the contact leaves nurture. Nobody available leaves the deal unowned with the
// reason in its history: a buyer's request is never refused for staffing.
func (s *Service) raiseHand(ctx context.Context, q store.Q, act model.Actor, f model.Form, c *model.Contact, now time.Time) (model.Deal, error) {
	ws := act.Workspace
	if before(c.LifecycleStage, "opportunity") {
		updated, err := s.CRM.UpdateContactIn(ctx, q, act, c.ID, crm.Fields{"lifecycle_stage": "opportunity"})
		if err != nil {
			return model.Deal{}, err
		}
		*c = updated
	}
	if s.Exiter != nil {
		if err := s.Exiter.Exit(ctx, q, ws, c.ID, "trial_or_contact_request"); err != nil {
			return model.Deal{}, err
		}
	}
	if id, ok, err := q.OpenTrialDeal(ctx, ws, c.ID); err != nil {
		return model.Deal{}, err
	} else if ok {
		d, err := q.GetDeal(ctx, ws, id)
		if err != nil {
			return d, err
		}
		return d, q.AddHistory(ctx, ws, "deal", d.ID, "requested_again", map[string]any{"form": f.Name, "kind": f.Kind, "contact_id": c.ID}, act.Label)
	}
	// A contact-sales request starts the digital pipeline; a trial request
	// starts at its trial stage when the workspace's pipeline has one.
	ps, _, err := pipeline.Load(ctx, q, ws)
	if err != nil {
		return model.Deal{}, err
	}
	digital, ok := pipeline.Find(ps, "digital")
	if !ok || len(digital.Stages) == 0 {
		return model.Deal{}, fmt.Errorf("forms: workspace %d has no digital pipeline", ws)
	}
	stage, what := digital.Stages[0].Key, "contact sales"
	if f.Kind == "trial_request" {
		what = "trial"
		for _, st := range digital.Stages {
			if st.Key == "trial" {
				stage = st.Key
			}
		}
	}
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if name == "" {
		name = c.Email
	}
	req := assignment.Request{Role: model.RoleAE, Motion: assignment.Digital, ObjectType: "deal", Now: now}
	if c.AccountID != nil {
		if a, err := q.GetAccount(ctx, ws, *c.AccountID); err == nil {
			name = a.Name + " — " + name
			req.Region, req.Industry = a.Region, a.Industry
		} else if !errors.Is(err, store.ErrNotFound) {
			return model.Deal{}, err
		}
	}
	// Through crm, so the stage gates apply as for any deal: a trial deal
	// created past a first stage whose exit criteria it does not meet is kept
	// and flagged needs_review with the unmet gates as the reason, and its
	// stage stay is opened.
	df := crm.Fields{"name": name + " (" + what + ")", "pipeline": "digital", "stage": stage}
	if c.AccountID != nil {
		df["account_id"] = strconv.FormatInt(*c.AccountID, 10)
	}
	d, err := s.CRM.CreateDealIn(ctx, q, act, df)
	if err != nil {
		return d, err
	}
	if err := q.AddHistory(ctx, ws, "deal", d.ID, "requested", map[string]any{"stage": d.Stage, "pipeline": d.Pipeline, "form": f.Name, "kind": f.Kind, "contact_id": c.ID, "needs_review": d.NeedsReview}, act.Label); err != nil {
		return d, err
	}
	req.ObjectID = d.ID
	asg, err := s.Assignment.Assign(ctx, q, ws, req)
	var unavailable *assignment.UnavailableError
	switch {
	case errors.As(err, &unavailable):
		return d, q.AddHistory(ctx, ws, "deal", d.ID, "unassigned", map[string]any{"reason": "no AE available: " + strings.Join(unavailable.Reasons, "; ")}, act.Label)
	case err != nil:
		return d, err
	}
	if d, err = s.CRM.UpdateDealIn(ctx, q, act, d.ID, crm.Fields{"owner_id": strconv.FormatInt(asg.UserID, 10)}); err != nil {
		return d, err
	}
	return d, q.AddHistory(ctx, ws, "deal", d.ID, "assigned", map[string]any{"owner_id": asg.UserID, "reason": asg.Reason, "sla_due_at": asg.SLADueAt}, act.Label)
}

// score feeds the submission to lead scoring: a form_submit, and a
// content_download when the form hands over an asset.
func (s *Service) score(ctx context.Context, q store.Q, ws int64, f model.Form, contactID int64, a *model.Asset, now time.Time) error {
	if s.Scoring == nil {
		return nil
	}
	evs := []scoring.Event{{ContactID: contactID, Kind: "form_submit", OccurredAt: now, Title: f.Name}}
	if a != nil {
		evs = append(evs, scoring.Event{ContactID: contactID, Kind: "content_download", OccurredAt: now, URL: a.URL, Title: a.Title})
	}
	// A kind the workspace's scoring config does not weigh comes back rejected
	// in the result; that is the workspace's choice, not the buyer's error.
	_, err := s.Scoring.IngestTx(ctx, q, ws, evs)
	return err
}

// Confirm completes a double opt-in: the submission becomes accepted and the
// contact's consent is recorded now. A second confirmation changes nothing.
func (s *Service) Confirm(ctx context.Context, token string) (model.Submission, bool, error) {
	var sub model.Submission
	var done bool
	err := s.St.InTx(ctx, func(q store.Q) error {
		var ws int64
		var err error
		sub, ws, err = q.SubmissionByToken(ctx, token)
		if err != nil {
			return err
		}
		now := s.now()
		if done, err = q.ConfirmSubmission(ctx, ws, sub.ID, now); err != nil || !done || sub.ContactID == nil {
			return err
		}
		f, err := q.GetForm(ctx, ws, sub.FormID)
		if err != nil {
			return err
		}
		act := actor(ws, f)
		_, err = s.CRM.UpdateContactIn(ctx, q, act, *sub.ContactID, crm.Fields{"consent_basis": "consent", "consent_at": now.Format(time.RFC3339),
			"consent_source": fmt.Sprintf("form %s (%s), consent text %s, double opt-in confirmed", f.Key, f.Name, sub.ConsentVersion)})
		if errors.Is(err, store.ErrNotFound) {
			return nil // the contact was deleted since; the confirmation still counts
		}
		return err
	})
	return sub, done, err
}

// ConfirmedDownload is the hand-over of a confirmed double opt-in submission
// whose form gates an asset: the asset and its link (nil when the form hands
// nothing over or the submission is not confirmed).
func (s *Service) ConfirmedDownload(ctx context.Context, token string) (*model.Asset, string, error) {
	q := s.St.Read()
	sub, ws, err := q.SubmissionByToken(ctx, token)
	if err != nil || sub.Status != "accepted" {
		return nil, "", err
	}
	f, err := q.GetForm(ctx, ws, sub.FormID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.AssetID == nil) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	a, err := q.GetAsset(ctx, ws, *f.AssetID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	u, err := s.downloadURL(ctx, ws, a, sub.ID)
	return &a, u, err
}

// FieldsFor is what the embed script renders for a visitor: the form's fields,
// then — when the visitor is a known contact — the next progressive fields the
// contact has not answered yet (at most next), so each visit asks something new.
func (s *Service) FieldsFor(ctx context.Context, key, visitorID string, known func(ctx context.Context, q store.Q, ws int64, visitorID string) (*model.Contact, error), next int) (model.Form, []model.FormField, error) {
	q := s.St.Read()
	f, ws, err := q.FormByKey(ctx, key)
	if err != nil {
		return f, nil, err
	}
	out := append([]model.FormField{}, f.Fields...)
	if visitorID == "" || known == nil || len(f.Progressive) == 0 {
		return f, out, nil
	}
	c, err := known(ctx, q, ws, visitorID)
	if err != nil || c == nil {
		return f, out, err
	}
	for _, ff := range f.Progressive {
		if next == 0 {
			break
		}
		if contactValue(c, ff.Field) == "" {
			out = append(out, ff)
			next--
		}
	}
	return f, out, nil
}

func contactValue(c *model.Contact, field string) string {
	switch field {
	case "email":
		return c.Email
	case "first_name":
		return c.FirstName
	case "last_name":
		return c.LastName
	case "title":
		return c.Title
	case "phone":
		return c.Phone
	}
	if k, ok := strings.CutPrefix(field, "custom."); ok {
		if v, ok := c.Custom[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// Limiter caps submissions per client IP and per form with token buckets. It
// is per process: behind several serve processes each applies it, so the
// effective limit is the sum (docs/forms.md).
type Limiter struct {
	PerIP, PerForm Rate
	mu             sync.Mutex
	ips, forms     map[string]*bucket
	maxKeys        int
}

// Rate is Burst submissions at once, refilled at one per Every.
type Rate struct {
	Burst int
	Every time.Duration
}

type bucket struct {
	tokens float64
	at     time.Time
}

// DefaultLimits: per IP 20 at once then one every 6 s (a person correcting
// typos never meets it; a script does); per form 200 at once then 20 a second.
func DefaultLimits() *Limiter {
	return &Limiter{PerIP: Rate{Burst: 20, Every: 6 * time.Second}, PerForm: Rate{Burst: 200, Every: 50 * time.Millisecond}}
}

func (s *Service) limits() *Limiter {
	s.limitsOnce.Do(func() {
		if s.Limits == nil {
			s.Limits = DefaultLimits()
		}
	})
	return s.Limits
}

// Allow takes a token from ip's and form's buckets, or says how long to wait.
func (l *Limiter) Allow(ip, form string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ips == nil || len(l.ips) > l.cap() {
		l.ips = map[string]*bucket{}
	}
	if l.forms == nil || len(l.forms) > l.cap() {
		l.forms = map[string]*bucket{}
	}
	bi, wi := take(l.ips, ip, l.PerIP, now)
	bf, wf := take(l.forms, form, l.PerForm, now)
	if wi > 0 || wf > 0 {
		return max(wi, wf)
	}
	bi.tokens--
	bf.tokens--
	return 0
}

func (l *Limiter) cap() int {
	if l.maxKeys > 0 {
		return l.maxKeys
	}
	return 100_000
}

// take refills key's bucket and reports the wait for one token (0: available).
func take(m map[string]*bucket, key string, r Rate, now time.Time) (*bucket, time.Duration) {
	b, ok := m[key]
	if !ok {
		b = &bucket{tokens: float64(r.Burst), at: now}
		m[key] = b
	}
	if el := now.Sub(b.at); el > 0 && r.Every > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+float64(el)/float64(r.Every))
		b.at = now
	}
	if b.tokens >= 1 {
		return b, 0
	}
	return b, time.Duration((1 - b.tokens) * float64(r.Every))
}
