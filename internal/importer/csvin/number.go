package csvin

import (
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// NumberFormat is the number convention of one file. Its Decimal separator
// is only the tie-breaker: values that show their convention themselves
// ("1,234.56", "1.234,56", "1.200.000", "19,99") are read as written.
type NumberFormat struct {
	// Decimal is '.' or ','; zero means '.'.
	Decimal byte
}

// NumberFormatFor returns the convention usual for files with this
// delimiter: ',' decimals for ';' files (continental European Excel),
// '.' otherwise.
func NumberFormatFor(delimiter rune) NumberFormat {
	if delimiter == ';' {
		return NumberFormat{Decimal: ','}
	}
	return NumberFormat{Decimal: '.'}
}

// ParseInt parses a whole number. It accepts the same notation as
// ParseFixed; a fractional part must be zero ("1,200.00" is 1200).
// ok is false for a blank value.
func (f NumberFormat) ParseInt(s string) (n int64, ok bool, err error) {
	return f.parse(s, 0)
}

// ParseMoney parses an amount into minor units with 2 decimals:
// "$1,200.50" is 120050. See ParseFixed.
func (f NumberFormat) ParseMoney(s string) (minor int64, ok bool, err error) {
	return f.parse(s, 2)
}

// ParseFixed parses a decimal number into an integer scaled by
// 10^decimals, exactly (no floating point): with decimals 2, "19.99" is
// 1999. More significant decimals than allowed are an error; extra trailing
// zeros are not. ok is false for a blank value.
//
// Notation: thousands separators (comma, dot, space, apostrophe, U+2019,
// no-break and thin spaces) in groups of three; an optional currency symbol
// or upper-case 3-letter code before or after the number ("$1,200.50",
// "1.200,50 €", "EUR 1200", "US$ 5"); negatives as "-5", "−5", "5-" or
// "(5)". The decimal separator is the last of '.' and ',' when both occur;
// a separator that occurs more than once is a thousands separator; a single
// separator is a decimal separator unless exactly three digits follow it
// (and one to three non-zero-led digits precede it), in which case the
// file's Decimal decides: "1,200" is 1200 in a '.' file and 1.2 in a ','
// file.
func (f NumberFormat) ParseFixed(s string, decimals int) (n int64, ok bool, err error) {
	if decimals < 0 || decimals > 18 {
		return 0, false, fmt.Errorf("csvin: ParseFixed: decimals %d out of range", decimals)
	}
	return f.parse(s, decimals)
}

func isNumSpace(c byte) bool { return c == ' ' || c == '\t' }

// numSpace reports whether the rune at s[i:] is a no-break, narrow no-break
// or thin space, and its size.
func numSpaceRune(s string, i int) int {
	if i+1 < len(s) && s[i] == 0xC2 && s[i+1] == 0xA0 { // U+00A0
		return 2
	}
	if i+2 < len(s) && s[i] == 0xE2 && s[i+1] == 0x80 && (s[i+2] == 0xAF || s[i+2] == 0x89) { // U+202F, U+2009
		return 3
	}
	return 0
}

func trimNum(s string) string {
	for len(s) > 0 {
		if isNumSpace(s[0]) {
			s = s[1:]
		} else if n := numSpaceRune(s, 0); n > 0 {
			s = s[n:]
		} else {
			break
		}
	}
	for len(s) > 0 {
		c := s[len(s)-1]
		if isNumSpace(c) {
			s = s[:len(s)-1]
		} else if c >= 0x80 {
			_, size := utf8.DecodeLastRuneInString(s)
			if numSpaceRune(s, len(s)-size) == size {
				s = s[:len(s)-size]
			} else {
				break
			}
		} else {
			break
		}
	}
	return s
}

// isLetter reports upper-case ASCII letters: currency codes are upper case,
// which keeps "10 pcs" or "2 mln" from being read as amounts.
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }

// currencyPrefix returns the length of a currency marker at the start of s:
// a symbol (Unicode Sc, e.g. $ € £ ¥ ₹), 1-3 upper-case letters followed by
// a symbol (US$, R$, HK$), or exactly 3 upper-case letters (EUR).
func currencyPrefix(s string) int {
	i := 0
	for i < len(s) && i < 4 && isLetter(s[i]) {
		i++
	}
	if i < len(s) {
		if n := currencySymbol(s[i:]); n > 0 && i <= 3 {
			return i + n
		}
	}
	if i == 3 {
		return 3
	}
	return 0
}

// currencySuffix returns the length of a currency marker at the end of s:
// a symbol, or exactly 3 upper-case letters (not part of a longer word).
func currencySuffix(s string) int {
	if len(s) == 0 {
		return 0
	}
	c := s[len(s)-1]
	if c == '$' {
		return 1
	}
	if c >= 0x80 {
		r, size := utf8.DecodeLastRuneInString(s)
		if unicode.Is(unicode.Sc, r) {
			return size
		}
		return 0
	}
	if len(s) >= 3 && isLetter(s[len(s)-1]) && isLetter(s[len(s)-2]) && isLetter(s[len(s)-3]) &&
		(len(s) == 3 || !isLetter(s[len(s)-4])) {
		return 3
	}
	return 0
}

func currencySymbol(s string) int {
	if s[0] == '$' {
		return 1
	}
	if s[0] < 0x80 {
		return 0
	}
	r, size := utf8.DecodeRuneInString(s)
	if unicode.Is(unicode.Sc, r) {
		return size
	}
	return 0
}

type numErr uint8

const (
	numOK numErr = iota
	numInvalid
	numTooManyDecimals
	numNotWhole
	numTooLarge
)

