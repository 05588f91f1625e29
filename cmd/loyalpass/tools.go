package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/config"
	"github.com/loyalpass/loyalpass/passes/passcheck"
)

// certsCmd handles `certs dev --out DIR`: a development signing chain.
func certsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "dev" {
		return fmt.Errorf("%w: want `certs dev --out DIR`", errUsage)
	}
	def := config.Default().Pass
	fs := newFlags("certs dev", stderr)
	out := fs.String("out", "", "directory to write root.pem, wwdr.pem, pass.pem and pass.key to")
	typeID := fs.String("pass-type-id", def.TypeID, "pass type identifier (the leaf's UID)")
	teamID := fs.String("team-id", def.TeamID, "team identifier (the leaf's OU)")
	org := fs.String("organization", "", "organisation name (the leaf's O)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	files, err := certs.GenerateDev(*out, certs.DevOptions{PassTypeID: *typeID, TeamID: *teamID, Organization: *org})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "root CA:       %s\nintermediate:  %s\ncertificate:   %s\nprivate key:   %s\n",
		files.Root, files.Intermediate, files.Cert, files.Key)
	fmt.Fprintln(stdout, "This chain is for development: real iPhones accept only passes signed with your Pass Type ID certificate from Apple and Apple's WWDR G4 intermediate.")
	return nil
}

// passCmd handles `pass verify FILE.pkpass [--ca ROOT.pem]`: every rule the
// package breaks is printed, and the exit status is 1 if there is any.
func passCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("%w: want `pass verify FILE.pkpass [--ca ROOT.pem]`", errUsage)
	}
	fs := newFlags("pass verify", stderr)
	ca := fs.String("ca", "", "PEM file of trusted root certificates (Apple Root CA, or a development root.pem)")
	typeID := fs.String("pass-type-id", "", "pass type identifier the pass must carry")
	teamID := fs.String("team-id", "", "team identifier the pass must carry")
	allowHTTP := fs.Bool("allow-http", false, "accept an http web service URL (a development server) with a note")
	file, err := parseWithOnePositional(fs, args[1:])
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	opts := passcheck.Options{PassTypeID: *typeID, TeamID: *teamID, AllowHTTP: *allowHTTP}
	if *ca != "" {
		if opts.Roots, err = loadRoots(*ca); err != nil {
			return err
		}
	}
	rep := passcheck.Check(data, opts)
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "note  "+n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "%s: %d problem(s)\n", file, len(rep.Problems))
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "%s: OK (serial %s, %s)\n", file, rep.SerialNumber, rep.PassTypeID)
	return nil
}

// parseWithOnePositional accepts flags before and after one positional
// argument, as in `pass verify FILE --ca ROOT`.
func parseWithOnePositional(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return "", fmt.Errorf("%w: name the .pkpass file", errUsage)
	}
	pos := fs.Arg(0)
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	return pos, nil
}

func loadRoots(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		// Apple publishes its root as DER (AppleIncRootCertificate.cer).
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("%s holds no PEM or DER certificate", path)
		}
		pool.AddCert(c)
	}
	return pool, nil
}
