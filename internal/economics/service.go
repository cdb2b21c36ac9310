package economics

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Service keeps the economics inputs of each workspace: the spend ledger and its
// allocation rules, people cost profiles and headcount, the economics settings
// and market sizing. The API, the UI and the CLI all call it, so an input is
// validated the same way whichever way it arrives. Every write is audited.
type Service struct {
	St *store.Store
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
	// Scenarios hands in the staffing planner's cost per SQL per scenario
	// (internal/staffing imports this package, so app wires it); nil: none.
	Scenarios func(ctx context.Context, ws int64) ([]ScenarioCost, error)
	// River enqueues guardrail evaluations in the transaction of an input
	// change; nil (tests, CLI without workers) leaves them to the sweep.
	River GuardrailQueue
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func fieldErr(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Month is a calendar month written "YYYY-MM".
var monthRE = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseMonth reads a month as "YYYY-MM" (a date "YYYY-MM-DD" names its month)
// and returns it as "YYYY-MM". Years 1970–2199 are accepted.
func ParseMonth(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) == 10 && s[7] == '-' {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "", fmt.Errorf("%q is not a date (YYYY-MM-DD) or a month (YYYY-MM)", s)
		}
		s = s[:7]
	}
	m := monthRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not a month (YYYY-MM)", s)
	}
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 1970 || t.Year() > 2199 {
		return "", fmt.Errorf("%q is not a month between 1970-01 and 2199-12", s)
	}
	return s, nil
}

// MonthOf is the "YYYY-MM" of t in UTC.
func MonthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// AddMonths moves a "YYYY-MM" month by n months (which may be negative).
func AddMonths(month string, n int) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.AddDate(0, n, 0).Format("2006-01")
}

// Months lists the months from..to inclusive (empty when to is before from);
// at most 1200.
func Months(from, to string) []string {
	var out []string
	for m := from; m <= to && len(out) < 1200; m = AddMonths(m, 1) {
		out = append(out, m)
	}
	return out
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`)

// normKey turns free text into a lower snake key ("Paid Search" → paid_search).
func normKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	us := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			us = false
		case r == ' ' || r == '-' || r == '_' || r == '/' || r == '.':
			if b.Len() > 0 && !us {
				b.WriteByte('_')
				us = true
			}
		default:
			b.WriteRune(r) // kept so the key check below names it
			us = false
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// normCurrency upper-cases a 3-letter ISO 4217 code; "" keeps def.
func normCurrency(field, s, def string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return def, nil
	}
	if !currencyRE.MatchString(s) {
		return "", fieldErr(field, "%q is not a 3-letter ISO 4217 currency code such as USD", s)
	}
	return s, nil
}

// currencyDigits lists the currencies whose minor unit is not 1/100.
var currencyDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "PYG": 0, "XOF": 0, "XAF": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}

// Digits is how many decimals a currency's minor unit has (2 unless listed).
func Digits(cur string) int {
	if d, ok := currencyDigits[cur]; ok {
		return d
	}
	return 2
}

// maxMoney bounds amounts so sums of a ledger cannot overflow int64.
const maxMoney = 1_000_000_000_000_000 // 10^15 minor units

// rate checks a fraction in [lo, hi].
func rate(field string, v float64, lo, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return fieldErr(field, "must be between %s and %s (a fraction: 0.8 is 80 %%)", trimFloat(lo), trimFloat(hi))
	}
	return nil
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

// roundMinor rounds a float amount of minor units half away from zero.
func roundMinor(f float64) int64 { return int64(math.Round(f)) }

// monthStart is the first instant (UTC) of a "YYYY-MM" month.
func monthStart(month string) (time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, fmt.Errorf("economics: month %q: %w", month, err)
	}
	return t.UTC(), nil
}
