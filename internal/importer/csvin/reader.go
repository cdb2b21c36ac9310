package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sniffWindow is how many bytes Open looks at to find the header line when
// sniffing the delimiter. It is also the size of the read buffer.
const sniffWindow = 64 << 10

// Options configure Open.
type Options struct {
	// Delimiter forces the field delimiter. Zero means sniff it from the
	// header line: the most frequent of ',', ';' and '\t' outside quotes
	// (',' when none occurs; ties go to ',', then ';').
	Delimiter rune
	// Limits bound one record (zero fields: DefaultLimits); past one, Next
	// returns a *FatalError at its line:column.
	Limits Limits
}

// Reader streams the records of one CSV file. It is not safe for concurrent
// use.
type Reader struct {
	cr         *csv.Reader
	br         *bufio.Reader
	tail       *tailTracker
	header     []string
	headerLine int
	delim      rune
	rows       int
	gen        uint64
	err        error // sticky terminal error
}

// Row is one record. Row, Fields and the strings' backing storage are owned
// by the Reader and valid only until the next call to Next; copy what you
// keep.
type Row struct {
	// Line is the 1-based physical line on which the record starts. The
	// header is normally line 1 (blank lines before it are skipped).
	Line int
	// Fields are the raw field values, unquoted but otherwise untouched
	// (not trimmed).
	Fields []string

	r   *Reader
	gen uint64
}

// RowError describes a problem with one record or one field. When Next
// returns a *RowError the caller may report it and call Next again.
type RowError struct {
	Line   int    // 1-based physical line of the problem
	Col    int    // 1-based byte column (csv.Reader.FieldPos semantics); 0 if unknown
	Column string // header name of the field concerned; "" if not tied to one column
	Reason string // short, user-facing
	Err    error  // underlying error, if any (e.g. csv.ErrBareQuote)
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.Grow(24 + len(e.Column) + len(e.Reason))
	fmt.Fprintf(&b, "line %d", e.Line)
	if e.Col > 0 {
		fmt.Fprintf(&b, ":%d", e.Col)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, " (%s)", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// FatalError is a syntax problem after which the rest of the file cannot be
// read, such as a quoted field that is never closed. Next keeps returning it.
type FatalError struct {
	Line   int // 1-based line where reading stopped
	Col    int // 1-based byte column where reading stopped
	Reason string
	Err    error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Reason)
}

func (e *FatalError) Unwrap() error { return e.Err }

// HeaderError reports an unusable header row.
type HeaderError struct {
	Column int    // 1-based column number of the offending header cell
	Name   string // the trimmed header name (may be empty)
	Reason string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("header column %d: %s", e.Column, e.Reason)
}

var errNoHeader = errors.New("the file is empty: no header row")

// Open prepares r for streaming. It strips a UTF-8 byte-order mark, sniffs the
// delimiter from the header line unless opts.Delimiter is set, and reads and
// validates the header: names are trimmed and must be non-empty and unique
// (compared case-insensitively). Columns are counted in bytes after the BOM.
func Open(r io.Reader, opts Options) (*Reader, error) {
	tail := &tailTracker{r: NewGuard(r, opts.Delimiter, opts.Limits)}
	br := bufio.NewReaderSize(tail, sniffWindow)

	head, err := br.Peek(3)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, readingFile(err)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
		tail.bom = 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, errors.New("the file is UTF-16 encoded; export or save it as CSV UTF-8")
	}

	delim := opts.Delimiter
	if delim == 0 {
		buf, err := br.Peek(sniffWindow)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, readingFile(err)
		}
		delim = sniffDelimiter(buf)
	} else if !validDelim(delim) {
		return nil, fmt.Errorf("invalid delimiter %q", delim)
	}

	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	rd := &Reader{cr: cr, br: br, tail: tail, delim: delim}
	rec, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, errNoHeader
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("header: %w", rd.syntaxError(pe))
		}
		var le *LimitError
		if errors.As(err, &le) {
			return nil, &FatalError{Line: le.Line, Col: le.Col, Reason: le.Reason, Err: le}
		}
		return nil, fmt.Errorf("reading header: %w", err)
	}
	rd.headerLine, _ = cr.FieldPos(0)
	rd.header = make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, f := range rec {
		name := strings.TrimFunc(f, isHeaderSpace)
		if name == "" {
			return nil, &HeaderError{Column: i + 1, Reason: "the column name is empty"}
		}
		key := strings.ToLower(name)
		if j, dup := seen[key]; dup {
			return nil, &HeaderError{Column: i + 1, Name: name,
				Reason: fmt.Sprintf("%s duplicates column %d", quoteValue(name), j+1)}
		}
		seen[key] = i
		rd.header[i] = name
	}
	return rd, nil
}

