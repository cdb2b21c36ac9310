package store

import (
	"strconv"

	"github.com/rightsize/rightsize/internal/model"
)

// Scope narrows which records of a workspace a Q reads. The zero Scope is the
// whole workspace. A confined scope (Owner set) is how the partner role reads
// (docs/security.md): only the records of one member, and every other record
// answers ErrNotFound exactly like a record of another workspace.
//
// What a confined scope sees, for owner u:
//   - contacts and deals whose owner_id is u;
//   - accounts whose owner_id is u, or that have a contact owned by u (the
//     companies of the member's leads);
//   - activities whose owner_id is u, or that are on a contact owned by u (the
//     lead's history, whoever logged it).
//
// Only the record reads honour it (Get*, List*, ContactByEmail,
// QueueCandidates); the services' hooks and aggregate reads use an unscoped Q.
type Scope struct {
	// Owner is the member whose records are visible; 0 means not confined, and
	// a negative value is confined to nothing (a partner credential without a
	// member).
	Owner int64
}

// Confined reports whether sc narrows reads at all.
func (sc Scope) Confined() bool { return sc.Owner != 0 }

// ScopeOf is the scope an actor reads and writes through: confined to the
// actor's own records for the partner role, the whole workspace otherwise.
func ScopeOf(act model.Actor) Scope {
	if act.Role != model.RolePartner {
		return Scope{}
	}
	if act.UserID == nil || *act.UserID <= 0 {
		return Scope{Owner: -1}
	}
	return Scope{Owner: *act.UserID}
}

// Scoped returns q reading through sc.
func (q Q) Scoped(sc Scope) Q {
	q.scope = sc
	return q
}

// Scope is the scope q reads through.
func (q Q) Scope() Scope { return q.scope }

// ownerCond is the SQL condition confining rows of table (named by the table
// itself, no alias) to the scope's owner, whose id is the placeholder o; ""
// when q is not confined.
func (q Q) ownerCond(table, o string) string {
	if !q.scope.Confined() {
		return ""
	}
	switch table {
	case "contacts", "deals":
		return table + ".owner_id = " + o
	case "accounts":
		return "(accounts.owner_id = " + o + " OR EXISTS (SELECT 1 FROM contacts oc WHERE oc.workspace_id = accounts.workspace_id AND oc.account_id = accounts.id AND oc.owner_id = " + o + "))"
	case "activities":
		return "(activities.owner_id = " + o + " OR EXISTS (SELECT 1 FROM contacts oc WHERE oc.workspace_id = activities.workspace_id AND oc.id = activities.contact_id AND oc.owner_id = " + o + "))"
	}
	panic("store: no owner scope for " + table)
}

// scopedOne appends the scope's condition to a single-record query whose last
// placeholder is $n, returning the query and its arguments.
func (q Q) scopedOne(query, table string, args ...any) (string, []any) {
	o := "$" + strconv.Itoa(len(args)+1)
	if c := q.ownerCond(table, o); c != "" {
		return query + " AND " + c, append(args, q.scope.Owner)
	}
	return query, args
}
