package routing_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

var benchRows = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("RIGHTSIZE_BENCH_ROWS"), &n); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// benchAccounts makes n accounts spread over every default segment, some without
// an employee count, with region, industry and a custom tier.
func benchAccounts(n int) []model.Account {
	regions := []string{"EMEA", "NA", "APAC", "LATAM", ""}
	industries := []string{"Software", "Retail", "Manufacturing", "Financial Services"}
	tiers := []string{"gold", "silver", "bronze"}
	out := make([]model.Account, n)
	for i := range out {
		a := model.Account{Name: fmt.Sprintf("Account %d", i), Currency: "USD", Region: regions[i%5], Industry: industries[i%4], Custom: model.Custom{"tier": tiers[i%3], "seats": float64(i % 50)}}
		if i%10 != 0 {
			emp := int64((i * 7919) % 5000)
			rev := emp * 150_000_00
			a.Employees, a.AnnualRevenue = &emp, &rev
		}
		out[i] = a
	}
	return out
}

// richRules is a realistic custom rule set: several conditions per rule, custom
// fields, and routing split by region.
func richRules(b *testing.B) *routing.Ruleset {
	b.Helper()
	set, err := routing.Validate(routing.RuleSet{
		SegmentRules: []model.SegmentRule{
			{Segment: "strategic", Conditions: []routing.Condition{cond("custom.tier", "eq", "gold"), cond("employees", "gte", 2000)}},
			{Segment: "enterprise", Conditions: []routing.Condition{cond("annual_revenue", "gte", 100_000_000_00)}},
			{Segment: "enterprise", Conditions: []routing.Condition{cond("employees", "gte", 1000)}},
			{Segment: "mid_market", Conditions: []routing.Condition{cond("employees", "gte", 100), cond("industry", "in", []any{"software", "financial services"})}},
			{Segment: "mid_market", Conditions: []routing.Condition{cond("employees", "gte", 250)}},
			{Segment: "smb", Conditions: []routing.Condition{cond("employees", "empty", false)}},
			catchAll("unknown"),
		},
		RoutingRules: []model.RoutingRule{
			{Segment: "strategic", Motion: "high_touch", Policy: "owner_keeps"},
			{Segment: "enterprise", Conditions: []routing.Condition{cond("region", "in", []any{"EMEA", "APAC"})}, Motion: "high_touch", Team: "intl", Policy: "territory"},
			{Segment: "enterprise", Motion: "high_touch", Team: "na", Policy: "territory"},
			{Segment: "mid_market", Conditions: []routing.Condition{cond("custom.seats", "gt", 40)}, Motion: "high_touch", Team: "mm"},
			anyRoute("digital"),
		},
	}, map[string]string{"tier": "enum", "seats": "number"})
	if err != nil {
		b.Fatal(err)
	}
	rs, err := routing.Compile(set.SegmentRules, set.RoutingRules)
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

// BenchmarkEvaluate routes 100,000 accounts per iteration (decision, inputs and
// reason included; no I/O). Run with
//
//	go test ./internal/routing -run '^$' -bench Evaluate -benchtime 5x
func BenchmarkEvaluate(b *testing.B) {
	accts := benchAccounts(benchRows)
	for _, c := range []struct {
		name  string
		rules func(*testing.B) *routing.Ruleset
	}{{"defaults", func(b *testing.B) *routing.Ruleset { rs, _ := routing.Compile(nil, nil); return rs }}, {"rich", richRules}} {
		b.Run(c.name, func(b *testing.B) {
			rs := c.rules(b)
			segs := map[string]int{}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i := range accts {
					d := rs.Evaluate(&accts[i], nil)
					if d.Motion == "" {
						b.Fatal(d.Reason)
					}
					segs[d.Segment]++
				}
			}
			b.ReportMetric(float64(len(accts))*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
			if len(segs) < 4 {
				b.Fatalf("segments %v", segs)
			}
		})
	}
}

func accountsCSV(accts []model.Account) []byte {
	var b bytes.Buffer
	b.WriteString("Name,Domain,Employees,Region,Industry\n")
	for i, a := range accts {
		emp := ""
		if a.Employees != nil {
			emp = fmt.Sprint(*a.Employees)
		}
		fmt.Fprintf(&b, "%s,company%d.example,%s,%s,%s\n", a.Name, i, emp, a.Region, a.Industry)
	}
	return b.Bytes()
}

// BenchmarkImportRouted imports 100,000 accounts end to end with and without
// routing (each routed account stores its first decision). Run with
//
//	go test ./internal/routing -run '^$' -bench ImportRouted -benchtime 1x
func BenchmarkImportRouted(b *testing.B) {
	data := accountsCSV(benchAccounts(benchRows))
	for _, kind := range storetest.Kinds(b) {
		for _, routed := range []bool{false, true} {
			name := string(kind) + "/unrouted"
			if routed {
				name = string(kind) + "/routed"
			}
			b.Run(name, func(b *testing.B) {
				st := storetest.New(b, kind)
				ctx := context.Background()
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					w := model.Workspace{Name: "bench", Slug: fmt.Sprintf("bench-%d", i)}
					if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
						b.Fatal(err)
					}
					svc := &importer.Service{St: st}
					if routed {
						svc.Router = &routing.Service{St: st}
					}
					act := model.Actor{Workspace: w.ID, Label: "bench"}
					b.StartTimer()
					im, err := svc.CreateLocal(ctx, act, "accounts", "bench.csv", bytes.NewReader(data), importer.Options{})
					if err != nil {
						b.Fatal(err)
					}
					if im, err = svc.Run(ctx, w.ID, im.ID, nil); err != nil {
						b.Fatal(err)
					}
					if im.Accepted != int64(benchRows) {
						b.Fatalf("%+v", im)
					}
				}
				b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
			})
		}
	}
}
