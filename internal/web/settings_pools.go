package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The pools page: every pool with its members (their items over 30 days against
// the pool's capacity, out of office), forms to create and edit a pool, add and
// remove a member, set out of office through a date, and the SLA settings. Every
// write goes through assignment.Service, which the API calls too.

type memberView struct {
	assignment.Member
	OOODate string // the last day out of office, in the workspace's time zone
	Away    bool   // out of office now
	Full    bool   // at capacity
}

type poolView struct {
	assignment.PoolDetail
	Members    []memberView
	Edit       *form
	Open       bool // the edit form is open (it has errors)
	AddErr     string
	MemberErr  map[int64]string
	Candidates []option // workspace members not in the pool
}

type poolsPage struct {
	Pools    []poolView
	Create   *form
	SLA      *form
	Timezone string
	ReadOnly bool
}

var poolRoles = []string{model.RoleLDR, model.RoleAE, model.RoleCSM}

func poolForm(action, submit string) *form {
	return newForm(action, submit, "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "SMB LDRs"},
		{Name: "role", Label: "Role", Type: "select", Required: true, Groups: opts(poolRoles, noBlank), Hint: "Reps of this role take the pool's work."},
		{Name: "team", Label: "Team", Type: "text", Placeholder: "smb", Hint: "The team routing rules send work to."},
		{Name: "capacity", Label: "Capacity", Type: "number", Required: true, Hint: "Most items per rep over a rolling 30 days."},
		{Name: "regions", Label: "Regions", Type: "text", Placeholder: "EMEA, NA", Hint: "High-touch territory; empty covers all."},
		{Name: "industries", Label: "Industries", Type: "text", Placeholder: "Software, Retail", Hint: "Empty covers all."},
	})
}

func slaForm() *form {
	fields := []field{{Name: "timezone", Label: "Time zone", Type: "text", Required: true, Placeholder: "Europe/Berlin", Hint: "IANA name; business hours are Mon–Fri 09:00–17:00 there."}}
	for _, m := range assignment.Motions {
		fields = append(fields, field{Name: "sla_minutes." + m, Label: humanize(m) + " SLA (business minutes)", Type: "number", Required: true})
	}
	return newForm("/settings/sla", "Save SLA settings", "", fields)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// poolFromForm reads a pool form; a capacity that is not a number is a field error.
func poolFromForm(f *form) (model.Pool, bool) {
	p := model.Pool{Name: f.Values["name"], Role: f.Values["role"], Team: f.Values["team"],
		Regions: splitList(f.Values["regions"]), Industries: splitList(f.Values["industries"])}
	n, err := strconv.Atoi(f.Values["capacity"])
	if err != nil {
		f.Errors["capacity"] = "must be a whole number of items"
		return p, false
	}
	p.Capacity = n
	return p, true
}

// pageMods changes the freshly read page before it is shown: a form with
// errors replaces the one that would be shown.
type pageMods func(*poolsPage)

func (u *UI) poolsSettings(w http.ResponseWriter, r *http.Request, s *session) {
	u.showPools(w, r, s, http.StatusOK, nil)
}

func (u *UI) showPools(w http.ResponseWriter, r *http.Request, s *session, status int, mod pageMods) {
	ctx := r.Context()
	pools, err := u.d.Assignment.PoolDetails(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	st, err := u.d.Assignment.Settings(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	members, err := u.d.St.Read().WorkspaceMembers(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		loc = time.UTC
	}
	now := time.Now()
	p := poolsPage{Create: poolForm("/settings/pools", "Create pool"), SLA: slaForm(), Timezone: st.Timezone, ReadOnly: !s.CanManage}
	p.Create.Values["role"] = model.RoleLDR
	p.Create.Values["capacity"] = "40"
	p.SLA.Values["timezone"] = st.Timezone
	for m, v := range st.SLAMinutes {
		p.SLA.Values["sla_minutes."+m] = strconv.Itoa(v)
	}
	for _, pd := range pools {
		pv := poolView{PoolDetail: pd, MemberErr: map[int64]string{}}
		pv.Edit = poolForm(fmt.Sprintf("/settings/pools/%d", pd.ID), "Save pool")
		pv.Edit.Values = map[string]string{"name": pd.Name, "role": pd.Role, "team": pd.Team, "capacity": strconv.Itoa(pd.Capacity),
			"regions": strings.Join(pd.Regions, ", "), "industries": strings.Join(pd.Industries, ", ")}
		in := map[int64]bool{}
		for _, m := range pd.Members {
			in[m.UserID] = true
			mv := memberView{Member: m, Full: m.OpenItems >= pd.Capacity}
			if m.OutOfOfficeUntil != nil {
				mv.OOODate = m.OutOfOfficeUntil.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
				mv.Away = m.OutOfOfficeUntil.After(now)
			}
			pv.Members = append(pv.Members, mv)
		}
		for _, m := range members {
			if !in[m.UserID] {
				pv.Candidates = append(pv.Candidates, option{strconv.FormatInt(m.UserID, 10), m.UserEmail + " (" + roleLabel(m.Role) + ")"})
			}
		}
		p.Pools = append(p.Pools, pv)
	}
	if mod != nil {
		mod(&p)
	}
	var note string
	switch r.URL.Query().Get("notice") {
	case "created":
		note = "Pool created."
	case "saved":
		note = "Pool saved."
	case "deleted":
		note = "Pool deleted. The items it assigned keep their owners."
	case "member":
		note = "Pool member saved."
	case "removed":
		note = "Member removed from the pool."
	case "sla":
		note = "SLA settings saved. New assignments use them; running clocks keep their due times."
	}
	u.render(w, r, status, "settings_pools", view{Title: "Pools and SLAs", Section: "settings", S: s, D: p, Notice: note})
}

func (p *poolsPage) pool(id int64) *poolView {
	for i := range p.Pools {
		if p.Pools[i].ID == id {
			return &p.Pools[i]
		}
	}
	return nil
}

func (u *UI) poolCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f := poolForm("/settings/pools", "Create pool")
	f.read(r)
	pool, ok := poolFromForm(f)
	if ok {
		_, err := u.d.Assignment.CreatePool(r.Context(), s.Actor(), pool)
		if err == nil {
			redirect(w, r, "/settings/pools?notice=created")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) { p.Create = f })
}

func (u *UI) poolUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	f := poolForm(fmt.Sprintf("/settings/pools/%d", id), "Save pool")
	f.read(r)
	pool, ok := poolFromForm(f)
	if ok {
		patch := assignment.PoolPatch{Name: &pool.Name, Role: &pool.Role, Team: &pool.Team, Regions: &pool.Regions, Industries: &pool.Industries, Capacity: &pool.Capacity}
		_, err := u.d.Assignment.UpdatePool(r.Context(), s.Actor(), id, patch)
		if err == nil {
			redirect(w, r, "/settings/pools?notice=saved")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err) // a foreign or missing id is a 404 here
			return
		}
	}
	u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) {
		if pv := p.pool(id); pv != nil {
			pv.Edit, pv.Open = f, true
		}
	})
}

