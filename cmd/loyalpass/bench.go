package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loyalpass/loyalpass/internal/bench"
)

// benchCmd runs the end-to-end benchmarks and prints a table.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	requests := fs.Int("requests", 20000, "transactions to send")
	concurrency := fs.Int("concurrency", 32, "concurrent clients")
	cards := fs.Int("cards", 200, "cards the transactions spread over")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	srv, err := bench.StartServer(ctx)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stderr, "transactions: %d requests from %d clients over %d cards…\n", *requests, *concurrency, *cards)
	tx, err := bench.RunTransactions(ctx, srv, bench.TransactionOptions{Requests: *requests, Concurrency: *concurrency, Cards: *cards})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "measure\tresult\tp50\tp99\tCPU per op\tload")
	fmt.Fprintf(w, "transactions (SQLite, %d clients)\t%.0f/s\t%s\t%s\t%s\t%s\n", *concurrency, tx.PerSec, ms(tx.P50), ms(tx.P99),
		us(tx.CPUPerOp), loadAvg())
	return w.Flush()
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }

// loadAvg is the one-minute load average, to judge how busy the machine was.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
