package csvin

import (
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in     string
		layout DateLayout
		want   time.Time
		err    string
	}{
		// ISO 8601, accepted under every layout.
		{in: "2024-03-05", layout: LayoutISO, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "2024-03-05", layout: LayoutMDY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "2024-03-05", layout: LayoutDMY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "2024-03-05", layout: LayoutUnknown, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "2024-03-05T10:20:30Z", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 0)},
		{in: "2024-03-05t10:20:30z", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 0)},
		{in: "2024-03-05T10:20:30+02:00", layout: LayoutISO, want: utc(2024, 3, 5, 8, 20, 30, 0)},
		{in: "2024-03-05T00:20:30+0230", layout: LayoutISO, want: utc(2024, 3, 4, 21, 50, 30, 0)},
		{in: "2024-03-05T10:20:30-05", layout: LayoutISO, want: utc(2024, 3, 5, 15, 20, 30, 0)},
		{in: "2024-12-31T23:30:00-01:00", layout: LayoutISO, want: utc(2025, 1, 1, 0, 30, 0, 0)},
		{in: "2024-03-05T10:20:30.5Z", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 500000000)},
		{in: "2024-03-05T10:20:30.123456789Z", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 123456789)},
		{in: "2024-03-05T10:20:30.1234567891Z", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 123456789)},
		{in: "2024-03-05T10:20:30,25+01:00", layout: LayoutISO, want: utc(2024, 3, 5, 9, 20, 30, 250000000)},
		{in: "2024-03-05T10:20", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 0, 0)},
		{in: "2024-03-05 10:20:30", layout: LayoutISO, want: utc(2024, 3, 5, 10, 20, 30, 0)},
		{in: "2024-03-05 10:20:30.250", layout: LayoutMDY, want: utc(2024, 3, 5, 10, 20, 30, 250000000)},
		{in: "2024/3/5", layout: LayoutISO, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "  2024-03-05\t", layout: LayoutISO, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "2024-02-29", layout: LayoutISO, want: utc(2024, 2, 29, 0, 0, 0, 0)},
		{in: "2000-02-29", layout: LayoutISO, want: utc(2000, 2, 29, 0, 0, 0, 0)},
		// Day first.
		{in: "05-03-2024", layout: LayoutDMY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "05/03/2024", layout: LayoutDMY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "5.3.2024", layout: LayoutDMY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "31-12-2024 23:59", layout: LayoutDMY, want: utc(2024, 12, 31, 23, 59, 0, 0)},
		{in: "31-12-2024 23:59:58", layout: LayoutDMY, want: utc(2024, 12, 31, 23, 59, 58, 0)},
		{in: "31-12-2024  7:05", layout: LayoutDMY, want: utc(2024, 12, 31, 7, 5, 0, 0)},
		// Month first.
		{in: "3/5/2024", layout: LayoutMDY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "03/05/2024", layout: LayoutMDY, want: utc(2024, 3, 5, 0, 0, 0, 0)},
		{in: "12/31/2024", layout: LayoutMDY, want: utc(2024, 12, 31, 0, 0, 0, 0)},
		{in: "3/5/2024 14:07", layout: LayoutMDY, want: utc(2024, 3, 5, 14, 7, 0, 0)},
		{in: "3/5/2024 2:07 PM", layout: LayoutMDY, want: utc(2024, 3, 5, 14, 7, 0, 0)},
		{in: "3/5/2024 12:07 am", layout: LayoutMDY, want: utc(2024, 3, 5, 0, 7, 0, 0)},
		{in: "3/5/2024 12:07:09 PM", layout: LayoutMDY, want: utc(2024, 3, 5, 12, 7, 9, 0)},
		{in: "3/5/2024 2:07PM", layout: LayoutMDY, want: utc(2024, 3, 5, 14, 7, 0, 0)},
		// Unknown layout: only unambiguous values.
		{in: "31/01/2024", layout: LayoutUnknown, want: utc(2024, 1, 31, 0, 0, 0, 0)},
		{in: "01/31/2024", layout: LayoutUnknown, want: utc(2024, 1, 31, 0, 0, 0, 0)},
		{in: "04/04/2024", layout: LayoutUnknown, want: utc(2024, 4, 4, 0, 0, 0, 0)},
		{in: "03/04/2024", layout: LayoutUnknown, err: `"03/04/2024" is ambiguous: it could be day-first or month-first`},
		{in: "13/13/2024", layout: LayoutUnknown, err: `"13/13/2024" is not a valid date (format YYYY-MM-DD, DD/MM/YYYY or M/D/YYYY)`},
		// Blank.
		{in: "", layout: LayoutMDY},
		{in: "   ", layout: LayoutMDY},
		// Errors name the expected format.
		{in: "13/31/2024", layout: LayoutMDY, err: `"13/31/2024" is not a valid date (format M/D/YYYY)`},
		{in: "31/13/2024", layout: LayoutDMY, err: `"31/13/2024" is not a valid date (format DD/MM/YYYY)`},
		{in: "31-02-2024", layout: LayoutDMY, err: `"31-02-2024" is not a valid date (format DD-MM-YYYY)`},
		{in: "29.02.2023", layout: LayoutDMY, err: `"29.02.2023" is not a valid date (format DD.MM.YYYY)`},
		{in: "2/30/2024", layout: LayoutMDY, err: `"2/30/2024" is not a valid date (format M/D/YYYY)`},
		{in: "3/5/24", layout: LayoutMDY, err: `"3/5/24" is not a valid date (format M/D/YYYY)`},
		{in: "3/5/2024 25:00", layout: LayoutMDY, err: `"3/5/2024 25:00" is not a valid date (format M/D/YYYY HH:MM)`},
		{in: "3/5/2024 13:00 PM", layout: LayoutMDY, err: `"3/5/2024 13:00 PM" is not a valid date (format M/D/YYYY HH:MM)`},
		{in: "3/5/2024 0:00 AM", layout: LayoutMDY, err: `"3/5/2024 0:00 AM" is not a valid date (format M/D/YYYY HH:MM)`},
		{in: "3/5/2024T10:00", layout: LayoutMDY, err: `"3/5/2024T10:00" is not a valid date (format M/D/YYYY HH:MM)`},
		{in: "3/5/2024 10:00Z", layout: LayoutMDY, err: `"3/5/2024 10:00Z" is not a valid date (format M/D/YYYY HH:MM)`},
		{in: "3-5/2024", layout: LayoutMDY, err: `"3-5/2024" is not a valid date (format M-D-YYYY)`},
		{in: "05/03/2024", layout: LayoutISO, err: `"05/03/2024" is not a valid date (format YYYY-MM-DD)`},
		{in: "2023-02-29", layout: LayoutISO, err: `"2023-02-29" is not a valid date (format YYYY-MM-DD)`},
		{in: "1900-02-29", layout: LayoutISO, err: `"1900-02-29" is not a valid date (format YYYY-MM-DD)`},
		{in: "0000-01-01", layout: LayoutISO, err: `"0000-01-01" is not a valid date (format YYYY-MM-DD)`},
		{in: "2024-13-01", layout: LayoutDMY, err: `"2024-13-01" is not a valid date (format YYYY-MM-DD)`},
		{in: "2024-03-05T10:20:60Z", layout: LayoutISO, err: `"2024-03-05T10:20:60Z" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05T24:00:00Z", layout: LayoutISO, err: `"2024-03-05T24:00:00Z" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05T10:20:30+2", layout: LayoutISO, err: `"2024-03-05T10:20:30+2" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05T10:20:30+02:0", layout: LayoutISO, err: `"2024-03-05T10:20:30+02:0" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05T10:20:30.Z", layout: LayoutISO, err: `"2024-03-05T10:20:30.Z" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05T10:2", layout: LayoutISO, err: `"2024-03-05T10:2" is not a valid date (format YYYY-MM-DD HH:MM:SS)`},
		{in: "2024-03-05x", layout: LayoutISO, err: `"2024-03-05x" is not a valid date (format YYYY-MM-DD)`},
		{in: "2024-03-051", layout: LayoutISO, err: `"2024-03-051" is not a valid date (format YYYY-MM-DD)`},
		{in: "20240305", layout: LayoutISO, err: `"20240305" is not a valid date (format YYYY-MM-DD)`},
		{in: "45352", layout: LayoutMDY, err: `"45352" is not a valid date (format M/D/YYYY)`},
		{in: "March 5, 2024", layout: LayoutMDY, err: `"March 5, 2024" is not a valid date (format M/D/YYYY)`},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in, tc.layout)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ParseDate(%q, %v) error = %v, want %q", tc.in, tc.layout, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q, %v) = %v, %v; want %v", tc.in, tc.layout, got, err, tc.want)
		}
	}
}

