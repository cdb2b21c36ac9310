package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

var testPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

// upload sends a multipart body: text fields, then a part named file.
func (h *harness) upload(t *testing.T, key, method, path string, fields map[string]string, name string, data []byte) result {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if data != nil {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req := h.request(t, key, method, path, "")
	req.Body, req.ContentLength = readCloser{bytes.NewReader(b.Bytes())}, int64(b.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return h.do(t, req)
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// testContentFiles: a content item created with an uploaded file (no url),
// downloaded by a logged-in key with attachment + nosniff, replaced, refused
// when the bytes are not an allowed type or too large (413 naming the limit),
// its file removed only when a url can stand in.
func (h *harness) testContentFiles(t *testing.T) {
	write := h.env.A.Keys[model.RoleAE]
	res := h.upload(t, write, "POST", "/api/v1/content", map[string]string{"title": "Pricing guide", "type": "guide", "stage": "consideration"}, "pricing.pdf", testPDF)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	created := res.object(t)
	aid := id(t, created, "id")
	file, _ := created["file"].(map[string]any)
	if created["url"] != "" || file["content_type"] != "application/pdf" || file["size"] != float64(len(testPDF)) || file["name"] != "pricing.pdf" {
		t.Fatalf("created %v", created)
	}
	path := fmt.Sprintf("/api/v1/content/%d/file", aid)
	got := h.call(t, h.env.A.Keys[model.RoleLDR], "GET", path, "")
	if got.Status != 200 || !bytes.Equal(got.Body, testPDF) || got.Header.Get("Content-Type") != "application/pdf" ||
		got.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(got.Header.Get("Content-Disposition"), `attachment; filename="pricing.pdf"`) {
		t.Fatalf("download %d %v", got.Status, got.Header)
	}
	if res := h.call(t, h.adminB(), "GET", path, ""); res.Status != 404 {
		t.Fatalf("B downloaded A's file: %d", res.Status)
	}
	// Replace with a PNG.
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 20)...)
	res = h.upload(t, write, "PUT", path, nil, "cover.png", png)
	if res.Status != 200 || !strings.Contains(string(res.Body), `"content_type":"image/png"`) {
		t.Fatalf("replace: %d %s", res.Status, res.Body)
	}
	// Refusals name the part.
	wantProblem(t, h.upload(t, write, "PUT", path, nil, "page.pdf", []byte("<html><body>hi</body></html>")), http.StatusBadRequest, "file")
	wantProblem(t, h.upload(t, write, "PUT", path, map[string]string{"title": "x"}, "a.pdf", testPDF), http.StatusBadRequest, "title")
	wantProblem(t, h.upload(t, write, "POST", "/api/v1/content", map[string]string{"title": "x", "type": "guide"}, "", nil), http.StatusBadRequest, "file")
	wantProblem(t, h.upload(t, write, "POST", "/api/v1/content", map[string]string{"type": "guide"}, "a.pdf", testPDF), http.StatusBadRequest, "title")
	wantProblem(t, h.call(t, write, "PUT", path, `{"file":"x"}`), http.StatusUnsupportedMediaType, "")
	big := make([]byte, 20<<20+1)
	copy(big, testPDF)
	p := wantProblem(t, h.upload(t, write, "PUT", path, nil, "big.pdf", big), http.StatusRequestEntityTooLarge, "file")
	if !strings.Contains(fmt.Sprint(p["detail"]), "20 MB") {
		t.Errorf("413 detail %v", p)
	}
	// The file is the only source: removing it is refused until a url is set.
	wantProblem(t, h.call(t, write, "DELETE", path, ""), http.StatusBadRequest, "file")
	h.want(t, http.StatusOK, write, "PATCH", fmt.Sprintf("/api/v1/content/%d", aid), `{"url":"https://cdn.example/pricing.pdf"}`)
	if got := h.want(t, http.StatusOK, write, "DELETE", path, ""); got["file"] != nil || got["url"] != "https://cdn.example/pricing.pdf" {
		t.Fatalf("after removing the file: %v", got)
	}
	if res := h.call(t, write, "GET", path, ""); res.Status != 404 {
		t.Fatalf("file after removal: %d", res.Status)
	}
}
