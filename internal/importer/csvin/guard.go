package csvin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Limits bound one record of a file. encoding/csv keeps a whole record in
// memory (a quoted field may run over any number of lines), so without them
// one field of half a gigabyte, or a row of a million columns, would be read
// into memory whole. The guard enforces them on the bytes as they stream past,
// before the CSV parser buffers them.
type Limits struct {
	MaxFieldBytes  int // one field, unquoted (the longest CRM text field is 20,000 characters)
	MaxColumns     int // fields in one record, the header included
	MaxRecordBytes int // one record, line breaks inside quoted fields included
}

// DefaultLimits: generous for real exports (HubSpot and Salesforce exports
// run to a few hundred columns), small enough that a record never costs more
// than a few MiB of memory.
var DefaultLimits = Limits{MaxFieldBytes: 128 << 10, MaxColumns: 1000, MaxRecordBytes: 4 << 20}

// LimitError is a file that exceeds a limit at line:column (1-based; columns
// in bytes, as csv.Reader.FieldPos counts them). Reading stops there.
type LimitError struct {
	Line, Col int
	Limit     string // "field", "columns" or "record"
	Reason    string
}

func (e *LimitError) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Reason) }

// guard states: what the next byte means.
const (
	gFieldStart = iota // the next byte starts a field
	gUnquoted
	gQuoted
	gQuoteInQuoted // a quote inside a quoted field: "" or the field's end
	gSkipLine      // after a quote error encoding/csv drops the rest of the line
)

// guard is an io.Reader that follows the record structure the way
// encoding/csv does (quoted fields, "" escapes, line breaks inside quotes, a
// record ending at a newline outside quotes) and fails with *LimitError as
// soon as a limit is passed.
type guard struct {
	r     *bufio.Reader
	lim   Limits
	delim byte
	off   bool // non-ASCII delimiter: pass the bytes through unchecked

	started                      bool
	bom                          int // BOM bytes still to pass unchecked
	st                           int
	line, col                    int // position of the next byte
	fieldLen, recLen, cols       int
	fieldLine, fieldCol, recLine int
	err                          error
}

// NewGuard returns a reader of r that fails with *LimitError when the CSV in
// it passes lim (zero fields take DefaultLimits). delim 0 sniffs the
// delimiter from the header line as Open does.
func NewGuard(r io.Reader, delim rune, lim Limits) io.Reader {
	if lim.MaxFieldBytes <= 0 {
		lim.MaxFieldBytes = DefaultLimits.MaxFieldBytes
	}
	if lim.MaxColumns <= 0 {
		lim.MaxColumns = DefaultLimits.MaxColumns
	}
	if lim.MaxRecordBytes <= 0 {
		lim.MaxRecordBytes = DefaultLimits.MaxRecordBytes
	}
	g := &guard{r: bufio.NewReaderSize(r, sniffWindow), lim: lim, line: 1, col: 1, recLine: 1}
	if delim >= 0x80 {
		g.off = true
	} else {
		g.delim = byte(delim)
	}
	return g
}

func (g *guard) start() {
	g.started = true
	// A read error here is not returned: the reads that follow meet it again
	// (after the bytes that came before it).
	head, _ := g.r.Peek(sniffWindow)
	if bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
		head = head[3:]
		g.bom = 3 // not part of the first field, nor counted in columns (Open strips it)
	}
	if g.delim == 0 && !g.off {
		g.delim = byte(sniffDelimiter(head))
	}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if !g.started {
		g.start()
	}
	n, err := g.r.Read(p)
	if g.off {
		return n, err
	}
	for i := 0; i < n; {
		if g.bom > 0 {
			g.bom--
			i++
			continue
		}
		// Runs inside a field are taken in one step (IndexByte); the bytes
		// that change state go through step one at a time.
		if k := g.run(p[i:n]); k > 0 {
			if lerr := g.checkRun(); lerr != nil {
				g.err = lerr
				return i, nil
			}
			i += k
			continue
		}
		if lerr := g.step(p[i]); lerr != nil {
			// The bytes before the one that broke the limit are fine; the
			// caller gets them, then the error.
			g.err = lerr
			return i, nil
		}
		i++
	}
	return n, err
}

