package tracking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// dbErrorText is what a database error looks like when it leaks into an answer.
var dbErrorText = regexp.MustCompile(`(?i)sqlite|SQLSTATE|pq:|pgx|pgconn|syntax error|database is locked|violates|constraint failed|invalid byte sequence`)

// FuzzEndpoint posts arbitrary bodies to the public ingest endpoint (POST
// /t/e) of a running app on SQLite, with the site's allowed origin, another
// origin or none. "SITE" in a body is replaced by the real site key so the
// fuzzer reaches past the key check. Properties: never a 5xx; the answer is
// JSON without database error text; a 202 counts accepted + rejected = the
// events sent and exactly the accepted ones are stored, each valid UTF-8
// without NUL (PostgreSQL refuses both, so SQLite must never hold them); any
// other answer names a code (and a 400 a field) and stores nothing.
// Seeds: testdata/fuzz/FuzzEndpoint.
func FuzzEndpoint(f *testing.F) {
	f.Add([]byte(`{"site":"SITE","visitor":"visitor-1","events":[{"kind":"page_view","url":"https://www.acme.example/","title":"Home"}]}`), uint8(0))
	f.Add([]byte(`{"site":"SITE","visitor":"visitor-1","events":[{"kind":"page_view","url":"https://www.acme.example/\u0000","title":"a\u0000b","referrer":"\u0000"}]}`), uint8(0))
	f.Add([]byte("{\"site\":\"SITE\",\"visitor\":\"visitor-\xff\xfe\",\"events\":[{\"kind\":\"custom\",\"name\":\"n\xc3\"}]}"), uint8(0))
	f.Add([]byte(`{"site":"SITE","visitor":"visitor-1","events":[{"kind":"custom","name":"x","props":{"a":"\u0000","b":"\ud800"}}]}`), uint8(0))
	f.Add([]byte(`{"site":"SITE","visitor":"visitor-1","events":[{"kind":"page_view","url":"https://www.acme.example/"}]}`), uint8(1))
	f.Add([]byte(`{"site":"SITE","visitor":"visitor-1","events":[{"kind":"page_view","url":"https://www.acme.example/"}]}`), uint8(2))
	f.Add([]byte(`{"site":"rs_aaaaaaaaaaaaaaaaaaaaaa","visitor":"visitor-1","events":[]}`), uint8(0))
	f.Add([]byte(`{"site":"SITE","visitor":"' OR 1=1 --","identify":"x.y","events":[{"kind":"content_view","asset":"1; DROP TABLE web_events"}]}`), uint8(0))
	e := newEnv(f, store.SQLite)
	ws := e.A.ID
	origins := []string{origin, "https://evil.example", ""}
	now := time.Now()
	f.Fuzz(func(t *testing.T, body []byte, o uint8) {
		body = bytes.ReplaceAll(body, []byte("SITE"), []byte(e.siteA.PublicKey))
		before, _ := e.count(t, ws)
		req, err := http.NewRequest("POST", e.URL+tracking.IngestPath, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		if orig := origins[int(o)%len(origins)]; orig != "" {
			req.Header.Set("Origin", orig)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		rec := struct{ Code int }{res.StatusCode}
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, raw)
		}
		if dbErrorText.Match(raw) {
			t.Fatalf("database error text in the answer to %q: %s", body, raw)
		}
		var ans map[string]any
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatalf("%d answer is not JSON: %q", rec.Code, raw)
		}
		after, _ := e.count(t, ws)
		if rec.Code != http.StatusAccepted {
			if code, _ := ans["code"].(string); code == "" {
				t.Fatalf("%d without a code: %s", rec.Code, raw)
			}
			if field, _ := ans["field"].(string); rec.Code == http.StatusBadRequest && field == "" {
				t.Fatalf("400 without a field: %s", raw)
			}
			if after != before {
				t.Fatalf("%d stored %d events", rec.Code, after-before)
			}
			return
		}
		acc, _ := ans["accepted"].(float64)
		rej, _ := ans["rejected"].(float64)
		parsed, err := tracking.Parse(body, now)
		if err != nil {
			t.Fatalf("202 for a body Parse refuses: %v", err)
		}
		if sent := len(parsed.Events) + len(parsed.Errors); int(acc+rej) != sent || acc < 1 {
			t.Fatalf("accepted %v + rejected %v, sent %d", acc, rej, sent)
		}
		if after-before != int64(acc) {
			t.Fatalf("202 accepted %v but stored %d", acc, after-before)
		}
		evs, err := e.App.St.Read().VisitorWebEvents(context.Background(), ws, parsed.Visitor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			for _, s := range []string{ev.VisitorID, ev.Kind, ev.Name, ev.URL, ev.Title, ev.Referrer, ev.Props} {
				if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
					t.Fatalf("stored %q (not valid UTF-8 or with NUL) from %q", s, body)
				}
			}
		}
	})
}
