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

// economicsReport is what `rightsize economics --json` prints: the inputs and
// the staffing comparison; the metrics come with the next phase (pending).
type economicsReport struct {
	Workspace string              `json:"workspace"`
	From      string              `json:"from"`
	To        string              `json:"to"`
	Inputs    economics.Inputs    `json:"inputs"`
	Staffing  staffing.Comparison `json:"staffing"`
}

func runEconomics(ctx context.Context, e *env, args []string) error {
	fs := e.flags("economics", "economics --workspace slug [--from YYYY-MM] [--to YYYY-MM] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	from := fs.String("from", "", "first month (default: 11 months before --to)")
	to := fs.String("to", "", "last month, included (default: this month)")
	asJSON := fs.Bool("json", false, "print JSON")
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
	cmp, err := a.Staffing.Comparison(ctx, w.ID)
	if err != nil {
		return err
	}
	rep := economicsReport{Workspace: w.Slug, From: f, To: t, Inputs: in, Staffing: cmp}
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
	fmt.Fprintln(out, "\nPending (next phase):")
	for _, p := range in.Pending {
		fmt.Fprintf(out, "  - %s\n", p)
	}
	return nil
}
