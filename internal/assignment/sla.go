package assignment

import "time"

// Business hours: Monday to Friday, 09:00 to 17:00 in the workspace's timezone.
// Holidays are not modelled.
const (
	dayStart = 9
	dayEnd   = 17
)

// DueAt returns the moment business minutes of working time have passed since
// start, in loc: time outside business hours (nights, weekends) does not count,
// so a lead arriving on Friday at 16:30 with a 60-minute SLA is due on Monday at
// 09:30. Each day's window is built from the wall clock, so a DST change moves
// the window with the clock instead of shifting it by an hour.
func DueAt(start time.Time, minutes int, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t := start.In(loc)
	left := time.Duration(minutes) * time.Minute
	for {
		open, end := window(t)
		if t.Before(open) {
			t = open
		}
		if !t.Before(end) || !isWorkday(t) {
			t = nextOpen(t)
			continue
		}
		rest := end.Sub(t)
		if left <= rest {
			return t.Add(left).UTC()
		}
		left -= rest
		t = nextOpen(t)
	}
}

func window(t time.Time) (time.Time, time.Time) {
	y, m, d := t.Date()
	return time.Date(y, m, d, dayStart, 0, 0, 0, t.Location()), time.Date(y, m, d, dayEnd, 0, 0, 0, t.Location())
}

func isWorkday(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// nextOpen is 09:00 of the first workday after t's date.
func nextOpen(t time.Time) time.Time {
	y, m, d := t.Date()
	for i := 1; ; i++ {
		n := time.Date(y, m, d+i, dayStart, 0, 0, 0, t.Location())
		if isWorkday(n) {
			return n
		}
	}
}
