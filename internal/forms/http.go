package forms

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Visitors finds the contact a tracking visitor id was stitched to (nil when
// none), so the embed can ask the next progressive fields (internal/tracking).
type Visitors interface {
	ContactForVisitor(ctx context.Context, q store.Q, ws int64, visitorID string) (*model.Contact, error)
}

//go:embed static/f.js
var embedJS []byte

// maxBody caps a public submission.
const maxBody = 64 << 10

// progressiveNext is how many unanswered progressive fields one visit asks.
const progressiveNext = 2

// Public is the unauthenticated surface customers' pages talk to. Each form is
// found by its public key; nothing here trusts a workspace id from the client.
type Public struct {
	Svc      *Service
	Visitors Visitors
}

// Register mounts the public routes. The global cross-origin protection must
// let POST /f/{key} and /subscribe/confirm/{token} through (app.go): these posts
// come from customers' sites by design.
func (p *Public) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /f.js", p.script)
	mux.HandleFunc("GET /f/{key}", p.page)
	mux.HandleFunc("POST /f/{key}", p.submit)
	mux.HandleFunc("OPTIONS /f/{key}", p.preflight)
	mux.HandleFunc("GET /f/{key}/fields", p.fields)
	mux.HandleFunc("OPTIONS /f/{key}/fields", p.preflight)
	mux.HandleFunc("GET /subscribe/confirm/{token}", p.confirmPage)
	mux.HandleFunc("POST /subscribe/confirm/{token}", p.confirm)
	// Gated downloads of uploaded content files (content.go).
	mux.HandleFunc("GET /d/{token}", p.download)
}

// BypassPatterns are the routes http.CrossOriginProtection must not refuse.
var BypassPatterns = []string{"/f/{key}", "/subscribe/confirm/{token}"}

func (p *Public) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(embedJS)
}

// cors answers a page of an allowed origin (any origin when the form lists none).
func cors(w http.ResponseWriter, r *http.Request, f model.Form) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if len(f.AllowedOrigins) == 0 {
		h.Set("Access-Control-Allow-Origin", "*")
		return true
	}
	for _, a := range f.AllowedOrigins {
		if strings.EqualFold(a, o) {
			h.Set("Access-Control-Allow-Origin", a)
			return true
		}
	}
	return false
}

func (p *Public) preflight(w http.ResponseWriter, r *http.Request) {
	f, _, err := p.Svc.St.Read().FormByKey(r.Context(), r.PathValue("key"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if !cors(w, r, f) {
		httpx.Error(w, r, &httpx.StatusError{Status: http.StatusForbidden, Code: "origin_not_allowed", Msg: "this page's origin is not one of the form's allowed origins"})
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// fieldsView is what the embed script renders.
type fieldsView struct {
	Name           string            `json:"name"`
	Kind           string            `json:"kind"`
	Fields         []model.FormField `json:"fields"`
	ConsentText    string            `json:"consent_text,omitempty"`
	ConsentVersion string            `json:"consent_version,omitempty"`
	Submit         string            `json:"submit"`
}

func submitLabel(kind string) string {
	switch kind {
	case "trial_request":
		return "Start my trial"
	case "contact_sales":
		return "Talk to sales"
	case "gated_content":
		return "Get it now"
	case "newsletter":
		return "Subscribe"
	}
	return "Sign up"
}

func (p *Public) fields(w http.ResponseWriter, r *http.Request) {
	vid := r.URL.Query().Get("vid")
	if len(vid) > 100 {
		httpx.Error(w, r, &store.FieldError{Field: "vid", Message: "is longer than 100 characters"})
		return
	}
	var known func(ctx context.Context, q store.Q, ws int64, visitorID string) (*model.Contact, error)
	if p.Visitors != nil {
		known = p.Visitors.ContactForVisitor
	}
	f, fs, err := p.Svc.FieldsFor(r.Context(), r.PathValue("key"), vid, known, progressiveNext)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if !cors(w, r, f) {
		httpx.Error(w, r, &httpx.StatusError{Status: http.StatusForbidden, Code: "origin_not_allowed", Msg: "this page's origin is not one of the form's allowed origins"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, fieldsView{Name: f.Name, Kind: f.Kind, Fields: fs, ConsentText: f.ConsentText, ConsentVersion: f.ConsentVersion, Submit: submitLabel(f.Kind)})
}

// readValues takes a urlencoded or multipart post (a plain HTML form) or a JSON
// object of strings (the embed script).
func readValues(r *http.Request) (map[string]string, bool, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return nil, false, &store.FieldError{Field: "body", Message: "is not a readable form post: " + err.Error()}
		}
		out := map[string]string{}
		for k, vs := range r.PostForm {
			if len(vs) > 1 {
				return nil, false, &store.FieldError{Field: k, Message: "is sent more than once"}
			}
			out[k] = vs[0]
		}
		return out, false, nil
	case "application/json", "text/plain":
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, true, &store.FieldError{Field: "body", Message: "could not be read: " + err.Error()}
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, true, &store.FieldError{Field: "body", Message: "is not a JSON object: " + err.Error()}
		}
		out := map[string]string{}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				out[k] = x
			case bool:
				out[k] = strconv.FormatBool(x)
			case float64:
				out[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case nil:
			default:
				return nil, true, &store.FieldError{Field: k, Message: "must be a string"}
			}
		}
		return out, true, nil
	}
	return nil, false, &httpx.StatusError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Msg: "send the form urlencoded, multipart or as a JSON object"}
}

// submitResult is the embed script's answer.
type submitResult struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	AssetURL string `json:"asset_url,omitempty"`
	Redirect string `json:"redirect,omitempty"`
}

