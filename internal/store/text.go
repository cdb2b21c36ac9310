package store

import (
	"strings"
	"unicode/utf8"
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
