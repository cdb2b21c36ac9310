package web

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// timelineItem is one entry of a record's timeline: an activity (work done) or
// a history entry (the record changed).
type timelineItem struct {
	When     time.Time
	Kind     string // activity kind, or "history"
	Title    string
	Detail   string
	Body     string
	Actor    string
	Duration int64
	People   []string
}

// IsHistory tells the template which icon to draw.
func (t timelineItem) IsHistory() bool { return t.Kind == "history" }

const timelineLimit = 50

// timeline merges the newest activities linked to a record (by field, e.g.
// "contact_id") with the record's history, newest first.
func (u *UI) timeline(ctx context.Context, s *session, objType, linkField string, id int64) ([]timelineItem, error) {
	q, ws := u.q(s), s.WS()
	acts, err := q.ListActivities(ctx, ws, store.ListParams{
		Filters: []store.Filter{{Field: linkField, Op: "eq", Value: strconv.FormatInt(id, 10)}},
		Sort:    "-occurred_at",
		Limit:   timelineLimit,
	}, nil)
	if err != nil {
		return nil, err
	}
	hist, err := q.History(ctx, ws, objType, id)
	if err != nil {
		return nil, err
	}
	items := make([]timelineItem, 0, len(acts.Items)+len(hist))
	for _, a := range acts.Items {
		items = append(items, timelineItem{When: a.OccurredAt, Kind: a.Kind, Title: a.Subject, Body: a.Body, Duration: a.DurationMinutes, People: a.Participants})
	}
	for _, h := range hist {
		title, detail := describeHistory(objType, h)
		items = append(items, timelineItem{When: h.CreatedAt, Kind: "history", Title: title, Detail: detail, Actor: actorName(h.Actor)})
	}
	if objType == "contact" {
		evs, err := q.ContactWebEvents(ctx, ws, id, timelineLimit)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			items = append(items, webEventItem(e))
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].When.After(items[j].When) })
	return items, nil
}

// webEventItem shows a tracked page view, content view or custom event.
func webEventItem(e store.WebEvent) timelineItem {
	it := timelineItem{When: e.OccurredAt, Kind: e.Kind, Title: e.Title, Detail: e.URL}
	switch e.Kind {
	case "content_view":
		if it.Title == "" {
			it.Title = e.Name
		}
	case "custom":
		it.Title = e.Name
	}
	if it.Title == "" {
		it.Title = e.URL
	}
	return it
}

// describeHistory turns a history entry into a sentence; the detail JSON is
// whatever crm recorded, read defensively.
func describeHistory(objType string, h model.HistoryEntry) (string, string) {
	noun := objType
	var d map[string]any
	var list []any
	_ = json.Unmarshal(h.Detail, &d)
	if d == nil {
		_ = json.Unmarshal(h.Detail, &list)
	}
	switch h.Action {
	case "created":
		if st, ok := d["stage"].(string); ok {
			return humanize(noun) + " created", "in stage " + humanize(st)
		}
		return humanize(noun) + " created", ""
	case "merged":
		for _, k := range []string{"merged_email", "merged_name", "merged_domain"} {
			if v, ok := d[k].(string); ok && v != "" {
				return "Merged a duplicate", fmt.Sprintf("%s was merged into this %s", v, noun)
			}
		}
		return "Merged a duplicate", ""
	case "updated":
		var parts []string
		for _, k := range []string{"stage", "lifecycle_stage", "outcome"} {
			if pair, ok := d[k].([]any); ok && len(pair) == 2 {
				from, _ := pair[0].(string)
				to, _ := pair[1].(string)
				if from == "" {
					from = "open"
				}
				if to == "" {
					to = "open"
				}
				parts = append(parts, fmt.Sprintf("%s: %s → %s", humanize(k), humanize(from), humanize(to)))
			}
		}
		if len(parts) > 0 {
			return "Moved", strings.Join(parts, "; ")
		}
		fields := list
		if f, ok := d["fields"].([]any); ok {
			fields = f
		}
		var names []string
		for _, f := range fields {
			if s, ok := f.(string); ok {
				names = append(names, humanize(s))
			}
		}
		sort.Strings(names)
		if len(names) > 6 {
			names = append(names[:6], fmt.Sprintf("%d more", len(names)-6))
		}
		if len(names) > 0 {
			return "Edited", strings.Join(names, ", ")
		}
		return "Edited", ""
	case "form_submitted":
		title := "Filled in a form"
		if f, ok := d["form"].(string); ok && f != "" {
			title = "Filled in “" + f + "”"
		}
		var sub []string
		if utm, ok := d["utm"].(map[string]any); ok {
			for _, k := range []string{"utm_source", "utm_medium", "utm_campaign"} {
				if v, ok := utm[k].(string); ok && v != "" {
					sub = append(sub, strings.TrimPrefix(k, "utm_")+" "+v)
				}
			}
		}
		return title, strings.Join(sub, " · ")
	case "committee":
		who, _ := d["contact"].(string)
		if who == "" {
			who = "a contact"
		}
		role, _ := d["role"].(string)
		so := ""
		switch v := d["signoff"].(type) {
		case string:
			so = humanize(v)
		case []any:
			if len(v) == 2 {
				from, _ := v[0].(string)
				to, _ := v[1].(string)
				so = humanize(from) + " → " + humanize(to)
			}
		}
		return "Buying committee: " + who, strings.TrimSpace(humanize(role) + " · sign-off " + so)
	case "replied":
		if s, ok := d["subject"].(string); ok && s != "" {
			return "Replied to an email", "“" + s + "”"
		}
		return "Replied to an email", ""
	}
	return humanize(h.Action), ""
}

// activityForm is the "log activity" form on a record page; the hidden links
// attach the activity to the record (and its account, so it shows there too).
func activityForm(back string, links map[string]*int64) *form {
	f := newForm("/activities", "Log activity", "", []field{
		{Name: "kind", Label: "Type", Type: "select", Required: true, Groups: opts(model.ActivityKinds, noBlank)},
		{Name: "occurred_at", Label: "When (UTC)", Type: "datetime-local", Hint: "Empty means now."},
		{Name: "duration_minutes", Label: "Minutes", Type: "number"},
		{Name: "subject", Label: "Subject", Type: "text", Placeholder: "Discovery call with the buying group", Wide: true},
		{Name: "body", Label: "Notes", Type: "textarea", Wide: true},
		{Name: "contact_id", Type: "hidden"},
		{Name: "account_id", Type: "hidden"},
		{Name: "deal_id", Type: "hidden"},
		{Name: "back", Type: "hidden"},
	})
	f.Values["kind"] = "call"
	for k, v := range links {
		f.Values[k] = idString(v)
	}
	f.Values["back"] = back
	return f
}