func message(o Outcome) string {
	switch {
	case o.Pending:
		return "Almost done: check your inbox and confirm your address."
	case o.Form.Kind == "trial_request":
		return "Thanks! Your trial request is in; someone from our team will be in touch shortly."
	case o.Form.Kind == "contact_sales":
		return "Thanks! Someone from our sales team will be in touch shortly."
	case o.Asset != nil:
		return "Thanks! Here is your copy of “" + o.Asset.Title + "”."
	}
	return "Thanks! You're signed up."
}

func (p *Public) submit(w http.ResponseWriter, r *http.Request) {
	vals, asJSON, err := readValues(r)
	var o Outcome
	if err == nil {
		o, err = p.Svc.Submit(r.Context(), r.PathValue("key"), Input{Values: vals, IP: httpx.ClientIP(r), Origin: r.Header.Get("Origin")})
		if err == nil {
			p.done(w, r, o, asJSON)
			return
		}
		if o.Form.ID != 0 && asJSON && !errors.Is(err, ErrOrigin) {
			cors(w, r, o.Form)
		}
	}
	var te *ThrottledError
	switch {
	case errors.As(err, &te):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
		err = &httpx.StatusError{Status: http.StatusTooManyRequests, Code: "throttled", Msg: "too many submissions; try again in a moment"}
	case errors.Is(err, ErrOrigin):
		err = &httpx.StatusError{Status: http.StatusForbidden, Code: "origin_not_allowed", Msg: "this page's origin is not one of the form's allowed origins"}
	}
	if asJSON {
		httpx.Error(w, r, err)
		return
	}
	pr := httpx.Classify(err)
	if pr.Status >= 500 {
		httpx.Error(w, r, err) // logged once there
		return
	}
	msg := pr.Detail
	if pr.Field != "" {
		msg = fieldName(pr.Field) + ": " + strings.TrimPrefix(pr.Detail, pr.Field+": ")
	}
	d := pageData{Title: "Please check the form", Error: msg, Back: true}
	if o.Form.ID != 0 {
		d.FrameAncestors = frameAncestors(o.Form)
	}
	p.html(w, pr.Status, d)
}

func fieldName(f string) string {
	switch f {
	case "consent":
		return "Consent"
	case "_redirect":
		return "Redirect"
	}
	return label(f)
}

func (p *Public) done(w http.ResponseWriter, r *http.Request, o Outcome, asJSON bool) {
	res := submitResult{Status: o.Submission.Status, Message: message(o), Redirect: o.Redirect}
	if o.Submission.Status == "spam" {
		res.Status = "accepted" // a bot learns nothing
	}
	if o.Asset != nil && !o.Pending {
		res.AssetURL = o.AssetURL
	}
	if asJSON {
		cors(w, r, o.Form)
		httpx.JSON(w, http.StatusOK, res)
		return
	}
	if o.Redirect != "" {
		http.Redirect(w, r, o.Redirect, http.StatusSeeOther)
		return
	}
	p.html(w, http.StatusOK, pageData{Title: "Thank you", Message: res.Message, AssetURL: res.AssetURL, FrameAncestors: frameAncestors(o.Form)})
}

// page is a hosted version of the form, for a direct link or an iframe.
func (p *Public) page(w http.ResponseWriter, r *http.Request) {
	f, _, err := p.Svc.St.Read().FormByKey(r.Context(), r.PathValue("key"))
	if err != nil {
		p.html(w, http.StatusNotFound, pageData{Title: "Form not found", Error: "This form does not exist or was removed."})
		return
	}
	p.html(w, http.StatusOK, pageData{Title: f.Name, Form: &f, Fields: f.Fields, Submit: submitLabel(f.Kind), Action: "/f/" + f.Key, FrameAncestors: frameAncestors(f)})
}

