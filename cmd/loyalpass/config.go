package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/loyalpass/loyalpass/internal/config"
	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/store"
)

// configFlags are the flags every command that touches the data shares.
type configFlags struct {
	file *string
	data *string
	addr *string // only for serve
}

func addConfigFlags(fs *flag.FlagSet, withAddr bool) configFlags {
	f := configFlags{
		file: fs.String("config", "", "TOML config file (default $LOYALPASS_CONFIG)"),
		data: fs.String("data", "", "data directory (default ./data)"),
	}
	if withAddr {
		f.addr = fs.String("addr", "", "listen address (default :8080)")
	}
	return f
}

// load builds the configuration: defaults < file < environment < flags.
func (f configFlags) load(fs *flag.FlagSet) (config.Config, error) {
	path := *f.file
	if path == "" {
		path = os.Getenv(config.EnvPrefix + "CONFIG")
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return cfg, err
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "data":
			cfg.DataDir = *f.data
		case "addr":
			cfg.Addr = *f.addr
		}
	})
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serverKey loads the server's key, koshelek.key_file (made in the data
// directory on the first start): it seals the «Кошелёк» Push API
// passwords and keys the join page's hashes of phone numbers and codes.
func serverKey(cfg config.Config, log *slog.Logger) ([]byte, error) {
	path, create := cfg.KoshelekKeyFile()
	key, created, err := credential.LoadKey(path, create)
	if err != nil {
		return nil, fmt.Errorf("koshelek.key_file: %w", err)
	}
	if created {
		log.Info("created the server's key (it seals «Кошелёк» Push API passwords and keys the join page's hashes): "+
			"back it up with the database", "file", path)
	}
	return key, nil
}

func openStore(ctx context.Context, cfg config.Config, key []byte, log *slog.Logger) (*store.Store, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	st, err := store.Open(ctx, store.Options{URL: cfg.Database(), DeviceLogs: store.DeviceLogLimits{
		Retention: time.Duration(cfg.Wallet.LogRetentionDays) * 24 * time.Hour, MaxRows: int(cfg.Wallet.LogMaxRows)},
		HashKey: credential.Derive(key, "join hashes"), Log: log})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return st, nil
}
