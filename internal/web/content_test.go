package web_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

const pdfBytes = "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"

// contentUpload posts the content form with a file as a browser does.
func contentUpload(t *testing.T, e *apptest.Env, c *http.Client, path string, fields map[string]string, name, content string) resp {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		if name != "" {
			fw, _ := mw.CreateFormFile("file", name)
			_, _ = io.WriteString(fw, content)
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", e.URL+path, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// The content library takes an uploaded file: listed with its name and size,
// downloaded by logged-in users of the workspace only (attachment, nosniff);
// a file that is not an allowed type is refused next to the input, one over
// 20 MB answers 413 saying the limit; an edit keeps the file.
func TestContentUploadUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		ok(t, get(t, e, ae, "/content"), 200, `enctype="multipart/form-data"`, `type="file" name="file" accept=".pdf,`)
		r := contentUpload(t, e, ae, "/content", map[string]string{"title": "Pricing guide", "type": "guide"}, "pricing.pdf", pdfBytes)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", r.Status, snippet(r.Body))
		}
		xs, err := e.App.St.Read().Assets(t.Context(), e.A.ID)
		if err != nil || len(xs) != 1 || xs[0].File == nil {
			t.Fatalf("assets %+v %v", xs, err)
		}
		id := xs[0].ID
		link := "/content/" + formatID(id) + "/file"
		ok(t, get(t, e, ae, "/content"), 200, `href="`+link+`"`, "pricing.pdf · 51 bytes")
		d := get(t, e, ae, link)
		if d.Status != 200 || d.Body != pdfBytes || d.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(d.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("download %d %v", d.Status, d.Header)
		}
		other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		if r := get(t, e, other, link); r.Status != 404 {
			t.Fatalf("B downloaded A's file: %d", r.Status)
		}
		r = contentUpload(t, e, ae, "/content", map[string]string{"title": "Sneaky", "type": "guide"}, "sneaky.pdf", "<html><script>alert(1)</script></html>")
		ok(t, r, http.StatusUnprocessableEntity, `id="c-file-err"`, "text/html", `value="Sneaky"`)
		r = contentUpload(t, e, ae, "/content", map[string]string{"title": "Huge", "type": "video"}, "huge.mp4", strings.Repeat("x", 20<<20+1))
		ok(t, r, http.StatusRequestEntityTooLarge, `id="c-file-err"`, "larger than 20 MB")
		r = contentUpload(t, e, ae, "/content", map[string]string{"title": "Nothing", "type": "guide"}, "", "")
		ok(t, r, http.StatusUnprocessableEntity, `id="c-url-err"`, "or upload a file")
		// An edit without a new file keeps the stored one.
		ok(t, get(t, e, ae, "/content/"+formatID(id)+"/edit"), 200, "Stored: pricing.pdf (51 bytes)")
		r = contentUpload(t, e, ae, "/content/"+formatID(id), map[string]string{"title": "Pricing guide 2026", "type": "guide", "topic": "pricing"}, "", "")
		if r.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", r.Status, snippet(r.Body))
		}
		if d := get(t, e, ae, link); d.Status != 200 || d.Body != pdfBytes {
			t.Fatalf("file after edit %d", d.Status)
		}
	})
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }
