package csvin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		set     bool
		wantErr bool
	}{
		{"TRUE", true, true, false}, {"true", true, true, false}, {"True", true, true, false},
		{"FALSE", false, true, false}, {"false", false, true, false},
		{"yes", true, true, false}, {"YES", true, true, false}, {"no", false, true, false}, {"No", false, true, false},
		{"y", true, true, false}, {"Y", true, true, false}, {"n", false, true, false}, {"N", false, true, false},
		{"1", true, true, false}, {"0", false, true, false}, {" yes ", true, true, false},
		{"", false, false, false}, {"   ", false, false, false},
		{"maybe", false, false, true}, {"2", false, false, true}, {"t", false, false, true},
		{"yess", false, false, true}, {"on", false, false, true}, {"-1", false, false, true},
	}
	for _, tc := range tests {
		v, set, err := ParseBool(tc.in)
		if v != tc.want || set != tc.set || (err != nil) != tc.wantErr {
			t.Errorf("ParseBool(%q) = %v, %v, %v", tc.in, v, set, err)
		}
	}
	_, _, err := ParseBool("maybe")
	if err.Error() != `"maybe" is not a valid yes/no value (use true/false, yes/no, y/n or 1/0)` {
		t.Errorf("message %q", err)
	}
}

var testStages = []string{"lead", "qualified", "negotiation", "closed_won", "closed_lost"}
var testAliases = map[string]string{"Closed Won": "closed_won", "SQL": "qualified", "Won": "CLOSED-WON"}

