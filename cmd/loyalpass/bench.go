package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/loyalpass/loyalpass/internal/bench"
	"github.com/loyalpass/loyalpass/internal/store"
)

// benchCmd runs the end-to-end benchmarks and prints a table: transactions
// and cached pass downloads over HTTP against an in-process server, pass
// rendering next to bare RSA signing and to passkit-generator, every
// delivery channel through its real worker to a fake provider (APNs,
// Google Wallet, Twilio for a campaign), and the process's peak memory.
// BENCHMARKS.md figures are medians of --runs 5.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	runs := fs.Int("runs", 1, "run every section this many times and print medians (BENCHMARKS.md uses 5)")
	only := fs.String("only", "", "comma-separated sections to run: "+strings.Join(bench.Sections, ", ")+" (default all)")
	requests := fs.Int("requests", 20000, "transactions to send")
	concurrency := fs.Int("concurrency", 32, "concurrent HTTP clients, for transactions and downloads")
	cards := fs.Int("cards", 200, "cards the transactions and downloads spread over")
	passes := fs.Int("passes", 2000, "passes to render, and RSA signatures to make, per run")
	workers := fs.Int("workers", 0, "goroutines rendering and signing, and passkit-generator's worker threads (default GOMAXPROCS)")
	passkitPasses := fs.Int("passkit-passes", 100, "passes passkit-generator builds per run")
	passkitCache := fs.String("passkit-cache", "", "directory for passkit-generator's npm install (default: loyalpass/bench in the user cache directory)")
	downloads := fs.Int("downloads", 10000, "cached pass downloads per run")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	database := fs.String("database", "", "run on this PostgreSQL database (postgres://…; a password goes in PGPASSWORD) in a scratch schema, instead of SQLite")
	instances := fs.String("instances", "1", "comma-separated counts of servers sharing the database in the transactions section, run in turn (more than 1 needs --database)")
	pushes := fs.Int("pushes", 50000, "changed cards, a device each, the push section pushes to the fake APNs")
	pushLatency := fs.Duration("push-latency", 0, "delay every answer of the fake APNs by this, standing in for the round trip to Apple")
	googleCards := fs.Int("google-cards", 2000, "changed cards the google section patches in the fake Google Wallet API")
	customers := fs.Int("campaign-customers", 1_000_000, "customers the campaign section seeds and plans a win-back over")
	texts := fs.Int("campaign-texts", 20000, "texts the campaign section sends to the fake Twilio (at least; the sender's last round may send more)")
	plotFile := fs.String("plot", "", "write an SVG of transactions per second against --instances to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *database != "" && !store.IsPostgresURL(*database) {
		return fmt.Errorf("%w: --database must be a postgres:// URL", errUsage)
	}
	counts, err := parseCounts(*instances)
	if err != nil {
		return fmt.Errorf("%w: --instances: %v", errUsage, err)
	}
	if slices.Max(counts) > 1 && *database == "" {
		return fmt.Errorf("%w: --instances needs --database: instances share a PostgreSQL database", errUsage)
	}
	sections, err := bench.ParseSections(*only)
	if err != nil {
		return fmt.Errorf("%w: --only: %v", errUsage, err)
	}
	for name, v := range map[string]int{"runs": *runs, "requests": *requests, "concurrency": *concurrency,
		"cards": *cards, "passes": *passes, "passkit-passes": *passkitPasses, "downloads": *downloads,
		"pushes": *pushes, "google-cards": *googleCards, "campaign-customers": *customers, "campaign-texts": *texts} {
		if v < 1 {
			return fmt.Errorf("%w: --%s must be at least 1", errUsage, name)
		}
	}
	if *pushLatency < 0 {
		return fmt.Errorf("%w: --push-latency must not be negative", errUsage)
	}
	if *workers < 0 {
		return fmt.Errorf("%w: --workers must not be negative", errUsage)
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
	rep, err := bench.Run(ctx, bench.Options{
		Runs:           *runs,
		Only:           sections,
		Transactions:   bench.TransactionOptions{Requests: *requests, Concurrency: *concurrency, Cards: *cards},
		Render:         bench.RenderOptions{Passes: *passes, Workers: *workers},
		Passkit:        bench.PasskitOptions{Passes: *passkitPasses, Workers: *workers},
		PasskitInstall: bench.PasskitInstallOptions{CacheDir: *passkitCache, Log: stderr},
		Downloads:      bench.DownloadOptions{Requests: *downloads, Concurrency: *concurrency, Cards: *cards},
		Push:           bench.PushOptions{Pushes: *pushes, Latency: *pushLatency},
		Google:         bench.GoogleOptions{Cards: *googleCards},
		Campaign:       bench.CampaignOptions{Customers: *customers, Texts: *texts},
		Progress:       stderr,
		Database:       *database,
		Instances:      counts,
	})
	if err != nil {
		return err
	}
	if err := rep.Write(stdout); err != nil {
		return err
	}
	if *plotFile != "" {
		return writePlot(rep, *plotFile)
	}
	return nil
}

// parseCounts reads a comma-separated list of instance counts.
func parseCounts(list string) ([]int, error) {
	var counts []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a count of at least 1", strings.TrimSpace(f))
		}
		if !slices.Contains(counts, n) {
			counts = append(counts, n)
		}
	}
	return counts, nil
}

func writePlot(rep *bench.Report, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WritePlot(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %w", err)
	}
	return f.Close()
}
