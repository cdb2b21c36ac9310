package web

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// builderRow is one contact field in the form builder: asked always, only of
// known visitors (progressive), or not at all.
type builderRow struct {
	Field    string
	Label    string
	Ask      string // "", "always" or "progressive"
	Required bool
	Err      string
}

type formBuilder struct {
	Heading, Action, Submit, Cancel string
	Name, Kind, ConsentText         string
	ConsentVersion, RedirectURL     string
	Origins, AssetID                string
	DoubleOptIn                     bool
	Rows                            []builderRow
	Kinds                           []option
	Assets                          []model.Asset
	Errors                          map[string]string
	Err                             string
}

var builderFields = []string{"email", "first_name", "last_name", "title", "phone"}

// newBuilder lays out every askable field, f's choices first in f's order.
func (u *UI) newBuilder(r *http.Request, s *session, f model.Form) (*formBuilder, error) {
	q := u.d.St.Read()
	defs, err := q.CustomFields(r.Context(), s.WS(), "contact")
	if err != nil {
		return nil, err
	}
	assets, err := q.Assets(r.Context(), s.WS())
	if err != nil {
		return nil, err
	}
	b := &formBuilder{Name: f.Name, Kind: f.Kind, ConsentText: f.ConsentText, ConsentVersion: f.ConsentVersion, RedirectURL: f.RedirectURL,
		Origins: strings.Join(f.AllowedOrigins, "\n"), DoubleOptIn: f.DoubleOptIn, Assets: assets, Errors: map[string]string{}}
	if f.AssetID != nil {
		b.AssetID = strconv.FormatInt(*f.AssetID, 10)
	}
	for _, k := range model.FormKinds {
		b.Kinds = append(b.Kinds, option{k, humanize(k)})
	}
	seen := map[string]bool{}
	add := func(ff model.FormField, ask string) {
		if !seen[ff.Field] {
			seen[ff.Field] = true
			b.Rows = append(b.Rows, builderRow{Field: ff.Field, Label: ff.Label, Ask: ask, Required: ff.Required})
		}
	}
	for _, ff := range f.Fields {
		add(ff, "always")
	}
	for _, ff := range f.Progressive {
		add(ff, "progressive")
	}
	for _, name := range builderFields {
		add(model.FormField{Field: name, Label: humanize(name)}, "")
	}
	for _, d := range defs {
		add(model.FormField{Field: "custom." + d.Key, Label: d.Label}, "")
	}
	for i := range b.Rows {
		if b.Rows[i].Field == "email" {
			b.Rows[i].Ask, b.Rows[i].Required = "always", true
		}
	}
	return b, nil
}

// read takes the builder's post into a form model.
func (b *formBuilder) read(r *http.Request) model.Form {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	b.Name, b.Kind, b.ConsentText, b.ConsentVersion = v("name"), v("kind"), v("consent_text"), v("consent_version")
	b.RedirectURL, b.Origins, b.AssetID, b.DoubleOptIn = v("redirect_url"), v("allowed_origins"), v("asset_id"), r.PostFormValue("double_opt_in") != ""
	f := model.Form{Name: b.Name, Kind: b.Kind, ConsentText: b.ConsentText, ConsentVersion: b.ConsentVersion, RedirectURL: b.RedirectURL,
		DoubleOptIn: b.DoubleOptIn, Fields: []model.FormField{}, Progressive: []model.FormField{}, AllowedOrigins: []string{}}
	for _, line := range strings.Split(b.Origins, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			f.AllowedOrigins = append(f.AllowedOrigins, line)
		}
	}
	if b.AssetID != "" {
		if id, err := strconv.ParseInt(b.AssetID, 10, 64); err == nil {
			f.AssetID = &id
		} else {
			b.Errors["asset_id"] = "choose an item of the content library"
		}
	}
	for i := range b.Rows {
		row := &b.Rows[i]
		row.Ask, row.Label, row.Required = v("ask_"+row.Field), v("label_"+row.Field), r.PostFormValue("req_"+row.Field) != ""
		if row.Field == "email" {
			row.Ask, row.Required = "always", true
		}
		ff := model.FormField{Field: row.Field, Label: row.Label, Required: row.Required}
		switch row.Ask {
		case "always":
			f.Fields = append(f.Fields, ff)
		case "progressive":
			ff.Required = false
			f.Progressive = append(f.Progressive, ff)
		}
	}
	return f
}

var listIndex = regexp.MustCompile(`^(fields|progressive)\[(\d+)\]`)

