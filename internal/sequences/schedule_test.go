package sequences_test

import (
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Wait durations: days are calendar days in the contact's zone (the local clock
// time survives DST), hours are absolute.
func TestWaitDurations(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	for _, c := range []struct {
		name, dur string
		from      time.Time
		loc       *time.Location
		want      time.Time
	}{
		{"hours", "12h", time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC)},
		{"days and hours", "1d6h30m", time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 11, 14, 30, 0, 0, time.UTC)},
		// Berlin springs forward on 2026-03-29: one calendar day is 23 hours.
		{"day across spring DST", "1d", time.Date(2026, 3, 28, 9, 0, 0, 0, berlin), berlin, time.Date(2026, 3, 29, 9, 0, 0, 0, berlin)},
		// New York falls back on 2026-11-01: one calendar day is 25 hours.
		{"day across autumn DST", "1d", time.Date(2026, 10, 31, 10, 0, 0, 0, ny), ny, time.Date(2026, 11, 1, 10, 0, 0, 0, ny)},
		{"24h is absolute across DST", "24h", time.Date(2026, 3, 28, 9, 0, 0, 0, berlin), berlin, time.Date(2026, 3, 29, 10, 0, 0, 0, berlin)},
	} {
		w, err := sequences.ParseWait(c.dur)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := w.After(c.from, c.loc); !got.Equal(c.want) {
			t.Errorf("%s: %s after %s = %s, want %s", c.name, c.dur, c.from, got.In(c.loc), c.want)
		}
	}
	if got := time.Date(2026, 3, 29, 9, 0, 0, 0, berlin).Sub(time.Date(2026, 3, 28, 9, 0, 0, 0, berlin)); got != 23*time.Hour {
		t.Fatalf("test premise: Berlin's spring day is %s", got)
	}
	for _, bad := range []string{"", "0h", "soon", "-3h", "3x"} {
		if _, err := sequences.ParseWait(bad); err == nil {
			t.Errorf("ParseWait(%q) accepted", bad)
		}
	}
}

// Send windows open at local wall-clock hours of the contact's zone, skip
// disallowed days, and keep 9:00 local across DST.
func TestNextOpen(t *testing.T) {
	t.Parallel()
	berlin := mustLoc(t, "Europe/Berlin")
	tokyo := mustLoc(t, "Asia/Tokyo")
	weekdays := model.SendWindow{StartHour: 9, EndHour: 17, Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	for _, c := range []struct {
		name string
		at   time.Time
		w    model.SendWindow
		loc  *time.Location
		want time.Time
	}{
		{"inside: now", time.Date(2026, 3, 10, 11, 0, 0, 0, berlin), weekdays, berlin, time.Date(2026, 3, 10, 11, 0, 0, 0, berlin)},
		{"before opening", time.Date(2026, 3, 10, 6, 0, 0, 0, berlin), weekdays, berlin, time.Date(2026, 3, 10, 9, 0, 0, 0, berlin)},
		{"after closing: next day", time.Date(2026, 3, 10, 17, 0, 0, 0, berlin), weekdays, berlin, time.Date(2026, 3, 11, 9, 0, 0, 0, berlin)},
		{"friday evening: monday", time.Date(2026, 3, 13, 18, 0, 0, 0, berlin), weekdays, berlin, time.Date(2026, 3, 16, 9, 0, 0, 0, berlin)},
		// Saturday 28 March → Monday 30 March, after the DST switch: 9:00 CEST = 7:00 UTC.
		{"weekend across DST", time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), weekdays, berlin, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)},
		// 20:00 UTC Monday is 05:00 Tuesday in Tokyo: opens 09:00 Tokyo the same day.
		{"contact's zone, not UTC", time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC), weekdays, tokyo, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
		{"every day", time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC), model.SendWindow{StartHour: 8, EndHour: 10}, time.UTC, time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)},
	} {
		if got := sequences.NextOpen(c.at, c.w, c.loc); !got.Equal(c.want) {
			t.Errorf("%s: NextOpen(%s) = %s, want %s", c.name, c.at, got.In(c.loc), c.want.In(c.loc))
		}
	}
}
