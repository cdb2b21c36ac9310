package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
)

// Nurture sequences in the UI (docs/sequences.md): the list with per-step stats,
// the editor (steps as rows; add, remove and move up without script: each is a
// submit that re-renders the rows), and an enrollments page where held steps
// are released or skipped.

type seqListItem struct {
	model.Sequence
	Stats sequences.Stats
}

func (u *UI) sequenceList(w http.ResponseWriter, r *http.Request, s *session) {
	ss, err := u.d.Sequences.List(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	items := make([]seqListItem, 0, len(ss))
	for _, sq := range ss {
		st, err := u.d.Sequences.Stats(r.Context(), s.WS(), sq.ID)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		items = append(items, seqListItem{Sequence: sq, Stats: st})
	}
	u.render(w, r, http.StatusOK, "sequences", view{Title: "Sequences", Section: "sequences", S: s, D: items, Notice: r.URL.Query().Get("notice")})
}

// stepRow is one editor row: every input of every kind, as text.
type stepRow struct {
	Kind, Subject, Text, HTML, Duration, Cond, Arg, Op, Value, Then, Else, Task, Field, FValue string
	Err                                                                                        map[string]string
}

// previewData is one email step rendered for a sample contact.
type previewData struct {
	Step    int
	Contact string
	Subject string
	Text    string
	Err     string
}

type editorData struct {
	Preview                              *previewData
	ID                                   int64
	Action                               string
	Name, TriggerKind, TriggerRef, Stale string
	ExitRules                            map[string]bool
	Steps                                []stepRow
	Errs                                 map[string]string
	Err                                  string
	Kinds, Triggers, Reasons, Conds, Ops []string
}

func newEditor(id int64) *editorData {
	d := &editorData{ID: id, Action: "/sequences", ExitRules: map[string]bool{}, Errs: map[string]string{},
		Kinds: model.StepKinds, Triggers: model.SequenceTriggers, Reasons: model.ExitReasons, Conds: model.ConditionKinds,
		Ops: []string{"eq", "ne", "gt", "gte", "lt", "lte", "contains", "set", "unset"}}
	if id != 0 {
		d.Action = fmt.Sprintf("/sequences/%d", id)
	}
	return d
}

func itoa(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func editorFrom(sq model.Sequence) *editorData {
	d := newEditor(sq.ID)
	d.Name, d.TriggerKind, d.TriggerRef, d.Stale = sq.Name, sq.Trigger.Kind, sq.Trigger.Ref, strconv.Itoa(sq.StalenessMinutes)
	for _, r := range sq.ExitRules {
		d.ExitRules[r] = true
	}
	for _, st := range sq.Steps {
		row := stepRow{Kind: st.Kind, Subject: st.Subject, Text: st.Text, HTML: st.HTML, Duration: st.Duration, Then: itoa(st.Then), Else: itoa(st.Else), Task: st.TaskSubject, Field: st.Field}
		if st.Value != nil {
			row.FValue = fmt.Sprint(st.Value)
		}
		if c := st.If; c != nil {
			row.Cond, row.Op = c.Kind, c.Op
			switch c.Kind {
			case "visited":
				row.Arg = c.URL
			case "score":
				row.Arg = strconv.FormatFloat(c.Score, 'f', -1, 64)
			case "field":
				row.Arg = c.Field
			}
			if c.Value != nil {
				row.Value = fmt.Sprint(c.Value)
			}
		}
		d.Steps = append(d.Steps, row)
	}
	return d
}

// read fills the editor from a posted form.
func (d *editorData) read(r *http.Request) {
	f := r.PostForm
	d.Name, d.TriggerKind, d.TriggerRef, d.Stale = f.Get("name"), f.Get("trigger_kind"), f.Get("trigger_ref"), f.Get("staleness_minutes")
	for _, x := range f["exit_rules"] {
		d.ExitRules[x] = true
	}
	n, _ := strconv.Atoi(f.Get("steps"))
	for i := 0; i < n && i < 200; i++ {
		g := func(k string) string { return f.Get(fmt.Sprintf("s%d_%s", i, k)) }
		d.Steps = append(d.Steps, stepRow{Kind: g("kind"), Subject: g("subject"), Text: g("text"), HTML: g("html"), Duration: g("duration"),
			Cond: g("cond"), Arg: g("arg"), Op: g("op"), Value: g("value"), Then: g("then"), Else: g("else"), Task: g("task"), Field: g("field"), FValue: g("fvalue")})
	}
}

func intp(s string, field string) (*int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return nil, &store.FieldError{Field: field, Message: fmt.Sprintf("%q is not a step number", s)}
	}
	return &n, nil
}

// literal reads a typed value from a text box: a number when it parses as one.
func literal(s string) any {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// sequence turns the editor into a sequence; a field that cannot even be parsed
// is a FieldError like any other.
func (d *editorData) sequence() (model.Sequence, error) {
	sq := model.Sequence{Name: d.Name, Trigger: model.SequenceTrigger{Kind: d.TriggerKind, Ref: d.TriggerRef}, ExitRules: []string{}}
	for _, r := range model.ExitReasons {
		if d.ExitRules[r] {
			sq.ExitRules = append(sq.ExitRules, r)
		}
	}
	if d.Stale != "" {
		n, err := strconv.Atoi(d.Stale)
		if err != nil {
			return sq, &store.FieldError{Field: "staleness_minutes", Message: "must be a whole number of minutes"}
		}
		sq.StalenessMinutes = n
	}
	for i, row := range d.Steps {
		st := model.SequenceStep{Kind: row.Kind, Subject: row.Subject, Text: row.Text, HTML: row.HTML, Duration: row.Duration, TaskSubject: row.Task, Field: row.Field}
		if row.FValue != "" {
			st.Value = row.FValue
		}
		if row.Kind == "branch" {
			c := &model.StepCondition{Kind: row.Cond, Op: row.Op}
			switch row.Cond {
			case "visited":
				c.URL = row.Arg
			case "score":
				f, err := strconv.ParseFloat(row.Arg, 64)
				if err != nil {
					return sq, &store.FieldError{Field: fmt.Sprintf("steps[%d].if.score", i), Message: "must be a number"}
				}
				c.Score = f
			case "field":
				c.Field = row.Arg
				if row.Value != "" {
					c.Value = literal(row.Value)
				}
			}
			st.If = c
			var err error
			if st.Then, err = intp(row.Then, fmt.Sprintf("steps[%d].then", i)); err != nil {
				return sq, err
			}
			if st.Else, err = intp(row.Else, fmt.Sprintf("steps[%d].else", i)); err != nil {
				return sq, err
			}
		}
		sq.Steps = append(sq.Steps, st)
	}
	return sq, nil
}

// setError puts a FieldError next to its input: steps[i].x on row i.
func (d *editorData) setError(err error) bool {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return false
	}
	if rest, ok := strings.CutPrefix(fe.Field, "steps["); ok {
		if i, tail, ok := strings.Cut(rest, "]."); ok {
			if n, err := strconv.Atoi(i); err == nil && n < len(d.Steps) {
				key := strings.Split(tail, ".")[0]
				if d.Steps[n].Err == nil {
					d.Steps[n].Err = map[string]string{}
				}
				d.Steps[n].Err[key] = fe.Message
				d.Err = fmt.Sprintf("Step %d: %s %s", n+1, humanize(tail), fe.Message)
				return true
			}
		}
	}
	d.Errs[fe.Field] = fe.Message
	d.Err = humanize(fe.Field) + ": " + fe.Message
	return true
}

func (u *UI) sequenceNew(w http.ResponseWriter, r *http.Request, s *session) {
	d := newEditor(0)
	d.TriggerKind, d.Stale = "manual", strconv.Itoa(sequences.DefaultStalenessMinutes)
	d.Steps = []stepRow{{Kind: "send_email"}}
	u.render(w, r, http.StatusOK, "sequence_edit", view{Title: "New sequence", Section: "sequences", S: s, D: d})
}

func (u *UI) sequenceEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	sq, err := u.d.Sequences.Get(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusOK, "sequence_edit", view{Title: sq.Name, Section: "sequences", S: s, D: editorFrom(sq)})
}

