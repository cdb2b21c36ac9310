package csvin

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

func FuzzOpen(f *testing.F) {
	f.Add([]byte(messyFixture), uint8(0))
	f.Add([]byte("a,b\n1,\"x\ny\"z\n2,3\n"), uint8(0))
	f.Add([]byte("a,b\r\n3,\"open\r\n\r\n"), uint8(1))
	f.Add([]byte("\xEF\xBB\xBF\"a,b"), uint8(2))
	f.Add([]byte("a;b\n1;2;3\n\n4\n"), uint8(3))
	f.Add([]byte("name,note\nBob,5'10\" tall\nAnn,ok\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		opts := Options{Delimiter: []rune{0, ',', ';', '\t'}[d%4]}
		r, err := Open(bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		if r.HeaderLine() < 1 || len(r.Header()) == 0 {
			t.Fatalf("header line %d, header %q", r.HeaderLine(), r.Header())
		}
		nf := r.NumberFormat()
		var det DateDetector
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatal("Next does not reach the end")
			}
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RowError
			if err != nil && !errors.As(err, &re) {
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("terminal error not sticky: %v, then %v", err, err2)
				}
				break
			}
			if re != nil && (re.Line < r.HeaderLine() || re.Col < 0) {
				t.Fatalf("bad row error position: %v", re)
			}
			if row.Line <= r.HeaderLine() {
				t.Fatalf("row line %d not after header line %d", row.Line, r.HeaderLine())
			}
			pl, pc := row.Line, 0
			for i, v := range row.Fields {
				l, c := row.Pos(i)
				if l < pl || (l == pl && c <= pc) || c < 1 {
					t.Fatalf("field %d at %d:%d after %d:%d", i, l, c, pl, pc)
				}
				pl, pc = l, c
				det.Add(v, l)
				ParseDate(v, LayoutUnknown)
				ParseBool(v)
				nf.ParseMoney(v)
				NormalizeEmail(v)
				NormalizeDomain(v)
				MatchEnum(v, r.Header(), nil)
				_ = row.FieldError(i, errors.New("x")).Error()
			}
		}
		det.Decide()
	})
}

// FuzzNormalizeEmail checks that the fast path and the net/mail path agree.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"bob@example.com", "Bob <b@x.com>", "a.b+c@x-y.co", "a..b@x.com", "a@b", "!#@x.y", "a@1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		s = strings.TrimSpace(s)
		if ok, _ := fastEmail(s); ok {
			want, werr := slowEmail(s)
			if err != nil || werr != nil || got != want {
				t.Fatalf("%q: fast %q, %v; net/mail %q, %v", s, got, err, want, werr)
			}
		}
		if err == nil && got != "" {
			again, err := NormalizeEmail(got)
			if err != nil || again != got {
				t.Fatalf("%q normalises to %q, which normalises to %q, %v", s, got, again, err)
			}
		}
	})
}

// FuzzParseDate checks ISO values against time.Parse and that accepted
// values round-trip.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-03-05", "2024-03-05T10:20:30.5+02:00", "3/5/2024 2:07 PM", "31-12-2024 23:59", "2024-02-29T00:00:00Z"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, l uint8) {
		layout := DateLayout(l % 4)
		got, err := ParseDate(s, layout)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
		if strings.TrimSpace(s) == "" {
			return
		}
		// time.Parse agrees on every RFC 3339 value it accepts.
		if want, err := time.Parse(time.RFC3339Nano, s); err == nil && !want.Equal(got) {
			t.Fatalf("%q: got %v, time.Parse %v", s, got, want)
		}
		if got.Year() < 1 { // a zone offset moved it before year 1
			return
		}
		back, err := ParseDate(got.Format("2006-01-02T15:04:05.999999999Z07:00"), LayoutISO)
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q: %v does not round-trip: %v, %v", s, got, back, err)
		}
	})
}

// FuzzParseMoney checks that accepted amounts round-trip through a plain
// rendering.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"$1,200.50", "1.200,50 €", "(1 200)", "-0.07", "1'234'567.8", "EUR 12"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, comma bool) {
		nf := dotFile
		if comma {
			nf = commaFile
		}
		v, ok, err := nf.ParseMoney(s)
		if err != nil || !ok {
			return
		}
		neg := v < 0
		u := uint64(v)
		if neg {
			u = uint64(-v)
		}
		plain := strconv.FormatUint(u/100, 10) + "." + strconv.FormatUint(100+u%100, 10)[1:]
		if neg {
			plain = "-" + plain
		}
		back, _, err := dotFile.ParseMoney(plain)
		if err != nil || back != v {
			t.Fatalf("%q = %d; %q = %d, %v", s, v, plain, back, err)
		}
	})
}
