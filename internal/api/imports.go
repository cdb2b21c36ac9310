package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/export"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/importer/csvin"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// defaultMaxUpload bounds an import file when Deps does not; the importer streams
// it into the database in chunks, so the bound is about disk, not memory.
const defaultMaxUpload = 512 << 20

// Import error lists are bounded: the JSON view is for a screen, the CSV for a
// spreadsheet.
const (
	importErrorsDefault = 1000
	importErrorsMax     = 10000
)

// createImport stores the upload and queues it; the answer is 202 because the rows
// are read by a background job, whose progress the Location shows.
func createImport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "object", "filename", "options")
	if err != nil {
		return err
	}
	obj := v.Get("object")
	if _, ok := importer.ObjectTypes[obj]; !ok {
		return badField("object", "%q is not one of accounts, contacts, deals, activities, subscriptions", obj)
	}
	if importer.ObjectTypes[obj] == "subscription" && !subscriptions.CanWrite(p.Role) {
		return httpx.ErrForbidden
	}
	opts, err := importOptions(v.Get("options"))
	if err != nil {
		return err
	}
	// Uploads are larger than the default request body limit.
	limit := a.d.MaxUploadBytes
	if limit <= 0 {
		limit = defaultMaxUpload
	}
	httpx.LiftBodyLimit(w, r, limit)
	up, err := uploadedFile(r, v.Get("filename"), v.Has("options"))
	if err != nil {
		return err
	}
	if up.options != nil {
		if opts, err = importOptions(string(up.options)); err != nil {
			return err
		}
	}
	im, err := a.d.Imports.Create(r.Context(), p.Actor(httpx.ClientIP(r)), obj, up.name, up.file, opts)
	var le *csvin.LimitError
	if errors.As(err, &le) {
		return &httpx.StatusError{Status: http.StatusUnprocessableEntity, Code: "csv_limit", Field: "file", Msg: le.Error()}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/imports/"+strconv.FormatInt(im.ID, 10))
	httpx.JSON(w, http.StatusAccepted, im)
	return nil
}

// importOptions decodes the importer's options strictly: a misspelt option would
// otherwise be ignored and the file read with defaults the client did not want.
func importOptions(raw string) (importer.Options, error) {
	var o importer.Options
	if strings.TrimSpace(raw) == "" {
		return o, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, badField("options", "not valid import options: %v", err)
	}
	if dec.More() {
		return o, badField("options", "data after the JSON object")
	}
	return o, nil
}

type upload struct {
	file    io.Reader
	name    string
	options []byte // the multipart "options" part, if any
}

// maxOptionsPart bounds the JSON options part; the file part is the big one.
const maxOptionsPart = 1 << 20

// maxUploadParts bounds the parts read before the file: a body of many tiny
// parts is refused instead of parsed part by part up to the upload limit.
const maxUploadParts = 16

// tooManyParts and optionsTooLarge are 413s that name the limit.
var (
	tooManyParts    = &httpx.StatusError{Status: http.StatusRequestEntityTooLarge, Code: "too_many_parts", Msg: fmt.Sprintf("more than %d multipart parts (the limit)", maxUploadParts)}
	optionsTooLarge = &httpx.StatusError{Status: http.StatusRequestEntityTooLarge, Code: "part_too_large", Field: "options", Msg: fmt.Sprintf("the options part is larger than %d bytes (the limit)", maxOptionsPart)}
)

// uploadedFile finds the CSV in a request: the "file" part of a multipart form
// (streamed, never buffered whole; an "options" part must come before it) or a
// raw CSV body.
func uploadedFile(r *http.Request, filename string, optionsInQuery bool) (upload, error) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		ct = ""
	}
	switch ct {
	case "multipart/form-data":
		if params["boundary"] == "" {
			return upload{}, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_upload", Msg: "multipart body without a boundary"}
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return upload{}, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_upload", Msg: err.Error()}
		}
		var up upload
		for parts := 1; ; parts++ {
			if parts > maxUploadParts {
				return upload{}, tooManyParts
			}
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return upload{}, badField("file", "is required (a multipart field named file)")
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return upload{}, err
				}
				return upload{}, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_upload", Msg: "malformed multipart body: " + err.Error()}
			}
			switch part.FormName() {
			case "options":
				if optionsInQuery {
					return upload{}, badField("options", "given both as a query parameter and a form field")
				}
				if up.options, err = io.ReadAll(io.LimitReader(part, maxOptionsPart+1)); err != nil {
					return upload{}, err
				}
				if len(up.options) > maxOptionsPart {
					return upload{}, optionsTooLarge
				}
			case "file":
				if filename == "" {
					filename = part.FileName()
				}
				up.file, up.name = part, cleanFilename(filename)
				return up, nil
			}
		}
	case "text/csv", "application/csv", "text/plain":
		return upload{file: r.Body, name: cleanFilename(filename)}, nil
	}
	return upload{}, &httpx.StatusError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Msg: "send multipart/form-data with a file field, or a text/csv body"}
}

// cleanFilename keeps only a display name: no directories, no control characters.
func cleanFilename(s string) string {
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if s == "" || s == "." || s == "/" {
		s = "upload.csv"
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func listImports(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, store.DefaultPageSize, store.MaxPageSize)
	if err != nil {
		return err
	}
	ims, err := a.d.St.Read().ListImports(r.Context(), p.WorkspaceID, limit)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Import]{Items: ims})
	return nil
}

func getImport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	im, err := a.d.St.Read().GetImport(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, im)
	return nil
}

// listImportErrors loads the import first: the store answers a foreign import's
// errors with an empty list, and the API must answer it with a 404.
func listImportErrors(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := onlyParams(r, "limit")
	if err != nil {
		return err
	}
	limit, err := limitParam(v, importErrorsDefault, importErrorsMax)
	if err != nil {
		return err
	}
	q := a.d.St.Read()
	if _, err := q.GetImport(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	errs, err := q.ImportErrors(r.Context(), p.WorkspaceID, id, limit)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.ImportError]{Items: errs})
	return nil
}

// importErrorsCSV downloads the rejected rows so they can be fixed in a
// spreadsheet and imported again. The import is checked before the header is
// written so a foreign or missing id is still a problem response; the rows stream.
func importErrorsCSV(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if _, err := a.d.St.Read().GetImport(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, id))
	if err := export.WriteImportErrors(r.Context(), a.d.St, p.WorkspaceID, id, w); err != nil {
		slog.ErrorContext(r.Context(), "rejected rows download failed mid-stream", "import", id, "err", err, "request_id", httpx.RequestID(r.Context()))
	}
	return nil
}

// exportRecords streams every record of one kind as CSV and audits the export.
// Admins and managers only: a full export is how a book of business walks out.
func exportRecords(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	object := r.PathValue("object")
	if !slices.Contains(export.Objects, object) {
		return store.ErrNotFound
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	act := p.Actor(httpx.ClientIP(r))
	if err := a.d.St.InTx(r.Context(), func(q store.Q) error {
		return crm.Audit(r.Context(), q, act, "export", object, nil, nil)
	}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, object))
	if _, err := export.Write(r.Context(), a.d.St, p.WorkspaceID, object, w); err != nil {
		// The header is out; the truncated file is all the client can get. Log it once.
		slog.ErrorContext(r.Context(), "export failed mid-stream", "object", object, "err", err, "request_id", httpx.RequestID(r.Context()))
	}
	return nil
}
