package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A NUL byte or invalid UTF-8 (PostgreSQL refuses both in any text,
// SQLSTATE 22021) is a field error wherever it comes in — an API query
// string, an API JSON body (JSON "\u0000"), a UI link, a UI form post —
// never a 500, on both stores, and nothing is written.
func TestNULAndInvalidUTF8AreFieldErrors(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			before, err := e.App.St.AdminTableRowCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ method, path, body, field string }{
				{"GET", "/api/v1/contacts?q=" + url.QueryEscape("a\x00b"), "", "q"},
				{"GET", "/api/v1/accounts?industry=" + url.QueryEscape("caf\xe9"), "", "industry"},
				{"POST", "/api/v1/contacts", `{"email":"n@x.io","first_name":"a\u0000b"}`, "first_name"},
				{"POST", "/api/v1/accounts", `{"name":"Acme","custom":{"k\u0000":"v"}}`, "custom.k\uFFFD"},
			} {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				code, p, _ := apiReq(t, e, c.method, c.path, "application/json", body)
				if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity || p.Field != c.field {
					t.Errorf("API %s %s: %d %+v, want 400/422 naming %s", c.method, c.path, code, p, c.field)
				}
			}
			b := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
			res, err := b.Get(e.URL + "/contacts?q=" + url.QueryEscape("a\x00b"))
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "q: must not contain a NUL character") {
				t.Errorf("UI link: %d", res.StatusCode)
			}
			form := url.Values{"email": {"ui@x.io"}, "first_name": {"caf\xe9"}}
			req, _ := http.NewRequest("POST", e.URL+"/contacts", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.URL)
			res, err = b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "first_name: must be valid UTF-8 text") {
				t.Errorf("UI form post: %d", res.StatusCode)
			}
			after, err := e.App.St.AdminTableRowCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"contacts", "accounts"} {
				if after[table] != before[table] {
					t.Errorf("%s: %d rows before, %d after", table, before[table], after[table])
				}
			}
		})
	}
}
