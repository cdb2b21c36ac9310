package csvin

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DateLayout says how the day and month of a non-ISO date are ordered.
// Year-first (ISO 8601) values are unambiguous and accepted under every
// layout.
type DateLayout uint8

const (
	// LayoutUnknown accepts ISO dates and day/month dates only when one part
	// is above 12; ambiguous values are an error.
	LayoutUnknown DateLayout = iota
	// LayoutISO accepts only year-first dates: 2024-03-05,
	// 2024-03-05T10:20:30Z, 2024-03-05 10:20:30, with offset or fraction.
	LayoutISO
	// LayoutDMY reads D/M/YYYY, DD-MM-YYYY, DD.MM.YYYY (with optional
	// HH:MM[:SS]) day first.
	LayoutDMY
	// LayoutMDY reads M/D/YYYY, MM-DD-YYYY (with optional HH:MM[:SS] and
	// AM/PM) month first.
	LayoutMDY
)

// String returns the layout's name as accepted by ParseLayout.
func (l DateLayout) String() string {
	switch l {
	case LayoutISO:
		return "iso"
	case LayoutDMY:
		return "dmy"
	case LayoutMDY:
		return "mdy"
	}
	return "unknown"
}

// ParseLayout returns the layout named "iso", "dmy" or "mdy"
// (case-insensitive), for forcing a column's layout instead of detecting it.
func ParseLayout(name string) (DateLayout, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "iso":
		return LayoutISO, nil
	case "dmy":
		return LayoutDMY, nil
	case "mdy":
		return LayoutMDY, nil
	}
	return LayoutUnknown, fmt.Errorf("unknown date layout %q (use iso, dmy or mdy)", name)
}

// dateParts is the numeric skeleton of "P1<sep>P2<sep>P3...".
type dateParts struct {
	a, b, c    int
	na, nb, nc int // digit counts
	sep        byte
	end        int // index just after P3
}

func (p *dateParts) iso() bool { return p.na == 4 }

// scanDateParts recognises YYYY<s>M<s>D and D<s>M<s>YYYY shapes (1-2 digit
// day/month, 4 digit year, s one of '-', '/', '.').
func scanDateParts(s string) (p dateParts, ok bool) {
	p.a, p.na = readNum(s, 0, 4)
	i := p.na
	if p.na == 0 || p.na == 3 || i >= len(s) {
		return p, false
	}
	p.sep = s[i]
	if p.sep != '-' && p.sep != '/' && p.sep != '.' {
		return p, false
	}
	i++
	p.b, p.nb = readNum(s, i, 2)
	i += p.nb
	if p.nb == 0 || i >= len(s) || s[i] != p.sep {
		return p, false
	}
	i++
	p.c, p.nc = readNum(s, i, 4)
	i += p.nc
	p.end = i
	if p.na == 4 {
		return p, p.nc == 1 || p.nc == 2
	}
	return p, p.nc == 4
}

// readNum reads up to max decimal digits of s starting at i.
func readNum(s string, i, max int) (v, n int) {
	for n < max && i+n < len(s) {
		c := s[i+n]
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int(c-'0')
		n++
	}
	return v, n
}

