package forms_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

var pdf = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func fieldOf(err error) string {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func docx(t *testing.T) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("[Content_Types].xml")
	w.Write([]byte(`<?xml version="1.0"?><Types/>`))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Uploaded files: the type is sniffed from the bytes against an allow-list
// (an HTML page named .pdf is refused, naming what it is), the size is capped
// (one byte over 20 MiB is a 413 saying the limit), an asset with a file needs
// no URL, and the bytes are the workspace's own.
func TestContentUploads(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		a, err := f.svc.SaveAssetFile(f.ctx, f.act, model.Asset{Title: "Pricing guide", Type: "guide"}, &forms.Upload{Name: "pricing guide.pdf", Data: pdf})
		if err != nil {
			t.Fatal(err)
		}
		if a.File == nil || a.File.ContentType != "application/pdf" || a.File.Size != int64(len(pdf)) || a.File.Name != "pricing guide.pdf" || a.URL != "" {
			t.Fatalf("asset %+v file %+v", a, a.File)
		}
		got, data, err := f.svc.AssetFile(f.ctx, f.ws, a.ID)
		if err != nil || !bytes.Equal(data, pdf) || got.File == nil {
			t.Fatalf("read back %+v %d bytes %v", got, len(data), err)
		}
		// An edit without a new file keeps it; a list shows its metadata.
		got.Topic = "pricing"
		if got, err = f.svc.SaveAsset(f.ctx, f.act, got); err != nil || got.File == nil {
			t.Fatalf("edit without a file: %+v %v", got, err)
		}
		list, _ := st.Read().Assets(f.ctx, f.ws)
		if len(list) != 1 || list[0].File == nil || list[0].File.Size != int64(len(pdf)) {
			t.Fatalf("list %+v", list)
		}
		// Refused: the content decides, not the name.
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"guide.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "text/html"},
			{"tool.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), "application/octet-stream"},
			{"archive.zip", docx(t), "application/zip"},
			{"notes.html", []byte("just some words"), "text/plain"},
			{"empty.pdf", nil, "empty"},
		} {
			_, err := f.svc.SaveAssetFile(f.ctx, f.act, model.Asset{Title: "x", Type: "guide"}, &forms.Upload{Name: c.name, Data: c.data})
			if fieldOf(err) != "file" || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want a file error naming %s", c.name, err, c.want)
			}
		}
		// Accepted by extension where the bytes are a container or text.
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"plan.docx", docx(t), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
			{"list.csv", []byte("email,name\na@b.example,A\n"), "text/csv; charset=utf-8"},
		} {
			x, err := f.svc.SaveAssetFile(f.ctx, f.act, model.Asset{Title: c.name, Type: "template"}, &forms.Upload{Name: c.name, Data: c.data})
			if err != nil || x.File.ContentType != c.want {
				t.Errorf("%s: %+v %v", c.name, x.File, err)
			}
		}
		if _, err := f.svc.SaveAsset(f.ctx, f.act, model.Asset{Title: "no source", Type: "guide"}); fieldOf(err) != "url" {
			t.Fatalf("neither url nor file: %v", err)
		}
		// The cap: exactly 20 MiB is read, one byte more is a 413.
		if up, err := forms.ReadUpload(bytes.NewReader(make([]byte, forms.MaxFileBytes)), "big.pdf"); err != nil || len(up.Data) != forms.MaxFileBytes {
			t.Fatalf("at the limit: %d %v", len(up.Data), err)
		}
		_, err = forms.ReadUpload(bytes.NewReader(make([]byte, forms.MaxFileBytes+1)), "big.pdf")
		var se *httpx.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusRequestEntityTooLarge || !strings.Contains(se.Msg, "20 MB") {
			t.Fatalf("over the limit: %v", err)
		}
		if up, _ := forms.ReadUpload(strings.NewReader("x"), `C:\Users\me\"evil"\..\re port.pdf`); up.Name != "re port.pdf" {
			t.Fatalf("name %q", up.Name)
		}
		// Another workspace cannot read it.
		other := setup(t, st, false)
		if _, _, err := other.svc.AssetFile(other.ctx, other.ws, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("B read A's file: %v", err)
		}
		// Removing the file needs a URL to fall back on.
		if _, err := f.svc.RemoveAssetFile(f.ctx, f.act, a.ID); fieldOf(err) != "file" {
			t.Fatalf("remove without a url: %v", err)
		}
	})
}

