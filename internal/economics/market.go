package economics

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Market sizing (PRODUCT.md §8): per segment, TAM = businesses × annual spend
// per business (or the annual spend in total when a source gives that), SAM =
// TAM × serviceable share, SOM = SAM × obtainable share.

// maxMarket bounds a market in minor units (10^18, under int64's limit).
const maxMarket = 1_000_000_000_000_000_000

// SegmentSize is one segment's market with the arithmetic that produced it.
type SegmentSize struct {
	model.MarketSegment
	// PerAccount is the annual spend per business in minor units (derived
	// when the spend is given in total).
	PerAccount float64  `json:"spend_per_account"`
	TAM        int64    `json:"tam"`
	SAM        int64    `json:"sam"`
	SOM        int64    `json:"som"`
	Arithmetic []string `json:"arithmetic"`
}

// Market is a computed market sizing.
type Market struct {
	Currency   string        `json:"currency"`
	Segments   []SegmentSize `json:"segments"`
	TAM        int64         `json:"tam"`
	SAM        int64         `json:"sam"`
	SOM        int64         `json:"som"`
	Saved      bool          `json:"saved"`
	Convention string        `json:"convention"`
	UpdatedAt  *time.Time    `json:"updated_at,omitempty"`
}

// MarketConvention says how a sizing is computed.
const MarketConvention = "Per segment: TAM = businesses × annual spend per business (or the annual spend in total, when the source gives a total; the spend per business is then derived as total ÷ businesses); " +
	"SAM = TAM × serviceable share (the part your offer can serve: your category, regions, channels); SOM = SAM × obtainable share (what you can realistically win). " +
	"Amounts are annual, in minor units of one currency, rounded to the minor unit; segment totals add up."

// ValidateMarket checks a sizing: a currency, at most 50 segments with
// distinct keys, 1–10^10 businesses each, annual spend per business or in
// total (one of the two, positive), and shares between 0 and 1.
func ValidateMarket(m *model.MarketSizing, defCurrency string) error {
	var err error
	if m.Currency, err = normCurrency("currency", m.Currency, defCurrency); err != nil {
		return err
	}
	if len(m.Segments) > 50 {
		return fieldErr("segments", "at most 50 segments")
	}
	seen := map[string]bool{}
	for i := range m.Segments {
		sg := &m.Segments[i]
		p := fmt.Sprintf("segments[%d].", i)
		sg.Segment = normKey(sg.Segment)
		if sg.Segment == "" || !keyRE.MatchString(sg.Segment) {
			return fieldErr(p+"segment", "is required: a segment key such as smb")
		}
		if seen[sg.Segment] {
			return fieldErr(p+"segment", "%s is listed twice", sg.Segment)
		}
		seen[sg.Segment] = true
		if sg.Accounts < 1 || sg.Accounts > 10_000_000_000 {
			return fieldErr(p+"accounts", "must be a count of businesses between 1 and 10^10")
		}
		switch {
		case sg.SpendPerAccount != nil && sg.SpendTotal != nil:
			return fieldErr(p+"annual_spend_total", "give the annual spend per business or in total, not both")
		case sg.SpendPerAccount == nil && sg.SpendTotal == nil:
			return fieldErr(p+"annual_spend_per_account", "is required (or annual_spend_total): what the segment spends a year, in minor units")
		case sg.SpendPerAccount != nil && (*sg.SpendPerAccount <= 0 || *sg.SpendPerAccount > maxMoney):
			return fieldErr(p+"annual_spend_per_account", "must be a positive amount in minor units, at most 10^15")
		case sg.SpendTotal != nil && (*sg.SpendTotal <= 0 || *sg.SpendTotal > maxMarket):
			return fieldErr(p+"annual_spend_total", "must be a positive amount in minor units, at most 10^18")
		}
		if err := rate(p+"serviceable_share", sg.ServiceableShare, 0, 1); err != nil {
			return err
		}
		if err := rate(p+"obtainable_share", sg.ObtainableShare, 0, 1); err != nil {
			return err
		}
		sg.Source = strings.TrimSpace(sg.Source)
		if len(sg.Source) > 500 {
			return fieldErr(p+"source", "at most 500 characters")
		}
	}
	return nil
}

