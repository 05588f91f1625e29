package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `loyalpass: loyalty cards in Apple Wallet and Google Wallet

Usage:
  loyalpass [serve] [--addr :8080] [--data ./data] [--config FILE]
  loyalpass keys create --merchant NAME [--data DIR] [--config FILE]
  loyalpass users create --merchant NAME --email EMAIL --role owner|manager|cashier
  loyalpass certs dev --out DIR [--pass-type-id ID] [--team-id ID]
  loyalpass pass verify FILE.pkpass [--ca ROOT.pem]
  loyalpass bench [--requests 20000] [--concurrency 32] [--database URL] [--instances 1]
  loyalpass migrate --from sqlite:PATH --to postgres://USER@HOST/DB
  loyalpass simulate [--customers 10000] [--days 180] [--seed 1] [--effect 0,5]
  loyalpass version

Configuration: defaults < config file (--config or LOYALPASS_CONFIG) <
LOYALPASS_* environment < flags. See loyalpass.example.toml.
`

// errUsage marks a command-line mistake: usage is printed, exit code 2.
var errUsage = errors.New("usage")

// run is the whole program; main only supplies the process's context,
// arguments and streams, so tests can call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest := "serve", args
	if len(args) > 0 && (args[0] == "" || args[0][0] != '-') {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(ctx, rest, stdout, stderr)
	case "keys":
		err = keysCmd(ctx, rest, stdout, stderr)
	case "users":
		err = usersCmd(ctx, rest, stdout, stderr)
	case "certs":
		err = certsCmd(rest, stdout, stderr)
	case "pass":
		err = passCmd(rest, stdout, stderr)
	case "bench":
		err = benchCmd(ctx, rest, stdout, stderr)
	case "migrate":
		err = migrateCmd(ctx, rest, stdout, stderr)
	case "simulate":
		err = simulateCmd(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "loyalpass", buildVersion())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "loyalpass: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var exit exitCode
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "loyalpass %s: %v\n\n%s", cmd, err, usage)
		return 2
	case errors.As(err, &exit):
		return int(exit)
	}
	fmt.Fprintf(stderr, "loyalpass %s: %v\n", cmd, err)
	return 1
}

// exitCode is an error that only sets the exit status (the command has
// already said why).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and refuses leftovers.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