// A gated form hands an uploaded file over through a signed link bound to the
// submission: the link serves the bytes as an attachment with nosniff; a
// tampered, expired or orphaned link is a 404 page; with double opt-in the
// link appears only on the confirmation page.
func TestGatedFileDownload(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, false)
		a, err := f.svc.SaveAssetFile(f.ctx, f.act, model.Asset{Title: "Pricing guide", Type: "guide"}, &forms.Upload{Name: "Prüfung guide.pdf", Data: pdf})
		if err != nil {
			t.Fatal(err)
		}
		g := f.form(model.Form{Name: "Guide", Kind: "gated_content", AssetID: &a.ID})
		r := f.post("/f/"+g.Key, "application/json", `{"email":"reader@shop.io"}`)
		var res struct {
			AssetURL string `json:"asset_url"`
		}
		if err := json.Unmarshal([]byte(r.body), &res); err != nil || !strings.HasPrefix(res.AssetURL, "https://rs.example/d/") {
			t.Fatalf("answer %d %s", r.status, r.body)
		}
		link := strings.TrimPrefix(res.AssetURL, "https://rs.example")
		d := f.get(link)
		if d.status != 200 || d.body != string(pdf) {
			t.Fatalf("download %d %q", d.status, d.body)
		}
		for k, want := range map[string]string{
			"Content-Type":           "application/pdf",
			"X-Content-Type-Options": "nosniff",
			"Content-Disposition":    `attachment; filename="Pr_fung guide.pdf"; filename*=UTF-8''Pr%C3%BCfung%20guide.pdf`,
			"Cache-Control":          "private, no-store",
		} {
			if got := d.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		// The HTML thank-you page links the same kind of link.
		if h := f.post("/f/"+g.Key, "application/x-www-form-urlencoded", "email=other%40shop.io"); h.status != 200 || !strings.Contains(h.body, `href="https://rs.example/d/`) {
			t.Fatalf("thank-you page %d %s", h.status, h.body)
		}
		// Tampering with either half.
		tok := strings.TrimPrefix(link, "/d/")
		p64, sig, _ := strings.Cut(tok, ".")
		for _, bad := range []string{p64 + "." + sig[:len(sig)-2] + "AA", "ZDF8MXwxfDF8MQ." + sig, "nodot", ""} {
			if r := f.get("/d/" + bad); r.status != 404 || r.body == string(pdf) {
				t.Errorf("token %q: %d", bad, r.status)
			}
		}
		// Expired after 30 days.
		f.svc.Now = func() time.Time { return monday10.Add(forms.DownloadValidity + time.Hour) }
		if r := f.get(link); r.status != 404 || !strings.Contains(r.body, "expired") {
			t.Fatalf("expired link %d %s", r.status, r.body)
		}
		f.svc.Now = func() time.Time { return monday10 }
		// The file replaced by a URL: the link now redirects there.
		a.URL = "https://cdn.example/guide.pdf"
		if _, err := f.svc.SaveAsset(f.ctx, f.act, a); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RemoveAssetFile(f.ctx, f.act, a.ID); err != nil {
			t.Fatal(err)
		}
		nofollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := nofollow.Get(f.srv.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://cdn.example/guide.pdf" {
			t.Fatalf("after removing the file: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// The asset deleted: the link is dead.
		if err := st.InTx(f.ctx, func(q store.Q) error { return q.DeleteAsset(f.ctx, f.ws, a.ID) }); err != nil {
			t.Fatal(err)
		}
		if r := f.get(link); r.status != 404 {
			t.Fatalf("deleted asset %d", r.status)
		}

		// Double opt-in: nothing before confirmation, the link after.
		b, err := f.svc.SaveAssetFile(f.ctx, f.act, model.Asset{Title: "Checklist", Type: "checklist"}, &forms.Upload{Name: "checklist.pdf", Data: pdf})
		if err != nil {
			t.Fatal(err)
		}
		g2 := f.form(model.Form{Name: "Checklist", Kind: "gated_content", AssetID: &b.ID, ConsentText: "Email me", ConsentVersion: "v1", DoubleOptIn: true})
		if r := f.post("/f/"+g2.Key, "application/json", `{"email":"dbl@shop.io","consent":true}`); r.status != 200 || strings.Contains(r.body, "/d/") {
			t.Fatalf("pending: %d %s", r.status, r.body)
		}
		confirm := strings.TrimPrefix(f.confirm.urls[len(f.confirm.urls)-1], "https://rs.example")
		c := f.post(confirm, "application/x-www-form-urlencoded", "")
		i := strings.Index(c.body, `href="https://rs.example/d/`)
		if c.status != 200 || i < 0 || !strings.Contains(c.body, "Checklist") {
			t.Fatalf("confirmation page %d %s", c.status, c.body)
		}
		rest := c.body[i+len(`href="https://rs.example`):]
		if r := f.get(rest[:strings.IndexByte(rest, '"')]); r.status != 200 || r.body != string(pdf) {
			t.Fatalf("download after confirmation %d", r.status)
		}
	})
}
