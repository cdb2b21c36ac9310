package forecast

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// The arithmetic of the reports, free of I/O so it can be checked on
// hand-computed cases (PRODUCT.md §6 worked checks).

// WinRate is won ÷ (won + lost); nil when there is nothing to divide by. Pass
// lost + no_decision as lost for the rate that counts no decision as a loss.
func WinRate(won, lost int64) *float64 {
	if won+lost <= 0 {
		return nil
	}
	r := float64(won) / float64(won+lost)
	return &r
}

// Velocity is sales velocity per day: opportunities × average deal × win rate
// ÷ cycle days (money in the unit of avgDeal). ok is false when a factor is
// unknown or the cycle is not positive.
func Velocity(opportunities int64, avgDeal, winRate, cycleDays float64) (v float64, ok bool) {
	if cycleDays <= 0 || math.IsNaN(avgDeal) || math.IsNaN(winRate) {
		return 0, false
	}
	return float64(opportunities) * avgDeal * winRate / cycleDays, true
}

// Mean is sum ÷ n; nil when n is 0.
func Mean(sum float64, n int64) *float64 {
	if n <= 0 {
		return nil
	}
	m := sum / float64(n)
	return &m
}

// Weighted100 is amount × pct in hundredths of a minor unit: sums of it stay
// exact, and Round100 turns a sum into minor units once.
func Weighted100(amount int64, pct int) int64 { return amount * int64(pct) }

// Round100 divides hundredths by 100, rounding half away from zero.
func Round100(x int64) int64 {
	if x >= 0 {
		return (x + 50) / 100
	}
	return -((-x + 50) / 100)
}

// roundRat rounds r to the nearest integer, half away from zero.
func roundRat(r *big.Rat) int64 {
	n, d := new(big.Int).Set(r.Num()), r.Denom()
	neg := n.Sign() < 0
	n.Abs(n)
	n.Mul(n, big.NewInt(2)).Add(n, d)
	n.Quo(n, new(big.Int).Mul(d, big.NewInt(2)))
	if neg {
		n.Neg(n)
	}
	return n.Int64()
}

// RoundTo rounds x to places decimals.
func RoundTo(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// Reach is how many closed deals of one pipeline got as far as each stage:
// Lost[i] counts lost and no-decision deals whose furthest stage was i; Won
// counts won deals (a won deal counts as having reached every stage).
type Reach struct {
	Won  int64
	Lost []int64
}

// Learned is the stage-to-win conversion of one stage: of the closed deals that
// reached the stage, the share won.
type Learned struct {
	Reached int64
	Won     int64
	// Rate is Won ÷ Reached; nil when fewer than the minimum sample reached it.
	Rate *float64
}

// Learn turns r into the learned probability of each stage: Reached(i) = won +
// the deals lost or undecided at stage i or later; a stage with fewer than
// minSample closed deals reaching it has no rate.
func Learn(r Reach, minSample int64) []Learned {
	out := make([]Learned, len(r.Lost))
	var later int64
	for i := len(r.Lost) - 1; i >= 0; i-- {
		later += r.Lost[i]
		l := Learned{Reached: r.Won + later, Won: r.Won}
		if l.Reached >= minSample && l.Reached > 0 {
			rate := float64(l.Won) / float64(l.Reached)
			l.Rate = &rate
		}
		out[i] = l
	}
	return out
}

// LearnedWeighted is amount × won ÷ reached, rounded to a minor unit.
func LearnedWeighted(amount int64, l Learned) int64 {
	if l.Rate == nil {
		return 0
	}
	return roundRat(new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(l.Won)), big.NewInt(l.Reached)))
}

// PeriodKey turns a YYYY-MM month into the key of its period: the month itself,
// or YYYY-Qn; "" (no date) stays "".
func PeriodKey(month, period string) string {
	if month == "" || period != "quarter" {
		return month
	}
	if len(month) < 7 {
		return month
	}
	m, err := strconv.Atoi(month[5:7])
	if err != nil || m < 1 || m > 12 {
		return month
	}
	return fmt.Sprintf("%s-Q%d", month[:4], (m-1)/3+1)
}
