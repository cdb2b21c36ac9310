package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

// positionalLast moves a leading positional argument behind the flags, so
// "import spend file.csv --workspace acme" parses like "--workspace acme file.csv".
func positionalLast(args []string) []string {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return append(append([]string{}, args[1:]...), args[0])
	}
	return args
}

// runImportSpend imports a spend CSV at once (docs/economics.md) and prints
// its reconciliation.
func runImportSpend(ctx context.Context, e *env, args []string) error {
	fs := e.flags("import spend", "import spend file.csv --workspace slug [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	file := fs.String("file", "", "the spend CSV (or give it as the argument)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := config.Load(fs, &cfg, positionalLast(args)); err != nil {
		return err
	}
	if *file == "" {
		*file = fs.Arg(0)
	}
	if *file == "" || fs.NArg() > 1 {
		return usagef("give one spend CSV file: rightsize import spend file.csv --workspace slug")
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := workspaceBySlug(ctx, a, *wsSlug)
	if err != nil {
		return err
	}
	rep, err := a.Econ.ImportSpend(ctx, cliActor(w.ID), filepath.Base(*file), f)
	var fe *economics.FileError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: %s (nothing imported)", filepath.Base(*file), fe.Error())
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(rep)
	}
	fmt.Fprintf(e.stdout, "Spend import %s\n", rep.Filename)
	fmt.Fprintf(e.stdout, "  rows %d = accepted %d + merged %d + rejected %d", rep.Rows, rep.Accepted, rep.Merged, rep.Rejected)
	if rep.Reconciles {
		fmt.Fprintln(e.stdout, " (reconciled)")
	} else {
		fmt.Fprintln(e.stdout, " (NOT reconciled)")
	}
	if len(rep.IgnoredColumns) > 0 {
		fmt.Fprintf(e.stdout, "  columns not used: %s\n", strings.Join(rep.IgnoredColumns, ", "))
	}
	for i, er := range rep.Errors {
		if i == 20 {
			fmt.Fprintf(e.stdout, "  … and %d more (--json lists up to 1,000)\n", rep.Rejected-20)
			break
		}
		fmt.Fprintf(e.stdout, "  line %d:%d %s: %s\n", er.Line, er.Column, er.Field, er.Reason)
	}
	return nil
}

// economicsReport is what `rightsize economics --json` prints: the inputs,
// the metrics (the API's GET /api/v1/economics/metrics) and the staffing
// comparison.
type economicsReport struct {
	Workspace string              `json:"workspace"`
	From      string              `json:"from"`
	To        string              `json:"to"`
	Inputs    economics.Inputs    `json:"inputs"`
	Metrics   economics.Metrics   `json:"metrics"`
	Staffing  staffing.Comparison `json:"staffing"`
}

func runEconomics(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "partner-statement" {
		return runPartnerStatement(ctx, e, args[1:])
	}
	fs := e.flags("economics", "economics partner-statement --workspace slug [--month YYYY-MM] [--json]  |  economics --workspace slug [--from YYYY-MM] [--to YYYY-MM] [--period month|quarter] [--churn start_of_period|start_plus_new|exposure] [--ltv variant] [--cac fully_loaded|blended] [--currency XXX] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	from := fs.String("from", "", "first month (default: 11 months before --to)")
	to := fs.String("to", "", "last month, included (default: this month)")
	asJSON := fs.Bool("json", false, "print JSON")
	period := fs.String("period", "", "periods of the report: month (default) or quarter")
	churn := fs.String("churn", "", "logo churn convention: start_of_period (default), start_plus_new or exposure")
	ltv := fs.String("ltv", "", "headline LTV variant: simple_gm (default), revenue, ecom, discounted or cohort")
	cac := fs.String("cac", "", "matrix CAC variant: fully_loaded (default) or blended")
	currency := fs.String("currency", "", "report currency (default: the workspace's)")
	if err := config.Load(fs, &cfg, args); err != nil {
		return err
	}
	a, err := e.openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := workspaceBySlug(ctx, a, *wsSlug)
	if err != nil {
		return err
	}
	f, t, err := a.Econ.Window(*from, *to)
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return usagef("--%s %s", fe.Field, fe.Message)
	}
	if err != nil {
		return err
	}
	in, err := a.Econ.Inputs(ctx, w.ID, f, t)
	if err != nil {
		return err
	}
	m, err := a.Econ.Metrics(ctx, w.ID, economics.MetricsParams{From: f, To: t, Period: *period, Churn: *churn, LTV: *ltv, CAC: *cac, Currency: *currency})
	if errors.As(err, &fe) {
		return usagef("--%s %s", fe.Field, fe.Message)
	}
	if err != nil {
		return err
	}
	cmp, err := a.Staffing.Comparison(ctx, w.ID)
	if err != nil {
		return err
	}
	rep := economicsReport{Workspace: w.Slug, From: f, To: t, Inputs: in, Metrics: m, Staffing: cmp}
	if *asJSON {
		return e.printJSON(rep)
	}
	return printEconomics(e.stdout, rep)
}

func printEconomics(out io.Writer, r economicsReport) error {
	in := r.Inputs
	fmt.Fprintf(out, "Economics inputs of %s, %s to %s\n\n", r.Workspace, r.From, r.To)
	s := in.Settings
	fmt.Fprintf(out, "Settings: gross margin %s, discount %s a month, lifetime cap %d months, LTV:CAC target %g", economics.Percent(s.GrossMargin), economics.Percent(s.DiscountRate), s.LifetimeCapMonths, s.LTVCACTarget)
	if len(s.Defaults) > 0 {
		fmt.Fprintf(out, " (defaults: %s)", strings.Join(s.Defaults, ", "))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "\nSpend (%d entries, %d allocation rules)\n", in.Spend.Entries, in.Rules)
	fmt.Fprintln(tw, "segment\tmotion\texplicit\tby rule\ttotal\t")
	for _, c := range in.Spend.Allocated {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", c.Segment, c.Motion, economics.FormatMoney(c.Explicit, c.Currency), economics.FormatMoney(c.ByRule, c.Currency), economics.FormatMoney(c.Total, c.Currency))
	}
	for _, u := range in.Spend.Unallocated {
		fmt.Fprintf(tw, "unallocated\t%s/%s\t\t\t%s\t\n", u.Category, u.Channel, economics.FormatMoney(u.Amount, u.Currency))
	}
	tw.Flush()
	fmt.Fprintf(out, "\nPeople cost (%d cost profiles)\n", len(in.Profiles))
	for _, t := range in.PeopleCost.Totals {
		fmt.Fprintf(out, "  total %s\n", economics.FormatMoney(t.Amount, t.Currency))
	}
	if in.Market.Saved {
		fmt.Fprintf(out, "\nMarket sizing: TAM %s, SAM %s, SOM %s\n", economics.FormatMoney(in.Market.TAM, in.Market.Currency), economics.FormatMoney(in.Market.SAM, in.Market.Currency), economics.FormatMoney(in.Market.SOM, in.Market.Currency))
	}
	if len(r.Staffing.Rows) > 0 {
		fmt.Fprintf(out, "\nStaffing scenarios, 24 months\n")
		tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "scenario\tkind\ttotal cost\tSQLs\tcost per SQL\tcost per won\t")
		for _, row := range r.Staffing.Rows {
			per := func(v *float64) string {
				if v == nil {
					return "n/a"
				}
				return economics.FormatMoneyF(*v, r.Staffing.Currency)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%s\t\n", row.Name, row.Kind, economics.FormatMoney(row.Summary.TotalCost, r.Staffing.Currency), row.Summary.SQLs, per(row.Summary.CostPerSQL), per(row.Summary.CostPerWon))
		}
		tw.Flush()
	}
	printMetrics(out, r.Metrics)
	fmt.Fprintln(out, "\nPending (next phase):")
	for _, p := range in.Pending {
		fmt.Fprintf(out, "  - %s\n", p)
	}
	return nil
}

// printMetrics prints the headline figures, the matrix and the recommendations.
func printMetrics(out io.Writer, m economics.Metrics) {
	s, cur := m.Summary, m.Currency
	num := func(v *float64, f string) string {
		if v == nil {
			return "n/a"
		}
		return fmt.Sprintf(f, *v)
	}
	money := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return economics.FormatMoneyF(*v, cur)
	}
	pct := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return economics.Percent(*v)
	}
	fmt.Fprintf(out, "\nMetrics, %s to %s, %s (logo churn %s; LTV %s; matrix CAC %s)\n", m.From, m.To, cur, m.Churn, s.Headline.Variant, m.Matrix.CAC)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  MRR\t%s\tARR %s\t%d customers\n", economics.FormatMoney(s.MRR, cur), economics.FormatMoney(s.ARR, cur), s.Customers)
	fmt.Fprintf(tw, "  ARPA\t%s\tlogo churn %s a month\tNRR %s, GRR %s\n", money(s.ARPA), pct(s.LogoChurn.Monthly), pct(s.NRR), pct(s.GRR))
	fmt.Fprintf(tw, "  MRR churn\tgross %s, net %s\tquick ratio %s\tmagic number %s (%s)\n", pct(s.GrossMRRChurn), pct(s.NetMRRChurn), num(s.QuickRatio, "%.2f"), num(s.MagicNumber, "%.2f"), s.MagicQuarter)
	fmt.Fprintf(tw, "  CAC\tblended %s\tpaid %s\tfully loaded %s\n", money(s.CAC.Blended.Value), money(s.CAC.Paid.Value), money(s.CAC.FullyLoaded.Value))
	fmt.Fprintf(tw, "  LTV (%s)\t%s\tLTV:CAC %s (%s)\tpayback %s months\n", s.Headline.Variant, money(s.Headline.Value), num(s.LTVToCAC, "%.2f"), s.Status, num(s.PaybackMonths, "%.1f"))
	tw.Flush()
	fmt.Fprintf(out, "  MRR bridge: start %s + new %s + expansion %s + reactivation %s − contraction %s − churn %s = %s (identity holds: %v)\n",
		economics.FormatMoney(m.MRR.Bridge.Start, cur), economics.FormatMoney(m.MRR.Bridge.New, cur), economics.FormatMoney(m.MRR.Bridge.Expansion, cur),
		economics.FormatMoney(m.MRR.Bridge.Reactivation, cur), economics.FormatMoney(m.MRR.Bridge.Contraction, cur), economics.FormatMoney(m.MRR.Bridge.Churn, cur),
		economics.FormatMoney(m.MRR.Bridge.End, cur), m.MRR.Bridge.Holds)
	fmt.Fprintf(out, "\nSegment × motion (LTV:CAC target %g, amber within %.0f %%)\n", m.Matrix.Target, m.Matrix.AmberBand*100)
	tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "segment\tmotion\tnew\tCAC\tLTV\tLTV:CAC\tpayback\tmax CAC\tstatus\t")
	for _, c := range m.Matrix.Cells {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Segment, c.Motion, c.NewCustomers, money(c.CACUsed), money(c.LTVUsed), num(c.LTVToCAC, "%.2f"), num(c.PaybackMonths, "%.1f"), money(c.MaxAffordableCAC), c.Status)
	}
	tw.Flush()
	if len(m.Recommendations) > 0 {
		fmt.Fprintln(out, "\nRecommendations")
		for _, r := range m.Recommendations {
			fmt.Fprintf(out, "  [%s] %s\n      %s\n", r.Severity, r.Text, r.Arithmetic)
		}
	}
	for _, n := range m.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
}
