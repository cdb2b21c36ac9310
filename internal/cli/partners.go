package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/store"
)

// runPartnerStatement prints the monthly statement of every partner of a
// workspace (or one, by id or name): the fees owed line by line, what was
// delivered, what awaits an AE's decision (docs/economics.md, Partners).
func runPartnerStatement(ctx context.Context, e *env, args []string) error {
	fs := e.flags("economics partner-statement", "economics partner-statement --workspace slug [--month YYYY-MM] [--partner id|name] [--records] [--json]")
	cfg := config.Defaults()
	config.Bind(fs, &cfg, false)
	wsSlug := fs.String("workspace", "", "workspace slug")
	month := fs.String("month", "", "the month (default: last month, the last one that has ended)")
	which := fs.String("partner", "", "one partner, by id or name (default: every partner)")
	records := fs.Bool("records", false, "list the records behind each line (activity, handoff and deal ids)")
	asJSON := fs.Bool("json", false, "print JSON: the statements with their lines and records")
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
	m, err := a.Partners.ParseStatementMonth(*month)
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return usagef("--month %s", fe.Message)
	}
	if err != nil {
		return err
	}
	sts, err := a.Partners.Statements(ctx, w.ID, m)
	if err != nil {
		return err
	}
	if *which != "" {
		var keep []partners.Statement
		for _, s := range sts {
			if strconv.FormatInt(s.PartnerID, 10) == *which || strings.EqualFold(s.Partner, *which) {
				keep = append(keep, s)
			}
		}
		if keep == nil {
			return fmt.Errorf("no partner %q in workspace %s", *which, w.Slug)
		}
		sts = keep
	}
	if sts == nil {
		sts = []partners.Statement{}
	}
	if *asJSON {
		return e.printJSON(struct {
			Workspace  string               `json:"workspace"`
			Month      string               `json:"month"`
			Statements []partners.Statement `json:"statements"`
		}{w.Slug, m, sts})
	}
	if len(sts) == 0 {
		fmt.Fprintf(e.stdout, "No partners in %s (add one under Economics → Partners or POST /api/v1/partners).\n", w.Slug)
		return nil
	}
	for i, s := range sts {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printStatement(e.stdout, s, *records)
	}
	return nil
}

func printStatement(out io.Writer, s partners.Statement, records bool) {
	status := map[string]string{partners.StatusClosed: "closed", partners.StatusOpen: "open, to date", partners.StatusFuture: "not begun", partners.StatusOutOfContract: "outside the contract"}[s.Status]
	fmt.Fprintf(out, "Partner statement: %s (#%d), %s (%s), %s\n", s.Partner, s.PartnerID, s.Month, status, s.Currency)
	wk := s.Work
	fmt.Fprintf(out, "  delivered: %d meetings, %d SQLs accepted by AEs (%d pending, %d rejected), %d deals won", wk.Meetings, wk.SQLsAccepted, wk.SQLsPending, wk.SQLsRejected, wk.Won)
	for _, r := range wk.Revenue {
		fmt.Fprintf(out, ", %s", economics.FormatMoney(r.Amount, r.Currency))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, l := range s.Lines {
		fmt.Fprintf(tw, "  %s\t%s\n", l.Label, l.Arithmetic)
		if records && len(l.Records) > 0 {
			var ids []string
			for _, r := range l.Records {
				ids = append(ids, fmt.Sprintf("%s %d", r.Type, r.ID))
			}
			fmt.Fprintf(tw, "    %s\n", strings.Join(ids, ", "))
		}
	}
	fmt.Fprintf(tw, "  Total owed\t%s\n", economics.FormatMoney(s.Total, s.Currency))
	tw.Flush()
	if len(s.Pending) > 0 {
		fmt.Fprintf(out, "  %d SQL(s) await an AE's decision: billed in the month they are accepted.\n", len(s.Pending))
	}
}
