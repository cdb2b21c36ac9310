package csvin

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseBool parses TRUE/FALSE, yes/no, y/n and 1/0, case-insensitively and
// ignoring surrounding spaces. ok is false for a blank value (unset).
func ParseBool(s string) (v, ok bool, err error) {
	if len(s) > 0 && (s[0] <= ' ' || s[len(s)-1] <= ' ') {
		s = strings.TrimSpace(s)
	}
	switch len(s) {
	case 0:
		return false, false, nil
	case 1:
		switch s[0] {
		case '1', 'y', 'Y':
			return true, true, nil
		case '0', 'n', 'N':
			return false, true, nil
		}
	case 2:
		if strings.EqualFold(s, "no") {
			return false, true, nil
		}
	case 3:
		if strings.EqualFold(s, "yes") {
			return true, true, nil
		}
	case 4:
		if strings.EqualFold(s, "true") {
			return true, true, nil
		}
	case 5:
		if strings.EqualFold(s, "false") {
			return false, true, nil
		}
	}
	return false, false, fmt.Errorf("%s is not a valid yes/no value (use true/false, yes/no, y/n or 1/0)", quoteValue(s))
}

// EnumError reports a value that matches no allowed value or alias.
type EnumError struct {
	Value      string   // the value as given, trimmed
	Name       string   // what the value is, e.g. "stage"; "" reads as "value"
	Suggestion string   // the closest allowed value or alias, if close enough
	Allowed    []string // the allowed values
}

func (e *EnumError) Error() string {
	name := e.Name
	if name == "" {
		name = "value"
	}
	msg := fmt.Sprintf("%s is not a valid %s", quoteValue(e.Value), name)
	switch {
	case e.Suggestion != "":
		msg += fmt.Sprintf("; did you mean %s?", quoteValue(e.Suggestion))
	case len(e.Allowed) > 0 && len(e.Allowed) <= 10:
		msg += " (allowed: " + strings.Join(e.Allowed, ", ") + ")"
	}
	return msg
}

// MatchEnum returns the allowed value that value names, ignoring case,
// spaces, underscores and hyphens ("Closed-Won" matches "closed_won"), or
// the allowed value an alias maps to (alias keys are matched the same way).
// A blank value returns "" and no error. Anything else is an *EnumError,
// which suggests the closest allowed value or alias by edit distance when
// it is close; a misspelling is never mapped silently.
//
// MatchEnum does not allocate on success; for many values of one column,
// NewEnum is faster and lets errors name the field.
func MatchEnum(value string, allowed []string, aliases map[string]string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if keyEqual(v, a) {
			return a, nil
		}
	}
	for k, target := range aliases {
		if keyEqual(v, k) {
			return canonical(target, allowed), nil
		}
	}
	return "", enumError(v, "", allowed, aliases)
}

// canonical returns the allowed spelling of target, or target itself.
func canonical(target string, allowed []string) string {
	for _, a := range allowed {
		if keyEqual(target, a) {
			return a
		}
	}
	return target
}

// Enum matches values against one fixed set of allowed values; see
// MatchEnum. It is safe for concurrent use.
type Enum struct {
	name    string
	allowed []string
	aliases map[string]string
	index   map[string]string // key → allowed value
}

// NewEnum prepares matching against allowed and aliases (alias → allowed
// value). name is what a value is called in errors, e.g. "stage".
func NewEnum(name string, allowed []string, aliases map[string]string) *Enum {
	e := &Enum{name: name, allowed: allowed, aliases: aliases,
		index: make(map[string]string, len(allowed)+len(aliases))}
	for k, target := range aliases {
		e.index[string(appendKey(nil, k))] = canonical(target, allowed)
	}
	for _, a := range allowed { // allowed values win over aliases
		e.index[string(appendKey(nil, a))] = a
	}
	return e
}

// Match returns the allowed value that value names; see MatchEnum.
func (e *Enum) Match(value string) (string, error) {
	var buf [64]byte
	k := appendKey(buf[:0], value)
	if len(k) == 0 {
		if strings.TrimSpace(value) == "" {
			return "", nil
		}
	} else if v, ok := e.index[string(k)]; ok {
		return v, nil
	}
	return "", enumError(strings.TrimSpace(value), e.name, e.allowed, e.aliases)
}

func isKeyIgnorable(r rune) bool {
	return r == ' ' || r == '_' || r == '-' || r == '\t' || r == '\u00A0'
}

