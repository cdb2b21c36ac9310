package forecast

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Effort roles beside the membership roles: FormerMember is a user who took part
// but is no longer a member of the workspace; Unattributed is an activity's time
// when no internal person is known (no owner, no participant who is a user).
const (
	FormerMember = "former_member"
	Unattributed = "unattributed"
)

// EffortRoles lists every role effort can be attributed to, in display order.
var EffortRoles = append(slices.Clone(model.Roles), FormerMember, Unattributed)

// EffortConvention says how effort is counted.
const EffortConvention = "person-minutes of the activities linked to the deal (deal_id): each activity's duration_minutes counts once for every " +
	"internal person who took part — its owner, and each participant that names a member of the workspace (their email, case-insensitive, " +
	"or user:<id>); " +
	"the same person listed twice counts once. A person's minutes go to their current role in the workspace (former_member when they " +
	"are no longer a member). Participants who are not users (contacts, outside emails) cost no internal time. An activity with no " +
	"internal person counts its duration once under unattributed."

// Effort is the time spent on one deal.
type Effort struct {
	DealID     int64  `json:"deal_id"`
	Convention string `json:"convention"`
	Activities int64  `json:"activities"`
	// TotalMinutes sums Roles (person-minutes).
	TotalMinutes int64 `json:"total_minutes"`
	// Roles has every role with time on the deal, in EffortRoles order.
	Roles  []RoleEffort   `json:"roles"`
	People []PersonEffort `json:"people"`
}

// RoleEffort is one role's time on a deal.
type RoleEffort struct {
	Role    string  `json:"role"`
	Minutes int64   `json:"minutes"`
	Hours   float64 `json:"hours"` // minutes ÷ 60, two decimals
}

// PersonEffort is one person's time on a deal.
type PersonEffort struct {
	UserID  int64   `json:"user_id"`
	Name    string  `json:"name"`
	Role    string  `json:"role"`
	Minutes int64   `json:"minutes"`
	Hours   float64 `json:"hours"`
}

// attributor resolves an activity's people.
type attributor struct {
	people  map[int64]store.Person
	byEmail map[string]int64
}

func newAttributor(people map[int64]store.Person) attributor {
	a := attributor{people: people, byEmail: make(map[string]int64, len(people))}
	for id, p := range people {
		if p.Email != "" {
			a.byEmail[strings.ToLower(p.Email)] = id
		}
	}
	return a
}

func (a attributor) user(participant string) (int64, bool) {
	s := strings.TrimSpace(participant)
	if v, ok := strings.CutPrefix(s, "user:"); ok {
		id, err := strconv.ParseInt(v, 10, 64)
		if _, known := a.people[id]; err == nil && known {
			return id, true
		}
		return 0, false
	}
	id, ok := a.byEmail[strings.ToLower(s)]
	return id, ok
}

func (a attributor) role(id int64) string {
	if r := a.people[id].Role; r != "" {
		return r
	}
	return FormerMember
}

// users lists the distinct internal people of one activity (owner first).
func (a attributor) users(x store.EffortActivity, buf []int64) []int64 {
	buf = buf[:0]
	if x.OwnerID != 0 {
		buf = append(buf, x.OwnerID)
	}
	for _, p := range x.Participants {
		if id, ok := a.user(p); ok && !slices.Contains(buf, id) {
			buf = append(buf, id)
		}
	}
	return buf
}

// DealEffort is the time spent on deal dealID of ws, by role and person.
// A deal of another workspace is store.ErrNotFound, like a missing one.
func DealEffort(ctx context.Context, q store.Q, ws, dealID int64) (Effort, error) {
	if _, err := q.GetDeal(ctx, ws, dealID); err != nil {
		return Effort{}, err
	}
	people, err := q.ForecastPeople(ctx, ws)
	if err != nil {
		return Effort{}, err
	}
	at := newAttributor(people)
	e := Effort{DealID: dealID, Convention: EffortConvention, Roles: []RoleEffort{}, People: []PersonEffort{}}
	byRole := map[string]int64{}
	byUser := map[int64]int64{}
	var buf []int64
	err = q.DealEffortActivities(ctx, ws, dealID, func(x store.EffortActivity) error {
		e.Activities++
		users := at.users(x, buf)
		if len(users) == 0 {
			byRole[Unattributed] += x.Minutes
			return nil
		}
		for _, u := range users {
			byRole[at.role(u)] += x.Minutes
			byUser[u] += x.Minutes
		}
		return nil
	})
	if err != nil {
		return Effort{}, err
	}
	var ids []int64
	for u := range byUser {
		ids = append(ids, u)
	}
	if err := addFormer(ctx, q, people, ids); err != nil {
		return Effort{}, err
	}
	for _, r := range EffortRoles {
		if m, ok := byRole[r]; ok {
			e.Roles = append(e.Roles, RoleEffort{Role: r, Minutes: m, Hours: RoundTo(float64(m)/60, 2)})
			e.TotalMinutes += m
		}
	}
	for u, m := range byUser {
		p := people[u]
		name := cmp.Or(p.Name, p.Email, "User "+strconv.FormatInt(u, 10))
		e.People = append(e.People, PersonEffort{UserID: u, Name: name, Role: at.role(u), Minutes: m, Hours: RoundTo(float64(m)/60, 2)})
	}
	slices.SortFunc(e.People, func(a, b PersonEffort) int {
		if c := cmp.Compare(b.Minutes, a.Minutes); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	return e, nil
}

// EffortByDeal is the person-minutes per role of every deal of ws that has
// activities (EffortConvention): the input of cost-to-close. Roles are
// membership roles, FormerMember or Unattributed.
func EffortByDeal(ctx context.Context, q store.Q, ws int64) (map[int64]map[string]int64, error) {
	people, err := q.ForecastPeople(ctx, ws)
	if err != nil {
		return nil, err
	}
	at := newAttributor(people)
	out := map[int64]map[string]int64{}
	var buf []int64
	err = q.DealEffortActivities(ctx, ws, 0, func(x store.EffortActivity) error {
		m := out[x.DealID]
		if m == nil {
			m = map[string]int64{}
			out[x.DealID] = m
		}
		users := at.users(x, buf)
		if len(users) == 0 {
			m[Unattributed] += x.Minutes
			return nil
		}
		for _, u := range users {
			m[at.role(u)] += x.Minutes
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