// TestParseDateMatchesTimeParse cross-checks the hand-written parser
// against time.Parse over a grid of dates, including invalid days.
func TestParseDateMatchesTimeParse(t *testing.T) {
	for y := 1999; y <= 2001; y++ {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				iso := pad4(y) + "-" + pad2(m) + "-" + pad2(d)
				check(t, iso, LayoutISO, "2006-01-02")
				check(t, iso+"T13:04:05.25-07:30", LayoutISO, "2006-01-02T15:04:05.999999999Z07:00")
				check(t, pad2(d)+"/"+pad2(m)+"/"+pad4(y), LayoutDMY, "02/01/2006")
				check(t, pad2(m)+"-"+pad2(d)+"-"+pad4(y)+" 11:59 PM", LayoutMDY, "01-02-2006 3:04 PM")
			}
		}
	}
}

func check(t *testing.T, in string, layout DateLayout, stdLayout string) {
	t.Helper()
	want, werr := time.Parse(stdLayout, in)
	got, err := ParseDate(in, layout)
	if (err != nil) != (werr != nil) || !got.Equal(want) {
		t.Errorf("ParseDate(%q) = %v, %v; time.Parse = %v, %v", in, got, err, want, werr)
	}
}

func pad2(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
func pad4(n int) string { return pad2(n/100) + pad2(n%100) }

func TestParseLayout(t *testing.T) {
	for name, want := range map[string]DateLayout{"iso": LayoutISO, "DMY": LayoutDMY, " mdy ": LayoutMDY} {
		got, err := ParseLayout(name)
		if err != nil || got != want {
			t.Errorf("ParseLayout(%q) = %v, %v", name, got, err)
		}
		if got.String() != want.String() || len(got.String()) != 3 {
			t.Errorf("String() = %q", got.String())
		}
	}
	if _, err := ParseLayout("ymd"); err == nil || err.Error() != `unknown date layout "ymd" (use iso, dmy or mdy)` {
		t.Errorf("ParseLayout(ymd) error %v", err)
	}
	if LayoutUnknown.String() != "unknown" {
		t.Error(LayoutUnknown.String())
	}
}

func TestDateDetector(t *testing.T) {
	type v struct {
		s    string
		line int
	}
	tests := []struct {
		name   string
		values []v
		want   Decision
		err    string
	}{
		{
			name:   "day above 12 first decides day-first",
			values: []v{{"03/04/2024", 2}, {"", 3}, {"garbage", 4}, {"25/04/2024 10:00", 5}, {"26/04/2024", 6}, {"01/02/2024", 7}},
			want:   Decision{Layout: LayoutDMY, Reason: `day-first: "25/04/2024 10:00" (line 5) can only be read with the day first`},
		},
		{
			name:   "day above 12 second decides month-first",
			values: []v{{"03-04-2024", 2}, {" 4-25-2024 ", 9}},
			want:   Decision{Layout: LayoutMDY, Reason: `month-first: "4-25-2024" (line 9) can only be read with the month first`},
		},
		{
			name:   "conflict",
			values: []v{{"25/04/2024", 2}, {"04/25/2024", 3}, {"26/04/2024", 4}},
			want:   Decision{Layout: LayoutUnknown, Reason: `conflicting date formats in one column: "25/04/2024" (line 2) is day-first but "04/25/2024" (line 3) is month-first`},
			err:    `conflicting date formats in one column: "25/04/2024" (line 2) is day-first but "04/25/2024" (line 3) is month-first`,
		},
		{
			name:   "undecided slashes assume month-first",
			values: []v{{"03/04/2024", 2}, {"05/06/2024", 3}, {"2024-01-31", 4}},
			want:   Decision{Layout: LayoutMDY, Assumed: true, Reason: "assumed month-first (M/D/YYYY): no value has a day above 12, and dates written with '/' are usually month-first"},
		},
		{
			name:   "undecided dashes assume day-first",
			values: []v{{"03-04-2024", 2}, {"05-06-2024", 3}},
			want:   Decision{Layout: LayoutDMY, Assumed: true, Reason: "assumed day-first (DD-MM-YYYY): no value has a day above 12, and dates written with '-' are usually day-first"},
		},
		{
			name:   "undecided dots assume day-first",
			values: []v{{"03.04.2024", 2}},
			want:   Decision{Layout: LayoutDMY, Assumed: true, Reason: "assumed day-first (DD.MM.YYYY): no value has a day above 12, and dates written with '.' are usually day-first"},
		},
		{
			name:   "mixed separators: majority",
			values: []v{{"03-04-2024", 2}, {"03/04/2024", 3}, {"03/05/2024", 4}},
			want:   Decision{Layout: LayoutMDY, Assumed: true, Reason: "assumed month-first (M/D/YYYY): no value has a day above 12, and dates written with '/' are usually month-first"},
		},
		{
			name:   "mixed separators: tie goes to the first",
			values: []v{{"03-04-2024", 2}, {"03/04/2024", 3}},
			want:   Decision{Layout: LayoutDMY, Assumed: true, Reason: "assumed day-first (DD-MM-YYYY): no value has a day above 12, and dates written with '-' are usually day-first"},
		},
		{
			name:   "ISO only",
			values: []v{{"2024-01-31", 2}, {"2024-02-01T10:00:00Z", 3}},
			want:   Decision{Layout: LayoutISO, Reason: "all dates are year-first (YYYY-MM-DD)"},
		},
		{
			name:   "empty column",
			values: []v{{"", 2}, {"n/a", 3}},
			want:   Decision{Layout: LayoutISO, Assumed: true, Reason: "no date values to decide from"},
		},
		{
			name:   "impossible values do not decide",
			values: []v{{"13/13/2024", 2}, {"32/01/2024", 3}, {"00/13/2024", 4}, {"03/04/2024", 5}},
			want:   Decision{Layout: LayoutMDY, Assumed: true, Reason: "assumed month-first (M/D/YYYY): no value has a day above 12, and dates written with '/' are usually month-first"},
		},
		{
			name:   "no line numbers",
			values: []v{{"13/01/2024", 0}},
			want:   Decision{Layout: LayoutDMY, Reason: `day-first: "13/01/2024" can only be read with the day first`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d DateDetector
			for _, x := range tc.values {
				d.Add(x.s, x.line)
			}
			got, err := d.Decide()
			if got != tc.want {
				t.Errorf("decision %+v\nwant     %+v", got, tc.want)
			}
			if tc.err == "" {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
			} else if err == nil || err.Error() != tc.err || !errors.Is(err, ErrDateConflict) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestDateDetectorAllocs(t *testing.T) {
	var d DateDetector
	if n := testing.AllocsPerRun(100, func() {
		d.Add("01/02/2024", 4)
		d.Add("2024-01-02T10:00:00Z", 5)
		d.Add("junk", 6)
	}); n != 0 {
		t.Errorf("Add allocates %v times for values that do not decide", n)
	}
}
