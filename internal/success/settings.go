package success

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// WindowInput configures a volume input (usage, engagement): the events
// counted over WindowDays, against Target events for the full points.
type WindowInput struct {
	Weight     int   `json:"weight"`
	WindowDays int   `json:"window_days"`
	Target     int64 `json:"target"`
}

// SupportInput configures open support items: Cap or more open items cost the
// full weight.
type SupportInput struct {
	Weight int   `json:"weight"`
	Cap    int64 `json:"cap"`
}

// NPSInput configures NPS: the latest response no older than MaxAgeDays counts.
type NPSInput struct {
	Weight     int `json:"weight"`
	MaxAgeDays int `json:"max_age_days"`
}

// SentimentInput configures the CSM's sentiment.
type SentimentInput struct {
	Weight int `json:"weight"`
}

// HealthSettings are a workspace's health score weights and bands. A weight of
// 0 turns an input off.
type HealthSettings struct {
	Base          int            `json:"base"`
	HealthyMin    int            `json:"healthy_min"`
	CriticalBelow int            `json:"critical_below"`
	Usage         WindowInput    `json:"usage"`
	Engagement    WindowInput    `json:"engagement"`
	Support       SupportInput   `json:"support"`
	NPS           NPSInput       `json:"nps"`
	Sentiment     SentimentInput `json:"sentiment"`
}

// DefaultHealth is what a workspace that saved nothing scores with: a neutral
// 50, usage worth the most (±25), then NPS and support (15 each), then
// engagement and sentiment (10 each).
func DefaultHealth() HealthSettings {
	return HealthSettings{
		Base: 50, HealthyMin: 70, CriticalBelow: 40,
		Usage:      WindowInput{Weight: 25, WindowDays: 30, Target: 1000},
		Engagement: WindowInput{Weight: 10, WindowDays: 30, Target: 20},
		Support:    SupportInput{Weight: 15, Cap: 5},
		NPS:        NPSInput{Weight: 15, MaxAgeDays: 365},
		Sentiment:  SentimentInput{Weight: 10},
	}
}