var daysIn = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func validYMD(y, m, d int) bool {
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	if d <= daysIn[m] {
		return true
	}
	return m == 2 && d == 29 && y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

// ParseDate parses a date or timestamp and returns it in UTC; a blank value
// returns the zero Time and no error (check IsZero).
//
// Accepted: ISO 8601 under every layout (2024-03-05, 2024-03-05T10:20:30Z,
// 2024-03-05T10:20:30.123+02:00, 2024-03-05 10:20:30, also '/' or '.'
// between the parts); and, ordered by layout, D/M/YYYY or M/D/YYYY with '/',
// '-' or '.' separators, optionally followed by " HH:MM", " HH:MM:SS" and,
// for these non-ISO forms, " AM"/" PM". Timestamps without a zone are UTC.
// Years must have four digits.
func ParseDate(s string, layout DateLayout) (time.Time, error) {
	if len(s) > 0 && (s[0] <= ' ' || s[len(s)-1] <= ' ') {
		s = strings.TrimSpace(s)
	}
	if s == "" {
		return time.Time{}, nil
	}
	p, ok := scanDateParts(s)
	if !ok {
		return time.Time{}, dateError(s, layout)
	}
	var y, m, d int
	iso := p.iso()
	if iso {
		y, m, d = p.a, p.b, p.c
	} else {
		y = p.c
		switch layout {
		case LayoutDMY:
			d, m = p.a, p.b
		case LayoutMDY:
			m, d = p.a, p.b
		case LayoutUnknown:
			switch {
			case p.a > 12 && p.b <= 12:
				d, m = p.a, p.b
			case p.b > 12 && p.a <= 12, p.a == p.b:
				m, d = p.a, p.b
			default:
				if p.a <= 12 && p.b <= 12 {
					return time.Time{}, fmt.Errorf("%s is ambiguous: it could be day-first or month-first", quoteValue(s))
				}
				return time.Time{}, dateError(s, layout)
			}
		default:
			return time.Time{}, dateError(s, layout)
		}
	}
	if !validYMD(y, m, d) {
		return time.Time{}, dateError(s, layout)
	}
	if p.end == len(s) {
		return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), nil
	}
	hh, mi, ss, ns, off, ok := parseClock(s[p.end:], iso)
	if !ok {
		return time.Time{}, dateError(s, layout)
	}
	t := time.Date(y, time.Month(m), d, hh, mi, ss, ns, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return t, nil
}

// parseClock parses the part after the date: a 'T' (ISO only) or spaces,
// then H[H]:MM[:SS[.fraction]], then for ISO an optional zone (Z, ±HH,
// ±HHMM, ±HH:MM) or for other forms an optional AM/PM. off is the zone
// offset in seconds east of UTC.
func parseClock(s string, iso bool) (hh, mi, ss, ns, off int, ok bool) {
	i := 0
	switch {
	case iso && (s[0] == 'T' || s[0] == 't'):
		i = 1
	case s[0] == ' ':
		for i < len(s) && s[i] == ' ' {
			i++
		}
	default:
		return
	}
	var n int
	if hh, n = readNum(s, i, 2); n == 0 {
		return
	}
	i += n
	if i >= len(s) || s[i] != ':' {
		return
	}
	if mi, n = readNum(s, i+1, 2); n != 2 {
		return
	}
	i += 3
	if i < len(s) && s[i] == ':' {
		if ss, n = readNum(s, i+1, 2); n != 2 {
			return
		}
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			start := i
			scale := 100000000
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				ns += int(s[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == start {
				return
			}
		}
	}
	if mi > 59 || ss > 59 {
		return
	}
	if iso {
		if i < len(s) {
			switch c := s[i]; c {
			case 'Z', 'z':
				i++
			case '+', '-':
				oh, n := readNum(s, i+1, 2)
				if n != 2 {
					return
				}
				i += 3
				om := 0
				if i < len(s) && s[i] == ':' {
					i++
				}
				if i < len(s) {
					if om, n = readNum(s, i, 2); n != 2 {
						return
					}
					i += 2
				}
				if oh > 23 || om > 59 {
					return
				}
				off = oh*3600 + om*60
				if c == '-' {
					off = -off
				}
			default:
				return
			}
		}
		return hh, mi, ss, ns, off, i == len(s) && hh < 24
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i+2 == len(s) && (s[i+1] == 'M' || s[i+1] == 'm') {
		if hh < 1 || hh > 12 {
			return
		}
		switch s[i] {
		case 'A', 'a':
			hh %= 12
		case 'P', 'p':
			hh = hh%12 + 12
		default:
			return
		}
		i += 2
	}
	return hh, mi, ss, ns, 0, i == len(s) && hh < 24
}

// dateError builds the user-facing error for an unparseable value, naming
// the format expected for this layout.
func dateError(s string, layout DateLayout) error {
	return fmt.Errorf("%s is not a valid date (format %s)", quoteValue(s), expectedFormat(s, layout))
}

func expectedFormat(s string, layout DateLayout) string {
	sep := "/"
	if i := strings.IndexAny(s, "-/."); i >= 0 {
		sep = s[i : i+1]
	}
	_, n := readNum(s, 0, 5)
	hasTime := strings.IndexByte(s, ':') >= 0
	var f string
	switch {
	case n == 4 || layout == LayoutISO:
		f = "YYYY-MM-DD"
		if hasTime {
			f += " HH:MM:SS"
		}
		return f
	case layout == LayoutDMY:
		f = "DD" + sep + "MM" + sep + "YYYY"
	case layout == LayoutMDY:
		f = "M" + sep + "D" + sep + "YYYY"
	default:
		f = "YYYY-MM-DD, DD" + sep + "MM" + sep + "YYYY or M" + sep + "D" + sep + "YYYY"
	}
	if hasTime {
		f += " HH:MM"
	}
	return f
}

// ErrDateConflict is wrapped by DateDetector.Decide when one column holds
// both day-first and month-first values.
var ErrDateConflict = errors.New("conflicting date formats")

// Decision is the outcome of detecting one column's date layout.
type Decision struct {
	Layout DateLayout
	// Assumed is true when no value settled the order of day and month and
	// Layout is the default for the separator used ('/' month-first, '-' and
	// '.' day-first), or when the column had no dates at all.
	Assumed bool
	// Reason explains the decision in one user-facing sentence, citing the
	// deciding value and line when there is one.
	Reason string
}

type dateSample struct {
	value string
	line  int
	set   bool
}

func (d dateSample) String() string {
	if d.line > 0 {
		return fmt.Sprintf("%s (line %d)", quoteValue(d.value), d.line)
	}
	return quoteValue(d.value)
}

// DateDetector decides the layout of one date column from its values, in
// O(1) memory. Feed it every value of the column with Add (blank and
// unparseable values are ignored; the parse pass reports them), then call
// Decide. The zero value is ready to use.
type DateDetector struct {
	iso, dm           int // year-first values; day/month values
	slash, dash, dot  int // separators among day/month values
	firstSep          byte
	dayFirst, monthFt dateSample
}

// Add feeds one value; line is its line number for the Reason (0 to omit).
func (d *DateDetector) Add(value string, line int) {
	s := value
	if len(s) > 0 && (s[0] <= ' ' || s[len(s)-1] <= ' ') {
		s = strings.TrimSpace(s)
	}
	p, ok := scanDateParts(s)
	if !ok {
		return
	}
	if p.iso() {
		d.iso++
		return
	}
	d.dm++
	switch p.sep {
	case '/':
		d.slash++
	case '-':
		d.dash++
	default:
		d.dot++
	}
	if d.firstSep == 0 {
		d.firstSep = p.sep
	}
	switch {
	case p.a > 12 && p.a <= 31 && p.b >= 1 && p.b <= 12:
		if !d.dayFirst.set {
			d.dayFirst = dateSample{strings.Clone(s), line, true}
		}
	case p.b > 12 && p.b <= 31 && p.a >= 1 && p.a <= 12:
		if !d.monthFt.set {
			d.monthFt = dateSample{strings.Clone(s), line, true}
		}
	}
}

// Decide returns the column's layout. If the column holds both a value that
// must be day-first and one that must be month-first, it returns a Decision
// with LayoutUnknown and an error wrapping ErrDateConflict that cites both.
func (d *DateDetector) Decide() (Decision, error) {
	switch {
	case d.dayFirst.set && d.monthFt.set:
		err := fmt.Errorf("%w in one column: %s is day-first but %s is month-first",
			ErrDateConflict, d.dayFirst, d.monthFt)
		return Decision{Layout: LayoutUnknown, Reason: err.Error()}, err
	case d.dayFirst.set:
		return Decision{Layout: LayoutDMY,
			Reason: fmt.Sprintf("day-first: %s can only be read with the day first", d.dayFirst)}, nil
	case d.monthFt.set:
		return Decision{Layout: LayoutMDY,
			Reason: fmt.Sprintf("month-first: %s can only be read with the month first", d.monthFt)}, nil
	case d.dm > 0:
		slashFirst := d.slash > d.dash+d.dot || (d.slash == d.dash+d.dot && d.firstSep == '/')
		if slashFirst {
			return Decision{Layout: LayoutMDY, Assumed: true,
				Reason: "assumed month-first (M/D/YYYY): no value has a day above 12, and dates written with '/' are usually month-first"}, nil
		}
		sep := "-"
		if d.dot > d.dash {
			sep = "."
		}
		return Decision{Layout: LayoutDMY, Assumed: true,
			Reason: fmt.Sprintf("assumed day-first (DD%sMM%sYYYY): no value has a day above 12, and dates written with '%s' are usually day-first", sep, sep, sep)}, nil
	case d.iso > 0:
		return Decision{Layout: LayoutISO, Reason: "all dates are year-first (YYYY-MM-DD)"}, nil
	}
	return Decision{Layout: LayoutISO, Assumed: true, Reason: "no date values to decide from"}, nil
}
