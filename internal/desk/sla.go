package desk

import (
	"context"
	"time"
)

// SLACount is a number of speed-to-lead clocks gone wrong: Overdue are untouched
// and past due now; Breached were first touched late this month.
type SLACount struct {
	Overdue  int64
	Breached int64
}

// SLA is the breach line of a rep's desk: their own items, and every item of the
// pools they are a member of (theirs included). Pools is false when they are in
// no pool.
type SLA struct {
	Mine      SLACount
	Pools     SLACount
	InPools   bool
	MonthFrom time.Time // start of the month breaches are counted from, in the workspace's timezone
}

// SLA counts userID's SLA breaches and those of their pools, from
// assignment.Service.Breaches: overdue at now, breached since the start of now's
// month in the workspace's timezone.
func (s *Service) SLA(ctx context.Context, ws, userID int64, now time.Time) (SLA, error) {
	q := s.St.Read()
	st, err := q.AssignmentSettings(ctx, ws)
	if err != nil {
		return SLA{}, err
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		loc = time.UTC
	}
	l := now.In(loc)
	out := SLA{MonthFrom: time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)}
	pools, err := q.Pools(ctx, ws, "", "")
	if err != nil {
		return SLA{}, err
	}
	mine := map[int64]bool{}
	for _, p := range pools {
		members, err := q.PoolMembers(ctx, ws, p.ID, now)
		if err != nil {
			return SLA{}, err
		}
		for _, m := range members {
			if m.UserID == userID {
				mine[p.ID] = true
				out.InPools = true
			}
		}
	}
	counts, err := s.Assignment.BreachesSince(ctx, ws, now, out.MonthFrom)
	if err != nil {
		return SLA{}, err
	}
	for _, b := range counts {
		if b.UserID == userID {
			out.Mine.Overdue += b.Overdue
			out.Mine.Breached += b.Breached
		}
		if mine[b.PoolID] {
			out.Pools.Overdue += b.Overdue
			out.Pools.Breached += b.Breached
		}
	}
	return out, nil
}
