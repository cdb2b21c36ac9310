package web

import (
	"github.com/rightsize/rightsize/internal/export"
	"math"
	"strings"
	"testing"
)

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{1234567, "USD", "$12,345.67"},
		{0, "USD", "$0.00"},
		{5, "USD", "$0.05"},
		{-120050, "USD", "-$1,200.50"},
		{100, "EUR", "€1.00"},
		{1234, "JPY", "¥1,234"},
		{1234567, "KWD", "1,234.567\u00a0KWD"},
		{99, "SEK", "0.99\u00a0SEK"},
		{123456789012, "gbp", "£1,234,567,890.12"},
		{math.MinInt64, "USD", "-$92,233,720,368,547,758.08"},
	} {
		if got := formatMoney(c.minor, c.cur); got != c.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", c.minor, c.cur, got, c.want)
		}
	}
	if got := formatMoneyShort(48000000, "USD"); got != "$480K" {
		t.Errorf("short: %q", got)
	}
	if got := formatMoneyShort(8200000000, "USD"); got != "$82.00M" {
		t.Errorf("short: %q", got)
	}
	if got := formatNumber(-1234567); got != "-1,234,567" {
		t.Errorf("number: %q", got)
	}
}

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in   string
		cur  string
		want int64
		err  string
	}{
		{"1,200.50", "USD", 120050, ""},
		{"1200.5", "USD", 120050, ""},
		{"$1,200", "USD", 120000, ""},
		{" 7 ", "USD", 700, ""},
		{".5", "USD", 50, ""},
		{"1200 USD", "USD", 120000, ""},
		{"1,234", "JPY", 1234, ""},
		{"1.5", "JPY", 0, "decimal places"},
		{"1,2", "USD", 0, "not an amount"},
		{"12,34.00", "USD", 0, "not an amount"},
		{"1.", "USD", 0, "not an amount"},
		{"abc", "USD", 0, "not an amount"},
		{"10.005", "USD", 0, "more than 2 decimal places"},
		{"99999999999999999999", "USD", 0, "too large"},
		{"-3.25", "USD", -325, ""},
	} {
		got, ok, err := parseMoney(c.in, c.cur)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseMoney(%q): err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !ok || got != c.want {
			t.Errorf("parseMoney(%q, %s) = %d, %v, %v; want %d", c.in, c.cur, got, ok, err, c.want)
		}
	}
	if _, ok, err := parseMoney("  ", "USD"); ok || err != nil {
		t.Errorf("empty: %v %v", ok, err)
	}
	// Round trip through the edit form's value.
	for _, n := range []int64{0, 1, 99, 120050, 4800000000} {
		got, _, err := parseMoney(majorUnits(n, "USD"), "USD")
		if err != nil || got != n {
			t.Errorf("round trip %d: %d %v", n, got, err)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/contacts?q=a": "/contacts?q=a",
		"/":             "/",
		"//evil.com":    "",
		"/\\evil.com":   "",
		"https://x.io/": "",
		"contacts":      "",
		"/a\r\nb":       "",
		"":              "",
	} {
		got, _ := localPath(in)
		if got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBarChart(t *testing.T) {
	c := newBarChart("c", "Deals", []bar{{Label: "A", Value: 10, Display: "10"}, {Label: "B", Value: 0, Display: "0"}, {Label: "C", Value: 1, Display: "1"}})
	if c.Rows[0].W != c.TrackW || c.Rows[1].W != 0 || c.Rows[2].W < 3 {
		t.Errorf("widths: %d %d %d (track %d)", c.Rows[0].W, c.Rows[1].W, c.Rows[2].W, c.TrackW)
	}
	if !strings.Contains(c.Desc, "A: 10; B: 0; C: 1") {
		t.Errorf("desc: %q", c.Desc)
	}
	if c.Height <= 0 || c.Rows[1].Y <= c.Rows[0].Y {
		t.Errorf("geometry: %+v", c)
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "@a": "'@a", "plain": "plain", "": ""} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("%q → %q", in, got)
		}
	}
}
