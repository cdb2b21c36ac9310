package httpx_test

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
)

// NUL bytes and invalid UTF-8 (which PostgreSQL refuses mid-query, SQLSTATE
// 22021) are field errors where they enter: in a query string or form,
// naming the parameter, and anywhere in a JSON body — a value, an object key,
// an array element, a field of a struct — naming it by its JSON path.
func TestTextChecks(t *testing.T) {
	field := func(err error) string {
		t.Helper()
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a field error", err)
		}
		return fe.Field + ": " + fe.Message
	}
	for _, c := range []struct {
		q    url.Values
		want string
	}{
		{url.Values{"name": {"ok"}, "q": {"a\x00b"}}, "q: must not contain a NUL character"},
		{url.Values{"region": {"ok", "caf\xe9"}}, "region: must be valid UTF-8 text"},
		{url.Values{"x\xff": {"v"}}, "x\uFFFD: parameter name must be valid UTF-8 text"},
	} {
		if got := field(httpx.CheckQuery(c.q)); got != c.want {
			t.Errorf("CheckQuery(%q) = %q, want %q", c.q, got, c.want)
		}
	}
	if err := httpx.CheckQuery(url.Values{"q": {"İstanbul 😀"}, "sort": {"-name"}}); err != nil {
		t.Errorf("valid text refused: %v", err)
	}

	type inner struct {
		Tags []string `json:"tags"`
	}
	type body struct {
		Name  string            `json:"name"`
		Inner *inner            `json:"inner"`
		Props map[string]string `json:"props"`
		Raw   []byte            `json:"raw"`
	}
	for _, c := range []struct{ json, want string }{
		{`{"name":"a\u0000b"}`, "name: must not contain a NUL character"},
		{`{"name":"ok","inner":{"tags":["x","y\u0000"]}}`, "inner.tags[1]: must not contain a NUL character"},
		{`{"props":{"k\u0000":"v"}}`, "props.k\uFFFD: key must not contain a NUL character"},
		{"{\"name\":\"caf\xe9\"}", ""}, // encoding/json turns invalid UTF-8 into U+FFFD itself
	} {
		var v body
		err := httpx.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(c.json)), &v)
		if c.want == "" {
			if err != nil || !strings.Contains(v.Name, "\uFFFD") {
				t.Errorf("DecodeJSON(%s) = %v, %q", c.json, err, v.Name)
			}
			continue
		}
		if got := field(err); got != c.want {
			t.Errorf("DecodeJSON(%s) = %q, want %q", c.json, got, c.want)
		}
	}
	_, err := httpx.DecodeFields(httptest.NewRequest("POST", "/", strings.NewReader(`{"first_name":"Ann","custom":{"tier":["gold","\u0000"]}}`)))
	if got := field(err); got != "custom.tier[1]: must not contain a NUL character" {
		t.Errorf("DecodeFields: %q", got)
	}
}
