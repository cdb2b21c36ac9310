package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/success"
)

// The customer success settings: health weights, windows, targets and bands,
// and the onboarding checklist per motion (one item per line). Saving calls
// the API's service methods (validated, audited; a weight change recomputes
// every customer in the background).

// healthField is one number of the health settings form; Name is the API's
// setting name, so a service error lands next to its input.
type healthField struct {
	Name, Label, Hint, Value string
}

type healthGroup struct {
	Title, Note string
	Fields      []healthField
}

type successSettingsPage struct {
	Groups     []healthGroup
	Templates  []templateArea
	Errors     map[string]string
	Err        string
	ReadOnly   bool
	UpdatedBy  string
	UpdatedAt  *time.Time
	Convention string
}

type templateArea struct {
	Motion, Label, Text string
}

func healthGroups(h success.HealthSettings) []healthGroup {
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []healthGroup{
		{Title: "Score and bands", Note: "The score starts at the base and each input adds or subtracts its points; the result is kept between 0 and 100.", Fields: []healthField{
			{"base", "Base score", "Before any input.", strconv.Itoa(h.Base)},
			{"healthy_min", "Healthy from", "A score at or above this is healthy.", strconv.Itoa(h.HealthyMin)},
			{"critical_below", "Critical below", "A score below this is critical; in between is at risk.", strconv.Itoa(h.CriticalBelow)},
		}},
		{Title: "Product usage", Note: "Usage events the product reports. The target earns +weight, half the target 0, nothing −weight.", Fields: []healthField{
			{"usage.weight", "Weight (points)", "0 turns the input off.", strconv.Itoa(h.Usage.Weight)},
			{"usage.window_days", "Window (days)", "", strconv.Itoa(h.Usage.WindowDays)},
			{"usage.target", "Target (events in the window)", "", i64(h.Usage.Target)},
		}},
		{Title: "Engagement", Note: "Email and web engagement of the customer's contacts (what lead scoring records).", Fields: []healthField{
			{"engagement.weight", "Weight (points)", "", strconv.Itoa(h.Engagement.Weight)},
			{"engagement.window_days", "Window (days)", "", strconv.Itoa(h.Engagement.WindowDays)},
			{"engagement.target", "Target (events in the window)", "", i64(h.Engagement.Target)},
		}},
		{Title: "Support, NPS and sentiment", Note: "Open support items cost up to the weight; an NPS promoter (9–10) adds it, a detractor (0–6) subtracts it; the CSM's sentiment adds, keeps or subtracts it.", Fields: []healthField{
			{"support.weight", "Support weight", "", strconv.Itoa(h.Support.Weight)},
			{"support.cap", "Open items for the full penalty", "", i64(h.Support.Cap)},
			{"nps.weight", "NPS weight", "", strconv.Itoa(h.NPS.Weight)},
			{"nps.max_age_days", "NPS counts for (days)", "Older responses are ignored.", strconv.Itoa(h.NPS.MaxAgeDays)},
			{"sentiment.weight", "Sentiment weight", "", strconv.Itoa(h.Sentiment.Weight)},
		}},
	}
}

func templateAreas(c success.Checklists) []templateArea {
	var out []templateArea
	for _, m := range success.Motions {
		var lines []string
		for _, it := range c[m] {
			lines = append(lines, it.Title)
		}
		out = append(out, templateArea{Motion: m, Label: humanize(m), Text: strings.Join(lines, "\n")})
	}
	return out
}

