package web

import (
	"strings"
)

// barChart is a horizontal bar chart drawn as inline SVG by the "barchart"
// template. Geometry is computed here so the template only places shapes, and
// every label goes through html/template's escaping. The SVG carries a <title>
// and <desc> (its text alternative) and each bar has its own <title> tooltip and
// visible text labels, so nothing is conveyed by length alone.
type barChart struct {
	ID, Title, Desc string
	Width, Height   int
	LabelW, TrackW  int
	Rows            []barRow
	Empty           bool
}

// bar is one input value.
type bar struct {
	Label   string
	Value   int64
	Display string // formatted value, e.g. "$12,000" or "14"
	Href    string // optional drill-down link (a local path)
	Tone    string // optional CSS modifier: "muted", "good", "bad"
}

type barRow struct {
	bar
	Y, BarY, TextY, W, ValueX int
	BarH                      int
}

const (
	chartWidth  = 640
	chartLabelW = 132
	chartValueW = 96
	chartRowH   = 30
	chartBarH   = 16
	chartPadTop = 6
)

func newBarChart(id, title string, bars []bar) barChart {
	c := barChart{ID: id, Title: title, Width: chartWidth, LabelW: chartLabelW}
	c.TrackW = chartWidth - chartLabelW - chartValueW
	var max int64
	var desc []string
	for _, b := range bars {
		if b.Value > max {
			max = b.Value
		}
		desc = append(desc, b.Label+": "+b.Display)
	}
	c.Empty = max == 0
	c.Desc = title + ". " + strings.Join(desc, "; ") + "."
	for i, b := range bars {
		y := chartPadTop + i*chartRowH
		w := 0
		if max > 0 && b.Value > 0 {
			w = int(float64(b.Value) / float64(max) * float64(c.TrackW))
			if w < 3 {
				w = 3 // a non-zero value stays visible
			}
		}
		c.Rows = append(c.Rows, barRow{
			bar:    b,
			Y:      y,
			BarY:   y + (chartRowH-chartBarH)/2,
			BarH:   chartBarH,
			TextY:  y + chartRowH/2 + 4,
			W:      w,
			ValueX: chartLabelW + w + 8,
		})
	}
	c.Height = chartPadTop*2 + len(bars)*chartRowH
	return c
}

// columnChart is a vertical bar chart (one column per period, oldest first)
// drawn by the "colchart" template; like barChart, geometry is computed here
// and every value is also written out as text.
type columnChart struct {
	ID, Title, Desc      string
	Width, Height, BaseY int
	Cols                 []columnBar
	Empty                bool
}

type columnBar struct {
	bar
	X, Y, W, H, MidX, ValueY, LabelY int
}

const (
	colChartHeight = 220
	colChartTop    = 24 // room for the value above the tallest column
	colChartBottom = 26 // room for the period label
	colChartGap    = 8
)

func newColumnChart(id, title string, bars []bar) columnChart {
	return newColumnChartWidth(id, title, bars, chartWidth)
}

// newColumnChartWidth draws into a wider viewBox, for a chart that spans the
// page (its text stays the size of the other charts').
func newColumnChartWidth(id, title string, bars []bar, width int) columnChart {
	c := columnChart{ID: id, Title: title, Width: width, Height: colChartHeight, BaseY: colChartHeight - colChartBottom}
	var max int64
	var desc []string
	for _, b := range bars {
		if b.Value > max {
			max = b.Value
		}
		desc = append(desc, b.Label+": "+b.Display)
	}
	c.Empty = max == 0
	c.Desc = title + ". " + strings.Join(desc, "; ") + "."
	if len(bars) == 0 {
		return c
	}
	slot := c.Width / len(bars)
	track := c.BaseY - colChartTop
	for i, b := range bars {
		h := 0
		if max > 0 && b.Value > 0 {
			h = int(float64(b.Value) / float64(max) * float64(track))
			if h < 2 {
				h = 2
			}
		}
		x := i*slot + colChartGap/2
		c.Cols = append(c.Cols, columnBar{bar: b, X: x, W: slot - colChartGap, Y: c.BaseY - h, H: h,
			MidX: x + (slot-colChartGap)/2, ValueY: c.BaseY - h - 6, LabelY: c.BaseY + 17})
	}
	return c
}