// setError puts a service error next to its input, or its row for a field list.
func (b *formBuilder) setError(err error) bool {
	var fe *store.FieldError
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce):
		b.Errors["name"] = "another form already has this name"
		return true
	case !errors.As(err, &fe):
		return false
	}
	if m := listIndex.FindStringSubmatch(fe.Field); m != nil {
		n, _ := strconv.Atoi(m[2])
		want := map[string]string{"fields": "always", "progressive": "progressive"}[m[1]]
		for i := range b.Rows {
			if b.Rows[i].Ask == want {
				if n == 0 {
					b.Rows[i].Err = fe.Message
					return true
				}
				n--
			}
		}
		b.Err = fe.Error()
		return true
	}
	name := fe.Field
	if strings.HasPrefix(name, "allowed_origins") {
		name = "allowed_origins"
	}
	b.Errors[name] = fe.Message
	return true
}

func (u *UI) formList(w http.ResponseWriter, r *http.Request, s *session) {
	q := u.d.St.Read()
	fs, err := q.Forms(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	type row struct {
		model.Form
		Counts map[string]int64
	}
	rows := make([]row, 0, len(fs))
	for _, f := range fs {
		c, err := q.FormStats(r.Context(), s.WS(), f.ID)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		rows = append(rows, row{f, c})
	}
	u.render(w, r, http.StatusOK, "forms", view{Title: "Forms", Section: "forms", S: s, D: rows, Notice: notice(r, "Form")})
}

func (u *UI) formNew(w http.ResponseWriter, r *http.Request, s *session) {
	b, err := u.newBuilder(r, s, model.Form{Kind: "signup", Fields: []model.FormField{{Field: "email", Label: "Work email", Required: true}, {Field: "first_name", Label: "First name"}}})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	b.Heading, b.Action, b.Submit, b.Cancel = "New form", "/forms", "Create form", "/forms"
	u.render(w, r, http.StatusOK, "form_builder", view{Title: "New form", Section: "forms", S: s, D: b})
}

func (u *UI) formCreate(w http.ResponseWriter, r *http.Request, s *session) {
	b, err := u.newBuilder(r, s, model.Form{})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	b.Heading, b.Action, b.Submit, b.Cancel = "New form", "/forms", "Create form", "/forms"
	in := b.read(r)
	if len(b.Errors) == 0 {
		f, err := u.d.Forms.CreateForm(r.Context(), s.Actor(), in)
		if err == nil {
			redirect(w, r, fmt.Sprintf("/forms/%d?notice=created", f.ID))
			return
		}
		if !b.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form_builder", view{Title: "New form", Section: "forms", S: s, D: b})
}

func (u *UI) loadForm(w http.ResponseWriter, r *http.Request, s *session) (model.Form, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return model.Form{}, false
	}
	f, err := u.d.St.Read().GetForm(r.Context(), s.WS(), id)
	if errors.Is(err, store.ErrNotFound) {
		u.notFound(w, r, s)
		return f, false
	}
	if err != nil {
		u.fail(w, r, s, err)
		return f, false
	}
	return f, true
}

type formDetail struct {
	F        model.Form
	Asset    *model.Asset
	Counts   map[string]int64
	Total    int64
	Subs     []model.Submission
	Deals    bool // the form opens deals (the submissions table shows them)
	Base     string
	Embed    string
	HTMLForm string
}

func (u *UI) baseURL(r *http.Request) string {
	if u.d.BaseURL != "" {
		return strings.TrimRight(u.d.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (u *UI) formShow(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := u.loadForm(w, r, s)
	if !ok {
		return
	}
	q := u.d.St.Read()
	counts, err := q.FormStats(r.Context(), s.WS(), f.ID)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	subs, err := q.Submissions(r.Context(), s.WS(), f.ID, 25)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := formDetail{F: f, Counts: counts, Subs: subs, Base: u.baseURL(r)}
	if f.AssetID != nil {
		if a, err := q.GetAsset(r.Context(), s.WS(), *f.AssetID); err == nil {
			p.Asset = &a
		}
	}
	for _, st := range []string{"accepted", "pending_confirmation", "spam"} {
		p.Total += counts[st]
	}
	p.Deals = f.Kind == "trial_request" || f.Kind == "contact_sales"
	// The snippets are HTML a customer pastes into their site: every value
	// in them is escaped here (labels and consent text are user text), and
	// the page shows them as text.
	esc := html.EscapeString
	p.Embed = fmt.Sprintf("<div data-rightsize-form=\"%s\"></div>\n<script src=\"%s/f.js\" async></script>", esc(f.Key), esc(p.Base))
	var hb strings.Builder
	fmt.Fprintf(&hb, "<form method=\"post\" action=\"%s/f/%s\">\n", esc(p.Base), esc(f.Key))
	for _, ff := range f.Fields {
		typ := "text"
		switch ff.Field {
		case "email":
			typ = "email"
		case "phone":
			typ = "tel"
		}
		req := ""
		if ff.Required {
			req = " required"
		}
		fmt.Fprintf(&hb, "  <label>%s <input name=\"%s\" type=\"%s\"%s></label>\n", esc(ff.Label), esc(ff.Field), typ, req)
	}
	for _, k := range forms.UTMFields[:3] {
		fmt.Fprintf(&hb, "  <input type=\"hidden\" name=\"%s\" value=\"\">\n", k)
	}
	hb.WriteString("  <input name=\"_hp\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\" style=\"position:absolute;left:-10000px\" aria-hidden=\"true\">\n")
	if f.ConsentText != "" {
		fmt.Fprintf(&hb, "  <label><input type=\"checkbox\" name=\"consent\" value=\"yes\" required> %s</label>\n", esc(f.ConsentText))
	}
	hb.WriteString("  <button type=\"submit\">Send</button>\n</form>")
	p.HTMLForm = hb.String()
	u.render(w, r, http.StatusOK, "form_show", view{Title: f.Name, Section: "forms", S: s, D: p, Notice: notice(r, "Form")})
}

func (u *UI) formEdit(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := u.loadForm(w, r, s)
	if !ok {
		return
	}
	b, err := u.newBuilder(r, s, f)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	b.Heading, b.Action, b.Submit, b.Cancel = "Edit “"+f.Name+"”", fmt.Sprintf("/forms/%d", f.ID), "Save form", fmt.Sprintf("/forms/%d", f.ID)
	u.render(w, r, http.StatusOK, "form_builder", view{Title: "Edit form", Section: "forms", S: s, D: b})
}

func (u *UI) formUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := u.loadForm(w, r, s)
	if !ok {
		return
	}
	b, err := u.newBuilder(r, s, f)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	b.Heading, b.Action, b.Submit, b.Cancel = "Edit “"+f.Name+"”", fmt.Sprintf("/forms/%d", f.ID), "Save form", fmt.Sprintf("/forms/%d", f.ID)
	in := b.read(r)
	if len(b.Errors) == 0 {
		_, err := u.d.Forms.UpdateForm(r.Context(), s.Actor(), f.ID, in)
		if err == nil {
			redirect(w, r, fmt.Sprintf("/forms/%d?notice=saved", f.ID))
			return
		}
		if !b.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form_builder", view{Title: "Edit form", Section: "forms", S: s, D: b})
}

// ---- content library ---------------------------------------------------------------

// fileAccept is what the upload input offers (the server sniffs the bytes).
const fileAccept = ".pdf,.png,.jpg,.jpeg,.gif,.webp,.mp4,.txt,.csv,.docx,.xlsx,.pptx"

func assetForm(action, submit string, stored *model.AssetFile) *form {
	fileHint := "Or upload the file (at most 20 MB): PDF, images, MP4, text, CSV, Word/Excel/PowerPoint. Gated forms hand it over by a private link."
	if stored != nil {
		fileHint = "Stored: " + stored.Name + " (" + formatBytes(stored.Size) + "). Choose a file to replace it."
	}
	fields := []field{
		{Name: "title", Label: "Title", Type: "text", Required: true, Placeholder: "The SMB pricing guide"},
		{Name: "url", Label: "URL", Type: "text", Placeholder: "https://cdn.example.com/guide.pdf", Hint: "Where the file or page lives; gated forms hand this link over (an uploaded file wins)."},
		{Name: "file", Label: "File", Type: "file", Accept: fileAccept, Hint: fileHint},
		{Name: "type", Label: "Type", Type: "select", Required: true, Groups: opts(model.AssetTypes, noBlank)},
		{Name: "stage", Label: "Buying stage", Type: "select", Groups: opts(model.AssetStages, "Any stage")},
		{Name: "segment", Label: "Segment", Type: "select", Groups: opts(model.Segments, "Every segment")},
		{Name: "topic", Label: "Topic", Type: "text", Placeholder: "onboarding"},
	}
	if stored != nil {
		fields = append(fields, field{Name: "remove_file", Label: "Remove the stored file", Type: "select", Groups: []optGroup{{Options: []option{{"", "No"}, {"yes", "Yes, hand over the URL instead"}}}}})
	}
	return newForm(action, submit, "/content", fields)
}

// formatBytes is a file size for people (binary units, as the cap is).
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " kB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// readAssetForm reads a (multipart) content form: the fields, and the file
// when one was chosen. A file over the cap answers 413; other upload trouble
// is a field error on file.
func (f *form) readAssetUpload(w http.ResponseWriter, r *http.Request) (*forms.Upload, int) {
	httpx.LiftBodyLimit(w, r, forms.MaxFileBytes+(1<<20))
	file, hdr, err := r.FormFile("file")
	for _, fd := range f.Fields {
		if fd.Type != "file" {
			f.Values[fd.Name] = strings.TrimSpace(r.FormValue(fd.Name))
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		f.Errors["file"] = forms.ErrFileTooLarge.Msg
		return nil, http.StatusRequestEntityTooLarge
	case errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart):
		return nil, 0
	case err != nil:
		f.Errors["file"] = "the upload could not be read; try again"
		return nil, http.StatusUnprocessableEntity
	}
	defer file.Close()
	up, err := forms.ReadUpload(file, hdr.Filename)
	if err != nil {
		f.Errors["file"] = forms.ErrFileTooLarge.Msg
		return nil, http.StatusRequestEntityTooLarge
	}
	return &up, 0
}

type contentPage struct {
	Items []model.Asset
	F     *form
}

func (u *UI) contentList(w http.ResponseWriter, r *http.Request, s *session) {
	u.showContent(w, r, s, http.StatusOK, assetForm("/content", "Add to library", nil))
}

func (u *UI) showContent(w http.ResponseWriter, r *http.Request, s *session, status int, f *form) {
	xs, err := u.d.St.Read().Assets(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, status, "content", view{Title: "Content library", Section: "content", S: s, D: contentPage{Items: xs, F: f}, Notice: notice(r, "Content")})
}

func (f *form) asset() model.Asset {
	return model.Asset{Title: f.Values["title"], URL: f.Values["url"], Type: f.Values["type"], Stage: f.Values["stage"], Segment: f.Values["segment"], Topic: f.Values["topic"]}
}

func (u *UI) contentCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := assetForm("/content", "Add to library", nil)
	up, status := f.readAssetUpload(w, r)
	if status != 0 {
		u.showContent(w, r, s, status, f)
		return
	}
	if _, err := u.d.Forms.SaveAssetFile(r.Context(), s.Actor(), f.asset(), up); err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showContent(w, r, s, http.StatusUnprocessableEntity, f)
		return
	}
	redirect(w, r, "/content?notice=created")
}

// contentFile serves an item's uploaded file to a logged-in user of its
// workspace (attachment, nosniff).
func (u *UI) contentFile(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	a, data, err := u.d.Forms.AssetFile(r.Context(), s.WS(), id)
	if errors.Is(err, store.ErrNotFound) {
		u.notFound(w, r, s)
		return
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	forms.ServeFile(w, r, a, data)
}

func (u *UI) contentEdit(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.loadAsset(w, r, s)
	if !ok {
		return
	}
	f := assetForm(fmt.Sprintf("/content/%d", a.ID), "Save", a.File)
	f.Values = map[string]string{"title": a.Title, "url": a.URL, "type": a.Type, "stage": a.Stage, "segment": a.Segment, "topic": a.Topic}
	u.render(w, r, http.StatusOK, "form", view{Title: "Edit content", Section: "content", S: s, D: formPage{Heading: "Edit “" + a.Title + "”", F: f}})
}

func (u *UI) contentUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.loadAsset(w, r, s)
	if !ok {
		return
	}
	f := assetForm(fmt.Sprintf("/content/%d", a.ID), "Save", a.File)
	up, status := f.readAssetUpload(w, r)
	if status != 0 {
		u.render(w, r, status, "form", view{Title: "Edit content", Section: "content", S: s, D: formPage{Heading: "Edit “" + a.Title + "”", F: f}})
		return
	}
	in := f.asset()
	in.ID = a.ID
	_, err := u.d.Forms.SaveAssetFile(r.Context(), s.Actor(), in, up)
	if err == nil && up == nil && a.File != nil && f.Values["remove_file"] == "yes" {
		_, err = u.d.Forms.RemoveAssetFile(r.Context(), s.Actor(), a.ID)
	}
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "Edit content", Section: "content", S: s, D: formPage{Heading: "Edit “" + a.Title + "”", F: f}})
		return
	}
	redirect(w, r, "/content?notice=saved")
}

func (u *UI) loadAsset(w http.ResponseWriter, r *http.Request, s *session) (model.Asset, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return model.Asset{}, false
	}
	a, err := u.d.St.Read().GetAsset(r.Context(), s.WS(), id)
	if errors.Is(err, store.ErrNotFound) {
		u.notFound(w, r, s)
		return a, false
	}
	if err != nil {
		u.fail(w, r, s, err)
		return a, false
	}
	return a, true
}