func TestMatchEnum(t *testing.T) {
	stage := NewEnum("stage", testStages, testAliases)
	tests := []struct {
		in, want string
		err      string // with the Enum's name; MatchEnum says "value"
	}{
		{in: "lead", want: "lead"},
		{in: "LEAD", want: "lead"},
		{in: "  Negotiation ", want: "negotiation"},
		{in: "Closed-Won", want: "closed_won"},
		{in: "closed won", want: "closed_won"},
		{in: "CLOSED_LOST", want: "closed_lost"},
		{in: "closedlost", want: "closed_lost"},
		{in: "sql", want: "qualified"},
		{in: "won", want: "closed_won"}, // alias target canonicalised
		{in: "closed  won", want: "closed_won"},
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "Negotation", err: `"Negotation" is not a valid stage; did you mean "negotiation"?`},
		{in: "negotaition", err: `"negotaition" is not a valid stage; did you mean "negotiation"?`},
		{in: "qualifed", err: `"qualifed" is not a valid stage; did you mean "qualified"?`},
		{in: "Closed Wno", err: `"Closed Wno" is not a valid stage; did you mean "closed_won"?`},
		{in: "lesd", err: `"lesd" is not a valid stage; did you mean "lead"?`},
		{in: "closed", err: `"closed" is not a valid stage (allowed: lead, qualified, negotiation, closed_won, closed_lost)`},
		{in: "closed_wost", err: `"closed_wost" is not a valid stage; did you mean "closed_lost"?`},
		{in: "customer", err: `"customer" is not a valid stage (allowed: lead, qualified, negotiation, closed_won, closed_lost)`},
		{in: "-", err: `"-" is not a valid stage (allowed: lead, qualified, negotiation, closed_won, closed_lost)`},
		{in: "SQLs", err: `"SQLs" is not a valid stage; did you mean "SQL"?`},
	}
	for _, tc := range tests {
		for _, viaFunc := range []bool{false, true} {
			var got string
			var err error
			wantErr := tc.err
			if viaFunc {
				got, err = MatchEnum(tc.in, testStages, testAliases)
				wantErr = strings.Replace(wantErr, "valid stage", "valid value", 1)
			} else {
				got, err = stage.Match(tc.in)
			}
			if wantErr != "" {
				var ee *EnumError
				if err == nil || err.Error() != wantErr || !errors.As(err, &ee) || got != "" {
					t.Errorf("match(%q, func=%v) = %q, %v; want error %q", tc.in, viaFunc, got, err, wantErr)
				}
				continue
			}
			if err != nil || got != tc.want {
				t.Errorf("match(%q, func=%v) = %q, %v; want %q", tc.in, viaFunc, got, err, tc.want)
			}
		}
	}
	// Equally close candidates: no suggestion.
	if _, err := MatchEnum("cab", []string{"cat", "car"}, nil); err == nil || err.Error() != `"cab" is not a valid value (allowed: cat, car)` {
		t.Errorf("tie: %v", err)
	}
	// Many allowed values: no list in the message.
	many := []string{"a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9", "j10", "k11"}
	if _, err := MatchEnum("zzz", many, nil); err == nil || err.Error() != `"zzz" is not a valid value` {
		t.Errorf("many: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() {
		stage.Match("Closed Won")
		MatchEnum("Closed Won", testStages, testAliases)
	}); n != 0 {
		t.Errorf("matching allocates %v times", n)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"negotation", "negotiation", 1}, {"ab", "ba", 1}, {"abcd", "acbd", 1}, {"ca", "abc", 3},
	} {
		if got := editDistance([]rune(tc.a), []rune(tc.b)); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "bob@example.com", want: "bob@example.com"},
		{in: "  Bob.Smith@Example.COM ", want: "bob.smith@example.com"},
		{in: "first.last+tag@sub.example.co.uk", want: "first.last+tag@sub.example.co.uk"},
		{in: "o'brien@example.ie", want: "o'brien@example.ie"},
		{in: "a!#$%&*/=?^_`{|}~-@x-y.com", want: "a!#$%&*/=?^_`{|}~-@x-y.com"},
		{in: "Bob <Bob@Example.com>", want: "bob@example.com"},
		{in: `"Smith, Bob" <bob@example.com>`, want: "bob@example.com"},
		{in: "<bob@example.com>", want: "bob@example.com"},
		{in: "bob@example.com (Bob)", want: "bob@example.com"},
		{in: `"bob smith"@example.com`, err: `"\"bob smith\"@example.com" is not a valid email address`},
		{in: `"bob"@example.com`, want: "bob@example.com"},
		{in: "jörg@bücher.de", want: "jörg@bücher.de"},
		{in: "JÖRG@BÜCHER.DE", want: "jörg@bücher.de"},
		{in: "", want: ""},
		{in: "bob", err: `"bob" is not a valid email address`},
		{in: "bob@", err: `"bob@" is not a valid email address`},
		{in: "@example.com", err: `"@example.com" is not a valid email address`},
		{in: "bob@localhost", err: `"bob@localhost" is not a valid email address (the domain has no dot)`},
		{in: "bob@@example.com", err: `"bob@@example.com" is not a valid email address`},
		{in: "bob@example..com", err: `"bob@example..com" is not a valid email address`},
		{in: "bob.@example.com", err: `"bob.@example.com" is not a valid email address`},
		{in: ".bob@example.com", err: `".bob@example.com" is not a valid email address`},
		{in: "bob..smith@example.com", err: `"bob..smith@example.com" is not a valid email address`},
		{in: "bob smith@example.com", err: `"bob smith@example.com" is not a valid email address`},
		{in: "bob@exa_mple.com", err: `"bob@exa_mple.com" is not a valid email address`},
		{in: "bob@-example.com", err: `"bob@-example.com" is not a valid email address`},
		{in: "bob@example-.com", err: `"bob@example-.com" is not a valid email address`},
		{in: "bob@example.com.", err: `"bob@example.com." is not a valid email address`},
		{in: "bob@[192.168.0.1]", err: `"bob@[192.168.0.1]" is not a valid email address`},
		{in: "bob@192.168.0.1", err: `"bob@192.168.0.1" is not a valid email address`},
		{in: "a@example.com, b@example.com", err: `"a@example.com, b@example.com" is not a valid email address`},
		{in: "a@example.com; b@example.com", err: `"a@example.com; b@example.com" is not a valid email address`},
		{in: "Bob <bob@example.com", err: `"Bob <bob@example.com" is not a valid email address`},
		{in: "mailto:bob@example.com", err: `"mailto:bob@example.com" is not a valid email address`},
	}
	for _, tc := range tests {
		got, err := NormalizeEmail(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		checkEmailPaths(t, tc.in)
	}
	if n := testing.AllocsPerRun(100, func() { NormalizeEmail("first.last@example.com") }); n != 0 {
		t.Errorf("fast path allocates %v times", n)
	}
}