func (f NumberFormat) parse(s string, decimals int) (int64, bool, error) {
	t := trimNum(s)
	if t == "" {
		return 0, false, nil
	}
	v, e := f.parseTrimmed(t, decimals)
	switch e {
	case numOK:
		return v, true, nil
	case numTooManyDecimals:
		return 0, false, fmt.Errorf("%s has more than %d decimal places", quoteValue(t), decimals)
	case numNotWhole:
		return 0, false, fmt.Errorf("%s is not a whole number", quoteValue(t))
	case numTooLarge:
		return 0, false, fmt.Errorf("%s is too large", quoteValue(t))
	}
	return 0, false, fmt.Errorf("%s is not a valid number", quoteValue(t))
}

func (f NumberFormat) parseTrimmed(t string, decimals int) (int64, numErr) {
	// Strip sign, parentheses and currency from both ends.
	neg, sign, paren, cur := false, false, false, false
	for len(t) > 0 {
		c := t[0]
		switch {
		case c >= '0' && c <= '9', c == '.' || c == ',':
			goto prefixDone
		case (c == '-' || c == '+') && !sign && !paren:
			sign, neg = true, c == '-'
			t = trimNum(t[1:])
		case c == 0xE2 && len(t) > 2 && t[1] == 0x88 && t[2] == 0x92 && !sign && !paren: // U+2212 minus
			sign, neg = true, true
			t = trimNum(t[3:])
		case c == '(' && !sign && !paren:
			paren = true
			t = trimNum(t[1:])
		default:
			n := 0
			if !cur {
				n = currencyPrefix(t)
			}
			if n == 0 {
				return 0, numInvalid
			}
			cur = true
			t = trimNum(t[n:])
		}
	}
prefixDone:
	closed := false
	for len(t) > 0 {
		c := t[len(t)-1]
		switch {
		case c >= '0' && c <= '9', c == '.' || c == ',':
			goto suffixDone
		case c == ')' && paren && !closed:
			closed = true
			t = trimNum(t[:len(t)-1])
		case c == '-' && !sign && !paren:
			sign, neg = true, true
			t = trimNum(t[:len(t)-1])
		default:
			n := currencySuffix(t)
			if n == 0 {
				return 0, numInvalid
			}
			t = trimNum(t[:len(t)-n])
		}
	}
suffixDone:
	if paren != closed || t == "" {
		return 0, numInvalid
	}
	if paren {
		neg = true
	}

	// Pass 1: find the separators to choose the decimal separator.
	nDot, nComma, nOther, lastDot, lastComma := 0, 0, 0, -1, -1
	for i := 0; i < len(t); {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			i++
		case c == '.':
			nDot++
			lastDot = i
			i++
		case c == ',':
			nComma++
			lastComma = i
			i++
		case c == ' ' || c == '\'':
			nOther++
			i++
		default:
			n := numSpaceRune(t, i)
			if n == 0 && i+2 < len(t) && t[i] == 0xE2 && t[i+1] == 0x80 && t[i+2] == 0x99 { // U+2019
				n = 3
			}
			if n == 0 {
				return 0, numInvalid
			}
			nOther++
			i += n
		}
	}
	var dec byte // 0: no decimal separator
	switch {
	case nDot > 0 && nComma > 0:
		if lastDot > lastComma {
			dec = '.'
		} else {
			dec = ','
		}
		if (dec == '.' && nDot > 1) || (dec == ',' && nComma > 1) {
			return 0, numInvalid
		}
	case nDot == 1 || nComma == 1:
		pos, sep := lastDot, byte('.')
		if nComma == 1 {
			pos, sep = lastComma, ','
		}
		digitsAfter := len(t) - pos - 1
		switch {
		case digitsAfter != 3, nOther > 0, pos > 3, pos == 0, t[0] == '0':
			dec = sep
		case f.decimal() == sep:
			dec = sep
		}
	}

	// Pass 2: accumulate digits, checking grouping.
	const max = math.MaxInt64
	var v uint64
	var thou rune
	group, groups, frac := 0, 0, -1 // frac: -1 before the decimal separator
	intDigits := 0
	for i := 0; i < len(t); {
		c := t[i]
		if c >= '0' && c <= '9' {
			if frac >= 0 {
				frac++
				if frac > decimals {
					if c != '0' {
						if decimals == 0 {
							return 0, numNotWhole
						}
						return 0, numTooManyDecimals
					}
					i++
					continue
				}
			} else {
				group++
				intDigits++
			}
			d := uint64(c - '0')
			if v > (max-d)/10 {
				return 0, numTooLarge
			}
			v = v*10 + d
			i++
			continue
		}
		if c == dec {
			if frac >= 0 || (groups > 0 && group != 3) {
				return 0, numInvalid
			}
			frac = 0
			i++
			continue
		}
		// A thousands separator.
		r, n := rune(c), 1
		if c >= 0x80 {
			r, n = utf8.DecodeRuneInString(t[i:])
		}
		if thou == 0 {
			thou = r
		}
		if frac >= 0 || r != thou || group == 0 || group > 3 || (groups > 0 && group != 3) {
			return 0, numInvalid
		}
		groups++
		group = 0
		i += n
	}
	if frac < 0 && groups > 0 && group != 3 {
		return 0, numInvalid
	}
	if intDigits == 0 && frac <= 0 {
		return 0, numInvalid
	}
	if frac < 0 {
		frac = 0
	}
	for ; frac < decimals; frac++ {
		if v > max/10 {
			return 0, numTooLarge
		}
		v *= 10
	}
	if neg {
		return -int64(v), numOK
	}
	return int64(v), numOK
}

func (f NumberFormat) decimal() byte {
	if f.Decimal == ',' {
		return ','
	}
	return '.'
}