func fe(field, format string, a ...any) *store.FieldError {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Validate checks h; the error names the setting, e.g. "usage.window_days".
func (h HealthSettings) Validate() error {
	in := func(field string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fe(field, "must be between %d and %d, got %d", lo, hi, v)
		}
		return nil
	}
	checks := []error{
		in("base", h.Base, 0, 100),
		in("healthy_min", h.HealthyMin, 1, 100),
		in("critical_below", h.CriticalBelow, 0, 99),
		in("usage.weight", h.Usage.Weight, 0, 100),
		in("usage.window_days", h.Usage.WindowDays, 1, 365),
		in("engagement.weight", h.Engagement.Weight, 0, 100),
		in("engagement.window_days", h.Engagement.WindowDays, 1, 365),
		in("support.weight", h.Support.Weight, 0, 100),
		in("nps.weight", h.NPS.Weight, 0, 100),
		in("nps.max_age_days", h.NPS.MaxAgeDays, 1, 3650),
		in("sentiment.weight", h.Sentiment.Weight, 0, 100),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	switch {
	case h.Usage.Target < 1 || h.Usage.Target > 1_000_000_000:
		return fe("usage.target", "must be between 1 and 1000000000 events")
	case h.Engagement.Target < 1 || h.Engagement.Target > 1_000_000_000:
		return fe("engagement.target", "must be between 1 and 1000000000 events")
	case h.Support.Cap < 1 || h.Support.Cap > 10_000:
		return fe("support.cap", "must be between 1 and 10000 open items")
	case h.CriticalBelow >= h.HealthyMin:
		return fe("critical_below", "must be below healthy_min (%d)", h.HealthyMin)
	}
	return nil
}

// ChecklistItem is one step of an onboarding checklist template.
type ChecklistItem struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// Checklists are the onboarding templates per motion.
type Checklists map[string][]ChecklistItem

// Motions a template exists for, in display order.
var Motions = []string{"digital", "high_touch"}

// DefaultChecklists: every customer gets a kickoff, its admin invited, its data
// imported, a first value moment and training; a high-touch customer also gets
// an executive sponsor sync and a signed success plan.
func DefaultChecklists() Checklists {
	base := []ChecklistItem{
		{"kickoff_call", "Kickoff call held"},
		{"admin_invited", "Customer admin invited"},
		{"data_imported", "Data imported"},
		{"first_value", "First value reached"},
		{"training", "Training delivered"},
	}
	ht := append([]ChecklistItem{}, base[:1]...)
	ht = append(ht, ChecklistItem{"exec_sponsor_sync", "Executive sponsor sync"})
	ht = append(ht, base[1:]...)
	ht = append(ht, ChecklistItem{"success_plan_signed", "Success plan signed"})
	return Checklists{"digital": append([]ChecklistItem{}, base...), "high_touch": ht}
}

var itemKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

const (
	maxItems     = 30
	maxItemTitle = 200
)

// Slug makes an item key from a title: "Kick-off call" → "kick_off_call".
func Slug(title string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			if sep && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			sep = false
		default:
			sep = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	if b.Len() == 0 {
		return "item"
	}
	return b.String()
}

// Validate normalises c (trimmed titles, keys from titles where blank, every
// motion present) and checks it; the error names the element, e.g.
// "templates.high_touch[2].title".
func (c Checklists) Validate() (Checklists, error) {
	out := Checklists{}
	for m := range c {
		if !model.Contains(Motions, m) {
			return nil, fe("templates."+m, "is not a motion (digital, high_touch)")
		}
	}
	for _, m := range Motions {
		items := c[m]
		if len(items) > maxItems {
			return nil, fe("templates."+m, "at most %d items, got %d", maxItems, len(items))
		}
		seen := map[string]bool{}
		list := make([]ChecklistItem, 0, len(items))
		for i, it := range items {
			at := fmt.Sprintf("templates.%s[%d]", m, i)
			it.Title = strings.TrimSpace(it.Title)
			it.Key = strings.TrimSpace(it.Key)
			if it.Title == "" {
				return nil, fe(at+".title", "is required")
			}
			if len([]rune(it.Title)) > maxItemTitle {
				return nil, fe(at+".title", "at most %d characters", maxItemTitle)
			}
			if it.Key == "" {
				it.Key = Slug(it.Title)
			}
			if !itemKeyRE.MatchString(it.Key) {
				return nil, fe(at+".key", "%q must be lower-case letters, digits and _ (starting with a letter)", it.Key)
			}
			if seen[it.Key] {
				return nil, fe(at+".key", "%q appears twice", it.Key)
			}
			seen[it.Key] = true
			list = append(list, it)
		}
		out[m] = list
	}
	return out, nil
}

// Settings are a workspace's customer-success settings as the API shows them.
type Settings struct {
	Health            HealthSettings `json:"health"`
	Checklists        Checklists     `json:"templates"`
	HealthDefault     bool           `json:"-"`
	ChecklistsDefault bool           `json:"-"`
	UpdatedBy         string         `json:"-"`
	UpdatedAt         *time.Time     `json:"-"`
}

// LoadSettings reads ws's settings through q, the defaults for parts it never
// saved.
func LoadSettings(ctx context.Context, q store.Q, ws int64) (Settings, error) {
	s := Settings{Health: DefaultHealth(), Checklists: DefaultChecklists(), HealthDefault: true, ChecklistsDefault: true}
	raw, err := q.GetCSSettings(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if raw.Health != nil {
		h := DefaultHealth()
		if err := json.Unmarshal(raw.Health, &h); err != nil {
			return s, fmt.Errorf("success: stored health settings of workspace %d: %w", ws, err)
		}
		s.Health, s.HealthDefault = h, false
	}
	if raw.Checklists != nil {
		var c Checklists
		if err := json.Unmarshal(raw.Checklists, &c); err != nil {
			return s, fmt.Errorf("success: stored checklists of workspace %d: %w", ws, err)
		}
		s.Checklists, s.ChecklistsDefault = c, false
	}
	s.UpdatedBy = raw.UpdatedBy
	at := raw.UpdatedAt
	s.UpdatedAt = &at
	return s, nil
}

// Settings returns ws's settings.
func (s *Service) Settings(ctx context.Context, ws int64) (Settings, error) {
	return LoadSettings(ctx, s.St.Read(), ws)
}

// SaveHealthSettings validates and stores the actor's workspace's health
// settings (nil: back to the defaults), audited, and queues a recompute of
// every customer with them in the same transaction.
func (s *Service) SaveHealthSettings(ctx context.Context, act model.Actor, h *HealthSettings) (HealthSettings, error) {
	var raw json.RawMessage
	out := DefaultHealth()
	if h != nil {
		if err := h.Validate(); err != nil {
			return HealthSettings{}, err
		}
		raw, _ = json.Marshal(h)
		out = *h
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SaveCSHealthSettings(ctx, act.Workspace, raw, act.Label); err != nil {
			return err
		}
		if err := crm.Audit(ctx, q, act, "health_settings_update", "cs_settings", nil, out); err != nil {
			return err
		}
		return s.enqueueRecompute(ctx, q, act.Workspace, CauseSettings)
	})
	return out, err
}

// SaveChecklists validates and stores the actor's workspace's onboarding
// templates (nil: back to the defaults), audited. Open handoffs keep the
// checklist they were given.
func (s *Service) SaveChecklists(ctx context.Context, act model.Actor, c Checklists) (Checklists, error) {
	var raw json.RawMessage
	out := DefaultChecklists()
	if c != nil {
		var err error
		if out, err = c.Validate(); err != nil {
			return nil, err
		}
		raw, _ = json.Marshal(out)
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SaveCSChecklists(ctx, act.Workspace, raw, act.Label); err != nil {
			return err
		}
		n := map[string]int{}
		for m, items := range out {
			n[m] = len(items)
		}
		return crm.Audit(ctx, q, act, "checklists_update", "cs_settings", nil, map[string]any{"items": n})
	})
	return out, err
}