// run consumes the plain bytes at the start of b inside an unquoted or quoted
// field (up to the next byte that can change state) and answers how many.
func (g *guard) run(b []byte) int {
	var k int
	switch g.st {
	case gUnquoted:
		k = len(b)
		if j := bytes.IndexByte(b, g.delim); j >= 0 {
			k = j
		}
		if j := bytes.IndexByte(b[:k], '\n'); j >= 0 {
			k = j
		}
		g.col += k
	case gQuoted:
		k = len(b)
		if j := bytes.IndexByte(b, '"'); j >= 0 {
			k = j
		}
		span := b[:k]
		if nl := bytes.Count(span, []byte{'\n'}); nl > 0 {
			g.line += nl
			g.col = k - bytes.LastIndexByte(span, '\n')
		} else {
			g.col += k
		}
	default:
		return 0
	}
	g.fieldLen += k
	g.recLen += k
	return k
}

// checkRun checks the limits after a run.
func (g *guard) checkRun() error {
	if g.recLen > g.lim.MaxRecordBytes {
		return g.fail(g.recLine, 1, "record", fmt.Sprintf("the record starting on this line is longer than %d bytes (a quoted field left open?)", g.lim.MaxRecordBytes))
	}
	if g.fieldLen > g.lim.MaxFieldBytes {
		return g.fail(g.fieldLine, g.fieldCol, "field", fmt.Sprintf("the field starting here is longer than %d bytes", g.lim.MaxFieldBytes))
	}
	return nil
}

func (g *guard) fail(line, col int, limit, reason string) error {
	return &LimitError{Line: line, Col: max(col, 1), Limit: limit, Reason: reason}
}

// step checks one byte and advances the position.
func (g *guard) step(c byte) error {
	g.recLen++
	if g.recLen > g.lim.MaxRecordBytes {
		return g.fail(g.recLine, 1, "record", fmt.Sprintf("the record starting on this line is longer than %d bytes (a quoted field left open?)", g.lim.MaxRecordBytes))
	}
	switch g.st {
	case gFieldStart:
		g.cols++
		if g.cols > g.lim.MaxColumns {
			return g.fail(g.line, g.col, "columns", fmt.Sprintf("more than %d columns in one row", g.lim.MaxColumns))
		}
		g.fieldLine, g.fieldCol, g.fieldLen = g.line, g.col, 0
		switch c {
		case '"':
			g.st = gQuoted
		case g.delim:
		case '\n':
			g.endRecord()
		default:
			g.st = gUnquoted
			g.fieldLen = 1
		}
	case gUnquoted:
		switch c {
		case g.delim:
			g.st = gFieldStart
		case '\n':
			g.endRecord()
		default:
			g.fieldLen++
		}
	case gQuoted:
		if c == '"' {
			g.st = gQuoteInQuoted
		} else {
			g.fieldLen++
		}
	case gQuoteInQuoted:
		switch c {
		case '"':
			g.st = gQuoted
			g.fieldLen++
		case g.delim:
			g.st = gFieldStart
		case '\n':
			g.endRecord()
		case '\r':
		default:
			g.st = gSkipLine
		}
	case gSkipLine:
		if c == '\n' {
			g.endRecord()
		}
	}
	if g.fieldLen > g.lim.MaxFieldBytes {
		return g.fail(g.fieldLine, g.fieldCol, "field", fmt.Sprintf("the field starting here is longer than %d bytes", g.lim.MaxFieldBytes))
	}
	if c == '\n' {
		g.line, g.col = g.line+1, 1
		if g.st == gFieldStart && g.recLen == 0 {
			g.recLine = g.line
		}
	} else {
		g.col++
	}
	return nil
}

func (g *guard) endRecord() {
	g.st, g.cols, g.recLen, g.fieldLen = gFieldStart, 0, 0, 0
}