func (u *UI) successSettings(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := u.d.Success.Settings(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := successSettingsPage{Groups: healthGroups(set.Health), Templates: templateAreas(set.Checklists), ReadOnly: !s.CanManage, Errors: map[string]string{}}
	if !set.HealthDefault || !set.ChecklistsDefault {
		p.UpdatedBy, p.UpdatedAt = set.UpdatedBy, set.UpdatedAt
	}
	u.showSuccessSettings(w, r, s, http.StatusOK, p)
}

func (u *UI) showSuccessSettings(w http.ResponseWriter, r *http.Request, s *session, status int, p successSettingsPage) {
	p.Convention = success.Convention
	var note string
	if r.URL.Query().Get("notice") == "saved" {
		note = "Customer success settings saved. Every customer's health is being recomputed."
	}
	u.render(w, r, status, "settings_success", view{Title: "Customer success", Section: "settings", S: s, D: p, Notice: note})
}

// parseSuccessSettings reads the posted form; numbers that are not numbers are
// errors on their input.
func parseSuccessSettings(r *http.Request, cur success.Checklists) (success.HealthSettings, success.Checklists, successSettingsPage) {
	h := success.DefaultHealth()
	p := successSettingsPage{Errors: map[string]string{}}
	ints := map[string]*int{"base": &h.Base, "healthy_min": &h.HealthyMin, "critical_below": &h.CriticalBelow, "usage.weight": &h.Usage.Weight,
		"usage.window_days": &h.Usage.WindowDays, "engagement.weight": &h.Engagement.Weight, "engagement.window_days": &h.Engagement.WindowDays,
		"support.weight": &h.Support.Weight, "nps.weight": &h.NPS.Weight, "nps.max_age_days": &h.NPS.MaxAgeDays, "sentiment.weight": &h.Sentiment.Weight}
	longs := map[string]*int64{"usage.target": &h.Usage.Target, "engagement.target": &h.Engagement.Target, "support.cap": &h.Support.Cap}
	p.Groups = healthGroups(h)
	for gi := range p.Groups {
		for fi := range p.Groups[gi].Fields {
			f := &p.Groups[gi].Fields[fi]
			f.Value = strings.TrimSpace(r.PostFormValue(f.Name))
			n, err := strconv.ParseInt(strings.ReplaceAll(f.Value, ",", ""), 10, 64)
			if err != nil {
				p.Errors[f.Name] = "must be a whole number"
				continue
			}
			if dst, ok := ints[f.Name]; ok {
				*dst = int(max(min(n, 1<<31-1), -1<<31))
			} else {
				*longs[f.Name] = n
			}
		}
	}
	c := success.Checklists{}
	for _, m := range success.Motions {
		text := r.PostFormValue("template." + m)
		p.Templates = append(p.Templates, templateArea{Motion: m, Label: humanize(m), Text: text})
		// A title that was there keeps its key (history and reports refer to it).
		keys := map[string]string{}
		for _, it := range cur[m] {
			keys[strings.ToLower(it.Title)] = it.Key
		}
		items := []success.ChecklistItem{}
		for _, line := range strings.Split(text, "\n") {
			if t := strings.TrimSpace(line); t != "" {
				items = append(items, success.ChecklistItem{Key: keys[strings.ToLower(t)], Title: t})
			}
		}
		c[m] = items
	}
	return h, c, p
}

func (u *UI) successSettingsSave(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := u.d.Success.Settings(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	h, c, p := parseSuccessSettings(r, set.Checklists)
	if len(p.Errors) == 0 {
		err := func() error {
			if err := h.Validate(); err != nil {
				return err
			}
			if _, err := c.Validate(); err != nil {
				return err
			}
			if _, err := u.d.Success.SaveHealthSettings(r.Context(), s.Actor(), &h); err != nil {
				return err
			}
			_, err := u.d.Success.SaveChecklists(r.Context(), s.Actor(), c)
			return err
		}()
		if err == nil {
			redirect(w, r, "/settings/success?notice=saved")
			return
		}
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			u.fail(w, r, s, err)
			return
		}
		if strings.HasPrefix(fe.Field, "templates.") {
			motion, _, _ := strings.Cut(strings.TrimPrefix(fe.Field, "templates."), "[")
			p.Errors["template."+motion] = fe.Message
		} else {
			p.Errors[fe.Field] = fe.Message
		}
	}
	p.Err = "The settings were not saved. Correct the highlighted entry."
	u.showSuccessSettings(w, r, s, http.StatusUnprocessableEntity, p)
}
