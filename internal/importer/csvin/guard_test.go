package csvin

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// readAll opens in with lim and reads every record, returning the first
// terminal error (nil at a clean end).
func readAll(in io.Reader, lim Limits) (int, error) {
	r, err := Open(in, Options{Limits: lim})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return n, nil
		case errors.As(err, &re):
		case err != nil:
			return n, err
		}
		n++
	}
}

func TestGuardLimits(t *testing.T) {
	lim := Limits{MaxFieldBytes: 10, MaxColumns: 3, MaxRecordBytes: 30}
	for _, c := range []struct {
		name, in  string
		line, col int
		limit     string
	}{
		{"unquoted field", "a,b\nshort,0123456789X\n", 2, 7, "field"},
		{"quoted field over lines", "a,b\n1,\"01234\n56789X\"\n", 2, 3, "field"},
		{"header columns", "a,b,c,d\n", 1, 7, "columns"},
		{"row columns", "a,b,c\n1,2,3\n1,2,3,4\n", 3, 7, "columns"},
		{"empty extra column", "a,b,c\n1,2,3,\n", 2, 7, "columns"},
		{"record", "a,b,c\nx,y,z\n\"12345\n789\",\"123456789\",\"123456789\"\n", 3, 1, "record"},
		{"BOM", "\ufeffa,b,c,d\n", 1, 7, "columns"},
		{"semicolons sniffed", "a;b;c;d\n", 1, 7, "columns"},
	} {
		_, err := readAll(strings.NewReader(c.in), lim)
		var fe *FatalError
		var le *LimitError
		if !errors.As(err, &fe) || !errors.As(err, &le) || fe.Line != c.line || fe.Col != c.col || le.Limit != c.limit {
			t.Errorf("%s: got %v, want %s at line %d:%d", c.name, err, c.limit, c.line, c.col)
		}
	}
	// Within the limits: quoted delimiters, "" escapes, line breaks in quotes, CRLF.
	ok := "\ufeff\"a\nb\",b,c\r\n\"x,\"\"y\",2,3\r\n\"1\n2\n3\",,\r\n"
	if n, err := readAll(strings.NewReader(ok), lim); err != nil || n != 2 {
		t.Fatalf("valid file: %d rows, %v", n, err)
	}
}

// A stray quote makes encoding/csv drop the rest of its line and go on; the
// guard must not take the rest of the file for one open quoted field.
func TestGuardAfterBareQuote(t *testing.T) {
	in := "a,b\nx\"y,1\n" + strings.Repeat("plain,row\n", 1000) + "q,\"quoted\"x\n" + strings.Repeat("plain,row\n", 1000)
	n, err := readAll(strings.NewReader(in), Limits{MaxFieldBytes: 100, MaxColumns: 5, MaxRecordBytes: 200})
	if err != nil || n != 2002 {
		t.Fatalf("%d rows, %v", n, err)
	}
}

// endless is an unbounded stream: a quote, then field bytes forever.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.started {
		e.started = true
		return copy(p, "a,b\n1,\""), nil
	}
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// Never out of memory: an endless quoted field stops at the default field
// limit with a few MiB allocated, not gigabytes.
func TestGuardBoundsMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readAll(&endless{}, Limits{})
	runtime.ReadMemStats(&after)
	var le *LimitError
	if !errors.As(err, &le) || le.Line != 2 || le.Col != 3 || le.Limit != "field" {
		t.Fatalf("endless field: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("allocated %d MiB reading to the limit", grew>>20)
	}
}

// BenchmarkGuard is the guard alone over a typical export.
func BenchmarkGuard(b *testing.B) {
	row := "ann@example.com,Ann,\"Smith, Jr.\",Acme Inc,\"a note with \"\"quotes\"\"\",2024-03-01,1234.50\n"
	data := strings.Repeat(row, 100000)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := io.Copy(io.Discard, NewGuard(strings.NewReader(data), 0, Limits{})); err != nil {
			b.Fatal(err)
		}
	}
}
