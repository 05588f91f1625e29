package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/store"
)

// keysCmd handles `keys create --merchant NAME`: it prints the new key and
// nothing else on stdout, so scripts can capture it.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: want `keys create --merchant NAME`", errUsage)
	}
	fs := newFlags("keys create", stderr)
	merchant := fs.String("merchant", "", "merchant name (created if it does not exist)")
	cf := addConfigFlags(fs, false)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	name := strings.TrimSpace(*merchant)
	if name == "" {
		return fmt.Errorf("%w: --merchant is required", errUsage)
	}
	cfg, err := cf.load(fs)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	secret, err := serverKey(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, secret, log)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := createKey(ctx, st, name, cfg.Country)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}

// createKey makes a key for the merchant called name, creating the
// merchant if needed, and returns the key's full text.
func createKey(ctx context.Context, st *store.Store, name, country string) (string, error) {
	m, _, err := st.Merchants().EnsureMerchant(ctx, name, country)
	if err != nil {
		return "", err
	}
	k := apikey.New()
	if err := st.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: m.ID, SecretHash: k.Hash()}); err != nil {
		return "", err
	}
	return k.String(), nil
}
