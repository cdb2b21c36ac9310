package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// lineChart is a multi-series line chart drawn as inline SVG by the
// "linechart" template, like barChart: geometry computed here, labels
// escaped by html/template, a <title> and <desc> as the text alternative, and
// a legend with each series' last value so nothing is told by colour alone.
type lineChart struct {
	ID, Title, Desc string
	Width, Height   int
	PlotX, PlotY    int // top-left corner of the plot area
	PlotX2, PlotY2  int // bottom-right corner
	XTicks, YTicks  []lineTick
	Series          []lineSeries
	Empty           bool
}

type lineTick struct {
	Pos   int
	Label string
}

type lineSeries struct {
	Name   string
	Class  string // s0…s5: the series colour
	Points string // SVG polyline points
	Last   string // the last value, formatted
	LastX  int
	LastY  int
}

// seriesIn is one series' values, one per x label.
type seriesIn struct {
	Name   string
	Values []float64
}

const (
	lineWidth  = 640
	lineHeight = 260
	lineLeft   = 72
	lineRight  = 16
	lineTop    = 12
	lineBottom = 30
)

// niceCeil rounds v up to 1, 2, 2.5 or 5 × a power of ten, so grid lines fall
// on round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// newLineChart lays out series over xs; format shows a value (axis labels
// and the legend).
func newLineChart(id, title string, xs []string, series []seriesIn, format func(float64) string) lineChart {
	c := lineChart{ID: id, Title: title, Width: lineWidth, Height: lineHeight,
		PlotX: lineLeft, PlotY: lineTop, PlotX2: lineWidth - lineRight, PlotY2: lineHeight - lineBottom}
	max := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			max = math.Max(max, v)
		}
	}
	c.Empty = max == 0 || len(xs) == 0
	top := niceCeil(max)
	plotW, plotH := float64(c.PlotX2-c.PlotX), float64(c.PlotY2-c.PlotY)
	x := func(i int) int {
		if len(xs) < 2 {
			return c.PlotX
		}
		return c.PlotX + int(math.Round(float64(i)*plotW/float64(len(xs)-1)))
	}
	y := func(v float64) int { return c.PlotY2 - int(math.Round(v/top*plotH)) }
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		c.YTicks = append(c.YTicks, lineTick{Pos: y(v), Label: format(v)})
	}
	step := 1
	if len(xs) > 12 {
		step = int(math.Ceil(float64(len(xs)) / 12))
	}
	for i, l := range xs {
		// Every step-th label, and the last one when it does not crowd the one before.
		if i%step == 0 || (i == len(xs)-1 && i%step >= step/2+1) {
			c.XTicks = append(c.XTicks, lineTick{Pos: x(i), Label: l})
		}
	}
	var desc []string
	for si, s := range series {
		ls := lineSeries{Name: s.Name, Class: "s" + strconv.Itoa(si%6)}
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%d,%d", x(i), y(v)))
		}
		ls.Points = strings.Join(pts, " ")
		if n := len(s.Values); n > 0 {
			ls.Last = format(s.Values[n-1])
			ls.LastX, ls.LastY = x(n-1), y(s.Values[n-1])
		}
		desc = append(desc, s.Name+": "+ls.Last+" at "+lastOf(xs))
		c.Series = append(c.Series, ls)
	}
	c.Desc = title + ". " + strings.Join(desc, "; ") + "."
	return c
}

func lastOf(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[len(xs)-1]
}
