package tracking_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// FuzzIngest feeds arbitrary bodies to the ingest parser: it never panics, a
// request-level error is a FieldError naming a field, and an accepted body
// reconciles (kept + rejected = sent, 1–50) with every kept event inside the
// limits and every rejection naming events[i].field once, in order.
// Seeds: testdata/fuzz/FuzzIngest. Run: go test -fuzz FuzzIngest ./internal/tracking/
func FuzzIngest(f *testing.F) {
	f.Add([]byte(`{"site":"rs_abcdefghijklmnopqrstuv","visitor":"visitor-1","events":[{"kind":"page_view","url":"https://a.example/","title":"Home","props":{"utm_source":"x"}}]}`))
	f.Add([]byte(`{"site":"rs_abcdefghijklmnopqrstuv","visitor":"visitor-1","consent":true,"events":[{"kind":"custom","name":"x"},{"kind":"content_view","asset":"a1"},{"kind":"nope"}]}`))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := tracking.Parse(raw, now)
		if err != nil {
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("request error without a field: %v", err)
			}
			return
		}
		n := len(b.Events) + len(b.Errors)
		if n < 1 || n > tracking.MaxEvents {
			t.Fatalf("%d events accepted as a request", n)
		}
		if b.Site == "" || len(b.Visitor) < 8 {
			t.Fatalf("site %q visitor %q", b.Site, b.Visitor)
		}
		for _, e := range b.Events {
			switch e.Kind {
			case tracking.KindPageView, tracking.KindContentView, tracking.KindCustom:
			default:
				t.Fatalf("kind %q kept", e.Kind)
			}
			if len(e.URL) > 2000 || len(e.Title) > 500 || len(e.Referrer) > 2000 || len(e.Name) > 128 || len(e.Props) > 4096 {
				t.Fatalf("over a limit: %+v", e)
			}
			if strings.ContainsRune(e.URL+e.Title+e.Referrer+e.Name, 0) {
				t.Fatalf("NUL kept: %+v", e)
			}
			if e.Props != "" && (!json.Valid([]byte(e.Props)) || e.Props[0] != '{') {
				t.Fatalf("props %q", e.Props)
			}
			if e.OccurredAt.Before(now.Add(-8*24*time.Hour)) || e.OccurredAt.After(now.Add(6*time.Minute)) || e.VisitorID != b.Visitor {
				t.Fatalf("event %+v", e)
			}
		}
		last := -1
		for _, x := range b.Errors {
			if x.Index <= last || x.Index >= n || !strings.HasPrefix(x.Field, fmt.Sprintf("events[%d].", x.Index)) {
				t.Fatalf("error %+v after index %d of %d", x, last, n)
			}
			last = x.Index
		}
	})
}

// TestParseNamesFields pins the field names of common mistakes.
func TestParseNamesFields(t *testing.T) {
	now := time.Now()
	site := `"site":"rs_abcdefghijklmnopqrstuv","visitor":"visitor-1"`
	for body, field := range map[string]string{
		`{` + site + `,"events":[{"kind":"page_view"}]}`:                                       "events[0].url",
		`{` + site + `,"events":[{"kind":"page_view","url":"https://a.example/"},{"kind":1}]}`: "events[1].kind",
		`{` + site + `,"events":[{"kind":"custom","name":"ok","extra":1}]}`:                    "events[0].extra",
		`{` + site + `,"events":[{"kind":"content_view"}]}`:                                    "events[0].asset",
		`{` + site + `,"events":[{"kind":"custom","name":"x","props":"s"}]}`:                   "events[0].props",
		`{` + site + `,"events":[{"kind":"custom","name":"x","ts":1}]}`:                        "events[0].ts",
	} {
		b, err := tracking.Parse([]byte(body), now)
		if err != nil || len(b.Errors) != 1 || b.Errors[0].Field != field {
			t.Errorf("%s: %+v %v, want one error on %s", body, b, err, field)
		}
	}
	for body, field := range map[string]string{
		``: "body", `nope`: "body", `{"site":1}`: "site", `{"visitor":"visitor-1","events":[]}`: "site",
		`{"site":"rs_abcdefghijklmnopqrstuv","events":[]}`: "visitor",
		`{` + site + `,"events":{}}`:                       "events",
		`{` + site + `}`:                                   "events",
		`{` + site + `,"events":[]} trailing`:              "body",
	} {
		_, err := tracking.Parse([]byte(body), now)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%q: %v, want an error on %s", body, err, field)
		}
	}
}
