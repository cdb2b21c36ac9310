package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Unit economics inputs (docs/economics.md): the spend ledger and its allocation
// rules, cost profiles and headcount, the economics settings, market sizing and
// staffing scenarios. Validation lives in internal/economics and
// internal/staffing; these methods store what they were given, scoped by
// workspace like every other record.

const spendCols = `id, month, amount, currency, category, channel, segment, motion, note, external_id, created_at, updated_at`

func scanSpend(r rowScanner) (model.SpendEntry, error) {
	var e model.SpendEntry
	var ext sql.NullString
	var c, u dbTime
	err := r.Scan(&e.ID, &e.Month, &e.Amount, &e.Currency, &e.Category, &e.Channel, &e.Segment, &e.Motion, &e.Note, &ext, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("store: spend: %w", err)
	}
	e.ExternalID, e.CreatedAt, e.UpdatedAt = str(ext), c.T, u.T
	e.Attribution = model.AttributionRule
	if e.Segment != "" {
		e.Attribution = model.AttributionExplicit
	}
	return e, nil
}

// CreateSpend inserts a spend entry of ws. A taken external id is a
// ConflictError on external_id.
func (q Q) CreateSpend(ctx context.Context, ws int64, e *model.SpendEntry) error {
	now := Now()
	e.CreatedAt, e.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO spend_entries (workspace_id, month, amount, currency, category, channel, segment, motion, note, external_id, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING id`,
		ws, e.Month, e.Amount, e.Currency, e.Category, e.Channel, e.Segment, e.Motion, e.Note, nullStr(e.ExternalID), now).Scan(&e.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "external_id"}
		}
		return wrapWrite("create spend", err)
	}
	return nil
}

// GetSpend returns one spend entry of ws.
func (q Q) GetSpend(ctx context.Context, ws, id int64) (model.SpendEntry, error) {
	return scanSpend(q.db.QueryRowContext(ctx, `SELECT `+spendCols+` FROM spend_entries WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// UpdateSpend replaces every field of a spend entry of ws.
func (q Q) UpdateSpend(ctx context.Context, ws int64, e *model.SpendEntry) error {
	now := Now()
	res, err := q.db.ExecContext(ctx, `UPDATE spend_entries SET month=$3, amount=$4, currency=$5, category=$6, channel=$7, segment=$8, motion=$9, note=$10, external_id=$11, updated_at=$12
		WHERE workspace_id=$1 AND id=$2`, ws, e.ID, e.Month, e.Amount, e.Currency, e.Category, e.Channel, e.Segment, e.Motion, e.Note, nullStr(e.ExternalID), now)
	if err != nil && isUnique(err) {
		return &ConflictError{Field: "external_id"}
	}
	if err := affected(res, err, "update spend"); err != nil {
		return err
	}
	e.UpdatedAt = now
	return nil
}

// DeleteSpend removes a spend entry of ws.
func (q Q) DeleteSpend(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM spend_entries WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete spend")
}

// SpendFilter narrows ListSpend. Months are "YYYY-MM" and inclusive; "" leaves
// a bound open. After* is the keyset cursor (entries before it in the order
// month desc, id desc); Limit 0 lists everything.
type SpendFilter struct {
	From, To          string
	Category, Channel string
	AfterMonth        string
	AfterID           int64
	Limit             int
}

// ListSpend lists spend entries of ws, newest month first.
func (q Q) ListSpend(ctx context.Context, ws int64, f SpendFilter) ([]model.SpendEntry, error) {
	query := `SELECT ` + spendCols + ` FROM spend_entries WHERE workspace_id=$1
		AND ($2 = '' OR month >= $2) AND ($3 = '' OR month <= $3) AND ($4 = '' OR category = $4) AND ($5 = '' OR channel = $5)
		AND ($6 = '' OR month < $6 OR (month = $6 AND id < $7))
		ORDER BY month DESC, id DESC`
	args := []any{ws, f.From, f.To, f.Category, f.Channel, f.AfterMonth, f.AfterID}
	if f.Limit > 0 {
		query += ` LIMIT $8`
		args = append(args, f.Limit)
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list spend: %w", err)
	}
	defer rows.Close()
	out := []model.SpendEntry{}
	for rows.Next() {
		e, err := scanSpend(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SpendByExternalID maps the external ids of ws's spend entries to the
// entries: an import merges a row into the entry its external id names.
func (q Q) SpendByExternalID(ctx context.Context, ws int64) (map[string]model.SpendEntry, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+spendCols+` FROM spend_entries WHERE workspace_id=$1 AND external_id IS NOT NULL`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: spend by external id: %w", err)
	}
	defer rows.Close()
	out := map[string]model.SpendEntry{}
	for rows.Next() {
		e, err := scanSpend(rows)
		if err != nil {
			return nil, err
		}
		out[e.ExternalID] = e
	}
	return out, rows.Err()
}

// AllocationRules returns the spend allocation rules of ws.
func (q Q) AllocationRules(ctx context.Context, ws int64) ([]model.AllocationRule, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, category, channel, shares FROM spend_allocation_rules WHERE workspace_id=$1 ORDER BY id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: allocation rules: %w", err)
	}
	defer rows.Close()
	out := []model.AllocationRule{}
	for rows.Next() {
		var r model.AllocationRule
		var shares jsonText
		if err := rows.Scan(&r.ID, &r.Category, &r.Channel, &shares); err != nil {
			return nil, fmt.Errorf("store: allocation rules: %w", err)
		}
		if err := jsonUnmarshal(shares, &r.Shares); err != nil {
			return nil, fmt.Errorf("store: allocation rule %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceAllocationRules replaces every allocation rule of ws with rules (in
// the caller's transaction, so a failure keeps the old set).
func (q Q) ReplaceAllocationRules(ctx context.Context, ws int64, rules []model.AllocationRule) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM spend_allocation_rules WHERE workspace_id=$1`, ws); err != nil {
		return fmt.Errorf("store: replace allocation rules: %w", err)
	}
	now := Now()
	for i := range rules {
		r := &rules[i]
		err := q.db.QueryRowContext(ctx, `INSERT INTO spend_allocation_rules (workspace_id, category, channel, shares, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
			ws, r.Category, r.Channel, encodeJSON(r.Shares), now).Scan(&r.ID)
		if err != nil {
			if isUnique(err) {
				return &FieldError{Field: fmt.Sprintf("rules[%d]", i), Message: "another rule has the same category and channel"}
			}
			return wrapWrite("insert allocation rule", err)
		}
	}
	return nil
}

const costProfileCols = `id, name, role, currency, base_salary, loaded_multiplier, employer_tax_rate, benefits_rate, training_rate,
	office, phone, internet, software, recruiting, variable_pay, time_split, split_from_activities, created_at, updated_at`

func floatPtr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func scanCostProfile(r rowScanner) (model.CostProfile, error) {
	var p model.CostProfile
	var mult, tax, ben, train sql.NullFloat64
	var split jsonText
	var c, u dbTime
	err := r.Scan(&p.ID, &p.Name, &p.Role, &p.Currency, &p.BaseSalary, &mult, &tax, &ben, &train,
		&p.Office, &p.Phone, &p.Internet, &p.Software, &p.Recruiting, &p.VariablePay, &split, &p.SplitFromActivities, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: cost profile: %w", err)
	}
	p.LoadedMultiplier, p.EmployerTaxRate, p.BenefitsRate, p.TrainingRate = floatPtr(mult), floatPtr(tax), floatPtr(ben), floatPtr(train)
	p.TimeSplit = map[string]float64{}
	if err := jsonUnmarshal(split, &p.TimeSplit); err != nil {
		return p, fmt.Errorf("store: cost profile %d: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = c.T, u.T
	return p, nil
}

func costProfileArgs(p *model.CostProfile) []any {
	return []any{p.Name, p.Role, p.Currency, p.BaseSalary, nullFloat(p.LoadedMultiplier), nullFloat(p.EmployerTaxRate), nullFloat(p.BenefitsRate), nullFloat(p.TrainingRate),
		p.Office, p.Phone, p.Internet, p.Software, p.Recruiting, p.VariablePay, encodeJSON(p.TimeSplit), p.SplitFromActivities}
}

// CreateCostProfile inserts a cost profile of ws; a taken name is a
// ConflictError on name.
func (q Q) CreateCostProfile(ctx context.Context, ws int64, p *model.CostProfile) error {
	now := Now()
	p.CreatedAt, p.UpdatedAt = now, now
	args := append([]any{ws}, costProfileArgs(p)...)
	args = append(args, now)
	err := q.db.QueryRowContext(ctx, `INSERT INTO cost_profiles (workspace_id, name, role, currency, base_salary, loaded_multiplier, employer_tax_rate, benefits_rate, training_rate,
		office, phone, internet, software, recruiting, variable_pay, time_split, split_from_activities, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$18) RETURNING id`, args...).Scan(&p.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create cost profile", err)
	}
	return nil
}

// GetCostProfile returns one cost profile of ws.
func (q Q) GetCostProfile(ctx context.Context, ws, id int64) (model.CostProfile, error) {
	return scanCostProfile(q.db.QueryRowContext(ctx, `SELECT `+costProfileCols+` FROM cost_profiles WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// CostProfiles lists the cost profiles of ws by role, then name.
func (q Q) CostProfiles(ctx context.Context, ws int64) ([]model.CostProfile, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+costProfileCols+` FROM cost_profiles WHERE workspace_id=$1 ORDER BY role, name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: cost profiles: %w", err)
	}
	defer rows.Close()
	out := []model.CostProfile{}
	for rows.Next() {
		p, err := scanCostProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateCostProfile replaces every field of a cost profile of ws.
func (q Q) UpdateCostProfile(ctx context.Context, ws int64, p *model.CostProfile) error {
	now := Now()
	args := append([]any{ws, p.ID}, costProfileArgs(p)...)
	args = append(args, now)
	res, err := q.db.ExecContext(ctx, `UPDATE cost_profiles SET name=$3, role=$4, currency=$5, base_salary=$6, loaded_multiplier=$7, employer_tax_rate=$8, benefits_rate=$9, training_rate=$10,
		office=$11, phone=$12, internet=$13, software=$14, recruiting=$15, variable_pay=$16, time_split=$17, split_from_activities=$18, updated_at=$19
		WHERE workspace_id=$1 AND id=$2`, args...)
	if err != nil && isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	if err := affected(res, err, "update cost profile"); err != nil {
		return err
	}
	p.UpdatedAt = now
	return nil
}

// DeleteCostProfile removes a cost profile of ws and its headcount.
func (q Q) DeleteCostProfile(ctx context.Context, ws, id int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM cost_headcount WHERE workspace_id=$1 AND profile_id=$2`, ws, id); err != nil {
		return fmt.Errorf("store: delete headcount: %w", err)
	}
	res, err := q.db.ExecContext(ctx, `DELETE FROM cost_profiles WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete cost profile")
}

// Headcounts lists the headcount of ws's profiles in the months from..to
// (inclusive, "YYYY-MM"; "" leaves a bound open), by profile and month.
// profileID 0 lists every profile.
func (q Q) Headcounts(ctx context.Context, ws, profileID int64, from, to string) ([]model.Headcount, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT profile_id, month, headcount FROM cost_headcount
		WHERE workspace_id=$1 AND ($2 = 0 OR profile_id = $2) AND ($3 = '' OR month >= $3) AND ($4 = '' OR month <= $4)
		ORDER BY profile_id, month`, ws, profileID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: headcount: %w", err)
	}
	defer rows.Close()
	out := []model.Headcount{}
	for rows.Next() {
		var h model.Headcount
		if err := rows.Scan(&h.ProfileID, &h.Month, &h.Headcount); err != nil {
			return nil, fmt.Errorf("store: headcount: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetHeadcount stores the headcount of a profile of ws for the months given;
// a headcount of 0 removes the month. The profile must belong to ws.
func (q Q) SetHeadcount(ctx context.Context, ws, profileID int64, hs []model.Headcount) error {
	if _, err := q.GetCostProfile(ctx, ws, profileID); err != nil {
		return err
	}
	for _, h := range hs {
		var err error
		if h.Headcount == 0 {
			_, err = q.db.ExecContext(ctx, `DELETE FROM cost_headcount WHERE workspace_id=$1 AND profile_id=$2 AND month=$3`, ws, profileID, h.Month)
		} else {
			_, err = q.db.ExecContext(ctx, `INSERT INTO cost_headcount (workspace_id, profile_id, month, headcount) VALUES ($1,$2,$3,$4)
				ON CONFLICT (workspace_id, profile_id, month) DO UPDATE SET headcount=excluded.headcount`, ws, profileID, h.Month, h.Headcount)
		}
		if err != nil {
			return wrapWrite("set headcount", err)
		}
	}
	return nil
}

// EconomicsSettingsJSON returns the stored economics settings of ws (nil when
// the workspace never changed a default) and when they were saved.
func (q Q) EconomicsSettingsJSON(ctx context.Context, ws int64) ([]byte, *time.Time, error) {
	var raw jsonText
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT settings, updated_at FROM economics_settings WHERE workspace_id=$1`, ws).Scan(&raw, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: economics settings: %w", err)
	}
	return []byte(raw), at.ptr(), nil
}

// SetEconomicsSettingsJSON stores the economics settings of ws.
func (q Q) SetEconomicsSettingsJSON(ctx context.Context, ws int64, raw []byte) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO economics_settings (workspace_id, settings, updated_at) VALUES ($1,$2,$3)
		ON CONFLICT (workspace_id) DO UPDATE SET settings=excluded.settings, updated_at=excluded.updated_at`, ws, string(raw), Now())
	if err != nil {
		return wrapWrite("set economics settings", err)
	}
	return nil
}

// MarketSizing returns the saved market sizing of ws; found is false when
// there is none.
func (q Q) MarketSizing(ctx context.Context, ws int64) (m model.MarketSizing, found bool, err error) {
	var segs jsonText
	var at dbTime
	err = q.db.QueryRowContext(ctx, `SELECT currency, segments, updated_at FROM market_sizing WHERE workspace_id=$1`, ws).Scan(&m.Currency, &segs, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("store: market sizing: %w", err)
	}
	m.Segments = []model.MarketSegment{}
	if err := jsonUnmarshal(segs, &m.Segments); err != nil {
		return m, false, fmt.Errorf("store: market sizing: %w", err)
	}
	m.UpdatedAt = at.ptr()
	return m, true, nil
}

// SetMarketSizing stores the market sizing of ws.
func (q Q) SetMarketSizing(ctx context.Context, ws int64, m *model.MarketSizing) error {
	now := Now()
	if m.Segments == nil {
		m.Segments = []model.MarketSegment{}
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO market_sizing (workspace_id, currency, segments, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (workspace_id) DO UPDATE SET currency=excluded.currency, segments=excluded.segments, updated_at=excluded.updated_at`,
		ws, m.Currency, encodeJSON(m.Segments), now)
	if err != nil {
		return wrapWrite("set market sizing", err)
	}
	m.UpdatedAt = &now
	return nil
}

// StaffingScenario is a stored staffing scenario; internal/staffing owns the
// meaning of Params.
type StaffingScenario struct {
	ID        int64
	Name      string
	Kind      string
	Params    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

func scanScenario(r rowScanner) (StaffingScenario, error) {
	var s StaffingScenario
	var params jsonText
	var c, u dbTime
	err := r.Scan(&s.ID, &s.Name, &s.Kind, &params, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: staffing scenario: %w", err)
	}
	s.Params, s.CreatedAt, s.UpdatedAt = json.RawMessage(params), c.T, u.T
	return s, nil
}

// CreateStaffingScenario inserts a scenario of ws; a taken name is a
// ConflictError on name.
func (q Q) CreateStaffingScenario(ctx context.Context, ws int64, s *StaffingScenario) error {
	now := Now()
	s.CreatedAt, s.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO staffing_scenarios (workspace_id, name, kind, params, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$5) RETURNING id`,
		ws, s.Name, s.Kind, string(s.Params), now).Scan(&s.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create staffing scenario", err)
	}
	return nil
}

// GetStaffingScenario returns one scenario of ws.
func (q Q) GetStaffingScenario(ctx context.Context, ws, id int64) (StaffingScenario, error) {
	return scanScenario(q.db.QueryRowContext(ctx, `SELECT id, name, kind, params, created_at, updated_at FROM staffing_scenarios WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// StaffingScenarios lists the scenarios of ws in creation order.
func (q Q) StaffingScenarios(ctx context.Context, ws int64) ([]StaffingScenario, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, name, kind, params, created_at, updated_at FROM staffing_scenarios WHERE workspace_id=$1 ORDER BY id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: staffing scenarios: %w", err)
	}
	defer rows.Close()
	out := []StaffingScenario{}
	for rows.Next() {
		s, err := scanScenario(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// UpdateStaffingScenario replaces the name, kind and inputs of a scenario of ws.
func (q Q) UpdateStaffingScenario(ctx context.Context, ws int64, s *StaffingScenario) error {
	now := Now()
	res, err := q.db.ExecContext(ctx, `UPDATE staffing_scenarios SET name=$3, kind=$4, params=$5, updated_at=$6 WHERE workspace_id=$1 AND id=$2`,
		ws, s.ID, s.Name, s.Kind, string(s.Params), now)
	if err != nil && isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	if err := affected(res, err, "update staffing scenario"); err != nil {
		return err
	}
	s.UpdatedAt = now
	return nil
}

// DeleteStaffingScenario removes a scenario of ws.
func (q Q) DeleteStaffingScenario(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM staffing_scenarios WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete staffing scenario")
}

// RoleMinutes is logged activity time of one membership role in one month on
// accounts of one motion ("" when the activity reaches no account with a
// motion).
type RoleMinutes struct {
	Role    string
	Month   string
	Motion  string
	Minutes int64
}

// ActivityMinutesByMotion sums the duration of ws's activities that occurred in
// [from, to) by their owner's role in ws, month (UTC) and the motion of the
// account they concern: the activity's account, else its deal's account, else
// its contact's account. Activities without an owner are not counted.
func (q Q) ActivityMinutesByMotion(ctx context.Context, ws int64, from, to time.Time) ([]RoleMinutes, error) {
	month := `substr(a.occurred_at, 1, 7)`
	if q.kind == Postgres {
		month = `to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	rows, err := q.db.QueryContext(ctx, `SELECT m.role, `+month+` AS mon, COALESCE(NULLIF(ac.motion, ''), NULLIF(dac.motion, ''), NULLIF(cac.motion, ''), '') AS mot, SUM(a.duration_minutes)
		FROM activities a
		JOIN memberships m ON m.workspace_id = a.workspace_id AND m.user_id = a.owner_id
		LEFT JOIN accounts ac ON ac.workspace_id = a.workspace_id AND ac.id = a.account_id
		LEFT JOIN deals d ON d.workspace_id = a.workspace_id AND d.id = a.deal_id
		LEFT JOIN accounts dac ON dac.workspace_id = a.workspace_id AND dac.id = d.account_id
		LEFT JOIN contacts c ON c.workspace_id = a.workspace_id AND c.id = a.contact_id
		LEFT JOIN accounts cac ON cac.workspace_id = a.workspace_id AND cac.id = c.account_id
		WHERE a.workspace_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND a.duration_minutes > 0
		GROUP BY 1, 2, 3
		ORDER BY 1, 2, 3`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: activity minutes: %w", err)
	}
	defer rows.Close()
	var out []RoleMinutes
	for rows.Next() {
		var r RoleMinutes
		if err := rows.Scan(&r.Role, &r.Month, &r.Motion, &r.Minutes); err != nil {
			return nil, fmt.Errorf("store: activity minutes: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