// readingFile reports an error met while peeking at the start of the file:
// a passed limit as a *FatalError at its position.
func readingFile(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return &FatalError{Line: le.Line, Col: le.Col, Reason: le.Reason, Err: le}
	}
	return fmt.Errorf("reading file: %w", err)
}

func isHeaderSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

func validDelim(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// sniffDelimiter counts ',', ';' and '\t' outside double quotes on the first
// line (a line ends at a newline outside quotes).
func sniffDelimiter(b []byte) rune {
	var comma, semi, tab int
	inQuote := false
scan:
	for _, c := range b {
		switch c {
		case '"':
			inQuote = !inQuote // a doubled quote toggles twice
		case '\n':
			if !inQuote {
				break scan
			}
		case ',':
			if !inQuote {
				comma++
			}
		case ';':
			if !inQuote {
				semi++
			}
		case '\t':
			if !inQuote {
				tab++
			}
		}
	}
	switch {
	case semi > comma && semi >= tab:
		return ';'
	case tab > comma && tab > semi:
		return '\t'
	}
	return ','
}

// Header returns the trimmed header names. The slice must not be modified.
func (r *Reader) Header() []string { return r.header }

// HeaderLine is the 1-based line of the header row.
func (r *Reader) HeaderLine() int { return r.headerLine }

// Delimiter returns the delimiter in use (sniffed or forced).
func (r *Reader) Delimiter() rune { return r.delim }

// NumberFormat returns the number convention implied by the delimiter:
// ';' files use ',' as decimal separator, others '.'.
func (r *Reader) NumberFormat() NumberFormat { return NumberFormatFor(r.delim) }

// Rows returns the number of records read so far after the header,
// including records for which Next returned a *RowError.
func (r *Reader) Rows() int { return r.rows }

// Next returns the next record. At the end of the file it returns io.EOF.
//
// A *RowError means this record is bad (wrong number of fields, or a CSV
// syntax error such as a bare quote, after which encoding/csv resumes at the
// next line); the returned Row carries whatever fields were read and the
// caller may continue with Next. Any other error is terminal and returned
// again by later calls: io.EOF, a *FatalError (e.g. a quoted field never
// closed before the end of the file) or an I/O error.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	r.gen++
	rec, err := r.cr.Read()
	if err != nil {
		return r.readError(rec, err)
	}
	r.rows++
	line, _ := r.cr.FieldPos(0)
	row := Row{Line: line, Fields: rec, r: r, gen: r.gen}
	if len(rec) != len(r.header) {
		return row, r.fieldCountError(row)
	}
	for i, f := range rec {
		if why := badText(f); why != "" {
			e := &RowError{Column: r.header[i], Reason: why}
			e.Line, e.Col = r.cr.FieldPos(i)
			return row, e
		}
	}
	return row, nil
}

// badText refuses a value no store can hold as text: PostgreSQL rejects NUL
// and invalid UTF-8 (a file saved in another encoding), so the row is
// rejected naming the cell rather than failing its whole batch.
func badText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL byte"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 (save the file as CSV UTF-8)"
	}
	return ""
}

func (r *Reader) fieldCountError(row Row) *RowError {
	n, want := len(row.Fields), len(r.header)
	e := &RowError{Reason: fmt.Sprintf("the row has %d fields but the header has %d", n, want)}
	if n > want {
		// Point at the first field without a column.
		e.Line, e.Col = r.cr.FieldPos(want)
	} else {
		// Point at the last field present: the row ends too early there
		// (typically an unquoted line break inside that value).
		e.Line, e.Col = r.cr.FieldPos(n - 1)
		e.Column = r.header[n-1]
	}
	return e
}

func (r *Reader) readError(rec []string, err error) (Row, error) {
	if err == io.EOF {
		r.err = io.EOF
		return Row{}, io.EOF
	}
	var pe *csv.ParseError
	var le *LimitError
	if errors.As(err, &le) {
		r.err = &FatalError{Line: le.Line, Col: le.Col, Reason: le.Reason, Err: le}
		return Row{}, r.err
	}
	if !errors.As(err, &pe) {
		r.err = fmt.Errorf("reading the file: %w", err)
		return Row{}, r.err
	}
	if pe.Err != csv.ErrBareQuote && pe.Err != csv.ErrQuote {
		r.err = &FatalError{Line: pe.Line, Col: pe.Column, Reason: pe.Err.Error(), Err: pe}
		return Row{}, r.err
	}
	se := r.syntaxError(pe)
	if fe, ok := se.(*FatalError); ok {
		r.err = fe
		return Row{}, fe
	}
	r.rows++
	row := Row{Line: pe.StartLine, Fields: rec, r: r, gen: r.gen}
	return row, se
}

