package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// assets serves the embedded static files under content-hash names
// (app.css → /static/app.3f2a9c1d.css) so they can be cached forever: a changed
// file gets a new URL.
type assets struct {
	url    map[string]string // logical name → hashed URL
	byName map[string]asset  // hashed file name → content
}

type asset struct {
	body  []byte
	ctype string
	etag  string
}

func loadAssets() *assets {
	a := &assets{url: map[string]string{}, byName: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])[:12]
		name := path.Base(p)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + h + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.url[name] = "/static/" + hashed
		a.byName[hashed] = asset{body: b, ctype: ct, etag: `"` + h + `"`}
		return nil
	})
	if err != nil {
		panic("web: load static assets: " + err.Error())
	}
	return a
}

// URL returns the hashed URL of a logical asset name; an unknown name panics at
// template execution, which the page tests catch.
func (a *assets) URL(name string) string {
	u, ok := a.url[name]
	if !ok {
		panic("web: no static asset " + name)
	}
	return u
}

func (u *UI) static(w http.ResponseWriter, r *http.Request) {
	f, ok := u.assets.byName[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", f.etag)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}
