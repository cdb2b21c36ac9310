package csvin

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

const benchRows = 100_000

var stages = []string{"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"}

// contactExport builds a HubSpot-like contact export: 8 columns, CRLF, some
// quoted fields (company names with commas, one with a doubled quote).
func contactExport(rows int) []byte {
	var b bytes.Buffer
	b.Grow(rows * 110)
	b.WriteString("First Name,Last Name,Email,Company,Phone Number,Lifecycle Stage,Create Date,Amount\r\n")
	for i := range rows {
		company := fmt.Sprintf("Company %d", i%977)
		switch i % 10 {
		case 3:
			company = fmt.Sprintf(`"Acme %d, Inc."`, i%977)
		case 7:
			company = fmt.Sprintf(`"The ""Best"" %d"`, i%977)
		}
		fmt.Fprintf(&b, "First%d,Last%d,first.last%d@example%d.com,%s,+1 555 %07d,%s,%d/%d/20%02d %02d:%02d,\"%d,%03d.%02d\"\r\n",
			i, i, i, i%1000, company, i, stages[i%len(stages)],
			i%12+1, i%28+1, 10+i%15, i%24, i%60, i%90, i%1000, i%100)
	}
	return b.Bytes()
}

func BenchmarkReadRows(b *testing.B) {
	data := contactExport(benchRows)
	b.Run("raw", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		iters := 0
		for b.Loop() {
			iters++
			r, err := Open(bytes.NewReader(data), Options{})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				row, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += len(row.Fields)
			}
			if n != benchRows*8 {
				b.Fatalf("read %d fields", n)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters*benchRows), "ns/row")
	})
	// typed also converts every cell: the cost of this package in the
	// import pipeline.
	b.Run("typed", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		stage := NewEnum("lifecycle stage", stages, nil)
		iters := 0
		var sink int64
		for b.Loop() {
			iters++
			r, err := Open(bytes.NewReader(data), Options{})
			if err != nil {
				b.Fatal(err)
			}
			nf := r.NumberFormat()
			for {
				row, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				f := row.Fields
				email, err := NormalizeEmail(f[2])
				if err != nil {
					b.Fatal(row.FieldError(2, err))
				}
				st, err := stage.Match(f[5])
				if err != nil {
					b.Fatal(row.FieldError(5, err))
				}
				ts, err := ParseDate(f[6], LayoutMDY)
				if err != nil {
					b.Fatal(row.FieldError(6, err))
				}
				amt, _, err := nf.ParseMoney(f[7])
				if err != nil {
					b.Fatal(row.FieldError(7, err))
				}
				sink += int64(len(email)+len(st)) + ts.Unix() + amt
			}
		}
		_ = sink
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters*benchRows), "ns/row")
	})
}

var dateSink time.Time

func BenchmarkParseDate(b *testing.B) {
	for _, c := range []struct {
		name, in string
		layout   DateLayout
	}{
		{"iso-date", "2024-03-05", LayoutISO},
		{"iso-ts", "2024-03-05T10:20:30.123+02:00", LayoutISO},
		{"mdy", "3/15/2024", LayoutMDY},
		{"dmy-time", "15-03-2024 10:20", LayoutDMY},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := ParseDate(c.in, c.layout)
				if err != nil {
					b.Fatal(err)
				}
				dateSink = t
			}
		})
	}
}

var moneySink int64

func BenchmarkParseMoney(b *testing.B) {
	for _, c := range []struct {
		name, in string
		nf       NumberFormat
	}{
		{"plain", "1200.50", NumberFormat{'.'}},
		{"us", "$1,234,567.89", NumberFormat{'.'}},
		{"eu", "1.234.567,89 €", NumberFormat{','}},
		{"parens", "(EUR 1 200.00)", NumberFormat{'.'}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, _, err := c.nf.ParseMoney(c.in)
				if err != nil {
					b.Fatal(err)
				}
				moneySink = v
			}
		})
	}
}

var strSink string

func BenchmarkValues(b *testing.B) {
	stage := NewEnum("stage", stages, map[string]string{"MQL": "marketingqualifiedlead"})
	for _, c := range []struct {
		name string
		f    func() (string, error)
	}{
		{"email", func() (string, error) { return NormalizeEmail("first.last123@example45.com") }},
		{"email-upper", func() (string, error) { return NormalizeEmail("First.Last123@Example45.com") }},
		{"email-display", func() (string, error) { return NormalizeEmail("First Last <first.last@example.com>") }},
		{"domain", func() (string, error) { return NormalizeDomain("https://www.Acme.com/about") }},
		{"enum", func() (string, error) { return stage.Match("Sales Qualified Lead") }},
		{"matchenum", func() (string, error) { return MatchEnum("Sales Qualified Lead", stages, nil) }},
		{"bool", func() (string, error) { _, _, err := ParseBool("TRUE"); return "", err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := c.f()
				if err != nil {
					b.Fatal(err)
				}
				strSink = s
			}
		})
	}
}
