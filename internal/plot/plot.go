// Package plot draws the console's charts as SVG on the server: lines,
// grouped bars and horizontal bars (funnels), with axes, a legend and a
// tooltip on every mark. No script and no inline style: colours come from
// the page's style sheet through the classes s1…s6, so the charts live
// under the console's strict Content-Security-Policy.
//
// Every drawn value is one element of class "mark" (a circle on a line,
// a rect for a bar) carrying data-series and data-value, so a test can
// count the marks against the figures they stand for. The numbers
// themselves belong in a table beside the chart; the chart only shows
// them.
package plot

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Kind is how a chart draws its series.
type Kind int

const (
	// Lines draws each series as a line through its values, a dot on each.
	Lines Kind = iota
	// Bars draws a bar per value, the series of a label side by side.
	Bars
	// HBars draws horizontal bars, a row per label and a bar per series
	// in it, the value written at its end: a funnel.
	HBars
	// Intervals draws a row per label: the first series' value as a dot
	// on the line from the second series' value to the third's, against
	// a line at zero: an estimate with its confidence interval.
	Intervals
)

// Series is one named row of values, one per label of the chart; NaN
// leaves a gap (no mark).
type Series struct {
	Name   string
	Values []float64
}

// Chart is what to draw.
type Chart struct {
	// ID is unique on the page; the SVG's title and description hang
	// off it.
	ID string
	// Title names the chart for assistive technology.
	Title  string
	Kind   Kind
	Labels []string
	Series []Series
	// Format writes a value (ticks, tooltips, bar ends); nil writes it
	// as a whole number.
	Format func(float64) string
	// Empty is written in place of the plot when there is nothing to
	// draw (no labels, or no value at all).
	Empty string
}

// Geometry of the drawing, in SVG user units.
const (
	width      = 540
	lineHeight = 18
	padLeft    = 56
	padRight   = 12
	legendRow  = 18 // a row of the legend, above the plot
	padBottom  = 28 // the labels
	plotHeight = 180
	hbarRow    = 22 // one bar of a horizontal chart
	hbarLabels = 140
)

// maxSeries is how many colours there are (classes s1…s6).
const maxSeries = 6

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	if c.Format == nil {
		c.Format = func(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) }
	}
	if len(c.Series) > maxSeries {
		c.Series = c.Series[:maxSeries]
	}
	if c.empty() {
		return template.HTML(`<p class="plot-empty" id="` + html.EscapeString(c.ID) + `">` + html.EscapeString(c.Empty) + `</p>`)
	}
	var b strings.Builder
	switch c.Kind {
	case HBars:
		c.hbars(&b)
	case Intervals:
		c.intervals(&b)
	default:
		c.grid(&b)
	}
	return template.HTML(b.String()) //nolint:gosec // every text in it went through html.EscapeString
}

func (c Chart) empty() bool {
	if len(c.Labels) == 0 {
		return true
	}
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				return false
			}
		}
	}
	return true
}

// legend places the legend's keys, wrapping rows at the right edge, and
// returns where each goes and the height the legend takes.
func (c Chart) legend() (at [][2]float64, top int) {
	x, y := float64(padLeft), 0.0
	for _, s := range c.Series {
		w := 16 + textWidth(s.Name)
		if x > padLeft && x+w > width-padRight {
			x, y = padLeft, y+legendRow
		}
		at = append(at, [2]float64{x, y})
		x += w + 18
	}
	return at, int(y) + legendRow + 10
}

// open writes the <svg> element of height (below the legend) with its
// title and legend, and returns the legend's height.
func (c Chart) open(b *strings.Builder, height int) int {
	at, top := c.legend()
	id := html.EscapeString(c.ID)
	fmt.Fprintf(b, `<svg class="plot" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title" data-kind="%d">`,
		id, width, top+height, id, c.Kind)
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`, id, html.EscapeString(c.Title))
	for i, s := range c.Series {
		fmt.Fprintf(b, `<rect class="key s%d" x="%.1f" y="%.1f" width="12" height="12" rx="2"/>`, i+1, at[i][0], at[i][1]+6)
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="%.1f">%s</text>`, at[i][0]+16, at[i][1]+16, html.EscapeString(s.Name))
	}
	return top
}

