package forms

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Uploaded files in the content library (docs/forms.md, "Content library").
// The bytes live in the database (content_files, keyed by workspace and
// asset), so every serve process on one PostgreSQL serves the same file. A
// file is served to logged-in users of its workspace and, through a gated
// form, by a signed link bound to the submission that earned it.

// MaxFileBytes caps one uploaded file (20 MiB).
const MaxFileBytes = 20 << 20

// Upload is a file as received: its display name and its bytes.
type Upload struct {
	Name string
	Data []byte
}

// ErrFileTooLarge is a 413 naming the limit.
var ErrFileTooLarge = &httpx.StatusError{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Field: "file",
	Msg: fmt.Sprintf("file: larger than %d MB (%d bytes); upload a smaller file or link it by URL", MaxFileBytes>>20, MaxFileBytes)}

// ReadUpload reads a file part up to MaxFileBytes; one byte more is
// ErrFileTooLarge (nothing past the limit is buffered).
func ReadUpload(r io.Reader, name string) (Upload, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Upload{}, ErrFileTooLarge
		}
		return Upload{}, err
	}
	if len(data) > MaxFileBytes {
		return Upload{}, ErrFileTooLarge
	}
	return Upload{Name: cleanName(name), Data: data}, nil
}

// cleanName keeps a display name: no directories, no control characters or
// quotes, at most 200 bytes.
func cleanName(s string) string {
	s = path.Base(strings.ReplaceAll(s, `\`, "/"))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, s)
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if s == "." || s == "/" {
		s = ""
	}
	for len(s) > 200 {
		s = s[:len(s)-1]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// allowedFile is one accepted kind of file: what the sniffer reports and the
// extensions that must go with it when the sniff alone is ambiguous.
var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// AllowedFiles says in words what an upload may be.
const AllowedFiles = "PDF, PNG, JPEG, GIF, WebP, MP4, plain text (.txt), CSV (.csv) or Word/Excel/PowerPoint (.docx, .xlsx, .pptx)"

// sniff decides the content type from the bytes (http.DetectContentType,
// the WHATWG algorithm), never from what the client claimed; text and zip
// containers are told apart by the extension. Anything else is refused.
func sniff(name string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", fe("file", "is empty")
	}
	got := http.DetectContentType(data)
	mt, _, _ := strings.Cut(got, ";")
	ext := strings.ToLower(path.Ext(name))
	switch mt {
	case "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4":
		return mt, nil
	case "text/plain":
		switch ext {
		case ".csv":
			return "text/csv; charset=utf-8", nil
		case ".txt", "":
			return "text/plain; charset=utf-8", nil
		}
	case "application/zip":
		if t, ok := officeTypes[ext]; ok {
			return t, nil
		}
	}
	return "", fe("file", "its content is %s (%s); allowed: %s", mt, displayExt(ext), AllowedFiles)
}

func displayExt(ext string) string {
	if ext == "" {
		return "no extension"
	}
	return ext
}

// SaveAssetFile creates or updates a content library item with an uploaded
// file in one transaction; up nil keeps the stored file. An asset needs a URL
// or a file; with both, the file is what is handed over.
func (s *Service) SaveAssetFile(ctx context.Context, act model.Actor, a model.Asset, up *Upload) (model.Asset, error) {
	var file model.AssetFile
	if up != nil {
		ct, err := sniff(up.Name, up.Data)
		if err != nil {
			return a, err
		}
		if up.Name == "" {
			up.Name = "file"
		}
		file = model.AssetFile{Name: up.Name, ContentType: ct, Size: int64(len(up.Data))}
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		hasFile := up != nil
		if a.ID != 0 {
			old, err := q.GetAsset(ctx, act.Workspace, a.ID)
			if err != nil {
				return err
			}
			a.CreatedAt = old.CreatedAt
			hasFile = hasFile || old.File != nil
			if up == nil {
				a.File = old.File
			}
		}
		if err := validateAsset(&a, hasFile); err != nil {
			return err
		}
		if a.ID == 0 {
			if err := q.CreateAsset(ctx, act.Workspace, &a); err != nil {
				return err
			}
		} else if err := q.UpdateAsset(ctx, act.Workspace, &a); err != nil {
			return err
		}
		if up == nil {
			return nil
		}
		sum := sha256.Sum256(up.Data)
		if err := q.PutAssetFile(ctx, act.Workspace, a.ID, file, hex.EncodeToString(sum[:]), up.Data); err != nil {
			return err
		}
		a.File = &file
		return q.AddHistory(ctx, act.Workspace, "content", a.ID, "file_uploaded", map[string]any{"name": file.Name, "content_type": file.ContentType, "size": file.Size}, act.Label)
	})
	return a, err
}

// RemoveAssetFile drops an asset's uploaded file; refused when the asset has
// no URL to fall back on (it would have nothing to hand over).
func (s *Service) RemoveAssetFile(ctx context.Context, act model.Actor, id int64) (model.Asset, error) {
	var a model.Asset
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if a, err = q.GetAsset(ctx, act.Workspace, id); err != nil {
			return err
		}
		if a.File == nil {
			return fe("file", "this item has no uploaded file")
		}
		if a.URL == "" {
			return fe("file", "this item has no URL to hand over instead; set a url first, or delete the item")
		}
		if err := q.RemoveAssetFile(ctx, act.Workspace, id); err != nil {
			return err
		}
		a.File = nil
		return nil
	})
	return a, err
}

// AssetFile reads an asset of ws with its file's bytes (ErrNotFound when the
// asset is outside ws or has no file).
func (s *Service) AssetFile(ctx context.Context, ws, id int64) (model.Asset, []byte, error) {
	q := s.St.Read()
	a, err := q.GetAsset(ctx, ws, id)
	if err != nil {
		return a, nil, err
	}
	if a.File == nil {
		return a, nil, store.ErrNotFound
	}
	data, _, err := q.AssetFileData(ctx, ws, id)
	return a, data, err
}

// ServeFile writes an uploaded file as a download: the sniffed type, nosniff,
// attachment (never rendered inline by this origin), a sandboxing CSP, and no
// caching by shared caches.
func ServeFile(w http.ResponseWriter, r *http.Request, a model.Asset, data []byte) {
	h := w.Header()
	h.Set("Content-Type", a.File.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", contentDisposition(a.File.Name))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// contentDisposition is attachment with an ASCII fallback name and the
// RFC 5987 UTF-8 one.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// ---- the gated download link -------------------------------------------------

// DownloadValidity is how long a gated download link works.
const DownloadValidity = 30 * 24 * time.Hour

func (s *Service) secret(ctx context.Context) ([]byte, error) {
	s.secretMu.Lock()
	defer s.secretMu.Unlock()
	if s.Secret != nil {
		return s.Secret, nil
	}
	var v string
	err := s.St.InTx(ctx, func(q store.Q) (err error) {
		v, err = q.InstallSecret(ctx, "content_download", func() string {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return hex.EncodeToString(b)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Secret = []byte(v)
	return s.Secret, nil
}

func sign(secret []byte, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("download:" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// downloadURL is the gated link to asset a for submission sub of ws: the
// asset's own URL when it has no file, else a signed /d/ link.
func (s *Service) downloadURL(ctx context.Context, ws int64, a model.Asset, subID int64) (string, error) {
	if a.File == nil {
		return a.URL, nil
	}
	key, err := s.secret(ctx)
	if err != nil {
		return "", err
	}
	payload := fmt.Sprintf("d1|%d|%d|%d|%d", ws, a.ID, subID, s.now().Unix())
	tok := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + sign(key, payload)
	return strings.TrimRight(s.BaseURL, "/") + "/d/" + tok, nil
}

// ErrLinkInvalid is a download link that was tampered with, expired, or
// whose submission or asset is gone.
var ErrLinkInvalid = errors.New("forms: download link not valid")

// Download resolves a gated link: the asset and, for an uploaded file, its
// bytes. The submission it names must be accepted (confirmed, with double
// opt-in) and still exist; the asset must still be in the workspace.
func (s *Service) Download(ctx context.Context, token string) (model.Asset, []byte, error) {
	var a model.Asset
	p64, sig, ok := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p64)
	// Only the canonical spelling: a lenient decode lets a changed link
	// (padding bits, CR/LF) verify.
	if !ok || err != nil || base64.RawURLEncoding.EncodeToString(raw) != p64 {
		return a, nil, ErrLinkInvalid
	}
	key, err := s.secret(ctx)
	if err != nil {
		return a, nil, err
	}
	payload := string(raw)
	if subtle.ConstantTimeCompare([]byte(sign(key, payload)), []byte(sig)) != 1 {
		return a, nil, ErrLinkInvalid
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 5 || parts[0] != "d1" {
		return a, nil, ErrLinkInvalid
	}
	var n [4]int64
	for i, p := range parts[1:] {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return a, nil, ErrLinkInvalid
		}
	}
	ws, assetID, subID, issued := n[0], n[1], n[2], time.Unix(n[3], 0)
	if s.now().Sub(issued) > DownloadValidity {
		return a, nil, ErrLinkInvalid
	}
	q := s.St.Read()
	sub, err := q.GetSubmission(ctx, ws, subID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.Status != "accepted") {
		return a, nil, ErrLinkInvalid
	}
	if err != nil {
		return a, nil, err
	}
	a, data, err := s.AssetFile(ctx, ws, assetID)
	if errors.Is(err, store.ErrNotFound) {
		// The file was removed: an asset with a URL still hands that over.
		if a.ID != 0 && a.URL != "" {
			return a, nil, nil
		}
		return a, nil, ErrLinkInvalid
	}
	return a, data, err
}

// download serves GET /d/{token}: the file, or a redirect to the asset's URL
// when its file was replaced by a link since.
func (p *Public) download(w http.ResponseWriter, r *http.Request) {
	a, data, err := p.Svc.Download(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, ErrLinkInvalid):
		p.html(w, http.StatusNotFound, pageData{Title: "Link not valid", Error: "This download link is not valid or has expired. Fill in the form again to get a fresh one."})
	case err != nil:
		httpx.Error(w, r, err)
	case data == nil:
		http.Redirect(w, r, a.URL, http.StatusFound)
	default:
		ServeFile(w, r, a, data)
	}
}
