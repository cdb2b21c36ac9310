package csvin

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readers wraps the input in differently chunked readers, so that the
// BOM/sniff peeking and the end-of-file tracking are exercised across
// chunk boundaries.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"onebyte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"dataerr", iotest.DataErrReader},
}

// transcript reads the whole input and describes every row and error, with
// the position of every field.
func transcript(t *testing.T, r io.Reader, opts Options) []string {
	t.Helper()
	rd, err := Open(r, opts)
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	var out []string
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("Next does not stop")
		}
		row, err := rd.Next()
		if err == io.EOF {
			out = append(out, "EOF")
			break
		}
		var fe *FatalError
		if errors.As(err, &fe) {
			out = append(out, "fatal: "+err.Error())
			if _, err2 := rd.Next(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			break
		}
		var re *RowError
		if err != nil && !errors.As(err, &re) {
			out = append(out, "error: "+err.Error())
			break
		}
		var b strings.Builder
		fmt.Fprintf(&b, "L%d", row.Line)
		for i, f := range row.Fields {
			l, c := row.Pos(i)
			if l == row.Line {
				fmt.Fprintf(&b, " %d=%q", c, f)
			} else {
				fmt.Fprintf(&b, " %d:%d=%q", l, c, f)
			}
		}
		out = append(out, b.String())
		if err != nil {
			out = append(out, "row error: "+err.Error())
		}
	}
	return out
}

func TestReaderTranscripts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []string
	}{
		{
			name: "plain LF",
			in:   "a,b,c\n1,2,3\nx,,z\n",
			want: []string{`L2 1="1" 3="2" 5="3"`, `L3 1="x" 3="" 4="z"`, "EOF"},
		},
		{
			name: "CRLF, no final newline, blank lines skipped",
			in:   "a,b\r\n\r\n1,2\r\n\r\n\r\n3,4",
			want: []string{`L3 1="1" 3="2"`, `L6 1="3" 3="4"`, "EOF"},
		},
		{
			name: "quoted fields: embedded delimiter, doubled quote, CRLF newline",
			in:   "a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nq,\"\",r\r\n",
			want: []string{`L2 1="x,y" 7="say \"hi\"" 20="two\nlines"`, `L4 1="q" 3="" 6="r"`, "EOF"},
		},
		{
			name: "field positions after a multi-line field",
			in:   "a;b;c\n\"one\ntwo\nthree\";xx;\"yy\"\n",
			want: []string{`L2 1="one\ntwo\nthree" 4:8="xx" 4:11="yy"`, "EOF"},
		},
		{
			name: "header only",
			in:   "a,b\n",
			want: []string{"EOF"},
		},
		{
			name: "ragged rows are row errors and reading continues",
			in:   "a,b,c\n1,2\n1,2,3,4,5\n7,8,9\n",
			want: []string{
				`L2 1="1" 3="2"`,
				"row error: line 2:3 (b): the row has 2 fields but the header has 3",
				`L3 1="1" 3="2" 5="3" 7="4" 9="5"`,
				"row error: line 3:7: the row has 5 fields but the header has 3",
				`L4 1="7" 3="8" 5="9"`,
				"EOF",
			},
		},
		{
			name: "bare quote is a row error, next line continues",
			in:   "name,note\nBob,5'10\" tall\nAnn,ok\n",
			want: []string{
				`L2 1="Bob"`,
				`row error: line 2:9: unexpected " in an unquoted field (quote the whole field and double the inner quote: "")`,
				`L3 1="Ann" 5="ok"`,
				"EOF",
			},
		},
		{
			name: "text after closing quote is a row error",
			in:   "a,b\n1,\"x\"y\n2,3\n",
			want: []string{
				`L2 1="1"`,
				`row error: line 2:5: unexpected " after the end of a quoted field (double a quote inside a quoted field: "")`,
				`L3 1="2" 3="3"`,
				"EOF",
			},
		},
		{
			name: "bad quote on a later line of a multi-line record",
			in:   "a,b\n1,\"x\ny\"z\n2,3\n",
			want: []string{
				`L2 1="1"`,
				`row error: line 3:2: unexpected " after the end of a quoted field (double a quote inside a quoted field: ""); the record starts on line 2`,
				`L4 1="2" 3="3"`,
				"EOF",
			},
		},
		{
			name: "bad quote on the last line without newline is not fatal",
			in:   "a,b\n1,\"x\"y",
			want: []string{
				`L2 1="1"`,
				`row error: line 2:5: unexpected " after the end of a quoted field (double a quote inside a quoted field: "")`,
				"EOF",
			},
		},
		{
			name: "unclosed quote at EOF with newline is fatal",
			in:   "a,b\n1,2\n3,\"open\n4,5\n",
			want: []string{
				`L2 1="1" 3="2"`,
				"fatal: line 4:5: a quoted field in the record starting on line 3 is never closed (reached the end of the file)",
			},
		},
		{
			name: "unclosed quote at EOF without newline is fatal",
			in:   "a,b\r\n1,2\r\n3,\"open",
			want: []string{
				`L2 1="1" 3="2"`,
				"fatal: line 3:8: a quoted field in the record starting on line 3 is never closed (reached the end of the file)",
			},
		},
		{
			name: "unclosed quote at EOF ending in blank lines",
			in:   "a,b\r\n3,\"open\r\n\r\n\r\n",
			want: []string{
				"fatal: line 4:2: a quoted field in the record starting on line 2 is never closed (reached the end of the file)",
			},
		},
		{
			name: "sniffed semicolon with comma decimals",
			in:   "name;amount\nx;1,5\n",
			want: []string{`L2 1="x" 3="1,5"`, "EOF"},
		},
		{
			name: "forced delimiter",
			in:   "a;b,c\n1;2,3\n",
			opts: Options{Delimiter: ';'},
			want: []string{`L2 1="1" 3="2,3"`, "EOF"},
		},
		{
			name: "tab delimited",
			in:   "a\tb\n1\t2\n",
			want: []string{`L2 1="1" 3="2"`, "EOF"},
		},
	}
	for _, tc := range tests {
		for _, rw := range readers {
			t.Run(tc.name+"/"+rw.name, func(t *testing.T) {
				got := transcript(t, rw.wrap(strings.NewReader(tc.in)), tc.opts)
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			})
		}
	}
}

