package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/loyalpass/loyalpass/internal/bench"
	"github.com/loyalpass/loyalpass/internal/store"
)

// benchCmd runs the end-to-end benchmarks and prints a table: transactions
// and cached pass downloads over HTTP against an in-process server, pass
// rendering next to bare RSA signing and to passkit-generator, and the
// process's peak memory. BENCHMARKS.md figures are medians of --runs 5.
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
	instances := fs.Int("instances", 1, "servers sharing the database in the transactions section (PostgreSQL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *database != "" && !store.IsPostgresURL(*database) {
		return fmt.Errorf("%w: --database must be a postgres:// URL", errUsage)
	}
	if *instances > 1 && *database == "" {
		return fmt.Errorf("%w: --instances needs --database: instances share a PostgreSQL database", errUsage)
	}
	sections, err := bench.ParseSections(*only)
	if err != nil {
		return fmt.Errorf("%w: --only: %v", errUsage, err)
	}
	for name, v := range map[string]int{"runs": *runs, "requests": *requests, "concurrency": *concurrency,
		"cards": *cards, "instances": *instances, "passes": *passes, "passkit-passes": *passkitPasses, "downloads": *downloads} {
		if v < 1 {
			return fmt.Errorf("%w: --%s must be at least 1", errUsage, name)
		}
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
		Progress:       stderr,
		Database:       *database,
		Instances:      *instances,
	})
	if err != nil {
		return err
	}
	return rep.Write(stdout)
}
