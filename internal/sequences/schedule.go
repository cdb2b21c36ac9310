package sequences

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

var durationRE = regexp.MustCompile(`^(?:(\d+)d)?(.*)$`)

// Wait is a parsed wait duration: Days are calendar days in the contact's time
// zone (so "1d" keeps the local clock time across a DST change), Clock is
// absolute time.
type Wait struct {
	Days  int
	Clock time.Duration
}

// ParseWait reads "3d", "12h", "1d6h30m", "45m".
func ParseWait(s string) (Wait, error) {
	s = strings.TrimSpace(s)
	m := durationRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		return Wait{}, fmt.Errorf("%q is not a duration such as 3d, 12h or 1d6h", s)
	}
	var w Wait
	if m[1] != "" {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 3650 {
			return Wait{}, fmt.Errorf("%q: too many days", s)
		}
		w.Days = n
	}
	if m[2] != "" {
		d, err := time.ParseDuration(m[2])
		if err != nil || d < 0 {
			return Wait{}, fmt.Errorf("%q is not a duration such as 3d, 12h or 1d6h", s)
		}
		w.Clock = d
	}
	if w.Days == 0 && w.Clock == 0 {
		return Wait{}, fmt.Errorf("%q is zero: leave the wait out instead", s)
	}
	return w, nil
}

// After is t plus w, counting days on the calendar of loc.
func (w Wait) After(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	if w.Days > 0 {
		y, mo, d := lt.Date()
		h, mi, sec := lt.Clock()
		lt = time.Date(y, mo, d+w.Days, h, mi, sec, lt.Nanosecond(), loc)
	}
	return lt.Add(w.Clock).UTC()
}

func validWindow(w *model.SendWindow, field string) error {
	if w.StartHour < 0 || w.StartHour > 23 {
		return &store.FieldError{Field: field + ".start_hour", Message: "must be 0 to 23"}
	}
	if w.EndHour <= w.StartHour || w.EndHour > 24 {
		return &store.FieldError{Field: field + ".end_hour", Message: "must be after start_hour and at most 24"}
	}
	for i, d := range w.Days {
		if _, ok := dayNames[strings.ToLower(d)]; !ok {
			return &store.FieldError{Field: fmt.Sprintf("%s.days[%d]", field, i), Message: fmt.Sprintf("%q is not one of mon, tue, wed, thu, fri, sat, sun", d)}
		}
	}
	return nil
}

// NextOpen is the first moment at or after t that lies inside window w in loc:
// t itself when the window is open. Hours are wall-clock hours in loc, so a
// 9:00 opening stays 9:00 local across a DST change; an opening hour that does
// not exist that day (a spring-forward gap) is moved forward by time.Date.
func NextOpen(t time.Time, w model.SendWindow, loc *time.Location) time.Time {
	allowed := map[time.Weekday]bool{}
	for _, d := range w.Days {
		allowed[dayNames[strings.ToLower(d)]] = true
	}
	lt := t.In(loc)
	y, mo, d := lt.Date()
	for i := 0; i < 8; i++ {
		open := time.Date(y, mo, d+i, w.StartHour, 0, 0, 0, loc)
		if len(allowed) > 0 && !allowed[open.Weekday()] {
			continue
		}
		end := time.Date(y, mo, d+i, w.EndHour, 0, 0, 0, loc)
		if !t.Before(open) && t.Before(end) {
			return t.UTC()
		}
		if t.Before(open) {
			return open.UTC()
		}
	}
	return t.UTC() // unreachable for a validated window: some day in 8 opens
}

// locations resolves a contact's time zone: its custom field "timezone" when it
// names a known zone, else the workspace's default (the assignment settings'
// time zone), else UTC.
type locations struct {
	cache map[string]*time.Location
	ws    map[int64]*time.Location
}

func (l *locations) of(ctx context.Context, q store.Q, ws int64, c *model.Contact) (*time.Location, error) {
	if l.cache == nil {
		l.cache, l.ws = map[string]*time.Location{}, map[int64]*time.Location{}
	}
	if c != nil {
		if name, ok := c.Custom["timezone"].(string); ok && name != "" {
			if loc, ok := l.cache[name]; ok && loc != nil {
				return loc, nil
			} else if !ok {
				loc, err := time.LoadLocation(name)
				if err != nil {
					loc = nil
				}
				l.cache[name] = loc
				if loc != nil {
					return loc, nil
				}
			}
		}
	}
	if loc, ok := l.ws[ws]; ok {
		return loc, nil
	}
	set, err := q.AssignmentSettings(ctx, ws)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(set.Timezone)
	if err != nil {
		loc = time.UTC
	}
	l.ws[ws] = loc
	return loc, nil
}