func TestFatalBOMSingleLine(t *testing.T) {
	// The BOM is not counted in columns, also for the end-of-file check.
	for _, in := range []string{"\xEF\xBB\xBF\"a,b", "\xEF\xBB\xBF\"a,b\n", "\xEF\xBB\xBF\"a,b\r\n"} {
		_, err := Open(strings.NewReader(in), Options{})
		var fe *FatalError
		if !errors.As(err, &fe) {
			t.Fatalf("%q: got %v, want a FatalError", in, err)
		}
		want := 5
		if strings.HasSuffix(in, "\n") {
			want = 6
		}
		if fe.Line != 1 || fe.Col != want {
			t.Errorf("%q: at %d:%d, want 1:%d", in, fe.Line, fe.Col, want)
		}
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		header string
		want   rune
	}{
		{"a,b,c\n1;2;3;4;5\n", ','},
		{"a;b;c\n1,2,3,4,5\n", ';'},
		{"a\tb\tc\n", '\t'},
		{"email\n", ','},
		{"email", ','},
		{`"x;y;z",b` + "\n", ','},               // quoted ';' do not count
		{`"a,b,c";d` + "\n", ';'},               // quoted ',' do not count
		{`"a ""q"" ,b";c;d` + "\n", ';'},        // doubled quotes keep state
		{"\"multi\nline,,,,\";b;c\nx,y\n", ';'}, // quoted newline does not end the header
		{"Name;Amount, EUR;Date\n", ';'},
		{"a,b;c\n", ','}, // tie: ','
		{"a;b\tc\n", ';'},
		{"\xEF\xBB\xBFa;b\r\n", ';'},
	}
	for _, tc := range tests {
		r, err := Open(strings.NewReader(tc.header), Options{})
		if err != nil {
			t.Errorf("%q: %v", tc.header, err)
			continue
		}
		if r.Delimiter() != tc.want {
			t.Errorf("%q: delimiter %q, want %q", tc.header, r.Delimiter(), tc.want)
		}
	}
}

