package forms

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

// FuzzSubmit feeds arbitrary bodies and content types through the public
// submit parser and the form's validation: it must never panic, and whatever it
// accepts holds only the form's fields, a valid lower-case email, and UTM
// parameters by their names.
func FuzzSubmit(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "email=a%40b.io&first_name=Ann&consent=yes&utm_source=g"},
		{"application/json", `{"email":"A@B.io","first_name":"Ann","consent":true,"_vid":"v1"}`},
		{"text/plain", `{"email":"x@y.io","title":{"a":1}}`},
		{"multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nm@n.io\r\n--X--\r\n"},
		{"application/json", `{"email":"","first_name":null}`},
		{"application/x-www-form-urlencoded", "email=a@b.io&email=c@d.io"},
		{"text/html", "<b>hi</b>"},
	} {
		f.Add(s.ct, s.body)
	}
	form := model.Form{Kind: "signup", ConsentText: "ok", ConsentVersion: "1",
		Fields:      []model.FormField{{Field: "email", Required: true}, {Field: "first_name"}},
		Progressive: []model.FormField{{Field: "title"}}}
	s := &Service{}
	f.Fuzz(func(t *testing.T, ct, body string) {
		r := httptest.NewRequest("POST", "/f/k", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		in, _, err := readValues(r)
		if err != nil {
			return
		}
		vals, utm, err := s.read(form, in)
		if err != nil {
			return
		}
		for k := range vals {
			if k != "email" && k != "first_name" && k != "title" {
				t.Fatalf("accepted a field the form does not ask: %q", k)
			}
		}
		if e := vals["email"]; e == "" || e != strings.ToLower(e) || !strings.Contains(e, "@") {
			t.Fatalf("accepted email %q", e)
		}
		for k := range utm {
			if !slices.Contains(UTMFields, k) {
				t.Fatalf("utm %q", k)
			}
		}
	})
}
