package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/simulator"
	"github.com/loyalpass/loyalpass/internal/store"
)

// simulateCmd runs the automations over a synthetic program on the real
// engine and prints their reports: what a merchant looks at before
// turning an automation on.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", stderr)
	customers := fs.Int("customers", 10000, "synthetic customers")
	days := fs.Int("days", 180, "simulated days")
	seed := fs.Uint64("seed", 1, "random seed: the same seed makes the same customers and answers")
	effect := fs.String("effect", "0,5", "planted answer to the repurchase reminder's variants, in points of conversion, comma-separated")
	other := fs.Float64("other-effect", 3, "planted answer to every other automation's message, in points")
	step := fs.Duration("step", time.Hour, "how often the simulated scheduler and sender run")
	database := fs.String("database", "", "simulate in this database (sqlite:PATH or postgres://…, empty) instead of a temporary SQLite file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *customers < 1 || *customers > 1_000_000 || *days < 1 || *days > 3650 || *step < time.Minute || *step > 24*time.Hour {
		return fmt.Errorf("%w: --customers 1 to 1000000, --days 1 to 3650, --step 1m to 24h", errUsage)
	}
	var effects []float64
	for _, f := range strings.Split(*effect, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 || v > 100 {
			return fmt.Errorf("%w: --effect %q: points from 0 to 100, one per variant", errUsage, *effect)
		}
		effects = append(effects, v)
	}
	if len(effects) != 2 || *other < 0 || *other > 100 {
		return fmt.Errorf("%w: --effect takes two numbers (variants A and B); --other-effect 0 to 100", errUsage)
	}
	url := *database
	if url == "" {
		dir, err := os.MkdirTemp("", "loyalpass-simulate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		url = "sqlite:" + filepath.Join(dir, "simulate.db")
	}
	clock := simulator.NewClock()
	st, err := store.Open(ctx, store.Options{URL: url, Now: clock.Now})
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := simulator.Config{Customers: *customers, Days: *days, Seed: *seed, EffectPoints: effects, OtherEffectPoints: other, Step: *step}
	began := time.Now()
	res, err := simulator.Run(ctx, st, clock, cfg, func(day int) {
		if day%30 == 0 {
			fmt.Fprintf(stderr, "day %d of %d (%s)\n", day, *days, time.Since(began).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	res.Print(stdout)
	fmt.Fprintf(stdout, "\n(%s on this machine)\n", time.Since(began).Round(time.Second))
	return nil
}