func (u *UI) poolDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Assignment.DeletePool(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/settings/pools?notice=deleted")
}

func (u *UI) poolMemberAdd(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	uid, perr := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("user_id")), 10, 64)
	if perr != nil || uid <= 0 {
		err = &store.FieldError{Field: "user_id", Message: "choose a member of this workspace"}
	} else {
		_, err = u.d.Assignment.SetMember(r.Context(), s.Actor(), id, uid, assignment.MemberInput{})
	}
	if err == nil {
		redirect(w, r, "/settings/pools?notice=member")
		return
	}
	msg, ok := fieldMessage(err)
	if !ok {
		u.fail(w, r, s, err)
		return
	}
	u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) {
		if pv := p.pool(id); pv != nil {
			pv.AddErr = msg
		}
	})
}

// poolMemberSet sets a member's availability: active, and out of office through
// a date (until the start of the next day in the workspace's time zone; empty
// clears it). Their territory is kept.
func (u *UI) poolMemberSet(w http.ResponseWriter, r *http.Request, s *session) {
	id, err1 := httpx.PathID(r, "id")
	uid, err2 := httpx.PathID(r, "user_id")
	if err1 != nil || err2 != nil {
		u.notFound(w, r, s)
		return
	}
	ctx := r.Context()
	pd, err := u.d.Assignment.PoolDetail(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	i := slices.IndexFunc(pd.Members, func(m assignment.Member) bool { return m.UserID == uid })
	if i < 0 {
		u.notFound(w, r, s)
		return
	}
	cur := pd.Members[i]
	active := r.PostFormValue("active") != ""
	in := assignment.MemberInput{Active: &active, Regions: cur.Regions, Industries: cur.Industries}
	if d := strings.TrimSpace(r.PostFormValue("ooo")); d != "" {
		st, err := u.d.Assignment.Settings(ctx, s.WS())
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		loc, lerr := time.LoadLocation(st.Timezone)
		if lerr != nil {
			loc = time.UTC
		}
		day, perr := time.ParseInLocation(time.DateOnly, d, loc)
		if perr != nil {
			u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) {
				if pv := p.pool(id); pv != nil {
					pv.MemberErr[uid] = "Out of office: " + strconv.Quote(d) + " is not a date (YYYY-MM-DD)"
				}
			})
			return
		}
		until := day.AddDate(0, 0, 1)
		in.OutOfOfficeUntil = &until
	}
	if _, err := u.d.Assignment.SetMember(ctx, s.Actor(), id, uid, in); err != nil {
		msg, ok := fieldMessage(err)
		if !ok {
			u.fail(w, r, s, err)
			return
		}
		u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) {
			if pv := p.pool(id); pv != nil {
				pv.MemberErr[uid] = msg
			}
		})
		return
	}
	redirect(w, r, "/settings/pools?notice=member")
}

func (u *UI) poolMemberRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id, err1 := httpx.PathID(r, "id")
	uid, err2 := httpx.PathID(r, "user_id")
	if err1 != nil || err2 != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Assignment.RemoveMember(r.Context(), s.Actor(), id, uid); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/settings/pools?notice=removed")
}

func (u *UI) slaSave(w http.ResponseWriter, r *http.Request, s *session) {
	f := slaForm()
	f.read(r)
	st := model.AssignmentSettings{Timezone: f.Values["timezone"], SLAMinutes: map[string]int{}}
	for _, m := range assignment.Motions {
		name := "sla_minutes." + m
		n, err := strconv.Atoi(f.Values[name])
		if err != nil {
			f.Errors[name] = "must be a whole number of business minutes"
			continue
		}
		st.SLAMinutes[m] = n
	}
	if len(f.Errors) == 0 {
		_, err := u.d.Assignment.SaveSettings(r.Context(), s.Actor(), st)
		if err == nil {
			redirect(w, r, "/settings/pools?notice=sla")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPools(w, r, s, http.StatusUnprocessableEntity, func(p *poolsPage) { p.SLA = f })
}

// fieldMessage is the text of a field error, for errors shown beside a row.
func fieldMessage(err error) (string, bool) {
	f := newForm("", "", "", nil)
	if !f.setError(err) {
		return "", false
	}
	return f.Err, true
}
