package plot

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
)

// marks parses svg as XML and returns the data-value of every mark by
// series, in document order.
func marks(t *testing.T, svg string) map[string][]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	out := map[string][]string{}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attrs := map[string]string{}
		for _, a := range el.Attr {
			attrs[a.Name.Local] = a.Value
		}
		if strings.Contains(" "+attrs["class"]+" ", " mark ") {
			out[attrs["data-series"]] = append(out[attrs["data-series"]], attrs["data-value"])
		}
	}
	return out
}

func TestChartsDrawAMarkPerValue(t *testing.T) {
	nan := math.NaN()
	for _, kind := range []Kind{Lines, Bars, HBars} {
		c := Chart{ID: "c", Title: "Cards & <installs>", Kind: kind, Labels: []string{"w1", "w2", "w3"},
			Series: []Series{{Name: "Apple", Values: []float64{1, 2, 3}}, {Name: "Google <b>", Values: []float64{0, nan, 7.5}}}}
		svg := string(c.SVG())
		var doc struct{}
		if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
			t.Fatalf("kind %d: not well-formed: %v\n%s", kind, err, svg)
		}
		got := marks(t, svg)
		if strings.Join(got["Apple"], ",") != "1,2,3" || strings.Join(got["Google <b>"], ",") != "0,7.5" {
			t.Errorf("kind %d: marks %v", kind, got)
		}
		if strings.Contains(svg, "<b>") || !strings.Contains(svg, "Cards &amp; &lt;installs&gt;") {
			t.Errorf("kind %d: text not escaped:\n%s", kind, svg)
		}
		if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
			t.Errorf("kind %d: inline style or script", kind)
		}
	}
}

func TestChartWithoutValuesSaysSo(t *testing.T) {
	for _, c := range []Chart{
		{ID: "e", Empty: "Nothing yet", Labels: nil},
		{ID: "e", Empty: "Nothing yet", Labels: []string{"a"}, Series: []Series{{Name: "x", Values: []float64{math.NaN()}}}},
	} {
		if got := string(c.SVG()); !strings.Contains(got, "Nothing yet") || strings.Contains(got, "<svg") {
			t.Errorf("empty chart drawn as %s", got)
		}
	}
}

func TestScaleIsRoundAndSpansTheValues(t *testing.T) {
	for _, tc := range []struct {
		values         []float64
		lo, hi, stepTo float64
	}{
		{[]float64{0, 37}, 0, 40, 10},
		{[]float64{3}, 0, 3, 1},
		{[]float64{0}, 0, 1, 0.25},
		{[]float64{-120, 430}, -200, 600, 200},
		{[]float64{98000}, 0, 100000, 25000},
	} {
		s := niceScale([]Series{{Values: tc.values}})
		if s.lo != tc.lo || s.hi != tc.hi || s.step != tc.stepTo {
			t.Errorf("%v: scale %+v, want %v…%v by %v", tc.values, s, tc.lo, tc.hi, tc.stepTo)
		}
	}
}

// TestIntervalsDrawEachEstimateOnItsInterval: a dot per estimate, a line
// from its low to its high end, a line at zero, the escaped labels.
func TestIntervalsDrawEachEstimateOnItsInterval(t *testing.T) {
	c := Chart{ID: "lift", Title: "Lift", Kind: Intervals, Labels: []string{"A", "B <2>", "C"},
		Series: []Series{{Name: "lift", Values: []float64{2.5, -1, math.NaN()}},
			{Name: "low", Values: []float64{0.5, -4, math.NaN()}}, {Name: "high", Values: []float64{4.5, 2, math.NaN()}}}}
	svg := string(c.SVG())
	var doc struct{}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	if got := marks(t, svg)["lift"]; strings.Join(got, ",") != "2.5,-1" {
		t.Errorf("estimates %v", got)
	}
	for _, want := range []string{`data-low="0.5" data-high="4.5"`, `data-low="-4" data-high="2"`, `class="axis"`, "B &lt;2&gt;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %s in\n%s", want, svg)
		}
	}
	if strings.Count(svg, `class="interval`) != 2 || strings.Contains(svg, ">low<") {
		t.Errorf("intervals or legend wrong:\n%s", svg)
	}
}
