// Package passcheck verifies an Apple Wallet package (.pkpass) the way iOS
// does before it installs one, and reports every rule the package breaks.
//
// The rules are the conformance checklist of the Apple Wallet reference
// (reference/apple-wallet.md §6): PKG-01..04 for the ZIP layout and the
// manifest, SIG-01..05 for the detached CMS signature and the signing
// certificate, JSON-01..09 for pass.json. JSON-10 is loyalpass's own,
// beyond the checklist: the layout each style allows (field counts,
// date relevance, voided). Every Problem carries the ID of the rule it
// breaks, so a report reads like the checklist.
//
// Check works offline. It cannot know what only Apple knows: whether a
// certificate has been revoked, or whether the Pass Type ID certificate
// carries the NFC entitlement. Where a rule needs such knowledge the report
// says so in a Note instead of guessing.
package passcheck

import (
	"crypto/x509"
	"fmt"
	"time"
)

// Problem is one broken rule.
type Problem struct {
	// Rule is the checklist ID, such as "SIG-01".
	Rule string
	// File is the package file the problem is about ("pass.json",
	// "en.lproj/pass.strings"); empty when it concerns the whole package.
	File string
	// Message says what is wrong, self-contained: it names the file and
	// the JSON path involved, so printing Rule and Message is enough.
	Message string
}

// String formats p the way the CLI prints it: the rule, two spaces, the
// message.
func (p Problem) String() string {
	return p.Rule + "  " + p.Message
}

// Options tune a Check.
type Options struct {
	// Roots are the trusted root certificates (Apple Root CA in
	// production). Nil skips the check that the signer chains to a trusted
	// root, and the report says so in a Note.
	Roots *x509.CertPool
	// Now is the time certificates must be valid at; zero means time.Now().
	Now time.Time
	// PassTypeID and TeamID, when set, are the identifiers the pass must
	// carry, in pass.json and in the signing certificate.
	PassTypeID string
	TeamID     string
	// AllowHTTP accepts an http webServiceURL (a development server) with a
	// Note instead of a JSON-03 problem.
	AllowHTTP bool
}

// Report is the outcome of a Check.
type Report struct {
	// Problems are the broken rules, in checklist order (PKG, SIG, JSON).
	Problems []Problem
	// Notes are facts worth knowing that break no rule: checks that could
	// not be made, deprecated keys, a certificate that expires soon.
	Notes []string
	// PassTypeID and SerialNumber are read from pass.json when it parses.
	PassTypeID   string
	SerialNumber string
}

// OK reports whether the package broke no rule.
func (r Report) OK() bool {
	return len(r.Problems) == 0
}

// Rules reports the distinct rule IDs of r's problems, in order of first
// appearance.
func (r Report) Rules() []string {
	seen := make(map[string]bool)
	var ids []string
	for _, p := range r.Problems {
		if !seen[p.Rule] {
			seen[p.Rule] = true
			ids = append(ids, p.Rule)
		}
	}
	return ids
}

// Check verifies the .pkpass bytes and reports every rule they break. It
// never panics, whatever the input.
func Check(pkpass []byte, opts Options) Report {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	c := &checker{opts: opts}
	if !c.readArchive(pkpass) {
		return c.rep
	}
	c.checkRootFiles()
	c.checkIcons()
	c.checkPaths()
	c.checkManifest()
	c.parseJSONFiles()
	c.checkLocalizations()
	c.checkSignature()
	c.checkPassJSON()
	return c.rep
}

// Names of the files every package has at its root.
const (
	passFile            = "pass.json"
	manifestFile        = "manifest.json"
	signatureFile       = "signature"
	personalizationFile = "personalization.json"
)

// checker holds the state of one Check run.
type checker struct {
	opts Options
	rep  Report

	// files maps each regular file's path in the archive to its bytes;
	// order lists the paths in archive order, so reports are stable.
	files map[string][]byte
	order []string
	// dirs lists the directory entries of the archive.
	dirs []string

	// pass is pass.json decoded (numbers as json.Number), nil when it is
	// missing or invalid.
	pass map[string]any
	// personalization is personalization.json decoded, nil when absent or
	// invalid.
	personalization map[string]any
}

// problem records a broken rule.
func (c *checker) problem(rule, file, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Rule: rule, File: file, Message: fmt.Sprintf(format, args...)})
}

// note records a remark that breaks no rule.
func (c *checker) note(format string, args ...any) {
	c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(format, args...))
}
