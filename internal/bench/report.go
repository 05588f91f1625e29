package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Write prints the report: a header describing the machine, one table row
// per measure with the median of the runs, the notes and the memory.
func (r *Report) Write(w io.Writer) error {
	if r.Runs > 1 {
		fmt.Fprintf(w, "loyalpass bench: %d runs, medians; spread is the slowest and fastest run\n", r.Runs)
	} else {
		fmt.Fprintln(w, "loyalpass bench: 1 run (use --runs 5 for medians)")
	}
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "load average: %s before, %s after\n\n", loads(r.LoadBefore), loads(r.LoadAfter))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "measure\tresult\tp50\tp99\tCPU per op\tload"
	if r.Runs > 1 {
		header += "\tspread"
	}
	fmt.Fprintln(tw, header)
	for _, row := range r.Rows {
		fmt.Fprintln(tw, row.line(r.Runs > 1))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintln(w, "note: "+n)
		}
	}
	m := r.Memory
	fmt.Fprintf(w, "\npeak memory: %s resident (%s; the whole process: server, load clients, every section and run); the Go runtime maps %s now, heap goal %s\n",
		mib(m.PeakRSS), m.Source, mib(int64(m.GoTotal)), mib(int64(m.GoHeapGoal)))
	return nil
}

// line formats a row with the medians of its runs.
func (row *Row) line(spread bool) string {
	pick := func(f func(Measure) float64) []float64 {
		xs := make([]float64, len(row.Runs))
		for i, m := range row.Runs {
			xs[i] = f(m)
		}
		return xs
	}
	rates := pick(func(m Measure) float64 { return m.PerSec })
	var s string
	if row.Wall {
		walls := pick(func(m Measure) float64 { return m.Elapsed.Seconds() })
		s = fmt.Sprintf("%s\t%.2f s\t\t\t%s\t%.2f", row.Name, median(walls),
			us(time.Duration(median(pick(func(m Measure) float64 { return float64(m.CPUPerOp) })))),
			median(pick(func(m Measure) float64 { return m.Load })))
		if spread {
			s += fmt.Sprintf("\t%.2f–%.2f s", slices.Min(walls), slices.Max(walls))
		}
		return s
	}
	if row.Ratio != 0 {
		s = fmt.Sprintf("%s\t%s\t\t\t%s by CPU\t", row.Name, row.Ratio.format(median(rates)),
			row.Ratio.format(median(pick(func(m Measure) float64 { return m.CPURatio }))))
	} else {
		dur := func(f func(Measure) time.Duration) time.Duration {
			return time.Duration(median(pick(func(m Measure) float64 { return float64(f(m)) })))
		}
		s = fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%.2f", row.Name, rate(median(rates)),
			ms(dur(func(m Measure) time.Duration { return m.P50 })),
			ms(dur(func(m Measure) time.Duration { return m.P99 })),
			us(dur(func(m Measure) time.Duration { return m.CPUPerOp })),
			median(pick(func(m Measure) float64 { return m.Load })))
	}
	if spread {
		lo, hi := slices.Min(rates), slices.Max(rates)
		if row.Ratio != 0 {
			s += "\t" + row.Ratio.format(lo) + "–" + row.Ratio.format(hi)
		} else {
			s += "\t" + rate(lo) + "–" + rate(hi)
		}
	}
	return s
}

func (f ratioFormat) format(x float64) string {
	if f == percent {
		return fmt.Sprintf("%.0f%%", x*100)
	}
	if x < 10 {
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.0f×", x)
}

// median returns the middle value, or the mean of the two middle ones.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func rate(perSec float64) string {
	if perSec < 100 {
		return fmt.Sprintf("%.1f/s", perSec)
	}
	return fmt.Sprintf("%.0f/s", perSec)
}

func loads(l [3]float64) string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }

// ms prints a latency; a throughput-only measure has none ("–").
func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}

// us prints a CPU time per operation: in microseconds, or in milliseconds
// from 10 ms on.
func us(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000)
}
