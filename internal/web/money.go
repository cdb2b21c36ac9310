package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Money is stored in integer minor units with an ISO 4217 code (docs/money.md).
// The UI shows it in major units with the currency's symbol and typical digits,
// and reads what people type ("1,200.50") back into minor units without going
// through floating point.

// currencyDigits lists the currencies whose minor unit is not 1/100.
var currencyDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "PYG": 0, "XOF": 0, "XAF": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}

// currencySymbols prefix an amount; other currencies are shown with their code
// after the number ("1,200.00 SEK").
var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩",
	"CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "BRL": "R$", "CNY": "CN¥", "MXN": "MX$",
	"CHF": "CHF\u00a0",
}

func digitsOf(cur string) int {
	if d, ok := currencyDigits[strings.ToUpper(cur)]; ok {
		return d
	}
	return 2
}

// groupThousands formats a non-negative integer with comma separators.
func groupThousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// formatNumber formats an integer count: 1234567 → "1,234,567".
func formatNumber(n int64) string {
	if n < 0 {
		return "-" + groupThousands(uint64(-(n+1))+1)
	}
	return groupThousands(uint64(n))
}

// majorUnits formats minor units as a plain major-unit number with grouping and
// the currency's digits, without a symbol: 120050 USD → "1,200.50".
func majorUnits(minor int64, cur string) string {
	neg := minor < 0
	var u uint64
	if neg {
		u = uint64(-(minor + 1)) + 1 // MinInt64 safe
	} else {
		u = uint64(minor)
	}
	d := digitsOf(cur)
	div := uint64(math.Pow10(d))
	s := groupThousands(u / div)
	if d > 0 {
		s += "." + fmt.Sprintf("%0*d", d, u%div)
	}
	if neg {
		s = "-" + s
	}
	return s
}

// formatMoney formats minor units for display: 1234567 USD → "$12,345.67".
func formatMoney(minor int64, cur string) string {
	cur = strings.ToUpper(cur)
	s := majorUnits(minor, cur)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + s
	}
	if cur == "" {
		return sign + s
	}
	return sign + s + "\u00a0" + cur
}

// formatMoneyShort is for chart labels and tiles where cents are noise:
// 123456789 USD → "$1.23M", 950000 USD → "$9,500".
func formatMoneyShort(minor int64, cur string) string {
	cur = strings.ToUpper(cur)
	major := float64(minor) / math.Pow10(digitsOf(cur))
	abs := math.Abs(major)
	var s string
	switch {
	case abs >= 1e9:
		s = strconv.FormatFloat(major/1e9, 'f', 2, 64) + "B"
	case abs >= 1e6:
		s = strconv.FormatFloat(major/1e6, 'f', 2, 64) + "M"
	case abs >= 1e5:
		s = strconv.FormatFloat(major/1e3, 'f', 0, 64) + "K"
	default:
		s = formatNumber(int64(math.Round(major)))
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + s
	}
	if cur == "" {
		return sign + s
	}
	return sign + s + "\u00a0" + cur
}

var groupedRE = regexp.MustCompile(`^\d{1,3}(,\d{3})*$`)

// parseMoney reads a major-unit amount as typed into a form ("1,200.50",
// "$1200.5", "1200") into minor units of cur. Commas are accepted only as
// thousands separators, so "1,5" (a European decimal) is refused rather than
// misread as 15. Empty input returns ok=false with no error.
func parseMoney(s, cur string) (minor int64, ok bool, err error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, false, nil
	}
	bad := fmt.Errorf("%q is not an amount (for example 1,200.50)", in)
	t := in
	if sym, has := currencySymbols[strings.ToUpper(cur)]; has {
		t = strings.TrimPrefix(t, strings.TrimSpace(sym))
	}
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(t), strings.ToUpper(cur)))
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	whole, frac, hasFrac := strings.Cut(t, ".")
	if whole == "" {
		whole = "0"
	}
	if strings.Contains(whole, ",") {
		if !groupedRE.MatchString(whole) {
			return 0, false, bad
		}
		whole = strings.ReplaceAll(whole, ",", "")
	}
	d := digitsOf(cur)
	if hasFrac && (frac == "" || len(frac) > d) {
		if len(frac) > d {
			return 0, false, fmt.Errorf("%q has more than %d decimal places", in, d)
		}
		return 0, false, bad
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, false, bad
			}
		}
	}
	frac += strings.Repeat("0", d-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		var err2 error
		if f, err2 = strconv.ParseInt(frac, 10, 64); err2 != nil {
			return 0, false, bad
		}
	}
	scale := int64(math.Pow10(d))
	if err1 != nil || w > (math.MaxInt64-f)/scale {
		return 0, false, fmt.Errorf("%q is too large", in)
	}
	minor = w*scale + f
	if neg {
		minor = -minor
	}
	return minor, true, nil
}
