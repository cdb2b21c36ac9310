package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/store"
)

func runReport(ctx context.Context, e *env, args []string) error {
	verb, rest, err := sub(args, "funnel", "pipeline")
	if err != nil {
		return err
	}
	if verb == "pipeline" {
		return runPipelineReport(ctx, e, rest)
	}
	fs := e.flags("report "+verb, "report funnel --workspace slug [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by motion|source|period] [--period month|week] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	from := fs.String("from", "", "first day of the window, UTC (default: 89 days before --to)")
	to := fs.String("to", "", "last day of the window, included, UTC (default: today)")
	by := fs.String("by", "motion", "group by motion, source or period")
	period := fs.String("period", "month", "with --by period: month or week")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := config.Load(fs, &cfg, rest); err != nil {
		return err
	}
	date := func(flag, s string, def time.Time) (time.Time, error) {
		if s == "" {
			return def, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, usagef("--%s must be a date, YYYY-MM-DD", flag)
		}
		return t, nil
	}
	p := funnel.Params{By: *by, Period: *period}
	if p.To, err = date("to", *to, time.Now().UTC()); err != nil {
		return err
	}
	if p.From, err = date("from", *from, p.To.AddDate(0, 0, -89)); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			return usagef("--%s %s", fe.Field, fe.Message)
		}
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
	r, err := funnel.Report(ctx, a.St, w.ID, p)
	if err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(r)
	}
	return printFunnel(e.stdout, r)
}

func pct(c funnel.Conversion) string {
	if c.Rate == nil {
		return fmt.Sprintf("%d/%d", c.Converted, c.Denominator)
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", c.Converted, c.Denominator, *c.Rate*100)
}

func days(d *float64) string {
	if d == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *d)
}

func printFunnel(out io.Writer, r funnel.Result) error {
	by := r.By
	if r.Period != "" {
		by += " (" + r.Period + ")"
	}
	fmt.Fprintf(out, "Funnel %s … %s by %s\n", r.From, r.To, by)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, g := range append([]funnel.Group{r.Total}, r.Groups...) {
		fmt.Fprintf(tw, "\n%s\n", g.Key)
		fmt.Fprintln(tw, "  STAGE\tREACHED\tTO NEXT\tCONVERTED\tMEDIAN DAYS\tMEAN DAYS")
		for i, s := range g.Stages {
			if i == len(g.Conversions) {
				fmt.Fprintf(tw, "  %s\t%d\t\t\t\t\n", s.Stage, s.Reached)
				continue
			}
			c, d := g.Conversions[i], g.Durations[i]
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", s.Stage, s.Reached, c.To, pct(c), days(d.MedianDays), days(d.MeanDays))
		}
		fmt.Fprintf(tw, "  lead → customer: %s\n", pct(g.LeadToCustomer))
		var exits []string
		for _, x := range g.Exits {
			var from []string
			for _, k := range slices.Sorted(maps.Keys(x.From)) {
				from = append(from, fmt.Sprintf("%s %d", k, x.From[k]))
			}
			s := fmt.Sprintf("%s %d", x.Stage, x.Count)
			if len(from) > 0 {
				s += " (from " + strings.Join(from, ", ") + ")"
			}
			exits = append(exits, s)
		}
		fmt.Fprintf(tw, "  exits: %s\n", strings.Join(exits, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nLead → customer by source")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SOURCE\tCONVERTED")
	for _, s := range r.LeadToCustomerBySource {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Source, pct(s.Conversion))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := r.Convention
	fmt.Fprintln(out, "\nConventions")
	for _, kv := range [][2]string{{"window", c.Window}, {"reached", c.Reached}, {"conversion", c.Conversion}, {"days", c.Days}, {"grouping", c.Grouping}, {"exits", c.Exits}} {
		fmt.Fprintf(out, "  %s: %s\n", kv[0], kv[1])
	}
	return nil
}
