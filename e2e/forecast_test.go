package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestForecastPage: a manager opens /forecast (from the navigation) over a
// hand-made history and reads the figures computed by hand:
//   - 2 won high_touch deals at $50,000.00, 90 days from creation to close;
//     6 lost at Approach (4 price, 2 timing); 2 with no decision at Negotiation
//     (loss reasons: price 4 of 8 = 50 %, timing and no decision 25 % each);
//   - 10 open at Approach, $10,000.00 each, closing next month.
//
// Win rate 2 ÷ 8 = 25.0 % (20.0 % with no decision as a loss); velocity 10 ×
// $50,000 × 0.25 ÷ 90 = $1,388.89 a day; weighted: 10 × $10,000 × 25 % =
// $25,000 configured; learned (min sample 2) Approach = 2 won of 10 reached
// = 20 % → $20,000.00; forecast $25,000 + $100,000 won = $125,000.00.
func TestForecastPage(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			ws := e.A.ID
			ae := e.A.Users[model.RoleAE].ID
			now := time.Now().UTC()
			var firstOpen int64
			nextMonth := now.AddDate(0, 1, 0).Format(time.DateOnly)
			var lastDeal int64
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				mk := func(d model.Deal, stays ...string) error {
					d.Currency, d.Pipeline, d.Custom, d.OwnerID = "USD", "high_touch", model.Custom{}, &ae
					if d.CreatedAt.IsZero() {
						d.CreatedAt = now.AddDate(0, 0, -60)
					}
					if err := q.CreateDeal(ctx, ws, &d); err != nil {
						return err
					}
					lastDeal = d.ID
					for i, s := range append(stays, d.Stage) {
						if err := q.EnterStage(ctx, ws, d.ID, d.Pipeline, s, "seed", "", d.CreatedAt.Add(time.Duration(i)*time.Hour)); err != nil {
							return err
						}
					}
					return nil
				}
				at := func(days int) *time.Time { c := now.AddDate(0, 0, -days); return &c }
				for i := range 2 {
					closed := at(20 + i)
					if err := mk(model.Deal{Name: fmt.Sprintf("Won %d", i), Amount: 5_000_000, Stage: "order", Outcome: "won", CreatedAt: closed.AddDate(0, 0, -90), ClosedAt: closed},
						"suspect", "prospect", "approach", "negotiation", "close"); err != nil {
						return err
					}
				}
				for i := range 6 {
					reason := "price"
					if i >= 4 {
						reason = "timing"
					}
					if err := mk(model.Deal{Name: fmt.Sprintf("Lost %d", i), Amount: 300_000, Stage: "approach", Outcome: "lost", LossReason: reason, ClosedAt: at(10)}, "suspect", "prospect"); err != nil {
						return err
					}
				}
				for i := range 2 {
					if err := mk(model.Deal{Name: fmt.Sprintf("Stalled %d", i), Amount: 700_000, Stage: "negotiation", Outcome: "no_decision", ClosedAt: at(5)}, "approach"); err != nil {
						return err
					}
				}
				for i := range 10 {
					if err := mk(model.Deal{Name: fmt.Sprintf("Open %d", i), Amount: 1_000_000, Stage: "approach", ExpectedCloseDate: nextMonth}); err != nil {
						return err
					}
				}
				// Effort on the last open deal: a 90-minute demo by the AE with the
				// manager and the buyer, and a 30-minute call nobody owns.
				firstOpen = lastDeal
				for _, a := range []model.Activity{
					{Kind: "demo", Subject: "Demo", DurationMinutes: 90, OwnerID: &ae, Participants: []string{e.A.Users[model.RoleManager].Email, "cto@buyer.example"}},
					{Kind: "call", Subject: "Call", DurationMinutes: 30, Participants: []string{}},
				} {
					a.OccurredAt, a.DealID, a.Custom = now.AddDate(0, 0, -3), &firstOpen, model.Custom{}
					if err := q.CreateActivity(ctx, ws, &a); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			mgr := e.A.Users[model.RoleManager]
			b.run("sign in as the manager",
				chromedp.Navigate(e.URL+"/login"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, mgr.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`nav a[href="/forecast"]`),
				chromedp.Click(`nav a[href="/forecast"]`),
				chromedp.WaitVisible(`#by-period svg`),
			)
			mustContain(t, "tiles", b.text(`.tiles`), "Weighted forecast", "Win rate", "25.0%", "20.0% with no decision as a loss", "90.0 days", "10 open opportunities")
			mustContain(t, "outcomes", b.text(`#outcomes`), "High touch (SPANCO)", "$50,000.00", "$1,388.89", "25.0%", "20.0%", "90.0")
			mustContain(t, "loss reasons", b.text(`section[aria-labelledby="h-loss"]`), "Why deals were not won", "Price", "4 · 50%", "Timing", "2 · 25%", "No decision", "8 deals closed lost or with no decision")
			// Learned probabilities need a smaller sample here.
			b.run("min sample 2",
				chromedp.SetValue(`#f-min`, "2"),
				chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "submit"`),
				chromedp.Click(`.filters button[type=submit]`),
				chromedp.WaitNotPresent(`body[data-before]`),
				chromedp.WaitVisible(`table[data-pipeline="high_touch"] [data-total="learned"]`),
			)
			if got := b.text(`table[data-pipeline="high_touch"] [data-total="configured"]`); got != "$25,000.00" {
				t.Errorf("configured weighted total %q, want $25,000.00", got)
			}
			if got := b.text(`table[data-pipeline="high_touch"] [data-total="learned"]`); got != "$20,000.00" {
				t.Errorf("learned weighted total %q, want $20,000.00", got)
			}
			mustContain(t, "probabilities", b.text(`table[data-pipeline="high_touch"]`), "Approach", "25%", "20%", "10 / 2", "Negotiation", "50%", "4 / 2")
			mustContain(t, "by motion", b.text(`section[aria-label="Weighted pipeline by motion"]`), "High touch (SPANCO)", "$125,000.00")
			mustContain(t, "period chart", b.text(`#by-period`), "Weighted pipeline by quarter", "Pipeline", "Best case", "Commit", "Closed")
			b.screenshot(string(kind) + "-forecast")

			// The deal page shows the effort by role: AE 1.50 h, manager 1.50 h,
			// unattributed 0.50 h; 3.50 person-hours.
			b.run("deal page", chromedp.Navigate(fmt.Sprintf("%s/deals/%d", e.URL, firstOpen)), chromedp.WaitVisible(`#effort`))
			for sel, want := range map[string]string{`#effort tr[data-role="manager"] .num`: "1.50", `#effort tr[data-role="ae"] .num`: "1.50",
				`#effort tr[data-role="unattributed"] .num`: "0.50", `#effort [data-total="hours"]`: "3.50"} {
				if got := b.text(sel); got != want {
					t.Errorf("%s = %q, want %q", sel, got, want)
				}
			}
			mustContain(t, "effort", b.text(`#effort`), "Effort", "2 activities", "How this is counted")
			b.screenshot(string(kind) + "-deal-effort")

			b.run("a bad window",
				chromedp.Navigate(e.URL+"/forecast?from=2026-02-01&to=2026-01-01"),
				chromedp.WaitVisible(`.alert-bad`),
			)
			mustContain(t, "error", b.text(`.alert-bad`), "From: must not be after to")
			b.checkConsole()
		})
	}
}
