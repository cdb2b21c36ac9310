package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

//go:embed templates
var templateFS embed.FS

// views is one parsed template set shared by every page: the partials once,
// and per page its own copy of the layout ("layout:<page>") calling the
// page's content ("content:<page>"). A set per page (a clone of the layout
// and every partial, ~400 KB of parse trees each) held 21 MB for 50 pages —
// a third of an idle server's memory (docs/benchmarks.md, idle RSS).
type views struct {
	set   *template.Template
	pages map[string]bool
}

// view is what every page template receives.
type view struct {
	Title   string
	Section string // the active navigation entry
	S       *session
	D       any
	Notice  string
	Refresh int // seconds; a meta refresh while something runs in the background
}

func loadViews(a *assets) *views {
	funcs := template.FuncMap{
		"asset":      a.URL,
		"money":      formatMoney,
		"moneyShort": formatMoneyShort,
		"num":        formatAnyNumber,
		"fileSize":   formatBytes,
		// count renders "1 deal" / "2,000 deals".
		"count": func(n int64, one, many string) string {
			if n == 1 {
				return "1 " + one
			}
			return formatNumber(n) + " " + many
		},
		"numPtr":   func(p *int64) string { return formatNumberPtr(p) },
		"moneyPtr": formatMoneyPtr,
		"date":     formatDate,
		"datetime": formatDateTime,
		"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"human":    humanize,
		// stayDays is how long a stage stay lasted (so far, when current).
		"stayDays": func(st model.StageStay) int {
			end := time.Now()
			if st.LeftAt != nil {
				end = *st.LeftAt
			}
			return int(end.Sub(st.EnteredAt) / (24 * time.Hour))
		},
		"stageTone":    stageTone,
		"outcomeTone":  outcomeTone,
		"statusTone":   statusTone,
		"deliveryTone": deliveryTone,
		"segmentTone":  segmentTone,
		"initials":     initials,
		"actorName":    actorName,
		"shortEmail": func(e string) string {
			if at := strings.IndexByte(e, '@'); at > 0 {
				return e[:at]
			}
			return e
		},
		"pct": pct,
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return a - b },
		"add64": func(xs ...int64) int64 {
			var t int64
			for _, x := range xs {
				t += x
			}
			return t
		},
		"dict":     dict,
		"fieldErr": func(f *form, name string) string { return f.Errors[name] },
		"fieldVal": func(f *form, name string) string { return f.Values[name] },
		// checked: is v one of a "checks" field's comma-separated values?
		"checked": func(vals, v string) bool { return slices.Contains(strings.Split(vals, ","), v) },
	}
	set := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/partials/*.html"))
	layout := mustRead("templates/layout.html")
	v := &views{set: set, pages: map[string]bool{}}
	pages, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		lay, n := replaceCount(layout, `{{define "layout" -}}`, `{{define "layout:`+name+`" -}}`)
		if n != 1 {
			panic(fmt.Sprintf("web: templates/layout.html must define \"layout\" once (found %d)", n))
		}
		lay, n = replaceCount(lay, `{{template "content"`, `{{template "content:`+name+`"`)
		if n == 0 {
			panic("web: templates/layout.html never calls the page's \"content\"")
		}
		page, n := replaceCount(mustRead(p), `{{define "content"}}`, `{{define "content:`+name+`"}}`)
		if n != 1 {
			panic(fmt.Sprintf("web: %s must define \"content\" once (found %d)", p, n))
		}
		template.Must(set.New(p).Parse(lay + page))
		v.pages[name] = true
	}
	return v
}

func mustRead(name string) string {
	b, err := fs.ReadFile(templateFS, name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// replaceCount is strings.ReplaceAll that also says how many it replaced.
func replaceCount(s, old, new string) (string, int) {
	return strings.ReplaceAll(s, old, new), strings.Count(s, old)
}

// render executes a page into a buffer first, so a template error becomes a clean
// 500 page instead of half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if !u.views.pages[page] {
		u.serverError(w, r, v.S, fmt.Errorf("web: no page template %q", page))
		return
	}
	var buf bytes.Buffer
	if err := u.views.set.ExecuteTemplate(&buf, "layout:"+page, v); err != nil {
		if page == "error" {
			slog.ErrorContext(r.Context(), "render error page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		u.serverError(w, r, v.S, fmt.Errorf("web: render %s: %w", page, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Status  int
	Heading string
	Message string
	ReqID   string
}

func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, heading, msg string) {
	u.render(w, r, status, "error", view{Title: heading, S: s, D: errorPage{Status: status, Heading: heading, Message: msg, ReqID: httpx.RequestID(r.Context())}})
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	u.errorPage(w, r, s, http.StatusNotFound, "Page not found", "There is nothing here. The record may have been merged or deleted, or the link is wrong.")
}

func (u *UI) forbidden(w http.ResponseWriter, r *http.Request, s *session) {
	u.errorPage(w, r, s, http.StatusForbidden, "Not allowed", "Your role in this workspace does not allow this. Ask an admin or a manager.")
}

// serverError logs err once with the request id and shows a 500 page that names
// the id, never the error.
func (u *UI) serverError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if store.IsBusy(err) {
		// Nothing was written: a 503 the browser (or the person) may retry.
		slog.WarnContext(r.Context(), "ui request refused: database busy", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", httpx.RequestID(r.Context()))
		w.Header().Set("Retry-After", httpx.BusyRetryAfter)
		u.errorPage(w, r, s, http.StatusServiceUnavailable, "Busy", "The database is busy; nothing was changed. Try again in a few seconds.")
		return
	}
	slog.ErrorContext(r.Context(), "ui request failed", "err", err, "method", r.Method, "path", r.URL.Path, "request_id", httpx.RequestID(r.Context()))
	u.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong", "The error has been logged. Try again in a moment; if it keeps happening, tell your administrator the request id below.")
}

// fail maps a service error that the page did not handle inline.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var fe *store.FieldError
	switch {
	case errors.Is(err, store.ErrNotFound):
		u.notFound(w, r, s)
	case errors.As(err, &fe):
		u.errorPage(w, r, s, http.StatusBadRequest, "That did not work", humanize(fe.Field)+": "+fe.Message)
	default:
		u.serverError(w, r, s, err)
	}
}

func (u *UI) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		httpx.Error(w, r, store.ErrNotFound)
		return
	}
	s, _ := u.optionalSession(r)
	u.notFound(w, r, s)
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath accepts only a path on this site ("/contacts?q=x"), never another
// origin ("//evil.example", "https://…", "/\evil").
func localPath(s string) (string, bool) {
	if s == "" || s[0] != '/' || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n\t") {
		return "", false
	}
	p, err := url.Parse(s)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil {
		return "", false
	}
	return p.RequestURI(), true
}

// --- formatting helpers used by templates ---

// formatAnyNumber is the "num" template function: any integer type, so a
// view field declared int instead of int64 renders instead of failing the
// page (a template type error is a 500 only seen when the field is reached).
func formatAnyNumber(v any) (string, error) {
	switch n := v.(type) {
	case int64:
		return formatNumber(n), nil
	case int:
		return formatNumber(int64(n)), nil
	case int32:
		return formatNumber(int64(n)), nil
	case uint32:
		return formatNumber(int64(n)), nil
	case float64:
		return formatNumber(int64(n)), nil
	}
	return "", fmt.Errorf("num: %T is not a number", v)
}

func formatNumberPtr(p *int64) string {
	if p == nil {
		return ""
	}
	return formatNumber(*p)
}

func formatMoneyPtr(p *int64, cur string) string {
	if p == nil {
		return ""
	}
	return formatMoney(*p, cur)
}

func formatDate(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	case *time.Time:
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	case string:
		if d, err := time.Parse("2006-01-02", t); err == nil {
			return d.Format("2 Jan 2006")
		}
		return t
	}
	return ""
}

func formatDateTime(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006, 15:04") + " UTC"
	case *time.Time:
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006, 15:04") + " UTC"
	}
	return ""
}

// humanize turns a code into a label: "high_touch" → "High touch", "mql" → "MQL".
func humanize(s string) string {
	switch s {
	case "":
		return ""
	case "mql", "sql", "smb", "csm", "ldr", "ae", "id", "utm_source", "utm_medium", "utm_campaign":
		if strings.HasPrefix(s, "utm_") {
			return "UTM " + s[4:]
		}
		return strings.ToUpper(s)
	case "mid_market":
		return "Mid-market"
	case "no_decision":
		return "No decision"
	case "account_id":
		return "Account"
	case "owner_id":
		return "Owner"
	case "contact_id":
		return "Contact"
	case "deal_id":
		return "Deal"
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func stageTone(stage string) string {
	switch stage {
	case "customer", "evangelist", "order", "won":
		return "good"
	case "mql", "sql", "opportunity", "close", "negotiation", "proposal", "trial":
		return "accent"
	case "disqualified":
		return "bad"
	case "nurture":
		return "warn"
	}
	return "neutral"
}

func outcomeTone(o string) string {
	switch o {
	case "won":
		return "good"
	case "lost":
		return "bad"
	case "no_decision":
		return "warn"
	}
	return "accent"
}

func statusTone(s string) string {
	switch s {
	case "done":
		return "good"
	case "failed":
		return "bad"
	case "running", "queued", "uploading":
		return "accent"
	}
	return "neutral"
}

func segmentTone(s string) string {
	switch s {
	case "enterprise":
		return "deep"
	case "mid_market":
		return "accent"
	case "smb":
		return "soft"
	}
	return "neutral"
}

func initials(s string) string {
	s = strings.TrimSpace(s)
	if at := strings.IndexByte(s, '@'); at > 0 {
		s = s[:at]
	}
	var out []rune
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == '_' || r == '-' }) {
		out = append(out, []rune(strings.ToUpper(part))[0])
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// actorName shows an actor label ("user:ann@x.io", "key:rsk_ab12") without its
// kind prefix for a user.
func actorName(label string) string {
	if rest, ok := strings.CutPrefix(label, "user:"); ok {
		return rest
	}
	if rest, ok := strings.CutPrefix(label, "key:"); ok {
		return "API key " + rest
	}
	if label == "" {
		return "unknown"
	}
	return label
}

func pct(part, whole int64) string {
	if whole <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", float64(part)*100/float64(whole))
}

func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, errors.New("dict: keys must be strings")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// roleLabel is shown next to the workspace name.
func roleLabel(role string) string {
	switch role {
	case model.RoleAE:
		return "Account executive"
	case model.RoleLDR:
		return "Lead development rep"
	case model.RoleCSM:
		return "Customer success"
	case model.RolePartner:
		return "Sales partner"
	}
	return humanize(role)
}
