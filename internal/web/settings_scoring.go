package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// The scoring settings: half-life in days, the MQL threshold, a weight per event
// kind and the fit rules. Saving calls scoring.Service.SaveConfig (the API's
// path: validated, audited, every scored contact's fit and due time
// recomputed). Rows are kept as typed, so an error shows next to what the user
// wrote.

type weightRow struct {
	Key, Kind, Weight string
	New               bool
}

type fitRow struct {
	Key, Field, Op, Value, Points, Label string
	New                                  bool
}

type scoringPage struct {
	HalfLifeDays string
	Threshold    string
	Weights      []weightRow
	Fit          []fitRow
	Errors       map[string]string
	Err          string
	ReadOnly     bool
	UpdatedBy    string
	UpdatedAt    *time.Time
	FitFields    []option
	FitOps       []option
}

const day = 24 * time.Hour

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func scoringPageOf(cfg scoring.Config) scoringPage {
	p := scoringPage{
		HalfLifeDays: fmtFloat(math.Round(cfg.HalfLife().Hours()/24*1000) / 1000),
		Threshold:    fmtFloat(cfg.MQLThreshold),
		UpdatedBy:    cfg.UpdatedBy, UpdatedAt: cfg.UpdatedAt,
	}
	kinds := make([]string, 0, len(cfg.EventWeights))
	for k := range cfg.EventWeights {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for i, k := range kinds {
		p.Weights = append(p.Weights, weightRow{Key: fmt.Sprintf("ew-%d", i), Kind: k, Weight: fmtFloat(cfg.EventWeights[k])})
	}
	for i, r := range cfg.FitRules {
		val := ""
		if r.Value != nil {
			val = condValue(r.Op, r.Value)
			if l, ok := r.Value.([]string); ok {
				val = strings.Join(l, ", ")
			}
		}
		p.Fit = append(p.Fit, fitRow{Key: fmt.Sprintf("fit-%d", i), Field: r.Field, Op: r.Op, Value: val, Points: fmtFloat(r.Points), Label: r.Label})
	}
	p.addBlanks()
	return p
}

func (p *scoringPage) addBlanks() {
	k := fmt.Sprintf("ew-%d", len(p.Weights))
	p.Weights = append(p.Weights, weightRow{Key: k, New: true})
	k = fmt.Sprintf("fit-%d", len(p.Fit))
	p.Fit = append(p.Fit, fitRow{Key: k, New: true})
}

func (u *UI) scoringSettings(w http.ResponseWriter, r *http.Request, s *session) {
	cfg, err := u.d.Scoring.Config(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := scoringPageOf(cfg)
	p.ReadOnly = !s.CanManage
	u.showScoring(w, r, s, http.StatusOK, p)
}

func (u *UI) showScoring(w http.ResponseWriter, r *http.Request, s *session, status int, p scoringPage) {
	q := u.d.St.Read()
	p.FitFields = []option{{"title", "Title"}, {"email", "Email"}, {"source", "Source"}, {"segment", "Account segment"}, {"industry", "Account industry"},
		{"region", "Account region"}, {"motion", "Account motion"}, {"employees", "Account employees"}, {"annual_revenue", "Account annual revenue"}, {"budget", "Account budget"}}
	for _, obj := range []string{"contact", "account"} {
		defs, err := q.CustomFields(r.Context(), s.WS(), obj)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		for _, d := range defs {
			if obj == "contact" {
				p.FitFields = append(p.FitFields, option{"custom." + d.Key, d.Label + " (contact custom)"})
			} else {
				p.FitFields = append(p.FitFields, option{"account.custom." + d.Key, d.Label + " (account custom)"})
			}
		}
	}
	p.FitOps = []option{{"eq", "="}, {"ne", "≠"}, {"gt", ">"}, {"gte", "≥"}, {"lt", "<"}, {"lte", "≤"}, {"contains", "contains"}, {"not_contains", "does not contain"},
		{"starts_with", "starts with"}, {"in", "is one of (a, b, …)"}, {"not_in", "is none of (a, b, …)"}, {"empty", "is empty"}, {"not_empty", "is not empty"}}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	var note string
	if r.URL.Query().Get("notice") == "saved" {
		note = "Scoring saved. Every scored contact's fit and decay were recomputed."
	}
	u.render(w, r, status, "settings_scoring", view{Title: "Lead scoring", Section: "settings", S: s, D: p, Notice: note})
}

// parseScoringForm reads the posted form into rows (as typed) and a Config; it
// returns errors for inputs that are not numbers.
func parseScoringForm(r *http.Request) (scoringPage, scoring.Config, map[string]string) {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	errs := map[string]string{}
	cfg := scoring.Config{EventWeights: map[string]float64{}, FitRules: []scoring.FitRule{}}
	p := scoringPage{HalfLifeDays: v("half_life_days"), Threshold: v("mql_threshold")}
	num := func(key, s, what string) float64 {
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			errs[key] = what
			return 0
		}
		return f
	}
	days := num("half_life_days", p.HalfLifeDays, "must be a number of days, e.g. 14 or 0.5")
	cfg.HalfLifeSeconds = int64(math.Round(days * day.Seconds()))
	cfg.MQLThreshold = num("mql_threshold", p.Threshold, "must be a number of points")
	count := func(name string, limit int) int {
		n, _ := strconv.Atoi(v(name))
		return min(max(n, 0), limit)
	}
	for i := range count("ew-count", 200) {
		k := fmt.Sprintf("ew-%d", i)
		row := weightRow{Kind: v(k + "-kind"), Weight: v(k + "-weight"), New: v(k+"-new") != ""}
		if v(k+"-remove") != "" || (row.New && row.Kind == "" && row.Weight == "") {
			continue
		}
		row.Key = fmt.Sprintf("ew-%d", len(p.Weights))
		p.Weights = append(p.Weights, row)
		switch _, dup := cfg.EventWeights[row.Kind]; {
		case row.Kind == "":
			errs[row.Key+"-kind"] = "is required"
		case dup:
			errs[row.Key+"-kind"] = "is listed twice"
		}
		cfg.EventWeights[row.Kind] = num(row.Key+"-weight", row.Weight, "must be a number")
	}
	for i := range count("fit-count", 200) {
		k := fmt.Sprintf("fit-%d", i)
		row := fitRow{Field: v(k + "-field"), Op: v(k + "-op"), Value: v(k + "-value"), Points: v(k + "-points"), Label: v(k + "-label"), New: v(k+"-new") != ""}
		if v(k+"-remove") != "" || (row.New && row.Field == "" && row.Value == "" && row.Points == "" && row.Label == "") {
			continue
		}
		row.Key = fmt.Sprintf("fit-%d", len(p.Fit))
		p.Fit = append(p.Fit, row)
		var val any = row.Value
		if row.Value == "" {
			val = nil
		}
		cfg.FitRules = append(cfg.FitRules, scoring.FitRule{Field: row.Field, Op: row.Op, Value: val, Points: num(row.Key+"-points", row.Points, "must be a number of points"), Label: row.Label})
	}
	return p, cfg, errs
}

var fitErrRE = regexp.MustCompile(`^fit_rules\[(\d+)\]\.([a-z_]+)$`)

// scoringErrKey maps a scoring field error to its input.
func scoringErrKey(p scoringPage, fe *store.FieldError) (string, string) {
	switch {
	case fe.Field == "half_life_seconds":
		return "half_life_days", "must be between 1 hour (0.042 days) and 365 days"
	case fe.Field == "mql_threshold":
		return "mql_threshold", fe.Message
	case fe.Field == "event_weights":
		return "ew", fe.Message
	case fe.Field == "fit_rules":
		return "fit", fe.Message
	case strings.HasPrefix(fe.Field, "event_weights."):
		kind := strings.TrimPrefix(fe.Field, "event_weights.")
		for _, row := range p.Weights {
			if row.Kind == kind {
				if strings.HasPrefix(fe.Message, "an event kind") {
					return row.Key + "-kind", fe.Message
				}
				return row.Key + "-weight", fe.Message
			}
		}
	}
	if m := fitErrRE.FindStringSubmatch(fe.Field); m != nil {
		return "fit-" + m[1] + "-" + m[2], fe.Message
	}
	return "", humanize(fe.Field) + ": " + fe.Message
}

func (u *UI) scoringSave(w http.ResponseWriter, r *http.Request, s *session) {
	p, cfg, errs := parseScoringForm(r)
	if len(errs) == 0 {
		_, err := u.d.Scoring.SaveConfig(r.Context(), s.Actor(), cfg)
		if err == nil {
			redirect(w, r, "/settings/scoring?notice=saved")
			return
		}
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			u.fail(w, r, s, err)
			return
		}
		if k, msg := scoringErrKey(p, fe); k != "" {
			errs[k] = msg
		} else {
			p.Err = msg
		}
	}
	p.Errors = errs
	if p.Err == "" {
		p.Err = "The scoring settings were not saved. Correct the highlighted entry."
	}
	p.addBlanks()
	u.showScoring(w, r, s, http.StatusUnprocessableEntity, p)
}