// sequenceSave saves, or applies a row operation (add, remove-i, up-i) and
// shows the editor again.
func (u *UI) sequenceSave(w http.ResponseWriter, r *http.Request, s *session) {
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = httpx.PathID(r, "id"); err != nil {
			u.notFound(w, r, s)
			return
		}
		if _, err := u.d.Sequences.Get(r.Context(), s.WS(), id); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, s, &store.FieldError{Field: "form", Message: err.Error()})
		return
	}
	d := newEditor(id)
	d.read(r)
	op := r.PostForm.Get("op")
	switch {
	case op == "add":
		d.Steps = append(d.Steps, stepRow{Kind: r.PostForm.Get("add_kind")})
	case strings.HasPrefix(op, "preview-"):
		i, err := strconv.Atoi(strings.TrimPrefix(op, "preview-"))
		if err == nil && i >= 0 && i < len(d.Steps) && d.Steps[i].Kind == "send_email" && u.d.Mail != nil {
			d.Preview = u.previewStep(r, s, i, d.Steps[i])
		}
	case strings.HasPrefix(op, "remove-"), strings.HasPrefix(op, "up-"):
		name, num, _ := strings.Cut(op, "-")
		i, err := strconv.Atoi(num)
		if err == nil && i >= 0 && i < len(d.Steps) {
			if name == "remove" {
				d.Steps = append(d.Steps[:i], d.Steps[i+1:]...)
			} else if i > 0 {
				d.Steps[i-1], d.Steps[i] = d.Steps[i], d.Steps[i-1]
			}
		}
	default:
		sq, err := d.sequence()
		if err == nil {
			if id == 0 {
				sq, err = u.d.Sequences.Create(r.Context(), s.WS(), sq)
			} else {
				sq, err = u.d.Sequences.Update(r.Context(), s.WS(), id, sq)
			}
		}
		if err == nil {
			redirect(w, r, "/sequences?notice=saved")
			return
		}
		if errors.Is(err, store.ErrConflict) {
			d.Errs["name"], d.Err = "is taken by another sequence", "Name: is taken by another sequence"
		} else if !d.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.render(w, r, http.StatusUnprocessableEntity, "sequence_edit", view{Title: "Edit sequence", Section: "sequences", S: s, D: d})
		return
	}
	u.render(w, r, http.StatusOK, "sequence_edit", view{Title: "Edit sequence", Section: "sequences", S: s, D: d})
}

