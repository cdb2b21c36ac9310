package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/store"
)

// pipelineReport is what `report pipeline --json` prints: the bodies of GET
// /api/v1/reports/pipeline and GET /api/v1/reports/forecast for the same window.
type pipelineReport struct {
	Pipeline forecast.Pipeline `json:"pipeline"`
	Forecast forecast.Forecast `json:"forecast"`
}

func runPipelineReport(ctx context.Context, e *env, rest []string) error {
	fs := e.flags("report pipeline", "report pipeline --workspace slug [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--currency EUR] [--period quarter|month] [--min-sample 20] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	from := fs.String("from", "", "first day of the closed_at window, UTC (default: 364 days before --to)")
	to := fs.String("to", "", "last day of the closed_at window, included, UTC (default: today)")
	currency := fs.String("currency", "", "report currency (default: the workspace's)")
	period := fs.String("period", "quarter", "forecast periods: month or quarter")
	minSample := fs.Int("min-sample", forecast.DefaultMinSample, "closed deals that must reach a stage before its learned probability is shown")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := config.Load(fs, &cfg, rest); err != nil {
		return err
	}
	p := forecast.Params{Currency: *currency, Period: *period, MinSample: *minSample}
	for _, d := range []struct {
		flag, s string
		dst     *time.Time
	}{{"from", *from, &p.From}, {"to", *to, &p.To}} {
		if d.s == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.s)
		if err != nil {
			return usagef("--%s must be a date, YYYY-MM-DD", d.flag)
		}
		*d.dst = t
	}
	if *minSample < 1 {
		return usagef("--min-sample must be at least 1")
	}
	if err := p.Check(); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			return usagef("--%s %s", strings.ReplaceAll(fe.Field, "_", "-"), fe.Message)
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
	var r pipelineReport
	if r.Pipeline, err = forecast.PipelineReport(ctx, a.St, w.ID, p); err != nil {
		return err
	}
	if r.Forecast, err = forecast.Report(ctx, a.St, w.ID, p); err != nil {
		return err
	}
	if *asJSON {
		return e.printJSON(r)
	}
	return printPipeline(e.stdout, r)
}

// zeroDecimal are the currencies without minor units the CLI meets most.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true, "CLP": true, "ISK": true, "VND": true}

// major formats minor units as major units with thousands separators.
func major(minor int64, cur string) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	digits := 2
	if zeroDecimal[cur] {
		digits = 0
	}
	div := int64(1)
	for range digits {
		div *= 10
	}
	s := strconv.FormatInt(minor/div, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if digits > 0 {
		s += fmt.Sprintf(".%0*d", digits, minor%div)
	}
	if neg {
		s = "-" + s
	}
	return s
}

func orDash[T any](p *T, f func(T) string) string {
	if p == nil {
		return "-"
	}
	return f(*p)
}

func printPipeline(out io.Writer, r pipelineReport) error {
	pr, f := r.Pipeline, r.Forecast
	cur := pr.Currency
	money := func(v int64) string { return major(v, cur) }
	pctOf := func(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }
	fmt.Fprintf(out, "Pipeline %s … %s, amounts in %s\n\n", pr.From, pr.To, cur)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MOTION\tWON\tLOST\tNO DECISION\tWIN RATE\tWIN RATE (ND = LOSS)\tAVG WON DEAL\tCYCLE DAYS\tFROM 1ST ENGAGEMENT\tOPEN\tVELOCITY/DAY\t")
	for _, o := range append([]forecast.Outcomes{pr.Total}, pr.ByMotion...) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", o.Label, o.Won, o.Lost, o.NoDecision,
			orDash(o.WinRate, pctOf), orDash(o.WinRateNoDecisionAsLoss, pctOf), orDash(o.AverageWonDeal, money),
			orDash(o.CycleDays, func(v float64) string { return fmt.Sprintf("%.1f", v) }),
			orDash(o.CycleDaysFromFirstEngagement, func(v float64) string { return fmt.Sprintf("%.1f", v) }),
			o.OpenOpportunities, orDash(o.VelocityPerDay, money))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nLoss reasons (all motions)")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  REASON\tDEALS\tSHARE\tAMOUNT")
	for _, l := range pr.Total.LossReasons {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", l.Reason, l.Count, pctOf(l.Share), money(l.Amount))
	}
	if len(pr.Total.LossReasons) == 0 {
		fmt.Fprintln(tw, "  (none)\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nWeighted pipeline by %s (open deals × configured probability; won in the window as closed)\n", f.Period)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "\tDEALS\tAMOUNT\tWEIGHTED"
	for _, c := range f.Categories {
		head += "\t" + strings.ToUpper(strings.ReplaceAll(c, "_", " "))
	}
	section := func(title string, bs []forecast.Bucket) {
		fmt.Fprintln(tw, strings.ToUpper(title)+head+"\t")
		for _, b := range bs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s", b.Label, b.Deals, money(b.Amount), money(b.Weighted))
			for _, c := range b.Categories {
				fmt.Fprintf(tw, "\t%s", money(c.Weighted))
			}
			fmt.Fprintln(tw, "\t")
		}
		fmt.Fprintln(tw, "\t\t\t\t")
	}
	section("period", append(f.ByPeriod, f.Total))
	section("motion", f.ByMotion)
	section("team", f.ByTeam)
	section("owner", f.ByOwner)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "Stage probabilities: configured vs learned (min sample %d)\n", f.MinSample)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PIPELINE\tSTAGE\tOPEN\tCONFIGURED\tWEIGHTED\tLEARNED\tWEIGHTED\tREACHED / WON")
	for _, pp := range f.Probabilities {
		for _, s := range pp.Stages {
			learned, lw := "not enough history", "-"
			if s.LearnedPct != nil {
				learned, lw = fmt.Sprintf("%.1f%%", *s.LearnedPct), money(*s.LearnedWeighted)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d%%\t%s\t%s\t%s\t%d / %d\n", pp.Name, s.Name, money(s.OpenAmount), s.ConfiguredPct, money(s.ConfiguredWeighted), learned, lw, s.Reached, s.Won)
		}
		fmt.Fprintf(tw, "  %s\ttotal\t%s\t\t%s\t\t%s\t(%s open amount not learned)\n", pp.Name, money(pp.OpenAmount), money(pp.ConfiguredWeighted), money(pp.LearnedWeighted), money(pp.NotLearnedAmount))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := pr.OtherCurrencyDeals + f.OtherCurrencyDeals; n > 0 {
		fmt.Fprintf(out, "\nDeals in other currencies, not counted: %d (pipeline report), %d (forecast)\n", pr.OtherCurrencyDeals, f.OtherCurrencyDeals)
	}
	fmt.Fprintln(out, "\nConventions")
	c, fc := pr.Convention, f.Convention
	for _, kv := range [][2]string{{"window", c.Window}, {"win rate", c.WinRate}, {"average won deal", c.AverageDeal}, {"cycle days", c.Cycle},
		{"first engagement", c.Engagement}, {"velocity", c.Velocity}, {"loss reasons", c.LossReasons}, {"motion", c.Motion}, {"currency", c.Currency},
		{"weighted", fc.Weighted}, {"categories", fc.Categories}, {"period", fc.Period}, {"team", fc.Team}, {"learned", fc.Learned}} {
		fmt.Fprintf(out, "  %s: %s\n", kv[0], kv[1])
	}
	return nil
}