// SizeMarket computes a validated sizing.
func SizeMarket(m model.MarketSizing) (Market, error) {
	out := Market{Currency: m.Currency, Segments: []SegmentSize{}, Convention: MarketConvention}
	for i, sg := range m.Segments {
		r := SegmentSize{MarketSegment: sg}
		cur := m.Currency
		if sg.SpendTotal != nil {
			r.TAM = *sg.SpendTotal
			r.PerAccount = float64(r.TAM) / float64(sg.Accounts)
			r.Arithmetic = append(r.Arithmetic,
				fmt.Sprintf("TAM = annual spend in total %s (%s businesses × %s each on average)", FormatMoney(r.TAM, cur), FormatCount(sg.Accounts), FormatMoneyF(r.PerAccount, cur)))
		} else {
			p := new(big.Int).Mul(big.NewInt(sg.Accounts), big.NewInt(*sg.SpendPerAccount))
			if !p.IsInt64() || p.Int64() > maxMarket {
				return out, fieldErr(fmt.Sprintf("segments[%d].annual_spend_per_account", i), "businesses × spend is more than 10^18 minor units")
			}
			r.TAM, r.PerAccount = p.Int64(), float64(*sg.SpendPerAccount)
			r.Arithmetic = append(r.Arithmetic, fmt.Sprintf("TAM = %s businesses × %s = %s", FormatCount(sg.Accounts), FormatMoney(*sg.SpendPerAccount, cur), FormatMoney(r.TAM, cur)))
		}
		r.SAM = roundMinor(float64(r.TAM) * sg.ServiceableShare)
		r.SOM = roundMinor(float64(r.SAM) * sg.ObtainableShare)
		r.Arithmetic = append(r.Arithmetic,
			fmt.Sprintf("SAM = TAM %s × serviceable %s = %s", FormatMoney(r.TAM, cur), Percent(sg.ServiceableShare), FormatMoney(r.SAM, cur)),
			fmt.Sprintf("SOM = SAM %s × obtainable %s = %s", FormatMoney(r.SAM, cur), Percent(sg.ObtainableShare), FormatMoney(r.SOM, cur)))
		out.TAM += r.TAM
		out.SAM += r.SAM
		out.SOM += r.SOM
		out.Segments = append(out.Segments, r)
	}
	return out, nil
}

// ArticleMarket is the source article's example: 30.2 million US SMBs (2018)
// and 684 billion USD of SMB technology spend by 2021 (IDC). The serviceable
// and obtainable shares are example assumptions to replace with your own.
func ArticleMarket() model.MarketSizing {
	total := int64(684_000_000_000) * 100
	return model.MarketSizing{Currency: "USD", Segments: []model.MarketSegment{{
		Segment: "smb", Accounts: 30_200_000, SpendTotal: &total, ServiceableShare: 0.05, ObtainableShare: 0.01,
		Source: "30.2 million US SMBs in 2018; SMB technology spend of 684 billion USD by 2021 (IDC). Serviceable 5 % and obtainable 1 % are example assumptions: replace them with yours.",
	}}}
}

// Market returns the saved sizing of ws, computed (empty and Saved false when
// there is none).
func (s *Service) Market(ctx context.Context, ws int64) (Market, error) {
	q := s.St.Read()
	m, found, err := q.MarketSizing(ctx, ws)
	if err != nil {
		return Market{}, err
	}
	if !found {
		cur, err := s.workspaceCurrency(ctx, q, ws)
		if err != nil {
			return Market{}, err
		}
		return Market{Currency: cur, Segments: []SegmentSize{}, Convention: MarketConvention}, nil
	}
	out, err := SizeMarket(m)
	if err != nil {
		return Market{}, err
	}
	out.Saved, out.UpdatedAt = true, m.UpdatedAt
	return out, nil
}

// SaveMarket validates, stores and computes the sizing of the actor's workspace.
func (s *Service) SaveMarket(ctx context.Context, act model.Actor, m model.MarketSizing) (Market, error) {
	var out Market
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		if err := ValidateMarket(&m, cur); err != nil {
			return err
		}
		if out, err = SizeMarket(m); err != nil {
			return err
		}
		if err := q.SetMarketSizing(ctx, act.Workspace, &m); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "market_sizing_update", "market_sizing", nil, map[string]any{"currency": m.Currency, "segments": len(m.Segments), "som": out.SOM})
	})
	if err != nil {
		return Market{}, err
	}
	out.Saved, out.UpdatedAt = true, m.UpdatedAt
	return out, nil
}

// FormatCount groups thousands: 30200000 → "30,200,000".
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatMoney shows minor units in major units with the currency code:
// 68400000000000 USD → "684,000,000,000.00 USD".
func FormatMoney(minor int64, cur string) string {
	d := Digits(cur)
	neg := minor < 0
	u := new(big.Int).Abs(big.NewInt(minor))
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
	q, r := new(big.Int).QuoRem(u, div, new(big.Int))
	s := FormatCount(q.Int64())
	if d > 0 {
		s += "." + fmt.Sprintf("%0*d", d, r.Int64())
	}
	if neg {
		s = "-" + s
	}
	return s + " " + cur
}

// FormatMoneyF shows a fractional amount of minor units rounded to the minor unit.
func FormatMoneyF(minor float64, cur string) string {
	if math.IsNaN(minor) || math.IsInf(minor, 0) {
		return "n/a"
	}
	return FormatMoney(roundMinor(minor), cur)
}

// Percent shows a fraction as a percentage with up to 2 decimals: 0.05 → "5 %".
func Percent(f float64) string { return trimFloat2(f*100) + " %" }

func trimFloat2(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}
