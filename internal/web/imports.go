package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strconv"

	"github.com/rightsize/rightsize/internal/export"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// importErrorsShown caps the rejected rows listed on the report page; the CSV
// download has them all.
const importErrorsShown = 200

// recon is an import's reconciliation as the report shows it: the three parts
// as shares of the rows for the stacked bar.
type recon struct {
	model.Import
	AcceptedPct, MergedPct, RejectedPct float64
	Running                             bool
}

// Reconciles states the invariant rows = accepted + rejected + merged.
func (r recon) Reconciles() bool { return r.Import.Reconciles() }

func newRecon(im model.Import) recon {
	r := recon{Import: im, Running: im.Status == "queued" || im.Status == "running" || im.Status == "uploading"}
	if im.Rows > 0 {
		r.AcceptedPct = float64(im.Accepted) * 100 / float64(im.Rows)
		r.MergedPct = float64(im.Merged) * 100 / float64(im.Rows)
		r.RejectedPct = float64(im.Rejected) * 100 / float64(im.Rows)
	}
	return r
}

// MergedX and RejectedX place the stacked bar's segments (SVG x in percent).
func (r recon) MergedX() float64   { return r.AcceptedPct }
func (r recon) RejectedX() float64 { return r.AcceptedPct + r.MergedPct }

type importListData struct {
	Imports []recon
}

func (u *UI) importList(w http.ResponseWriter, r *http.Request, s *session) {
	ims, err := u.d.St.Read().ListImports(r.Context(), s.WS(), 100)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := importListData{}
	refresh := 0
	for _, im := range ims {
		rc := newRecon(im)
		if rc.Running {
			refresh = 3
		}
		d.Imports = append(d.Imports, rc)
	}
	u.render(w, r, http.StatusOK, "imports", view{Title: "Imports", Section: "imports", S: s, D: d, Refresh: refresh})
}

func importForm() *form {
	f := newForm("/imports", "Upload and import", "/imports", []field{
		{Name: "object_type", Label: "What the file holds", Type: "select", Required: true, Groups: opts(importer.ImportObjectTypes, noBlank)},
		{Name: "file", Label: "CSV file", Type: "file", Required: true, Hint: "UTF-8 CSV with a header row. Rows that cannot be imported are reported with line and column; the rest are imported."},
		{Name: "date_format", Label: "Ambiguous dates such as 03/04/2024", Type: "select", Hint: "By default each date column is decided from its own values; the report says how.",
			Groups: []optGroup{{Options: []option{{"", "Decide per column"}, {"dmy", "Day first (03/04 = 3 April)"}, {"mdy", "Month first (03/04 = 4 March)"}, {"iso", "Year first only (2024-04-03)"}}}}},
		{Name: "delimiter", Label: "Delimiter", Type: "select",
			Groups: []optGroup{{Options: []option{{"", "Detect"}, {",", "Comma ,"}, {";", "Semicolon ;"}, {"tab", "Tab"}}}}},
		{Name: "pipeline", Label: "Deals: pipeline when the file has none", Type: "select",
			Groups: []optGroup{{Options: []option{{"", "Infer from the stage name"}, {"high_touch", "High touch (SPANCO)"}, {"digital", "Digital"}}}}},
	})
	f.Values["object_type"] = "contact"
	return f
}

func (u *UI) importNew(w http.ResponseWriter, r *http.Request, s *session) {
	u.render(w, r, http.StatusOK, "import_new", view{Title: "New import", Section: "imports", S: s, D: formPage{Heading: "Import a CSV file", F: importForm()}})
}

func (u *UI) importCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := importForm()
	limit := u.d.MaxUploadBytes
	if limit <= 0 {
		limit = 512 << 20
	}
	httpx.LiftBodyLimit(w, r, limit)
	file, hdr, err := r.FormFile("file")
	for _, k := range []string{"object_type", "date_format", "delimiter", "pipeline"} {
		f.Values[k] = r.FormValue(k)
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		f.Errors["file"] = "the file is larger than the upload limit (" + formatNumber(mbe.Limit) + " bytes)"
	case errors.Is(err, http.ErrMissingFile):
		f.Errors["file"] = "choose a CSV file"
	case err != nil:
		f.Errors["file"] = "the upload could not be read; try again"
	}
	if !model.Contains(importer.ImportObjectTypes, f.Values["object_type"]) {
		f.Errors["object_type"] = "pick what the file holds"
	} else if f.Values["object_type"] == "subscription" && !subscriptions.CanWrite(s.Role) {
		f.Errors["object_type"] = "your role cannot import subscriptions (admins, managers, CSMs and AEs can)"
	}
	if len(f.Errors) > 0 {
		u.render(w, r, http.StatusUnprocessableEntity, "import_new", view{Title: "New import", Section: "imports", S: s, D: formPage{Heading: "Import a CSV file", F: f}})
		return
	}
	defer file.Close()
	opts := importer.Options{DateFormat: f.Values["date_format"], Delimiter: f.Values["delimiter"], Pipeline: f.Values["pipeline"]}
	im, err := u.d.Imports.Create(r.Context(), s.Actor(), f.Values["object_type"], hdr.Filename, file, opts)
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.render(w, r, http.StatusUnprocessableEntity, "import_new", view{Title: "New import", Section: "imports", S: s, D: formPage{Heading: "Import a CSV file", F: f}})
		return
	}
	redirect(w, r, "/imports/"+formatInt(im.ID))
}

type importPage struct {
	R       recon
	Errors  []model.ImportError
	More    bool
	CSVLink string
	Sum     importer.Summary
	Columns []columnMap
}

type columnMap struct{ Header, Field string }

func (u *UI) importShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	q := u.d.St.Read()
	im, err := q.GetImport(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	errs, err := q.ImportErrors(r.Context(), s.WS(), id, importErrorsShown+1)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := importPage{R: newRecon(im), Errors: errs, CSVLink: "/imports/" + formatInt(id) + "/errors.csv"}
	if len(im.Summary) > 0 {
		_ = json.Unmarshal(im.Summary, &p.Sum) // written by the importer; an old or empty one shows nothing
		for h, f := range p.Sum.Columns {
			p.Columns = append(p.Columns, columnMap{h, f})
		}
		sort.Slice(p.Columns, func(i, j int) bool { return p.Columns[i].Header < p.Columns[j].Header })
	}
	if len(errs) > importErrorsShown {
		p.Errors, p.More = errs[:importErrorsShown], true
	}
	refresh := 0
	if p.R.Running {
		refresh = 2
	}
	u.render(w, r, http.StatusOK, "import", view{Title: "Import " + im.Filename, Section: "imports", S: s, D: p, Refresh: refresh})
}

// importErrorsCSV downloads the rejected rows so they can be fixed and imported
// again.
func (u *UI) importErrorsCSV(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	q := u.d.St.Read()
	if _, err := q.GetImport(r.Context(), s.WS(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-rejected.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := export.WriteImportErrors(r.Context(), u.d.St, s.WS(), id, w); err != nil {
		slog.ErrorContext(r.Context(), "rejected rows download failed mid-stream", "import", id, "err", err)
	}
}