// textWidth estimates the width of s at the charts' 12-unit font.
func textWidth(s string) float64 { return float64(len([]rune(s))) * 7.4 }

// scale is the value axis: from lo to hi, ticks at every step, drawn
// from top down.
type scale struct{ lo, hi, step, top float64 }

// niceScale spans the values and zero with 3 to 6 round ticks.
func niceScale(series []Series) scale {
	lo, hi := 0.0, 0.0
	for _, s := range series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	raw := (hi - lo) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return scale{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, step: step}
}

func (s scale) y(v float64) float64 {
	return s.top + plotHeight - (v-s.lo)/(s.hi-s.lo)*plotHeight
}

// grid draws a line or bar chart.
func (c Chart) grid(b *strings.Builder) {
	top := c.open(b, plotHeight+padBottom)
	height := top + plotHeight + padBottom
	sc := niceScale(c.Series)
	sc.top = float64(top)
	right := float64(width - padRight)
	for v := sc.lo; v <= sc.hi+sc.step/2; v += sc.step {
		y := sc.y(v)
		cls := "grid"
		if v == 0 {
			cls = "axis"
		}
		fmt.Fprintf(b, `<line class="%s" x1="%d" y1="%.1f" x2="%.1f" y2="%.1f"/>`, cls, padLeft, y, right, y)
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padLeft-6, y+4,
			html.EscapeString(c.Format(v)))
	}
	n := len(c.Labels)
	band := (right - padLeft) / float64(n)
	// Labels thin out so that they do not overlap.
	widest := 0.0
	for _, l := range c.Labels {
		widest = math.Max(widest, textWidth(l))
	}
	every := max(1, int(math.Ceil((widest+8)/band)))
	for i, l := range c.Labels {
		if i%every != 0 {
			continue
		}
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			padLeft+band*(float64(i)+0.5), height-8, html.EscapeString(l))
	}
	if c.Kind == Lines {
		c.lines(b, sc, band)
	} else {
		c.bars(b, sc, band)
	}
	b.WriteString(`</svg>`)
}

