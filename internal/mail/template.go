package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdhtml "html"
	htemplate "html/template"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	ttext "text/template"
	"text/template/parse"
	"time"
)

// The template engine is Go's text/template (subject, plain text) and
// html/template (HTML, contextual escaping) with only the functions below: there
// is no file, environment or network access to reach. {{template}}, {{define}}
// and {{block}} are refused, and {{range}} may only walk data (never a number
// literal or a function result), so a template cannot loop longer than its data;
// rendering also stops at a deadline and an output size.

// Limits of one render.
const (
	MaxTemplateBytes = 64 << 10
	MaxOutputBytes   = 256 << 10
	RenderTimeout    = 250 * time.Millisecond
)

var funcs = map[string]any{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"default": func(def string, v any) string {
		if s := fmt.Sprint(v); v != nil && s != "" {
			return s
		}
		return def
	},
}

// Data is what a template sees. Fields are plain values: no methods to call.
type Data struct {
	Contact        ContactData
	Account        AccountData
	UnsubscribeURL string
	PostalAddress  string
	// Vars are the send's own variables (a confirmation link), by name.
	Vars map[string]string
}

// ContactData is the contact as templates see it.
type ContactData struct {
	FirstName, LastName, Email, Title, Phone, LifecycleStage string
	Custom                                                   map[string]any
}

// AccountData is the contact's account as templates see it.
type AccountData struct {
	Name, Domain, Industry, Region string
}

// Template is a compiled subject + HTML + plain-text triple.
type Template struct {
	subject *ttext.Template
	html    *htemplate.Template
	text    *ttext.Template // nil: the plain part is derived from the HTML
	// htmlSize and textSize are the last rendered sizes: the next render's
	// buffers start that large instead of doubling up to it.
	htmlSize, textSize atomic.Int64
}

// TemplateError names the part and the line:col of a bad template.
type TemplateError struct {
	Part      string // subject, html or text
	Line, Col int
	Msg       string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("%s template %d:%d: %s", e.Part, e.Line, e.Col, e.Msg)
}

