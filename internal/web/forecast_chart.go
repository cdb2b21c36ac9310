package web

import (
	"fmt"
	"strings"
)

// Two more inline SVG charts for the forecast page, drawn like barChart
// (chart.go): geometry here, shapes and escaping in the templates
// ("stackchart", "pairchart" in partials/forecast_charts.html), a <title> and
// <desc> text alternative, a tooltip per shape and visible value labels.

// stackChart is a horizontal bar per row split into coloured segments (the
// forecast categories), with a legend.
type stackChart struct {
	ID, Title, Desc string
	Width, Height   int
	LabelW, TrackW  int
	Rows            []stackRow
	Legend          []legendItem
	Empty           bool
}

type stackRow struct {
	Label, Display       string
	Y, BarY, TextY, BarH int
	ValueX               int
	Segs                 []stackSeg
}

type stackSeg struct {
	Class, Title string
	X, W         int
}

type legendItem struct {
	Class, Label string
	X            int
}

// stackInput is one row: values per segment class, in legend order.
type stackInput struct {
	Label   string
	Display string  // the row total, formatted
	Values  []int64 // one per series
	Titles  []string
}

func newStackChart(id, title string, series []legendItem, rows []stackInput) stackChart {
	c := stackChart{ID: id, Title: title, Width: chartWidth, LabelW: chartLabelW}
	c.TrackW = chartWidth - chartLabelW - chartValueW
	var max int64
	var desc []string
	for _, r := range rows {
		var t int64
		for _, v := range r.Values {
			t += v
		}
		max = maxInt64(max, t)
		desc = append(desc, r.Label+": "+r.Display)
	}
	c.Empty = max == 0
	c.Desc = title + ". " + strings.Join(desc, "; ") + "."
	legendH := 28
	x := chartLabelW
	for _, s := range series {
		s.X = x
		c.Legend = append(c.Legend, s)
		x += 18 + 7*len(s.Label) + 24
	}
	for i, r := range rows {
		y := legendH + chartPadTop + i*chartRowH
		row := stackRow{Label: r.Label, Display: r.Display, Y: y, BarY: y + (chartRowH-chartBarH)/2, BarH: chartBarH, TextY: y + chartRowH/2 + 4}
		x := chartLabelW
		for j, v := range r.Values {
			if v <= 0 || max == 0 {
				continue
			}
			w := int(float64(v) / float64(max) * float64(c.TrackW))
			if w < 2 {
				w = 2
			}
			row.Segs = append(row.Segs, stackSeg{Class: series[j].Class, Title: r.Titles[j], X: x, W: w})
			x += w
		}
		row.ValueX = x + 8
		c.Rows = append(c.Rows, row)
	}
	c.Height = legendH + chartPadTop*2 + len(rows)*chartRowH
	return c
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// pairChart puts two percentages per row side by side on a 0–100 % scale:
// configured and learned stage probabilities. A missing second value is
// written out ("not enough history") instead of drawn.
type pairChart struct {
	ID, Title, Desc string
	Width, Height   int
	LabelW, TrackW  int
	Rows            []pairRow
	Legend          []legendItem
}

type pairRow struct {
	Label                  string
	Y, TextY               int
	AY, BY, BarH           int
	AW, BW                 int
	ADisplay, BDisplay     string
	AValueX, BValueX, BTxY int
	ATextY                 int
	BMissing               bool
}

type pairInput struct {
	Label string
	A     float64  // percent
	B     *float64 // percent; nil: missing
	BNote string   // shown when B is missing
}

func newPairChart(id, title, aName, bName string, rows []pairInput) pairChart {
	// Narrower than the other charts: it sits beside its table.
	const rowH, barH, width, labelW, valueW = 40, 12, 440, 104, 48
	c := pairChart{ID: id, Title: title, Width: width, LabelW: labelW}
	c.TrackW = width - labelW - valueW
	legendH := 28
	c.Legend = []legendItem{{Class: "pair-a", Label: aName, X: labelW}, {Class: "pair-b", Label: bName, X: labelW + 18 + 7*len(aName) + 24}}
	var desc []string
	for i, r := range rows {
		y := legendH + chartPadTop + i*rowH
		pr := pairRow{Label: r.Label, Y: y, TextY: y + rowH/2 + 4, BarH: barH, AY: y + 6, BY: y + 6 + barH + 2}
		pr.AW = int(r.A / 100 * float64(c.TrackW))
		pr.ADisplay = trimPct(r.A)
		pr.AValueX = labelW + pr.AW + 6
		pr.ATextY = pr.AY + barH - 2
		pr.BTxY = pr.BY + barH - 2
		d := r.Label + ": " + aName + " " + trimPct(r.A)
		if r.B == nil {
			pr.BMissing = true
			pr.BDisplay = r.BNote
			pr.BValueX = labelW + 4
			d += ", " + bName + " " + r.BNote
		} else {
			pr.BW = int(*r.B / 100 * float64(c.TrackW))
			pr.BDisplay = trimPct(*r.B)
			pr.BValueX = labelW + pr.BW + 6
			d += ", " + bName + " " + trimPct(*r.B)
		}
		desc = append(desc, d)
		c.Rows = append(c.Rows, pr)
	}
	c.Desc = title + ". " + strings.Join(desc, "; ") + "."
	c.Height = legendH + chartPadTop*2 + len(rows)*rowH
	return c
}

// trimPct formats a percentage with one decimal, without a trailing ".0".
func trimPct(p float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
}
