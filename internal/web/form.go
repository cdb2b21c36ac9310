package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// form is a form being shown: its field definitions, what the user typed (kept
// on a validation error) and an error per field. Err is an error not tied to a
// visible field.
type form struct {
	Action string
	Submit string
	Cancel string
	Fields []field
	Values map[string]string
	Errors map[string]string
	Err    string
}

// field defines one input. Type is text, email, tel, number, date,
// datetime-local, textarea, select, money or hidden.
type field struct {
	Name        string
	Label       string
	Type        string
	Required    bool
	Hint        string
	Placeholder string
	Wide        bool
	Groups      []optGroup
	Autofocus   bool
	// Accept is a file input's accept list (default: CSV).
	Accept string
}

type optGroup struct {
	Label   string
	Options []option
}

type option struct{ Value, Label string }

func opts(values []string, blank string) []optGroup {
	g := optGroup{}
	if blank != "\x00" {
		g.Options = append(g.Options, option{"", blank})
	}
	for _, v := range values {
		g.Options = append(g.Options, option{v, humanize(v)})
	}
	return []optGroup{g}
}

// noBlank marks a select without an empty choice.
const noBlank = "\x00"

func newForm(action, submit, cancel string, fields []field) *form {
	return &form{Action: action, Submit: submit, Cancel: cancel, Fields: fields, Values: map[string]string{}, Errors: map[string]string{}}
}

// read copies the posted values of the form's fields; a "checks" field keeps
// every ticked value, comma-separated.
func (f *form) read(r *http.Request) {
	for _, fd := range f.Fields {
		f.Values[fd.Name] = strings.TrimSpace(r.PostFormValue(fd.Name))
		if fd.Type == "checks" {
			f.Values[fd.Name] = strings.Join(r.PostForm[fd.Name], ",")
		}
	}
}

// crmFields turns the form values into crm.Fields; every field is sent, so an
// empty input clears the stored value. Money inputs are converted from major to
// minor units of cur; a bad amount becomes a field error.
func (f *form) crmFields(cur string, skip ...string) (crm.Fields, bool) {
	out := crm.Fields{}
	for _, fd := range f.Fields {
		if fd.Type == "hidden" || contains(skip, fd.Name) {
			continue
		}
		v := f.Values[fd.Name]
		if fd.Type == "money" {
			minor, ok, err := parseMoney(v, cur)
			if err != nil {
				f.Errors[fd.Name] = err.Error()
				continue
			}
			if !ok {
				out[fd.Name] = nil
				continue
			}
			out[fd.Name] = formatInt(minor)
			continue
		}
		out[fd.Name] = v
	}
	return out, len(f.Errors) == 0
}

// setError places a service error next to its field, or at the top of the form
// when the field is not shown. It reports false for errors that are not about
// the input (the caller fails the request).
func (f *form) setError(err error) bool {
	var fe *store.FieldError
	var ce *store.ConflictError
	var ge *model.GateError
	switch {
	case errors.As(err, &ge):
		// A refused stage move: every unmet exit criterion, next to the stage.
		f.place("stage", ge.Error())
	case errors.As(err, &fe):
		f.place(fe.Field, fe.Message)
	case errors.As(err, &ce):
		msg := "is already used by another record"
		switch ce.Field {
		case "email":
			msg = "another contact already has this email"
		case "domain":
			msg = "another account already has this domain"
		case "external_id":
			msg = "another record already has this external id"
		}
		f.place(ce.Field, msg)
	default:
		return false
	}
	return true
}

func (f *form) place(name, msg string) {
	for _, fd := range f.Fields {
		if fd.Name == name && fd.Type != "hidden" {
			f.Errors[name] = msg
			return
		}
	}
	if name == "" {
		f.Err = msg
		return
	}
	f.Err = humanize(name) + ": " + msg
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Multipart reports whether the form uploads a file.
func (f *form) Multipart() bool {
	for _, fd := range f.Fields {
		if fd.Type == "file" {
			return true
		}
	}
	return false
}

// FocusField names the field the cursor starts in: the first one with an error,
// else the one marked Autofocus.
func (f *form) FocusField() string {
	for _, fd := range f.Fields {
		if f.Errors[fd.Name] != "" {
			return fd.Name
		}
	}
	if f.Err != "" {
		return ""
	}
	for _, fd := range f.Fields {
		if fd.Autofocus {
			return fd.Name
		}
	}
	return ""
}
