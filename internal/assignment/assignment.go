// Package assignment hands new contacts, accounts and deals to reps (PRODUCT.md
// §2): round-robin within a pool of one role and team, skipping reps who are
// inactive, out of office, at capacity over a rolling 30 days or (for high_touch
// work) outside the territory; and it runs the speed-to-lead SLA clock, in
// business hours of the workspace's timezone. See docs/assignment.md.
package assignment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The two motions; territories apply to high_touch only.
const (
	Digital   = "digital"
	HighTouch = "high_touch"
)

// DefaultSLAMinutes is the speed-to-lead SLA per motion, in business minutes, for
// a workspace that did not set its own: an MQL in the digital funnel is first
// touched within one business hour, a high_touch account within one business day.
var DefaultSLAMinutes = map[string]int{Digital: 60, HighTouch: 8 * 60}

// Window is the rolling period capacity counts a rep's items over.
const Window = 30 * 24 * time.Hour

var objectTypes = map[string]bool{"contact": true, "account": true, "deal": true}

// ErrNobodyAvailable is wrapped by *UnavailableError.
var ErrNobodyAvailable = errors.New("nobody available")

// UnavailableError says why no rep could take an item: per pool tried, the
// reason each member was skipped. The item is not assigned; the caller decides
// whether to queue it unowned or fail.
type UnavailableError struct {
	Reasons []string
}

func (e *UnavailableError) Error() string {
	return "assignment: nobody available: " + strings.Join(e.Reasons, "; ")
}
func (e *UnavailableError) Unwrap() error { return ErrNobodyAvailable }

// Service assigns items and reads SLA breaches. Assign and MarkTouched use the
// caller's transaction; St is needed by Breaches only.
type Service struct {
	St *store.Store
	// Now is the clock pool listings count open items against (nil: time.Now).
	Now func() time.Time
}

// Request describes an item to assign. PoolID picks a pool; otherwise the pools
// of Role and Team are tried in id order. Region and Industry are the item's
// territory, used for high_touch. Now is the assignment time (the SLA clock
// starts then).
type Request struct {
	PoolID     int64
	Role       string
	Team       string
	Motion     string
	ObjectType string
	ObjectID   int64
	Region     string
	Industry   string
	Now        time.Time
}

// Assign picks the next available rep and records the assignment through q,
// which must be a write transaction: the pool row is locked (PostgreSQL) so the
// read of the cursor and its advance are one step across serve processes.
func (s *Service) Assign(ctx context.Context, q store.Q, ws int64, r Request) (model.Assignment, error) {
	if err := validate(r); err != nil {
		return model.Assignment{}, err
	}
	ids, err := s.candidatePools(ctx, q, ws, r)
	if err != nil {
		return model.Assignment{}, err
	}
	settings, err := q.AssignmentSettings(ctx, ws)
	if err != nil {
		return model.Assignment{}, err
	}
	var reasons []string
	for _, id := range ids {
		pool, err := q.LockPool(ctx, ws, id)
		if err != nil {
			return model.Assignment{}, err
		}
		if r.Motion == HighTouch && !inTerritory(pool.Regions, pool.Industries, r) {
			reasons = append(reasons, fmt.Sprintf("pool %q: outside its territory (region %q, industry %q)", pool.Name, r.Region, r.Industry))
			continue
		}
		members, err := q.PoolMembers(ctx, ws, pool.ID, r.Now.Add(-Window))
		if err != nil {
			return model.Assignment{}, err
		}
		m, why := pick(pool, members, r)
		if m == nil {
			reasons = append(reasons, fmt.Sprintf("pool %q: %s", pool.Name, why))
			continue
		}
		a, err := s.record(ctx, q, ws, pool, *m, r, settings)
		if err != nil {
			return model.Assignment{}, err
		}
		return a, nil
	}
	return model.Assignment{}, &UnavailableError{Reasons: reasons}
}

// noPool is the reason when no pool has r's role and team.
func noPool(r Request) string {
	return fmt.Sprintf("no pool for role %q and team %q", r.Role, r.Team)
}

func validate(r Request) error {
	switch {
	case r.Motion != Digital && r.Motion != HighTouch:
		return &store.FieldError{Field: "motion", Message: fmt.Sprintf("%q is not digital or high_touch", r.Motion)}
	case !objectTypes[r.ObjectType]:
		return &store.FieldError{Field: "object_type", Message: fmt.Sprintf("%q is not contact, account or deal", r.ObjectType)}
	case r.ObjectID <= 0:
		return &store.FieldError{Field: "object_id", Message: "is required"}
	case r.Now.IsZero():
		return &store.FieldError{Field: "now", Message: "is required"}
	case r.PoolID == 0 && r.Role == "":
		return &store.FieldError{Field: "pool_id", Message: "a pool or a role is required"}
	}
	return nil
}

