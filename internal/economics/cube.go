package economics

import (
	"fmt"
	"strconv"
)

// The cube is every MRR movement of one currency summed by the segment ×
// motion cell of its customer, the customer's cohort (acquisition month) and
// the movement's month. Every MRR, churn, retention and cohort figure is a sum
// over it, so one pass over the movements (in account order, merged with the
// customers' acquisitions) feeds the whole report.

// Movement kinds in cube order; the first three add MRR, the last two remove it.
const (
	kNew = iota
	kExpansion
	kReactivation
	kContraction
	kChurn
	nKinds
)

var kindIndex = map[string]int{"new": kNew, "expansion": kExpansion, "reactivation": kReactivation, "contraction": kContraction, "churn": kChurn}

// Unassigned names a segment or motion a customer's account did not have.
const Unassigned = "unassigned"

// monthIndex is a month "YYYY-MM" as a number of months since year 0.
func monthIndex(m string) (int, error) {
	if len(m) != 7 || m[4] != '-' {
		return 0, fmt.Errorf("economics: month %q", m)
	}
	y, err1 := strconv.Atoi(m[:4])
	mo, err2 := strconv.Atoi(m[5:])
	if err1 != nil || err2 != nil || mo < 1 || mo > 12 {
		return 0, fmt.Errorf("economics: month %q", m)
	}
	return y*12 + mo - 1, nil
}

// monthBytes is monthIndex for the bytes of a month, without allocating.
func monthBytes(b string) int {
	if len(b) < 7 {
		return -1
	}
	y := int(b[0]-'0')*1000 + int(b[1]-'0')*100 + int(b[2]-'0')*10 + int(b[3]-'0')
	m := int(b[5]-'0')*10 + int(b[6]-'0')
	return y*12 + m - 1
}

// monthName is the "YYYY-MM" of a month index.
func monthName(i int) string { return fmt.Sprintf("%04d-%02d", i/12, i%12+1) }

// Cell is a segment × motion.
type Cell struct {
	Segment string `json:"segment"`
	Motion  string `json:"motion"`
}

func cellOf(segment, motion string) Cell {
	if segment == "" {
		segment = Unassigned
	}
	if motion == "" {
		motion = Unassigned
	}
	return Cell{segment, motion}
}

// agg is one month of movements: amounts (positive magnitudes) and counts by kind.
type agg struct {
	amt [nKinds]int64
	n   [nKinds]int64
}

func (a *agg) add(b *agg) {
	for k := range nKinds {
		a.amt[k] += b.amt[k]
		a.n[k] += b.n[k]
	}
}

// net is the month's signed effect on MRR.
func (a *agg) net() int64 {
	return a.amt[kNew] + a.amt[kExpansion] + a.amt[kReactivation] - a.amt[kContraction] - a.amt[kChurn]
}

// logoNet is the month's effect on the count of active customers.
func (a *agg) logoNet() int64 { return a.n[kNew] + a.n[kReactivation] - a.n[kChurn] }

// Customer is one customer as the metrics see it.
type Customer struct {
	AccountID int64
	Cohort    int // acquisition month index
	Cell      int // index into Cube.Cells
	Channel   string
	Paid      bool
	NewMRR    int64
}

// Cube holds the customers of one currency and their movements.
type Cube struct {
	Currency string
	// First and Last bound the months the cube covers (month indexes).
	First, Last int
	Cells       []Cell
	cellIdx     map[Cell]int
	Customers   []Customer
	byAccount   map[int64]int32
	ignored     map[int64]bool
	// vec[cell][cohort-First] is the months cohort..Last of that cohort in
	// that cell (nil when the cell has no customer of the cohort).
	vec [][][]agg
	// Skipped counts movements of unknown customers or dated before their
	// acquisition (inconsistent data, never expected).
	Skipped int64
}

// NewCube prepares a cube for customers acquired up to last (a month index).
func NewCube(currency string, last int) *Cube {
	return &Cube{Currency: currency, First: last, Last: last, cellIdx: map[Cell]int{}, byAccount: map[int64]int32{}}
}

// CellIndex returns the index of a cell, adding it.
func (c *Cube) CellIndex(cl Cell) int {
	i, ok := c.cellIdx[cl]
	if !ok {
		i = len(c.Cells)
		c.Cells = append(c.Cells, cl)
		c.cellIdx[cl] = i
		c.vec = append(c.vec, nil)
	}
	return i
}

// Ignore marks a customer whose movements are left out silently (another
// currency).
func (c *Cube) Ignore(accountID int64) {
	if c.ignored == nil {
		c.ignored = map[int64]bool{}
	}
	c.ignored[accountID] = true
}

// AddCustomer registers a customer before its movements are added. Customers
// acquired after Last are ignored.
func (c *Cube) AddCustomer(cu Customer) {
	if cu.Cohort > c.Last {
		return
	}
	c.byAccount[cu.AccountID] = int32(len(c.Customers))
	c.Customers = append(c.Customers, cu)
	if cu.Cohort < c.First {
		c.First = cu.Cohort
	}
}

// Finish sizes the storage once every customer is in.
func (c *Cube) Finish() {
	for i := range c.vec {
		c.vec[i] = make([][]agg, c.Last-c.First+1)
	}
}

// AddMovement adds one movement of a customer (month as "YYYY-MM").
func (c *Cube) AddMovement(accountID int64, month string, kind string, amount int64) {
	k, ok := kindIndex[kind]
	if !ok {
		k = -1
	}
	c.add(accountID, monthBytes(month), k, amount)
}

// add adds one movement: month as a month index, kind as a cube kind (-1 unknown).
func (c *Cube) add(accountID int64, m, k int, amount int64) {
	ci, ok := c.byAccount[accountID]
	if !ok || k < 0 {
		if !c.ignored[accountID] {
			c.Skipped++
		}
		return
	}
	cu := &c.Customers[ci]
	if m < cu.Cohort || m > c.Last {
		c.Skipped++
		return
	}
	v := c.vec[cu.Cell][cu.Cohort-c.First]
	if v == nil {
		v = make([]agg, c.Last-cu.Cohort+1)
		c.vec[cu.Cell][cu.Cohort-c.First] = v
	}
	a := &v[m-cu.Cohort]
	a.amt[k] += amount
	a.n[k]++
}

// series sums the cube's movements by month (First..Last) for the cells keep
// accepts (nil: all) and the cohorts in [cohortFrom, cohortTo].
func (c *Cube) series(keep func(cell int) bool, cohortFrom, cohortTo int) []agg {
	out := make([]agg, c.Last-c.First+1)
	for cell, vs := range c.vec {
		if keep != nil && !keep(cell) {
			continue
		}
		for off, v := range vs {
			co := c.First + off
			if v == nil || co < cohortFrom || co > cohortTo {
				continue
			}
			for j := range v {
				out[co-c.First+j].add(&v[j])
			}
		}
	}
	return out
}

// cohort sums one cohort's months (cohort..Last) over the cells keep accepts.
func (c *Cube) cohort(co int, keep func(cell int) bool) []agg {
	out := make([]agg, c.Last-co+1)
	if co < c.First {
		return out
	}
	for cell, vs := range c.vec {
		if keep != nil && !keep(cell) {
			continue
		}
		if v := vs[co-c.First]; v != nil {
			for j := range v {
				out[j].add(&v[j])
			}
		}
	}
	return out
}
