package assignment

import (
	"testing"
	"time"
)

// Due times hand-computed against a calendar: business hours are Mon–Fri
// 09:00–17:00 local; 27 Nov 2026 is a Friday.
func TestDueAt(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name  string
		start string
		mins  int
		loc   *time.Location
		want  string
	}{
		{"within the day", "2026-11-23T10:00:00Z", 60, time.UTC, "2026-11-23T11:00:00Z"},
		{"ends exactly at close", "2026-11-27T16:00:00Z", 60, time.UTC, "2026-11-27T17:00:00Z"},
		{"friday afternoon over the weekend", "2026-11-27T16:30:00Z", 60, time.UTC, "2026-11-30T09:30:00Z"},
		{"saturday waits for monday", "2026-11-28T12:00:00Z", 60, time.UTC, "2026-11-30T10:00:00Z"},
		{"sunday night", "2026-11-29T23:59:00Z", 60, time.UTC, "2026-11-30T10:00:00Z"},
		{"after hours", "2026-11-24T18:00:00Z", 60, time.UTC, "2026-11-25T10:00:00Z"},
		{"at close counts as after hours", "2026-11-24T17:00:00Z", 60, time.UTC, "2026-11-25T10:00:00Z"},
		{"before hours", "2026-11-24T07:00:00Z", 60, time.UTC, "2026-11-24T10:00:00Z"},
		{"one business day from opening", "2026-11-23T09:00:00Z", 480, time.UTC, "2026-11-23T17:00:00Z"},
		{"one business day over a weekend", "2026-11-27T14:00:00Z", 480, time.UTC, "2026-11-30T14:00:00Z"},
		// Wed 10:00 + 2000 min: Wed 420, Thu 480, Fri 480, Mon 480 = 1860, Tue 09:00 + 140.
		{"several days", "2026-11-25T10:00:00Z", 2000, time.UTC, "2026-12-01T11:20:00Z"},
		// 21:30Z is 16:30 EST on Friday; due Monday 09:30 EST = 14:30Z.
		{"workspace timezone", "2026-11-27T21:30:00Z", 60, ny, "2026-11-30T14:30:00Z"},
		// Friday 16:30 CET (15:30Z); clocks go forward on Sunday 29 March; Monday 09:30 CEST = 07:30Z.
		{"across a DST change", "2026-03-27T15:30:00Z", 60, berlin, "2026-03-30T07:30:00Z"},
		{"nil location is UTC", "2026-11-23T10:00:00Z", 30, nil, "2026-11-23T10:30:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DueAt(utc(c.start), c.mins, c.loc)
			if !got.Equal(utc(c.want)) || got.Location() != time.UTC {
				t.Fatalf("DueAt(%s, %d) = %s, want %s", c.start, c.mins, got.Format(time.RFC3339), c.want)
			}
		})
	}
}