// appendKey appends the matching key of s: lower-case, without spaces,
// underscores and hyphens.
func appendKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if isKeyIgnorable(rune(c)) {
				continue
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if isKeyIgnorable(r) {
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// keyEqual reports whether a and b have the same key, without allocating.
func keyEqual(a, b string) bool {
	i, j := 0, 0
	for {
		var ra, rb rune = -1, -1
		for i < len(a) {
			r, n := rune(a[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(a[i:])
			}
			i += n
			if !isKeyIgnorable(r) {
				ra = unicode.ToLower(r)
				break
			}
		}
		for j < len(b) {
			r, n := rune(b[j]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(b[j:])
			}
			j += n
			if !isKeyIgnorable(r) {
				rb = unicode.ToLower(r)
				break
			}
		}
		if ra != rb {
			return false
		}
		if ra < 0 {
			return true
		}
	}
}

func enumError(v, name string, allowed []string, aliases map[string]string) *EnumError {
	e := &EnumError{Value: v, Name: name, Allowed: allowed}
	key := []rune(string(appendKey(nil, v)))
	best, bestTarget, bestDist, tie := "", "", 1<<30, false
	consider := func(display, target string) {
		ck := []rune(string(appendKey(nil, display)))
		limit := maxSuggestDistance(min(len(key), len(ck)))
		if len(ck) > maxSuggestKey || len(key)-len(ck) > limit || len(ck)-len(key) > limit {
			return
		}
		d := editDistance(key, ck)
		if d > limit {
			return
		}
		switch {
		case d < bestDist:
			best, bestTarget, bestDist, tie = display, target, d, false
		case d == bestDist && !keyEqual(target, bestTarget):
			tie = true
		}
	}
	if len(key) > maxSuggestKey {
		return e
	}
	for _, a := range allowed {
		consider(a, a)
	}
	for k, t := range aliases {
		consider(k, canonical(t, allowed))
	}
	if !tie {
		e.Suggestion = best
	}
	return e
}

// maxSuggestKey bounds the keys compared for suggestions (in runes), which
// keeps the quadratic edit distance cheap.
const maxSuggestKey = 64

// maxSuggestDistance is how many edits a suggestion may be away from a key
// of n runes.
func maxSuggestDistance(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	}
	return 3
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// adjacent transpositions).
func editDistance(a, b []rune) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Character classes for the e-mail fast path.
const (
	chOther  uint8 = iota // not allowed unquoted
	chAtext               // RFC 5322 atext other than letters, digits and '-'
	chLower               // a-z
	chUpper               // A-Z
	chDigit               // 0-9
	chHyphen              // -
	chDot                 // .
	chAt                  // @
)

var emailClass = func() (t [256]uint8) {
	for c := '!'; c <= '~'; c++ {
		if !strings.ContainsRune(`()<>[]:;@\,".`, c) {
			t[c] = chAtext
		}
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = chLower
		t[c-'a'+'A'] = chUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = chDigit
	}
	t['-'], t['.'], t['@'] = chHyphen, chDot, chAt
	return t
}()

// Flags of emailFlags, for the e-mail fast path.
const (
	efLocal    uint8 = 1 << iota // allowed in an unquoted local part (not '.')
	efDomain                     // letter, digit or hyphen
	efUpper                      // A-Z
	efNonDigit                   // not 0-9
)

var emailFlags = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch k := emailClass[c]; k {
		case chAtext:
			t[c] = efLocal | efNonDigit
		case chLower, chHyphen:
			t[c] = efLocal | efDomain | efNonDigit
		case chUpper:
			t[c] = efLocal | efDomain | efNonDigit | efUpper
		case chDigit:
			t[c] = efLocal | efDomain
		}
	}
	return t
}()

// fastEmail recognises the common case without net/mail: a plain ASCII
// local@domain whose local part is an RFC 5322 dot-atom (so net/mail would
// return it unchanged) and whose domain already passes validHostname. It
// reports false for anything else, which then takes the net/mail path.
func fastEmail(s string) (ok, upper bool) {
	var seen uint8
	i, atomStart := 0, 0
	for ; i < len(s); i++ {
		c := s[i]
		f := emailFlags[c]
		if f&efLocal != 0 {
			seen |= f
			continue
		}
		if i == atomStart || (c != '.' && c != '@') {
			return false, false // empty atom, or not allowed unquoted
		}
		atomStart = i + 1
		if c == '@' {
			break
		}
	}
	if i == len(s) || len(s)-atomStart > 253 {
		return false, false
	}
	labels, labelFlags := 0, uint8(0)
	labelStart := atomStart
	for i = atomStart; i < len(s); i++ {
		c := s[i]
		f := emailFlags[c]
		if f&efDomain != 0 {
			labelFlags |= f
			continue
		}
		if c != '.' || !validLabel(s[labelStart:i]) {
			return false, false
		}
		seen |= labelFlags
		labels++
		labelFlags = 0
		labelStart = i + 1
	}
	if !validLabel(s[labelStart:]) || labelFlags&efNonDigit == 0 || labels == 0 {
		return false, false
	}
	return true, (seen|labelFlags)&efUpper != 0
}

// validLabel checks the length and hyphen placement of one host label.
func validLabel(l string) bool {
	return len(l) > 0 && len(l) <= 63 && l[0] != '-' && l[len(l)-1] != '-'
}

// dotAtom reports whether s is an RFC 5322 dot-atom (UTF-8 allowed).
func dotAtom(s string) bool {
	prevDot := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
		case c >= utf8.RuneSelf || (emailClass[c] != chOther && emailClass[c] != chAt):
			prevDot = false
		default:
			return false
		}
	}
	return !prevDot
}

