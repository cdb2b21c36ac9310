package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

// Uploaded files of the content library (docs/forms.md): create with a
// multipart body, replace or remove an item's file, download it.

// maxContentFields bounds the text parts of a multipart content upload.
const maxContentFields = 64 << 10

// contentUpload reads a multipart/form-data content body: the asset's text
// fields and the "file" part (at most forms.MaxFileBytes; one byte more is a
// 413 naming the limit). fieldsOK false refuses any text field (file only).
func contentUpload(w http.ResponseWriter, r *http.Request, fieldsOK bool) (assetInput, *forms.Upload, error) {
	var in assetInput
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" || params["boundary"] == "" {
		return in, nil, &httpx.StatusError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Msg: "send multipart/form-data with a part named file"}
	}
	// The file is larger than the default body limit; the cap is enforced on
	// the file part itself.
	httpx.LiftBodyLimit(w, r, forms.MaxFileBytes+maxContentFields+(64<<10))
	mr, err := r.MultipartReader()
	if err != nil {
		return in, nil, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_upload", Msg: err.Error()}
	}
	var up *forms.Upload
	text := 0
	for parts := 1; ; parts++ {
		if parts > maxUploadParts {
			return in, nil, tooManyParts
		}
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return in, nil, forms.ErrFileTooLarge
			}
			return in, nil, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_upload", Msg: "malformed multipart body: " + err.Error()}
		}
		name := part.FormName()
		if name == "file" {
			if up != nil {
				return in, nil, badField("file", "give one file")
			}
			u, err := forms.ReadUpload(part, part.FileName())
			if err != nil {
				return in, nil, err
			}
			up = &u
			continue
		}
		dst := map[string]**string{"title": &in.Title, "url": &in.URL, "type": &in.Type, "stage": &in.Stage, "segment": &in.Segment, "topic": &in.Topic}[name]
		if dst == nil || !fieldsOK {
			return in, nil, badField(name, "is not a field of this upload (want %s)", map[bool]string{true: "title, url, type, stage, segment, topic and file", false: "file"}[fieldsOK])
		}
		b, err := io.ReadAll(io.LimitReader(part, maxContentFields-int64(text)+1))
		if err != nil {
			return in, nil, err
		}
		if text += len(b); text > maxContentFields {
			return in, nil, badField(name, "the text fields are longer than %d bytes together", maxContentFields)
		}
		v := string(b)
		*dst = &v
	}
	if up == nil {
		return in, nil, badField("file", "is required (a multipart part named file)")
	}
	return in, up, nil
}

// createAssetUpload is POST /api/v1/content with a multipart body.
func createAssetUpload(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	in, up, err := contentUpload(w, r, true)
	if err != nil {
		return err
	}
	var x model.Asset
	in.apply(&x)
	x, err = a.d.Forms.SaveAssetFile(r.Context(), p.Actor(httpx.ClientIP(r)), x, up)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/content/%d", x.ID))
	httpx.JSON(w, http.StatusCreated, x)
	return nil
}

func putAssetFile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	// A foreign or missing id answers 404 before the body is read.
	x, err := a.d.St.Read().GetAsset(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	_, up, err := contentUpload(w, r, false)
	if err != nil {
		return err
	}
	x, err = a.d.Forms.SaveAssetFile(r.Context(), p.Actor(httpx.ClientIP(r)), x, up)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, x)
	return nil
}

func deleteAssetFile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	x, err := a.d.Forms.RemoveAssetFile(r.Context(), p.Actor(httpx.ClientIP(r)), id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, x)
	return nil
}

func getAssetFile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	x, data, err := a.d.Forms.AssetFile(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	forms.ServeFile(w, r, x, data)
	return nil
}

// contentFileTypes are the media types a downloaded file can have.
var contentFileTypes = []string{"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "text/plain", "text/csv",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation"}

var uploadFields = js{
	"title": str(200), "url": withDesc(str(0), "absolute http(s) URL (optional with a file)"), "type": enum(model.AssetTypes...),
	"stage": enum(append([]string{""}, model.AssetStages...)...), "segment": enum(append([]string{""}, model.Segments...)...), "topic": str(200),
	"file": withDesc(js{"type": "string", "contentMediaType": "application/octet-stream"}, "at most 20 MiB; "+forms.AllowedFiles+" (the type is sniffed from the bytes)"),
}

var (
	putAssetFileDoc = op{id: "putContentFile", tag: "content", summary: "Upload or replace the item's file (multipart, part named file; at most 20 MiB; type sniffed from the bytes against an allow-list). The file is what gated forms hand over",
		body: []content{{"multipart/form-data", js{"type": "object", "required": []string{"file"}, "properties": js{"file": uploadFields["file"]}}, nil}}, resp: ok200("Asset")}
	deleteAssetFileDoc = op{id: "deleteContentFile", tag: "content", summary: "Remove the item's file; refused (file) when the item has no url to hand over instead", resp: ok200("Asset")}
	getAssetFileDoc    = op{id: "getContentFile", tag: "content", summary: "Download the item's file (attachment, nosniff)", resp: []resp{{http.StatusOK, joinTypes(contentFileTypes), "", "the file", false}}}
)

func joinTypes(ts []string) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += "|"
		}
		out += t
	}
	return out
}