func (s *Service) candidatePools(ctx context.Context, q store.Q, ws int64, r Request) ([]int64, error) {
	if r.PoolID != 0 {
		return []int64{r.PoolID}, nil
	}
	pools, err := q.Pools(ctx, ws, r.Role, r.Team)
	if err != nil {
		return nil, err
	}
	if len(pools) == 0 {
		return nil, &UnavailableError{Reasons: []string{noPool(r)}}
	}
	ids := make([]int64, len(pools))
	for i, p := range pools {
		ids[i] = p.ID
	}
	return ids, nil
}

// pick returns the first eligible member after the pool's cursor (members are
// ordered by user id, wrapping round), or nil and why nobody is eligible.
// Ordering by id rather than by position keeps the rotation fair when reps
// join or leave: the cursor names a rep, not a slot.
func pick(pool model.Pool, members []model.PoolMember, r Request) (*model.PoolMember, string) {
	if len(members) == 0 {
		return nil, "has no members"
	}
	var eligible []int
	var skipped []string
	for i, m := range members {
		if why := unavailable(pool, m, r); why != "" {
			skipped = append(skipped, fmt.Sprintf("user %d %s", m.UserID, why))
			continue
		}
		eligible = append(eligible, i)
	}
	if len(eligible) == 0 {
		return nil, strings.Join(skipped, ", ")
	}
	if pool.CursorUserID != nil {
		for _, i := range eligible {
			if members[i].UserID > *pool.CursorUserID {
				return &members[i], ""
			}
		}
	}
	return &members[eligible[0]], ""
}

func unavailable(pool model.Pool, m model.PoolMember, r Request) string {
	switch {
	case !m.Active:
		return "is inactive"
	case m.OutOfOfficeUntil != nil && m.OutOfOfficeUntil.After(r.Now):
		return "is out of office until " + m.OutOfOfficeUntil.UTC().Format(time.RFC3339)
	case m.OpenItems >= pool.Capacity:
		return fmt.Sprintf("is at capacity (%d of %d in 30 days)", m.OpenItems, pool.Capacity)
	case r.Motion == HighTouch && !inTerritory(m.Regions, m.Industries, r):
		return "is outside the territory"
	}
	return ""
}

// inTerritory: an empty list matches every value; otherwise the item's value must
// be listed (case-insensitive). An item with no region fails a region filter.
func inTerritory(regions, industries []string, r Request) bool {
	match := func(list []string, v string) bool {
		return len(list) == 0 || slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	return match(regions, r.Region) && match(industries, r.Industry)
}

func (s *Service) record(ctx context.Context, q store.Q, ws int64, pool model.Pool, m model.PoolMember, r Request, st model.AssignmentSettings) (model.Assignment, error) {
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		loc = time.UTC // validated on save; a zone dropped from tzdata falls back
	}
	mins := st.SLAMinutes[r.Motion]
	if mins <= 0 {
		mins = DefaultSLAMinutes[r.Motion]
	}
	now := r.Now.UTC().Truncate(time.Microsecond)
	reason := fmt.Sprintf("round-robin in pool %q (%d of %d items in 30 days)", pool.Name, m.OpenItems, pool.Capacity)
	if r.Motion == HighTouch {
		reason += fmt.Sprintf(", territory region %q industry %q", r.Region, r.Industry)
	}
	a := model.Assignment{
		PoolID: pool.ID, UserID: m.UserID, ObjectType: r.ObjectType, ObjectID: r.ObjectID, Motion: r.Motion,
		Reason:     fmt.Sprintf("%s; first touch due within %d business minutes", reason, mins),
		AssignedAt: now,
		SLADueAt:   DueAt(now, mins, loc),
	}
	if err := q.InsertAssignment(ctx, ws, &a); err != nil {
		return model.Assignment{}, err
	}
	if err := q.SetPoolCursor(ctx, ws, pool.ID, m.UserID); err != nil {
		return model.Assignment{}, err
	}
	return a, nil
}

// MarkTouched records the first touch of an object (a call, an email): it stops
// the SLA clock of its untouched assignments, counting a touch after the due
// time as a breach. Later touches change nothing. It returns how many clocks it
// stopped.
func (s *Service) MarkTouched(ctx context.Context, q store.Q, ws int64, objectType string, objectID int64, at time.Time) (int64, error) {
	if !objectTypes[objectType] {
		return 0, &store.FieldError{Field: "object_type", Message: fmt.Sprintf("%q is not contact, account or deal", objectType)}
	}
	return q.TouchAssignments(ctx, ws, objectType, objectID, at.Truncate(time.Microsecond))
}

// Breaches counts, per pool and rep of ws, items touched late and items still
// untouched past their due time at now.
func (s *Service) Breaches(ctx context.Context, ws int64, now time.Time) ([]model.BreachCount, error) {
	return s.St.Read().BreachCounts(ctx, ws, now)
}
