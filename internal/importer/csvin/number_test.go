package csvin

import (
	"math"
	"strconv"
	"testing"
)

var (
	dotFile   = NumberFormat{Decimal: '.'}
	commaFile = NumberFormat{Decimal: ','}
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		nf   NumberFormat
		want int64
		err  string
	}{
		{in: "19.99", nf: dotFile, want: 1999},
		{in: "0.07", nf: dotFile, want: 7},
		{in: "0.1", nf: dotFile, want: 10},
		{in: "1200", nf: dotFile, want: 120000},
		{in: "1,200", nf: dotFile, want: 120000},
		{in: "1,200", nf: commaFile, want: 120},
		{in: "1.200", nf: dotFile, want: 120},
		{in: "1.200", nf: commaFile, want: 120000},
		{in: "1.200.000", nf: commaFile, want: 120000000},
		{in: "1.200.000", nf: dotFile, want: 120000000},
		{in: "1,200,000", nf: commaFile, want: 120000000},
		{in: "1,234.56", nf: commaFile, want: 123456},
		{in: "1.234,56", nf: dotFile, want: 123456},
		{in: "1.234.567,89", nf: dotFile, want: 123456789},
		{in: "1,234,567.89", nf: commaFile, want: 123456789},
		{in: "19,99", nf: dotFile, want: 1999},
		{in: "3,5", nf: commaFile, want: 350},
		{in: "0,500", nf: dotFile, want: 50},
		{in: "1234,500", nf: dotFile, want: 123450},
		{in: ",50", nf: dotFile, want: 50},
		{in: ".5", nf: dotFile, want: 50},
		{in: "12.", nf: dotFile, want: 1200},
		{in: "1 200", nf: dotFile, want: 120000},
		{in: "1 200,50", nf: dotFile, want: 120050},
		{in: "1 234.500", nf: dotFile, want: 123450},
		{in: "1'200", nf: dotFile, want: 120000},
		{in: "1'234'567.50", nf: dotFile, want: 123456750},
		{in: "1’200.50", nf: dotFile, want: 120050},
		{in: "1\u00a0200,50\u00a0€", nf: commaFile, want: 120050},
		{in: "1\u202f200,50", nf: commaFile, want: 120050},
		{in: "$1,200.50", nf: dotFile, want: 120050},
		{in: "1.200,50 €", nf: commaFile, want: 120050},
		{in: "1.200,50€", nf: dotFile, want: 120050},
		{in: "€1.200,50", nf: dotFile, want: 120050},
		{in: "EUR 1200", nf: dotFile, want: 120000},
		{in: "1200 EUR", nf: dotFile, want: 120000},
		{in: "USD1,200.00", nf: dotFile, want: 120000},
		{in: "US$ 5", nf: dotFile, want: 500},
		{in: "R$ 1.234,56", nf: dotFile, want: 123456},
		{in: "£12", nf: dotFile, want: 1200},
		{in: "¥1,200", nf: dotFile, want: 120000},
		{in: "₹1,00,000", nf: dotFile, err: `"₹1,00,000" is not a valid number`},
		{in: "$1200 USD", nf: dotFile, want: 120000},
		{in: "  42  ", nf: dotFile, want: 4200},
		{in: "-5", nf: dotFile, want: -500},
		{in: "+5", nf: dotFile, want: 500},
		{in: "−5", nf: dotFile, want: -500},
		{in: "5-", nf: dotFile, want: -500},
		{in: "(5)", nf: dotFile, want: -500},
		{in: "(1,200.00)", nf: dotFile, want: -120000},
		{in: "-$1,200.50", nf: dotFile, want: -120050},
		{in: "$-1,200.50", nf: dotFile, want: -120050},
		{in: "$(1,200.50)", nf: dotFile, want: -120050},
		{in: "($1,200.50)", nf: dotFile, want: -120050},
		{in: "(1.200,50) €", nf: dotFile, want: -120050},
		{in: "- 1 200 €", nf: commaFile, want: -120000},
		{in: "0", nf: dotFile, want: 0},
		{in: "-0.00", nf: dotFile, want: 0},
		{in: "19.9900", nf: dotFile, want: 1999},
		{in: "92233720368547758.07", nf: dotFile, want: math.MaxInt64},
		{in: "-92233720368547758.07", nf: dotFile, want: -math.MaxInt64},
		// Errors.
		{in: "19.999", nf: dotFile, err: `"19.999" has more than 2 decimal places`},
		{in: "1,2345", nf: dotFile, err: `"1,2345" has more than 2 decimal places`},
		{in: "0.001", nf: dotFile, err: `"0.001" has more than 2 decimal places`},
		{in: "92233720368547758.08", nf: dotFile, err: `"92233720368547758.08" is too large`},
		{in: "99999999999999999999", nf: dotFile, err: `"99999999999999999999" is too large`},
		{in: "abc", nf: dotFile, err: `"abc" is not a valid number`},
		{in: "12abc", nf: dotFile, err: `"12abc" is not a valid number`},
		{in: "10 pcs", nf: dotFile, err: `"10 pcs" is not a valid number`},
		{in: "eur 10", nf: dotFile, err: `"eur 10" is not a valid number`},
		{in: "EURO 10", nf: dotFile, err: `"EURO 10" is not a valid number`},
		{in: "1.5k", nf: dotFile, err: `"1.5k" is not a valid number`},
		{in: "1.2E+05", nf: dotFile, err: `"1.2E+05" is not a valid number`},
		{in: "1,2,3", nf: dotFile, err: `"1,2,3" is not a valid number`},
		{in: "1,2000", nf: commaFile, want: 120},
		{in: "12,00,000", nf: dotFile, err: `"12,00,000" is not a valid number`},
		{in: "1,200.000.5", nf: dotFile, err: `"1,200.000.5" is not a valid number`},
		{in: "1.234,567,8", nf: dotFile, err: `"1.234,567,8" is not a valid number`},
		{in: "1 200'000", nf: dotFile, err: `"1 200'000" is not a valid number`},
		{in: "1  200", nf: dotFile, err: `"1  200" is not a valid number`},
		{in: ",200", nf: commaFile, want: 20},
		{in: "1,", nf: dotFile, want: 100},
		{in: ".", nf: dotFile, err: `"." is not a valid number`},
		{in: "-", nf: dotFile, err: `"-" is not a valid number`},
		{in: "$", nf: dotFile, err: `"$" is not a valid number`},
		{in: "--5", nf: dotFile, err: `"--5" is not a valid number`},
		{in: "-5-", nf: dotFile, err: `"-5-" is not a valid number`},
		{in: "(-5)", nf: dotFile, err: `"(-5)" is not a valid number`},
		{in: "(5", nf: dotFile, err: `"(5" is not a valid number`},
		{in: "5)", nf: dotFile, err: `"5)" is not a valid number`},
		{in: "5 5", nf: dotFile, err: `"5 5" is not a valid number`},
		{in: "1,200 300", nf: dotFile, err: `"1,200 300" is not a valid number`},
	}
	for _, tc := range tests {
		got, ok, err := tc.nf.ParseMoney(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || ok {
				t.Errorf("ParseMoney(%q, %c) = %d, %v; want error %q", tc.in, tc.nf.Decimal, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || !ok {
			t.Errorf("ParseMoney(%q, %c) = %d, %v, %v; want %d", tc.in, tc.nf.Decimal, got, ok, err, tc.want)
		}
	}
}

func TestParseIntAndFixed(t *testing.T) {
	tests := []struct {
		in       string
		nf       NumberFormat
		decimals int // -1: ParseInt
		want     int64
		err      string
	}{
		{in: "1,200", nf: dotFile, decimals: -1, want: 1200},
		{in: "1.200.000", nf: commaFile, decimals: -1, want: 1200000},
		{in: "1 200", nf: commaFile, decimals: -1, want: 1200},
		{in: "1'200", nf: dotFile, decimals: -1, want: 1200},
		{in: "(42)", nf: dotFile, decimals: -1, want: -42},
		{in: "1,200.00", nf: dotFile, decimals: -1, want: 1200},
		{in: "9223372036854775807", nf: dotFile, decimals: -1, want: math.MaxInt64},
		{in: "9223372036854775808", nf: dotFile, decimals: -1, err: `"9223372036854775808" is too large`},
		{in: "1.5", nf: dotFile, decimals: -1, err: `"1.5" is not a whole number`},
		{in: "1,5", nf: commaFile, decimals: -1, err: `"1,5" is not a whole number`},
		{in: "1.200", nf: dotFile, decimals: -1, err: `"1.200" is not a whole number`},
		{in: "1.234", nf: dotFile, decimals: 3, want: 1234},
		{in: "1,5", nf: dotFile, decimals: 3, want: 1500},
		{in: "1.2345", nf: dotFile, decimals: 3, err: `"1.2345" has more than 3 decimal places`},
		{in: "1000", nf: dotFile, decimals: 0, want: 1000},
		{in: "0.000000000000000001", nf: dotFile, decimals: 18, want: 1},
		{in: "10", nf: dotFile, decimals: 18, err: `"10" is too large`},
		{in: "1", nf: dotFile, decimals: 19, err: "csvin: ParseFixed: decimals 19 out of range"},
	}
	for _, tc := range tests {
		var got int64
		var ok bool
		var err error
		if tc.decimals < 0 {
			got, ok, err = tc.nf.ParseInt(tc.in)
		} else {
			got, ok, err = tc.nf.ParseFixed(tc.in, tc.decimals)
		}
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q (decimals %d): got %d, %v; want error %q", tc.in, tc.decimals, got, err, tc.err)
			}
			continue
		}
		if err != nil || !ok || got != tc.want {
			t.Errorf("%q (decimals %d): got %d, %v, %v; want %d", tc.in, tc.decimals, got, ok, err, tc.want)
		}
	}
	for _, blank := range []string{"", "  ", "\u00a0"} {
		if v, ok, err := dotFile.ParseInt(blank); v != 0 || ok || err != nil {
			t.Errorf("blank %q: %d %v %v", blank, v, ok, err)
		}
	}
	if NumberFormatFor(';') != commaFile || NumberFormatFor(',') != dotFile || NumberFormatFor('\t') != dotFile {
		t.Error("NumberFormatFor")
	}
	// The zero NumberFormat reads '.' as the decimal separator.
	if v, _, _ := (NumberFormat{}).ParseMoney("1.200"); v != 120 {
		t.Errorf("zero NumberFormat: %d", v)
	}
}

// TestParseFixedMatchesStrconv cross-checks exact decimal scaling against
// strconv on integers written with 0-4 decimals.
func TestParseFixedMatchesStrconv(t *testing.T) {
	for _, n := range []int64{0, 1, 7, 19, 99, 100, 1999, 12345, 987654321, 1234567890123} {
		for dec := 0; dec <= 4; dec++ {
			s := strconv.FormatInt(n, 10)
			for len(s) <= dec {
				s = "0" + s
			}
			text := s
			if dec > 0 {
				text = s[:len(s)-dec] + "." + s[len(s)-dec:]
			}
			if dec == 3 {
				text += "0" // keep a single '.' + 3 digits from reading as thousands
			}
			for scale := dec; scale <= 6; scale++ {
				got, _, err := dotFile.ParseFixed(text, scale)
				want := n
				for range scale - dec {
					want *= 10
				}
				if err != nil || got != want {
					t.Errorf("ParseFixed(%q, %d) = %d, %v; want %d", text, scale, got, err, want)
				}
			}
		}
	}
}

func TestParseMoneyAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		dotFile.ParseMoney("$1,234,567.89")
		commaFile.ParseMoney("1.234,56 €")
		dotFile.ParseInt("(1 200)")
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