func (c Chart) lines(b *strings.Builder, sc scale, band float64) {
	r := math.Min(3, band/2.5) // dots do not run into each other
	for si, s := range c.Series {
		var path strings.Builder
		pen := "M"
		for i, v := range s.Values {
			if i >= len(c.Labels) {
				break
			}
			if math.IsNaN(v) {
				pen = "M"
				continue
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", pen, padLeft+band*(float64(i)+0.5), sc.y(v))
			pen = "L"
		}
		fmt.Fprintf(b, `<path class="line s%d" d="%s"/>`, si+1, strings.TrimSpace(path.String()))
		for i, v := range s.Values {
			if i >= len(c.Labels) || math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(b, `<circle class="mark s%d" data-series="%s" data-value="%s" cx="%.1f" cy="%.1f" r="%.1f"><title>%s</title></circle>`,
				si+1, html.EscapeString(s.Name), number(v), padLeft+band*(float64(i)+0.5), sc.y(v), r, c.tip(i, s, v))
		}
	}
}

func (c Chart) bars(b *strings.Builder, sc scale, band float64) {
	k := float64(len(c.Series))
	bw := band * 0.8 / k
	for si, s := range c.Series {
		for i, v := range s.Values {
			if i >= len(c.Labels) || math.IsNaN(v) {
				continue
			}
			x := padLeft + band*float64(i) + band*0.1 + bw*float64(si)
			y0, y1 := sc.y(0), sc.y(v)
			top, h := math.Min(y0, y1), math.Abs(y1-y0)
			fmt.Fprintf(b, `<rect class="mark s%d" data-series="%s" data-value="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				si+1, html.EscapeString(s.Name), number(v), x, top, math.Max(bw-1, 1), h, c.tip(i, s, v))
		}
	}
}

// hbars draws a row per label, a bar per series in it.
func (c Chart) hbars(b *strings.Builder) {
	k := len(c.Series)
	rowH := hbarRow*k + 8
	top := c.open(b, rowH*len(c.Labels)+4)
	hi := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	if hi <= 0 {
		hi = 1
	}
	room := float64(width-padRight-hbarLabels) - 70 // space for the value after the bar
	for i, l := range c.Labels {
		y0 := float64(top + rowH*i)
		// The label sits level with the row's first bar.
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, hbarLabels-8,
			y0+4+float64(hbarRow-4)/2+4, html.EscapeString(l))
		for si, s := range c.Series {
			if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
				continue
			}
			v := s.Values[i]
			w := math.Max(v/hi*room, 1)
			y := y0 + 4 + float64(hbarRow*si)
			fmt.Fprintf(b, `<rect class="mark s%d" data-series="%s" data-value="%s" x="%d" y="%.1f" width="%.1f" height="%d" rx="2"><title>%s</title></rect>`,
				si+1, html.EscapeString(s.Name), number(v), hbarLabels, y, w, hbarRow-4, c.tip(i, s, v))
			fmt.Fprintf(b, `<text class="value" x="%.1f" y="%.1f">%s</text>`, float64(hbarLabels)+w+6, y+float64(hbarRow)/2+2,
				html.EscapeString(c.Format(v)))
		}
	}
	b.WriteString(`</svg>`)
}

// intervals draws a row per label: an estimate (series 0) on its
// interval (series 1 to 2); the legend names the estimate only.
func (c Chart) intervals(b *strings.Builder) {
	if len(c.Series) < 3 {
		c.Series = append(c.Series, make([]Series, 3-len(c.Series))...)
	}
	est, low, high := c.Series[0], c.Series[1], c.Series[2]
	c.Series = c.Series[:1]
	at := func(s Series, i int) float64 {
		if i < len(s.Values) {
			return s.Values[i]
		}
		return math.NaN()
	}
	sc := niceScale([]Series{est, low, high})
	top := c.open(b, hbarRow*len(c.Labels)+padBottom)
	left, right := float64(hbarLabels), float64(width-padRight)
	x := func(v float64) float64 { return left + (v-sc.lo)/(sc.hi-sc.lo)*(right-left) }
	bottom := float64(top + hbarRow*len(c.Labels))
	for v := sc.lo; v <= sc.hi+sc.step/2; v += sc.step {
		cls := "grid"
		if v == 0 {
			cls = "axis"
		}
		fmt.Fprintf(b, `<line class="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, cls, x(v), top, x(v), bottom)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(v), bottom+18,
			html.EscapeString(c.Format(v)))
	}
	for i, l := range c.Labels {
		y := float64(top+hbarRow*i) + float64(hbarRow)/2
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, hbarLabels-8, y+4, html.EscapeString(l))
		lo, hi, v := at(low, i), at(high, i), at(est, i)
		if !math.IsNaN(lo) && !math.IsNaN(hi) {
			fmt.Fprintf(b, `<line class="interval s1" data-low="%s" data-high="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s</title></line>`,
				number(lo), number(hi), x(lo), y, x(hi), y, html.EscapeString(l+": "+c.Format(lo)+" … "+c.Format(hi)))
		}
		if !math.IsNaN(v) {
			fmt.Fprintf(b, `<circle class="mark s1" data-series="%s" data-value="%s" cx="%.1f" cy="%.1f" r="4"><title>%s</title></circle>`,
				html.EscapeString(est.Name), number(v), x(v), y, c.tip(i, est, v))
		}
	}
	b.WriteString(`</svg>`)
}

// tip is a mark's tooltip: "label · series: value".
func (c Chart) tip(i int, s Series, v float64) string {
	return html.EscapeString(c.Labels[i] + " · " + s.Name + ": " + c.Format(v))
}

// number writes v for data-value, as short as it reads back exactly.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