// NormalizeEmail trims and lower-cases an e-mail address (the whole address,
// local part included, as the CRM matches addresses case-insensitively) and
// validates it with net/mail.ParseAddress semantics. A display name is
// accepted and dropped: "Bob <Bob@X.com>" becomes "bob@x.com". The domain
// must contain a dot and consist of letters, digits and hyphens, so
// "bob@localhost" and domain literals are rejected, as are quoted local
// parts (`"bob smith"@x.com`). A blank value returns "" and no error. Plain addresses skip net/mail; the result is the same.
func NormalizeEmail(s string) (string, error) {
	if len(s) > 0 && (s[0] <= ' ' || s[len(s)-1] <= ' ' || s[0] >= utf8.RuneSelf || s[len(s)-1] >= utf8.RuneSelf) {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return "", nil
	}
	if len(s) > maxEmailInput {
		return "", fmt.Errorf("%s is not a valid email address (too long)", quoteValue(s))
	}
	if ok, upper := fastEmail(s); ok {
		if upper {
			return strings.ToLower(s), nil
		}
		return s, nil
	}
	return slowEmail(s)
}

// maxEmailInput bounds what NormalizeEmail parses: an address has at most
// 254 bytes; the rest allows for a display name.
const maxEmailInput = 512

// slowEmail is NormalizeEmail for addresses fastEmail does not handle.
func slowEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%s is not a valid email address", quoteValue(s))
	}
	addr := strings.ToLower(a.Address)
	at := strings.LastIndexByte(addr, '@')
	if !dotAtom(addr[:at]) {
		// net/mail unquotes "bob smith"@x.com to bob smith@x.com, which is
		// not an address any more.
		return "", fmt.Errorf("%s is not a valid email address", quoteValue(s))
	}
	domain := addr[at+1:]
	if !strings.Contains(domain, ".") {
		return "", fmt.Errorf("%s is not a valid email address (the domain has no dot)", quoteValue(s))
	}
	if !validHostname(domain) {
		return "", fmt.Errorf("%s is not a valid email address", quoteValue(s))
	}
	return addr, nil
}

// validHostname checks lower-cased dot-separated labels of letters, digits
// and hyphens (non-ASCII letters allowed), 1-63 bytes each, not starting or
// ending with a hyphen, at least two labels, and a top-level label that is
// not all digits.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	labels, start, digitsOnly := 0, 0, true
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			n := i - start
			if n == 0 || n > 63 || h[start] == '-' || h[i-1] == '-' {
				return false
			}
			labels++
			start = i + 1
			if i < len(h) {
				digitsOnly = true
			}
			continue
		}
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c == '-':
			digitsOnly = false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(h[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
				return false
			}
			i += n - 1
			digitsOnly = false
		default:
			return false
		}
	}
	return labels >= 2 && !digitsOnly
}

// NormalizeDomain reduces a website URL, host name or e-mail address to a
// lower-case host name without a leading "www.": "https://www.Acme.com/about",
// "acme.com:443" and "jane@acme.com" all become "acme.com". Other subdomains
// are kept. IP addresses and single-label names are rejected. A blank value
// returns "" and no error.
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	h := s
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	} else if strings.HasPrefix(h, "//") {
		h = h[2:]
	} else if strings.Contains(h, "@") {
		if len(h) > 7 && strings.EqualFold(h[:7], "mailto:") {
			h = h[7:]
		}
		addr, err := NormalizeEmail(h)
		if err != nil {
			return "", fmt.Errorf("%s is not a valid domain", quoteValue(s))
		}
		h = addr[strings.LastIndexByte(addr, '@')+1:]
	}
	if i := strings.IndexAny(h, "/?#"); i >= 0 {
		h = h[:i]
	}
	if i := strings.LastIndexByte(h, '@'); i >= 0 { // user info
		h = h[i+1:]
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 { // port
		for _, c := range []byte(h[i+1:]) {
			if c < '0' || c > '9' {
				return "", fmt.Errorf("%s is not a valid domain", quoteValue(s))
			}
		}
		h = h[:i]
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if strings.HasPrefix(h, "www.") && strings.IndexByte(h[4:], '.') > 0 {
		h = h[4:]
	}
	if !validHostname(h) {
		return "", fmt.Errorf("%s is not a valid domain", quoteValue(s))
	}
	return h, nil
}

// maxShown is how many bytes of a value error messages quote.
const maxShown = 60

// quoteValue quotes s for an error message, shortened to maxShown bytes
// (at a rune boundary) with an ellipsis.
func quoteValue(s string) string {
	if len(s) > maxShown {
		n := maxShown
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return strconv.Quote(s)
}

// Unneutralize undoes the export's formula guard (export.Neutralize): an
// apostrophe before = + - @ tab, CR or another apostrophe was added on the
// way out and is dropped on the way in, so an exported file imports back to
// the same values. Other values, apostrophes included, are left alone.
func Unneutralize(s string) string {
	if len(s) > 1 && s[0] == '\'' {
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r', '\'':
			return s[1:]
		}
	}
	return s
}
