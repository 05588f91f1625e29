package bench

import (
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/plot"
)

// plotStyle is the console's chart style (assets/console/static), so the
// file draws alike on its own: internal/plot leaves colours to a sheet.
const plotStyle = `svg{font:12px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
.grid{stroke:#e5e7eb;stroke-width:1}.axis{stroke:#9ca3af;stroke-width:1}
.tick,.legend,.value,.figures{fill:#4b5563}.figures{font-variant-numeric:tabular-nums}
.line,path.line{fill:none;stroke-width:2.5;stroke-linejoin:round}
.s1{fill:#1d4ed8;stroke:#1d4ed8}.s2{fill:#ea580c;stroke:#ea580c}.s3{fill:#059669;stroke:#059669}
rect.mark,rect.key{stroke:none}`

var viewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)

// seriesNames names the transactions series in the plot.
var seriesNames = map[string]string{SectionTransactions: "points program, tx/s", "stamps": "stamps program, tx/s"}

// WritePlot writes an SVG of the transactions' throughput (medians of
// the runs) against the number of instances, with every plotted figure
// written out below the chart.
func (r *Report) WritePlot(w io.Writer) error {
	if len(r.Scaling) == 0 {
		return errors.New("no transactions were measured, so there is nothing to plot")
	}
	var counts []int
	var series []string
	for _, p := range r.Scaling {
		if !slices.Contains(counts, p.Instances) {
			counts = append(counts, p.Instances)
		}
		if !slices.Contains(series, p.Series) {
			series = append(series, p.Series)
		}
	}
	slices.Sort(counts)
	labels := make([]string, len(counts))
	for i, n := range counts {
		labels[i] = strconv.Itoa(n) + " instance"
		if n > 1 {
			labels[i] += "s"
		}
	}
	chart := plot.Chart{ID: "scaling", Title: "Transactions per second against instances", Kind: plot.Lines, Labels: labels,
		Format: func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "/s" }}
	var figures []string
	for _, name := range series {
		s := plot.Series{Name: seriesNames[name], Values: make([]float64, len(counts))}
		for i, n := range counts {
			s.Values[i] = math.NaN()
			for _, p := range r.Scaling {
				if p.Series == name && p.Instances == n {
					m := p.Row.medians()
					s.Values[i] = m.PerSec
					figures = append(figures, fmt.Sprintf("%s, %s: %s, p50 %s, p99 %s", strings.TrimSuffix(s.Name, ", tx/s"),
						labels[i], rate(m.PerSec), ms(m.P50), ms(m.P99)))
				}
			}
		}
		chart.Series = append(chart.Series, s)
	}
	inner := string(chart.SVG())
	m := viewBox.FindStringSubmatch(inner)
	if m == nil {
		return errors.New("plot: the chart has no viewBox")
	}
	width, _ := strconv.Atoi(m[1])
	height, _ := strconv.Atoi(m[2])
	db := "SQLite"
	if strings.Contains(r.Scaling[0].Row.Name, "PostgreSQL") {
		db = "PostgreSQL"
	}
	head := []string{fmt.Sprintf("loyalpass bench, transactions on %s: medians of %d run(s)", db, r.Runs),
		fmt.Sprintf("load average %s before, %s after", loads(r.LoadBefore), loads(r.LoadAfter))}
	figures = append(head, figures...)
	total := height + 18*len(figures) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d">`, width, total, width, total)
	fmt.Fprintf(&b, "<style>%s</style>\n", plotStyle)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, total)
	// The chart is an <svg> of its own, placed at the top.
	b.WriteString(strings.Replace(inner, "<svg ", fmt.Sprintf(`<svg x="0" y="0" width="%d" height="%d" `, width, height), 1))
	for i, f := range figures {
		fmt.Fprintf(&b, "\n"+`<text class="figures" x="8" y="%d">%s</text>`, height+18*(i+1), html.EscapeString(f))
	}
	b.WriteString("\n</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// medians is the median measure of the row's runs.
func (row *Row) medians() Measure {
	pick := func(f func(Measure) float64) float64 {
		xs := make([]float64, len(row.Runs))
		for i, m := range row.Runs {
			xs[i] = f(m)
		}
		return median(xs)
	}
	return Measure{PerSec: pick(func(m Measure) float64 { return m.PerSec }),
		P50: time.Duration(pick(func(m Measure) float64 { return float64(m.P50) })),
		P99: time.Duration(pick(func(m Measure) float64 { return float64(m.P99) }))}
}