func TestHeader(t *testing.T) {
	r, err := Open(strings.NewReader("\xEF\xBB\xBF  First Name ;\"Email\t\";\" Amount\"\r\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Header(), "|"); got != "First Name|Email|Amount" {
		t.Errorf("header %q", got)
	}
	if r.HeaderLine() != 1 || r.NumberFormat().Decimal != ',' {
		t.Errorf("header line %d, number format %+v", r.HeaderLine(), r.NumberFormat())
	}

	errs := []struct{ in, want string }{
		{"", "the file is empty: no header row"},
		{"\xEF\xBB\xBF", "the file is empty: no header row"},
		{"\n\n", "the file is empty: no header row"},
		{"a,b,,d\n", "header column 3: the column name is empty"},
		{"a,b, \t \n", "header column 3: the column name is empty"},
		{"Email,Name,email\n", `header column 3: "email" duplicates column 1`},
		{"a;b;a ;c\n", `header column 3: "a" duplicates column 1`},
		{"a,b\"c\n", `header: line 1:4: unexpected " in an unquoted field (quote the whole field and double the inner quote: "")`},
		{"\xFF\xFEa\x00", "the file is UTF-16 encoded; export or save it as CSV UTF-8"},
	}
	for _, tc := range errs {
		_, err := Open(strings.NewReader(tc.in), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got error %v, want %q", tc.in, err, tc.want)
		}
	}
	var he *HeaderError
	if _, err := Open(strings.NewReader("a,A\n"), Options{}); !errors.As(err, &he) || he.Column != 2 || he.Name != "A" {
		t.Errorf("duplicate: got %#v", err)
	}
	if _, err := Open(strings.NewReader("a,b\n"), Options{Delimiter: '"'}); err == nil {
		t.Error("quote accepted as delimiter")
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Open(iotest.ErrReader(boom), Options{})
	if !errors.Is(err, boom) {
		t.Errorf("open: %v", err)
	}
	// An I/O error mid-file is terminal and sticky.
	r, err := Open(io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotest.ErrReader(boom)), Options{Delimiter: ','})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	var re *RowError
	if !errors.Is(err1, boom) || errors.As(err1, &re) || err2 != err1 {
		t.Errorf("got %v then %v", err1, err2)
	}
}

func TestRowHelpers(t *testing.T) {
	r, err := Open(strings.NewReader("name,email\nBob,\"bob@x\"\nAnn,a@x.com,extra\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	_, verr := NormalizeEmail(row.Fields[1])
	fe := row.FieldError(1, verr)
	if got := fe.Error(); got != `line 2:5 (email): "bob@x" is not a valid email address (the domain has no dot)` {
		t.Errorf("field error %q", got)
	}
	if !errors.Is(fe, verr) || row.Len() != 2 || row.Col(1) != 5 || row.Column(1) != "email" {
		t.Errorf("row helpers: %v %d %d %q", errors.Unwrap(fe), row.Len(), row.Col(1), row.Column(1))
	}
	row2, err := r.Next()
	if err == nil || row2.Column(2) != "" || r.Rows() != 2 {
		t.Errorf("second row: %v %q rows=%d", err, row2.Column(2), r.Rows())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("stale Row.Pos did not panic")
			}
		}()
		row.Pos(0)
	}()
}

// messyFixture is a European Excel export: BOM, CRLF, ';', a quoted newline,
// three date columns with different conventions, comma decimals, one ragged
// row and one bad e-mail.
const messyFixture = "\xEF\xBB\xBFName;Email;Signup;Closed;Created;Amount\r\n" +
	"Alice;ALICE@Example.com;31-01-2024;01/31/2024;2024-01-05T10:00:00Z;\"1.200,50\"\r\n" +
	"\"Bob \"\"B\"\" Jones\";bob@example.com;05-02-2024;2/5/2024;2024-02-05;3,5\r\n" +
	"\"Carol\r\nSmith\";carol@example;15-03-2024;3/15/2024 10:20;2024-03-05 08:00:00;12\r\n" +
	"Dan;dan@example.com;01-04-2024\r\n" +
	"Eve;eve@example.com;02-05-2024;5/2/2024 4:05 PM;2024-05-02T09:30:00+02:00;\"1.000.000\"\r\n"

func TestMessyFixture(t *testing.T) {
	got := transcript(t, strings.NewReader(messyFixture), Options{})
	want := []string{
		`L2 1="Alice" 7="ALICE@Example.com" 25="31-01-2024" 36="01/31/2024" 47="2024-01-05T10:00:00Z" 68="1.200,50"`,
		`L3 1="Bob \"B\" Jones" 19="bob@example.com" 35="05-02-2024" 46="2/5/2024" 55="2024-02-05" 66="3,5"`,
		`L4 1="Carol\nSmith" 5:8="carol@example" 5:22="15-03-2024" 5:33="3/15/2024 10:20" 5:49="2024-03-05 08:00:00" 5:69="12"`,
		`L6 1="Dan" 5="dan@example.com" 21="01-04-2024"`,
		"row error: line 6:21 (Signup): the row has 3 fields but the header has 6",
		`L7 1="Eve" 5="eve@example.com" 21="02-05-2024" 32="5/2/2024 4:05 PM" 49="2024-05-02T09:30:00+02:00" 75="1.000.000"`,
		"EOF",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Pass 1: detect each date column's layout, streaming.
	r, err := Open(strings.NewReader(messyFixture), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Delimiter() != ';' {
		t.Fatalf("delimiter %q", r.Delimiter())
	}
	var det [3]DateDetector // Signup, Closed, Created
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue // the ragged row is reported in pass 2
		}
		for i := range det {
			det[i].Add(row.Fields[2+i], row.Line)
		}
	}
	var layouts [3]DateLayout
	wantDecisions := []Decision{
		{Layout: LayoutDMY, Reason: `day-first: "31-01-2024" (line 2) can only be read with the day first`},
		{Layout: LayoutMDY, Reason: `month-first: "01/31/2024" (line 2) can only be read with the month first`},
		{Layout: LayoutISO, Reason: "all dates are year-first (YYYY-MM-DD)"},
	}
	for i := range det {
		d, err := det[i].Decide()
		if err != nil || d != wantDecisions[i] {
			t.Errorf("column %d: decision %+v, %v; want %+v", 2+i, d, err, wantDecisions[i])
		}
		layouts[i] = d.Layout
	}

	// Pass 2: convert, collecting errors with positions.
	r, err = Open(strings.NewReader(messyFixture), Options{})
	if err != nil {
		t.Fatal(err)
	}
	nf := r.NumberFormat()
	var values, errs []string
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		email, err := NormalizeEmail(row.Fields[1])
		if err != nil {
			errs = append(errs, row.FieldError(1, err).Error())
		}
		var ds []string
		for i, l := range layouts {
			d, err := ParseDate(row.Fields[2+i], l)
			if err != nil {
				errs = append(errs, row.FieldError(2+i, err).Error())
			}
			ds = append(ds, d.Format(time.RFC3339))
		}
		amount, _, err := nf.ParseMoney(row.Fields[5])
		if err != nil {
			errs = append(errs, row.FieldError(5, err).Error())
		}
		values = append(values, fmt.Sprintf("%d %s %s %d", row.Line, email, strings.Join(ds, " "), amount))
	}
	wantValues := []string{
		"2 alice@example.com 2024-01-31T00:00:00Z 2024-01-31T00:00:00Z 2024-01-05T10:00:00Z 120050",
		"3 bob@example.com 2024-02-05T00:00:00Z 2024-02-05T00:00:00Z 2024-02-05T00:00:00Z 350",
		"4  2024-03-15T00:00:00Z 2024-03-15T10:20:00Z 2024-03-05T08:00:00Z 1200",
		"7 eve@example.com 2024-05-02T00:00:00Z 2024-05-02T16:05:00Z 2024-05-02T07:30:00Z 100000000",
	}
	wantErrs := []string{
		`line 5:8 (Email): "carol@example" is not a valid email address (the domain has no dot)`,
		"line 6:21 (Signup): the row has 3 fields but the header has 6",
	}
	if strings.Join(values, "\n") != strings.Join(wantValues, "\n") {
		t.Errorf("values:\n%s\nwant:\n%s", strings.Join(values, "\n"), strings.Join(wantValues, "\n"))
	}
	if strings.Join(errs, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(wantErrs, "\n"))
	}
	if r.Rows() != 5 {
		t.Errorf("rows %d, want 5", r.Rows())
	}
	if !errors.Is(&RowError{Err: csv.ErrBareQuote}, csv.ErrBareQuote) {
		t.Error("RowError does not unwrap")
	}
}

func TestQuotedThousandsInCommaFile(t *testing.T) {
	r, err := Open(strings.NewReader("name,amount,count\nAcme,\"1,200\",\"1,200\"\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	nf := r.NumberFormat()
	m, _, err1 := nf.ParseMoney(row.Fields[1])
	n, _, err2 := nf.ParseInt(row.Fields[2])
	if m != 120000 || n != 1200 || err1 != nil || err2 != nil {
		t.Errorf("money %d %v, int %d %v", m, err1, n, err2)
	}
}

func TestErrorFormatting(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&RowError{Line: 3, Reason: "r"}, "line 3: r"},
		{&RowError{Line: 3, Col: 4, Reason: "r"}, "line 3:4: r"},
		{&RowError{Line: 3, Col: 4, Column: "Email", Reason: "r"}, "line 3:4 (Email): r"},
		{&FatalError{Line: 9, Col: 2, Reason: "r"}, "line 9:2: r"},
		{&HeaderError{Column: 2, Reason: "r"}, "header column 2: r"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	r, err := Open(strings.NewReader("a\n\"x"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if !errors.Is(err, csv.ErrQuote) {
		t.Errorf("fatal error does not unwrap to csv.ErrQuote: %v", err)
	}
}
