package httpx

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rightsize/rightsize/internal/store"
)

// BadText says why s cannot be stored or compared as text ("" when it can).
// PostgreSQL refuses a NUL byte and invalid UTF-8 in any text value (SQLSTATE
// 22021), so such input is refused where it enters, naming its field, instead
// of failing as a 500 deep in a query; SQLite is held to the same rule so the
// two stores answer alike.
func BadText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	return ""
}

// CheckQuery refuses a query string whose parameter names or values are not
// text (BadText), naming the first such parameter.
func CheckQuery(v url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if why := BadText(k); why != "" {
			return &store.FieldError{Field: strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), "?"), Message: "parameter name " + why}
		}
		for _, s := range v[k] {
			if why := BadText(s); why != "" {
				return &store.FieldError{Field: k, Message: why}
			}
		}
	}
	return nil
}
