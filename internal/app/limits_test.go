package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
)

type problem struct {
	Status int
	Code   string
	Detail string
	Field  string
}

func apiReq(t *testing.T, e *apptest.Env, method, path, ctype string, body io.Reader) (int, problem, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+e.A.Keys["admin"])
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p problem
	_ = json.Unmarshal(b, &p)
	return res.StatusCode, p, res.Header
}

// The request body limit (max_body_bytes, 1 MiB by default): 413 with a
// problem naming the limit on the API, a 413 page in the UI.
func TestLimitBodySize(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	big := `{"email":"a@x.io","notes":"` + strings.Repeat("x", 2<<20) + `"}`
	code, p, _ := apiReq(t, e, "POST", "/api/v1/contacts", "application/json", strings.NewReader(big))
	if code != http.StatusRequestEntityTooLarge || p.Code != "body_too_large" || !strings.Contains(p.Detail, "1048576 bytes") {
		t.Fatalf("API: %d %+v", code, p)
	}
	c := e.Browser(t, "admin@alpha.example.com")
	form := url.Values{"email": {"a@x.io"}, "first_name": {strings.Repeat("x", 2<<20)}}
	req, _ := http.NewRequest("POST", e.URL+"/contacts", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "1,048,576 bytes") {
		t.Fatalf("UI: %d", res.StatusCode)
	}
	// Login posts too (outside the signed-in pages).
	req, _ = http.NewRequest("POST", e.URL+"/login", strings.NewReader(url.Values{"email": {"a@x.io"}, "password": {strings.Repeat("x", 2<<20)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	if res, _ := send(t, req); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("login: %d", res.StatusCode)
	}
}

func nested(depth int) string {
	return `{"email":"deep@x.io","custom":` + strings.Repeat(`{"a":`, depth-1) + `1` + strings.Repeat("}", depth-1) + "}"
}

// JSON nesting past 32 levels is refused before decoding, naming the limit.
func TestLimitJSONDepth(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	for _, path := range []string{"/api/v1/contacts", "/api/v1/routing/rules"} {
		method := "POST"
		if strings.HasSuffix(path, "rules") {
			method = "PUT"
		}
		code, p, _ := apiReq(t, e, method, path, "application/json", strings.NewReader(nested(httpx.MaxJSONDepth+1)))
		if code != http.StatusBadRequest || p.Code != "json_too_deep" || !strings.Contains(p.Detail, strconv.Itoa(httpx.MaxJSONDepth)) {
			t.Fatalf("%s depth %d: %d %+v", path, httpx.MaxJSONDepth+1, code, p)
		}
		// Brackets inside strings do not count; exactly the limit is decoded.
		code, p, _ = apiReq(t, e, method, path, "application/json", strings.NewReader(`{"email":"`+strings.Repeat("[{", 100)+`@x.io"}`))
		if p.Code == "json_too_deep" {
			t.Fatalf("%s: brackets in a string counted: %d %+v", path, code, p)
		}
		code, p, _ = apiReq(t, e, method, path, "application/json", strings.NewReader(nested(httpx.MaxJSONDepth)))
		if p.Code == "json_too_deep" || code >= 500 {
			t.Fatalf("%s depth %d refused as too deep: %d %+v", path, httpx.MaxJSONDepth, code, p)
		}
	}
}

// A page larger than the maximum is refused, naming the field (not clamped:
// a client must not take a short page for the end of the list).
func TestLimitPageSize(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	code, p, _ := apiReq(t, e, "GET", fmt.Sprintf("/api/v1/contacts?limit=%d", store.MaxPageSize+1), "", nil)
	if code != http.StatusBadRequest || p.Field != "limit" || !strings.Contains(p.Detail, strconv.Itoa(store.MaxPageSize)) {
		t.Fatalf("limit over the max: %d %+v", code, p)
	}
	if code, _, _ := apiReq(t, e, "GET", fmt.Sprintf("/api/v1/contacts?limit=%d", store.MaxPageSize), "", nil); code != 200 {
		t.Fatalf("limit at the max: %d", code)
	}
}

func multipartBody(t *testing.T, build func(w *multipart.Writer)) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	build(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &b
}

// Multipart uploads: at most 16 parts, an options part of at most 1 MiB, the
// whole upload within max_upload_bytes — each a 413 naming its limit.
func TestLimitMultipart(t *testing.T) {
	t.Parallel()
	e := apptest.NewWith(t, store.SQLite, apptest.Options{Config: func(c *config.Config) { c.MaxUploadBytes = 256 << 10 }})
	ct, body := multipartBody(t, func(w *multipart.Writer) {
		for i := 0; i < 20; i++ {
			_ = w.WriteField(fmt.Sprintf("junk%d", i), "x")
		}
		fw, _ := w.CreateFormFile("file", "c.csv")
		fw.Write([]byte("email\na@x.io\n"))
	})
	code, p, _ := apiReq(t, e, "POST", "/api/v1/imports?object=contacts", ct, body)
	if code != http.StatusRequestEntityTooLarge || p.Code != "too_many_parts" || !strings.Contains(p.Detail, "16") {
		t.Fatalf("parts: %d %+v", code, p)
	}
	for _, path := range []string{"/api/v1/content"} {
		ct, body := multipartBody(t, func(w *multipart.Writer) {
			for i := 0; i < 20; i++ {
				_ = w.WriteField("title", "")
			}
		})
		if code, p, _ := apiReq(t, e, "POST", path, ct, body); code != http.StatusRequestEntityTooLarge || p.Code != "too_many_parts" {
			t.Fatalf("%s parts: %d %+v", path, code, p)
		}
	}
	csv := "email\n" + strings.Repeat("someone@example.com\n", (300<<10)/20)
	code, p, _ = apiReq(t, e, "POST", "/api/v1/imports?object=contacts", "text/csv", strings.NewReader(csv))
	if code != http.StatusRequestEntityTooLarge || p.Code != "body_too_large" || !strings.Contains(p.Detail, strconv.Itoa(256<<10)) {
		t.Fatalf("upload size: %d %+v", code, p)
	}
}

// The options part limit on its own (the upload limit left at its default).
func TestLimitMultipartOptionsPart(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	ct, body := multipartBody(t, func(w *multipart.Writer) {
		_ = w.WriteField("options", `{"date_format":"iso"}`+strings.Repeat(" ", 1<<20))
		fw, _ := w.CreateFormFile("file", "c.csv")
		fw.Write([]byte("email\na@x.io\n"))
	})
	if code, p, _ := apiReq(t, e, "POST", "/api/v1/imports?object=contacts", ct, body); code != http.StatusRequestEntityTooLarge || p.Code != "part_too_large" || p.Field != "options" || !strings.Contains(p.Detail, "1048576") {
		t.Fatalf("options part: %d %+v", code, p)
	}
}

// CSV limits answer at upload, 422 naming line:column: too many columns, a
// field too long, a record too long (an unclosed quote) — and the UI form shows
// the same message next to the file.
func TestLimitCSV(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	cols := make([]string, 1001)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
	}
	cols[0] = "email"
	for _, c := range []struct {
		name, csv, want string
	}{
		{"columns", strings.Join(cols, ",") + "\n", "line 1:"},
		{"field", "email,notes\na@x.io," + strings.Repeat("y", 200<<10) + "\n", "line 2:8:"},
		{"record", strings.Join(cols[:40], ",") + "\na@x.io" + strings.Repeat(",\""+strings.Repeat("y\n", 60<<10)+"\"", 39) + "\n", "line 2:1:"},
	} {
		code, p, _ := apiReq(t, e, "POST", "/api/v1/imports?object=contacts", "text/csv", strings.NewReader(c.csv))
		if code != http.StatusUnprocessableEntity || p.Code != "csv_limit" || p.Field != "file" || !strings.HasPrefix(p.Detail, c.want) {
			t.Fatalf("%s: %d %+v", c.name, code, p)
		}
	}
	c := e.Browser(t, "admin@alpha.example.com")
	ct, body := multipartBody(t, func(w *multipart.Writer) {
		_ = w.WriteField("object_type", "contact")
		fw, _ := w.CreateFormFile("file", "c.csv")
		fw.Write([]byte(strings.Join(cols, ",") + "\n"))
	})
	req, _ := http.NewRequest("POST", e.URL+"/imports", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Origin", e.URL)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "more than 1000 columns") {
		t.Fatalf("UI import: %d", res.StatusCode)
	}
}

// Slow clients: a slowloris connection trickling headers is closed after the
// header timeout; a body trickled past the read timeout ends the request;
// oversized headers get 431.
func TestLimitSlowClients(t *testing.T) {
	t.Parallel()
	e := apptest.NewWith(t, store.SQLite, apptest.Options{Timeouts: app.Timeouts{ReadHeader: 300 * time.Millisecond, Read: 800 * time.Millisecond}})
	addr := strings.TrimPrefix(e.URL, "http://")

	// closedWithin trickles a byte of msg every 50 ms and reports how long the
	// server took to close the connection (failing after limit).
	closedWithin := func(head, trickle string, limit time.Duration) time.Duration {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, conn) // returns when the server closes
			close(closed)
		}()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-closed:
				return time.Since(start)
			case <-tick.C:
				if time.Since(start) > limit {
					t.Fatalf("connection still open after %s", limit)
				}
				_, _ = conn.Write([]byte{trickle[i%len(trickle)]})
			}
		}
	}
	if d := closedWithin("GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: abcdefghij\r\n", 5*time.Second); d < 250*time.Millisecond {
		t.Fatalf("closed after %s, before the header timeout", d)
	}
	body := "POST /api/v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.A.Keys["admin"] + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
	closedWithin(body, `"a":1,`, 5*time.Second)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("h", app.MaxHeaderBytes+4096))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big headers: %v %v", res, err)
	}
}