// previewStep renders an email step for the workspace's first contact in list
// order when it has a first name (else a made-up one), through the same
// sandboxed engine that sends it.
func (u *UI) previewStep(r *http.Request, s *session, i int, st stepRow) *previewData {
	c := model.Contact{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Title: "Founder", Custom: model.Custom{}}
	var a model.Account
	page, err := u.d.St.Read().ListContacts(r.Context(), s.WS(), store.ListParams{Limit: 1}, nil)
	if err == nil && len(page.Items) == 1 && page.Items[0].FirstName != "" {
		c = page.Items[0]
		if c.AccountID != nil {
			if acc, err := u.d.St.Read().GetAccount(r.Context(), s.WS(), *c.AccountID); err == nil {
				a = acc
			}
		}
	}
	p := &previewData{Step: i, Contact: c.Email}
	out, err := u.d.Mail.Preview(r.Context(), s.WS(), st.Subject, st.HTML, st.Text, c, a)
	if err != nil {
		p.Err = err.Error()
		return p
	}
	p.Subject, p.Text = out.Subject, string(out.Text)
	return p
}

func (u *UI) sequenceSetStatus(status string) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.notFound(w, r, s)
			return
		}
		if _, err := u.d.Sequences.Get(r.Context(), s.WS(), id); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if _, err := u.d.Sequences.SetStatus(r.Context(), s.WS(), id, status); err != nil {
			u.fail(w, r, s, err)
			return
		}
		redirect(w, r, "/sequences?notice="+status)
	}
}

type enrollmentsData struct {
	Sequence    model.Sequence
	Status      string
	Statuses    []string
	Enrollments []model.Enrollment
	Emails      map[int64]string
}

func (u *UI) sequenceEnrollments(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	sq, err := u.d.Sequences.Get(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	status := r.URL.Query().Get("status")
	es, err := u.d.Sequences.Enrollments(r.Context(), s.WS(), store.EnrollmentFilter{SequenceID: id, Status: status, Limit: 500})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ContactID
	}
	cs, err := u.d.St.Read().ContactsForScoring(r.Context(), s.WS(), ids, false)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	emails := map[int64]string{}
	for id, c := range cs {
		emails[id] = c.Email
	}
	d := enrollmentsData{Sequence: sq, Status: status, Statuses: model.EnrollmentStatuses, Enrollments: es, Emails: emails}
	u.render(w, r, http.StatusOK, "sequence_enrollments", view{Title: sq.Name + ": enrollments", Section: "sequences", S: s, D: d, Notice: r.URL.Query().Get("notice")})
}

func (u *UI) enrollmentAct(action string) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.notFound(w, r, s)
			return
		}
		e, err := u.d.St.Read().GetEnrollment(r.Context(), s.WS(), id, false)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		switch action {
		case "release":
			_, err = u.d.Sequences.Release(r.Context(), s.WS(), id)
		case "skip":
			_, err = u.d.Sequences.Skip(r.Context(), s.WS(), id)
		case "exit":
			_, err = u.d.Sequences.ExitEnrollment(r.Context(), s.WS(), id)
		}
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		redirect(w, r, fmt.Sprintf("/sequences/%d/enrollments?status=held&notice=%s", e.SequenceID, action))
	}
}
