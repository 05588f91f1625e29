package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loyalpass/loyalpass/internal/console"
	"github.com/loyalpass/loyalpass/internal/store"
)

// usersCmd handles `users create --merchant NAME --email EMAIL --role
// ROLE`: it prints the generated password and nothing else on stdout.
func usersCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("%w: want `users create --merchant NAME --email EMAIL --role owner|manager|cashier`", errUsage)
	}
	fs := newFlags("users create", stderr)
	merchant := fs.String("merchant", "", "merchant name (created if it does not exist)")
	email := fs.String("email", "", "the user's email, with which they sign in")
	role := fs.String("role", "", "owner, manager or cashier")
	cf := addConfigFlags(fs, false)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	name := strings.TrimSpace(*merchant)
	if name == "" || strings.TrimSpace(*email) == "" || *role == "" {
		return fmt.Errorf("%w: --merchant, --email and --role are required", errUsage)
	}
	r, err := console.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := cf.load(fs)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	key, err := serverKey(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, key, log)
	if err != nil {
		return err
	}
	defer st.Close()
	m, _, err := st.Merchants().EnsureMerchant(ctx, name, cfg.Country)
	if err != nil {
		return err
	}
	pw, err := console.CreateUser(ctx, st.Users(), console.NewUser{MerchantID: m.ID,
		Email: store.NormalizeEmail(*email), Role: r, By: "command line"})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("a user with the email %s exists already", store.NormalizeEmail(*email))
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, pw)
	return nil
}