// checkEmailPaths asserts that the fast path agrees with the net/mail path.
func checkEmailPaths(t *testing.T, in string) {
	t.Helper()
	s := strings.TrimSpace(in)
	if s == "" {
		return
	}
	ok, _ := fastEmail(s)
	if !ok {
		return
	}
	want, err := slowEmail(s)
	got, _ := NormalizeEmail(s)
	if err != nil || got != want {
		t.Errorf("fast path accepts %q as %q; net/mail path: %q, %v", s, got, want, err)
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.Acme.com/about", "acme.com"},
		{"acme.com", "acme.com"},
		{"ACME.COM.", "acme.com"},
		{"www.acme.com", "acme.com"},
		{"http://shop.acme.co.uk:8080/x?y#z", "shop.acme.co.uk"},
		{"//www.acme.com", "acme.com"},
		{"https://user:pw@www.acme.com/", "acme.com"},
		{"acme.com/path", "acme.com"},
		{"acme.com?utm=1", "acme.com"},
		{"jane@Acme.com", "acme.com"},
		{"Jane Doe <jane@www.acme.com>", "acme.com"},
		{"mailto:jane@acme.com", "acme.com"},
		{"www.com", "www.com"},
		{"  bücher.de  ", "bücher.de"},
		{"xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"", ""},
		{"acme", "!"},
		{"Acme Inc", "!"},
		{"http://", "!"},
		{"http://192.168.0.1/", "!"},
		{"https://[::1]/", "!"},
		{"acme.com:http", "!"},
		{"acme..com", "!"},
		{"-acme.com", "!"},
		{"jane@", "!"},
		{"acme_corp.com", "!"},
	}
	for _, tc := range tests {
		got, err := NormalizeDomain(tc.in)
		if tc.want == "!" {
			if err == nil || err.Error() != `"`+strings.TrimSpace(tc.in)+`" is not a valid domain` {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLongValuesInMessages(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	_, _, err := ParseBool(long)
	want := `"` + strings.Repeat("é", 30) + `…" is not a valid yes/no value (use true/false, yes/no, y/n or 1/0)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := NormalizeEmail(strings.Repeat("a", 600) + "@example.com"); err == nil || !strings.HasSuffix(err.Error(), "…\" is not a valid email address (too long)") {
		t.Errorf("long email: %v", err)
	}
	// No edit-distance suggestion for very long values, and no quadratic
	// blow-up either.
	huge := strings.Repeat("negotiation", 10000)
	_, err = MatchEnum(huge, []string{huge[:len(huge)-1]}, nil)
	var ee *EnumError
	if !errors.As(err, &ee) || ee.Suggestion != "" || ee.Value != huge {
		t.Errorf("huge enum value: %v", err)
	}
}

// TestEmailFastPathExhaustive compares the fast path with the net/mail path
// on every string of up to 7 characters over an alphabet that exercises
// dots, hyphens, digits, case and '@' placement.
func TestEmailFastPathExhaustive(t *testing.T) {
	const alphabet = "aA1.@-"
	buf := make([]byte, 0, 7)
	accepted := 0
	var walk func()
	walk = func() {
		s := string(buf)
		if ok, _ := fastEmail(s); ok {
			accepted++
			got, _ := NormalizeEmail(s)
			want, err := slowEmail(s)
			if err != nil || got != want {
				t.Fatalf("%q: fast path %q; net/mail path %q, %v", s, got, want, err)
			}
		}
		if len(buf) == cap(buf) {
			return
		}
		for i := range len(alphabet) {
			buf = append(buf, alphabet[i])
			walk()
			buf = buf[:len(buf)-1]
		}
	}
	walk()
	if ok, _ := fastEmail("a@a.a"); !ok || accepted < 1000 {
		t.Errorf("fast path accepted only %d strings", accepted)
	}
}