// frameAncestors is who may frame f's hosted page and the answers to its
// posts: the form's allowed origins, or any site when it lists none (as for
// the embed's CORS). Origins are validated when the form is saved.
func frameAncestors(f model.Form) string {
	if len(f.AllowedOrigins) == 0 {
		return "*"
	}
	return strings.Join(f.AllowedOrigins, " ")
}

func (p *Public) confirmPage(w http.ResponseWriter, r *http.Request) {
	// A GET never confirms: mail scanners prefetch links.
	p.html(w, http.StatusOK, pageData{Title: "Confirm your subscription", Message: "Press the button to confirm your email address.", Confirm: "/subscribe/confirm/" + r.PathValue("token")})
}

func (p *Public) confirm(w http.ResponseWriter, r *http.Request) {
	_, _, err := p.Svc.Confirm(r.Context(), r.PathValue("token"))
	if errors.Is(err, store.ErrNotFound) {
		p.html(w, http.StatusNotFound, pageData{Title: "Link not valid", Error: "This confirmation link is not valid. It may have been mistyped."})
		return
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	d := pageData{Title: "Confirmed", Message: "Thank you, your address is confirmed."}
	// A gated form hands its content over now that the address is confirmed.
	if a, link, err := p.Svc.ConfirmedDownload(r.Context(), r.PathValue("token")); err != nil {
		slog.Error("forms: hand-over after confirmation", "err", err)
	} else if a != nil {
		d.Message += " Here is your copy of “" + a.Title + "”."
		d.AssetURL = link
	}
	p.html(w, http.StatusOK, d)
}

type pageData struct {
	Title    string
	Message  string
	Error    string
	Back     bool
	AssetURL string
	Form     *model.Form
	Fields   []model.FormField
	Submit   string
	Action   string
	Confirm  string
	// FrameAncestors is the CSP frame-ancestors source list; "" is 'none'.
	// Only a form's own page and the answers to its posts may be framed.
	FrameAncestors string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;background:#f5f7fa;margin:0;padding:2rem 1rem}
main{max-width:32rem;margin:0 auto;background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:1.5rem 2rem}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=email],input[type=tel]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #cbd2d9;border-radius:4px;font:inherit}
.consent{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}.hp{position:absolute;left:-10000px}
button{margin-top:1.25rem;background:#2563eb;color:#fff;border:0;border-radius:4px;padding:.6rem 1.2rem;font:inherit;cursor:pointer}
.error{background:#fdecea;border:1px solid #f5c2c0;padding:.75rem;border-radius:4px}.muted{color:#616e7c;font-size:.9rem}
</style></head><body><main>
<h1>{{.Title}}</h1>
{{- if .Error}}<p class="error" role="alert">{{.Error}}</p>{{if .Back}}<p class="muted">Go back to the form to correct it; what you typed is still there.</p>{{end}}{{end}}
{{- if .Message}}<p>{{.Message}}</p>{{end}}
{{- if .AssetURL}}<p><a href="{{.AssetURL}}">Download</a></p>{{end}}
{{- if .Confirm}}<form method="post" action="{{.Confirm}}"><button type="submit">Confirm my address</button></form>{{end}}
{{- with .Form}}
<form method="post" action="{{$.Action}}">
{{- range $.Fields}}
<label for="f-{{.Field}}">{{.Label}}{{if .Required}} *{{end}}</label>
<input id="f-{{.Field}}" name="{{.Field}}" type="{{if eq .Field "email"}}email{{else if eq .Field "phone"}}tel{{else}}text{{end}}"{{if .Required}} required{{end}}>
{{- end}}
<div class="hp" aria-hidden="true"><label for="f-hp">Leave this empty</label><input id="f-hp" name="_hp" type="text" tabindex="-1" autocomplete="off"></div>
{{- if .ConsentText}}
<label class="consent"><input type="checkbox" name="consent" value="yes" required> <span>{{.ConsentText}}</span></label>
{{- end}}
<button type="submit">{{$.Submit}}</button>
</form>
{{- end}}
</main></body></html>`))

func (p *Public) html(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// No script runs on these pages (style-src allows the inline sheet only).
	// A form's page may be framed by the sites it is embedded on; the
	// confirmation and download pages by no one (a framed confirm button
	// could be clickjacked).
	fa := d.FrameAncestors
	if fa == "" {
		fa = "'none'"
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self' https: http:; base-uri 'none'; frame-ancestors "+fa)
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, d); err != nil {
		// The status is sent; the client sees a truncated page.
		slog.Error("forms: render page", "err", err)
	}
}