// syntaxError converts a csv.ParseError into a *RowError, or a *FatalError
// when the parser ran off the end of the file inside a quoted field.
func (r *Reader) syntaxError(pe *csv.ParseError) error {
	if pe.Err == csv.ErrQuote && r.atEOF() && pe.Column == r.tail.lastLineLen()+1 {
		return &FatalError{Line: pe.Line, Col: pe.Column, Err: pe.Err,
			Reason: fmt.Sprintf("a quoted field in the record starting on line %d is never closed (reached the end of the file)", pe.StartLine)}
	}
	e := &RowError{Line: pe.Line, Col: pe.Column, Err: pe.Err}
	switch pe.Err {
	case csv.ErrBareQuote:
		e.Reason = `unexpected " in an unquoted field (quote the whole field and double the inner quote: "")`
	case csv.ErrQuote:
		e.Reason = `unexpected " after the end of a quoted field (double a quote inside a quoted field: "")`
	default:
		e.Reason = pe.Err.Error()
	}
	if pe.StartLine != pe.Line {
		e.Reason += fmt.Sprintf("; the record starts on line %d", pe.StartLine)
	}
	return e
}

func (r *Reader) atEOF() bool {
	_, err := r.br.Peek(1)
	return err == io.EOF
}

// Len returns the number of fields.
func (w Row) Len() int { return len(w.Fields) }

// Pos returns the 1-based line and byte column where field i starts (the
// opening quote for quoted fields), as csv.Reader.FieldPos. It panics if the
// Row is used after the next call to Next or i is out of range.
func (w Row) Pos(i int) (line, col int) {
	if w.r == nil || w.gen != w.r.gen {
		panic("csvin: Row.Pos called on a stale Row (after the next call to Next)")
	}
	return w.r.cr.FieldPos(i)
}

// Col returns the 1-based byte column where field i starts; see Pos.
func (w Row) Col(i int) int {
	_, c := w.Pos(i)
	return c
}

// Column returns the header name of field i, or "" if the row has more
// fields than the header.
func (w Row) Column(i int) string {
	if w.r == nil || i < 0 || i >= len(w.r.header) {
		return ""
	}
	return w.r.header[i]
}

// FieldError builds a *RowError positioned at field i, with err's message as
// the reason. Use it to report value errors from the parsers in this package.
func (w Row) FieldError(i int, err error) *RowError {
	line, col := w.Pos(i)
	return &RowError{Line: line, Col: col, Column: w.Column(i), Reason: err.Error(), Err: err}
}

// tailTracker sits under the bufio.Reader and remembers the length of the
// last line of the input, so that an encoding/csv ErrQuote at the end of the
// file can be told apart from "quote never closed" (whose reported column is
// one past the end of the last line).
type tailTracker struct {
	r        io.Reader
	cur      int  // bytes after the last '\n'
	prev     int  // length of the last complete line, including '\n'
	prevCR   bool // that line ended in "\r\n"
	lines    int  // number of '\n' seen
	lastByte byte
	bom      int // bytes of BOM stripped from the first line
}

func (t *tailTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		b := p[:n]
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			if j := bytes.LastIndexByte(b[:i], '\n'); j >= 0 {
				t.prev = i - j
				t.lines += 2 // at least two; only "is it the first line" matters
			} else {
				t.prev = t.cur + i + 1
				t.lines++
			}
			if i > 0 {
				t.prevCR = b[i-1] == '\r'
			} else {
				t.prevCR = t.lastByte == '\r'
			}
			t.cur = n - i - 1
		} else {
			t.cur += n
		}
		t.lastByte = b[n-1]
	}
	return n, err
}

// lastLineLen is the length encoding/csv sees for the last non-empty line:
// CRLF counts as one byte, a trailing CR before EOF is dropped, a BOM is not
// counted.
func (t *tailTracker) lastLineLen() int {
	n := t.prev
	if t.cur > 0 {
		n = t.cur
		if t.lastByte == '\r' {
			n--
		}
		if t.lines == 0 {
			n -= t.bom
		}
		return n
	}
	if t.prevCR {
		n--
	}
	if t.lines == 1 {
		n -= t.bom
	}
	return n
}