// Compile parses the three parts. Either html or text may be empty (not both):
// a text-only message gets an HTML part made from the rendered text, and an
// HTML-only one a text part made from the rendered HTML.
func Compile(subject, html, text string) (*Template, error) {
	t := &Template{}
	var err error
	if t.subject, err = parseText("subject", subject); err != nil {
		return nil, err
	}
	if strings.TrimSpace(html) == "" {
		if strings.TrimSpace(text) == "" {
			return nil, &TemplateError{Part: "html", Line: 1, Col: 1, Msg: "empty: give an HTML or a plain-text body"}
		}
		if t.text, err = parseText("text", text); err != nil {
			return nil, err
		}
		return t, nil
	}
	if err := checkSource("html", html); err != nil {
		return nil, err
	}
	h, err := htemplate.New("html").Funcs(funcs).Option("missingkey=zero").Parse(html)
	if err != nil {
		return nil, parseErr("html", html, err)
	}
	if err := checkTree("html", h.Tree); err != nil {
		return nil, err
	}
	t.html = h
	if strings.TrimSpace(text) != "" {
		if t.text, err = parseText("text", text); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func checkSource(part, src string) error {
	if len(src) > MaxTemplateBytes {
		return &TemplateError{Part: part, Line: 1, Col: 1, Msg: fmt.Sprintf("longer than %d bytes", MaxTemplateBytes)}
	}
	return nil
}

func parseText(part, src string) (*ttext.Template, error) {
	if err := checkSource(part, src); err != nil {
		return nil, err
	}
	t, err := ttext.New(part).Funcs(funcs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, parseErr(part, src, err)
	}
	if err := checkTree(part, t.Tree); err != nil {
		return nil, err
	}
	return t, nil
}

var lineRe = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)? ?(.*)$`)

// parseErr turns a parse error into line:col. Go reports only the line; the
// column is that of the first action on the line whose prefix alone fails with
// the same message, else the line's first action.
func parseErr(part, src string, err error) error {
	msg := err.Error()
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return &TemplateError{Part: part, Line: 1, Col: 1, Msg: msg}
	}
	line := atoi(m[1])
	col := atoi(m[2])
	text := m[3]
	if col == 0 {
		col = guessCol(src, line, text)
	}
	return &TemplateError{Part: part, Line: line, Col: col, Msg: text}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func guessCol(src string, line int, text string) int {
	start := 0
	for i := 1; i < line; i++ {
		j := strings.IndexByte(src[start:], '\n')
		if j < 0 {
			return 1
		}
		start += j + 1
	}
	end := strings.IndexByte(src[start:], '\n')
	if end < 0 {
		end = len(src) - start
	}
	lineSrc := src[start : start+end]
	first := 0
	for off := 0; ; {
		i := strings.Index(lineSrc[off:], "{{")
		if i < 0 {
			break
		}
		pos := off + i
		if first == 0 {
			first = pos + 1
		}
		closeAt := strings.Index(lineSrc[pos:], "}}")
		if closeAt < 0 {
			return pos + 1
		}
		prefix := src[:start+pos+closeAt+2]
		if _, err := ttext.New("x").Funcs(funcs).Parse(prefix); err != nil {
			if m := lineRe.FindStringSubmatch(err.Error()); m != nil && m[3] == text {
				return pos + 1
			}
		}
		off = pos + closeAt + 2
	}
	if first == 0 {
		return 1
	}
	return first
}

// checkTree refuses the constructs that could loop or recurse beyond the data.
func checkTree(part string, tree *parse.Tree) error {
	var bad error
	var walk func(n parse.Node)
	fail := func(n parse.Node, msg string) {
		if bad == nil {
			loc, _ := tree.ErrorContext(n)
			line, col := 1, 1
			if m := regexp.MustCompile(`:(\d+):(\d+)$`).FindStringSubmatch(loc); m != nil {
				line, col = atoi(m[1]), atoi(m[2])
			}
			bad = &TemplateError{Part: part, Line: line, Col: col, Msg: msg}
		}
	}
	walk = func(n parse.Node) {
		if n == nil || bad != nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.TemplateNode:
			fail(n, "{{template}} is not allowed")
		case *parse.RangeNode:
			if !rangeOverData(n.Pipe) {
				fail(n, "{{range}} may only walk a field or variable")
			}
			walk(n.List)
			walk(n.ElseList)
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(tree.Root)
	return bad
}

func rangeOverData(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode, *parse.VariableNode, *parse.ChainNode, *parse.DotNode:
		return true
	}
	return false
}

// Rendered is one rendered message body.
type Rendered struct {
	Subject string
	HTML    []byte
	Text    []byte
}

// errLimit is returned by limitWriter when output passes the cap or time runs out.
var errLimit = errors.New("output limit")

type limitWriter struct {
	buf      *bytes.Buffer
	max      int
	deadline time.Time
	err      error
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		w.err = fmt.Errorf("output longer than %d bytes", w.max)
		return 0, errLimit
	}
	if !w.deadline.IsZero() && time.Now().After(w.deadline) {
		w.err = fmt.Errorf("render took longer than %s", RenderTimeout)
		return 0, errLimit
	}
	return w.buf.Write(p)
}

type executor interface {
	Execute(io.Writer, any) error
}

func run(ctx context.Context, part string, t executor, d *Data, buf *bytes.Buffer, max int) error {
	deadline := time.Now().Add(RenderTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	w := &limitWriter{buf: buf, max: max, deadline: deadline}
	if err := t.Execute(w, d); err != nil {
		if w.err != nil {
			return &TemplateError{Part: part, Line: 1, Col: 1, Msg: w.err.Error()}
		}
		msg := err.Error()
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			return &TemplateError{Part: part, Line: atoi(m[1]), Col: max1(atoi(m[2])), Msg: m[3]}
		}
		return &TemplateError{Part: part, Line: 1, Col: 1, Msg: msg}
	}
	return nil
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Render executes the template for d. The plain part is the text template's
// output, or the HTML reduced to text when there is none.
func (t *Template) Render(ctx context.Context, d *Data) (*Rendered, error) {
	var sb, hb, tb bytes.Buffer
	if t.html != nil {
		hb.Grow(int(t.htmlSize.Load()) + 256)
		defer func() { t.htmlSize.Store(int64(hb.Len())) }()
	}
	if t.text != nil {
		tb.Grow(int(t.textSize.Load()) + 256)
		defer func() { t.textSize.Store(int64(tb.Len())) }()
	}
	if err := run(ctx, "subject", t.subject, d, &sb, 998); err != nil {
		return nil, err
	}
	if t.html == nil { // text-only: the HTML part is the rendered text, escaped
		if err := run(ctx, "text", t.text, d, &tb, MaxOutputBytes); err != nil {
			return nil, err
		}
		return &Rendered{Subject: strings.Join(strings.Fields(sb.String()), " "), HTML: TextToHTML(tb.Bytes()), Text: tb.Bytes()}, nil
	}
	if err := run(ctx, "html", t.html, d, &hb, MaxOutputBytes); err != nil {
		return nil, err
	}
	r := &Rendered{Subject: strings.Join(strings.Fields(sb.String()), " "), HTML: hb.Bytes()}
	if t.text != nil {
		if err := run(ctx, "text", t.text, d, &tb, MaxOutputBytes); err != nil {
			return nil, err
		}
		r.Text = tb.Bytes()
	} else {
		r.Text = HTMLToText(hb.Bytes())
	}
	return r, nil
}

// TextToHTML turns plain text into simple HTML: escaped, blank lines between
// paragraphs, single line breaks as <br>.
func TextToHTML(t []byte) []byte {
	paras := strings.Split(strings.ReplaceAll(strings.TrimSpace(string(t)), "\r\n", "\n"), "\n\n")
	var b strings.Builder
	for _, p := range paras {
		if strings.TrimSpace(p) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(htemplate.HTMLEscapeString(strings.TrimSpace(p)), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return []byte(b.String())
}

// HTMLToText is a plain rendering of HTML for the text/plain part: <br> ends a
// line, block ends (</p>, </div>, headings, list items, rows) leave a blank line,
// tags and script/style bodies go, source whitespace collapses to one space and
// entities are decoded. One pass over the bytes (it runs for every message).
func HTMLToText(h []byte) []byte {
	out := make([]byte, 0, len(h))
	space, breaks := false, 0
	for i := 0; i < len(h); {
		c := h[i]
		switch c {
		case ' ', '\t', '\r', '\n', '\f':
			space = true
			i++
			continue
		case '<':
			end := bytes.IndexByte(h[i:], '>')
			if end < 0 {
				i = len(h)
				continue
			}
			tag := h[i+1 : i+end]
			i += end + 1
			closing := len(tag) > 0 && tag[0] == '/'
			if closing {
				tag = tag[1:]
			}
			n := 0
			for n < len(tag) && (tag[n]|0x20 >= 'a' && tag[n]|0x20 <= 'z' || tag[n] >= '0' && tag[n] <= '9') {
				n++
			}
			name := strings.ToLower(string(tag[:n]))
			switch {
			case !closing && (name == "script" || name == "style"):
				k := indexFold(h[i:], "</"+name)
				if k < 0 {
					i = len(h)
					continue
				}
				i += k
			case name == "br":
				breaks = max(breaks, 1)
			case name == "hr" || closing && (name == "p" || name == "div" || name == "li" || name == "tr" || name == "ul" || name == "ol" || name == "table" || len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6'):
				breaks = 2
			}
			continue
		}
		if len(out) > 0 {
			switch {
			case breaks > 0:
				out = append(out, "\n\n"[:breaks]...)
			case space:
				out = append(out, ' ')
			}
		}
		space, breaks = false, 0
		// Copy the run of text up to the next tag or blank in one append.
		j := i + 1
		for j < len(h) && !textStop[h[j]] {
			j++
		}
		out = append(out, h[i:j]...)
		i = j
	}
	if bytes.IndexByte(out, '&') >= 0 {
		out = []byte(htmlUnescape(string(out)))
	}
	return append(out, '\n')
}

// textStop marks the bytes that end a run of text in HTMLToText.
var textStop = func() (t [256]bool) {
	for _, c := range "<> \t\r\n\f" {
		t[c] = true
	}
	return
}()

// indexFold is bytes.Index ignoring ASCII case of sub (lower-case).
func indexFold(b []byte, sub string) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		j := 0
		for j < len(sub) && b[i+j]|0x20 == sub[j]|0x20 {
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func htmlUnescape(s string) string { return stdhtml.UnescapeString(s) }
