package bench

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/loyalpass/loyalpass/passes/passcheck"
)

// Equivalent reports why two .pkpass files are not the same pass, or nil
// when they are: each passes loyalpass's verifier with its signer chained
// to the root in rootFile (PEM), they hold the same files, pass.json
// decodes to the same value, the pass.strings files hold the same lines in
// any order and every other file but manifest.json and signature has the
// same bytes. Signatures differ by design (signing time, digest
// algorithm), so the verifier judges them instead.
//
// One verifier finding in theirs is returned as a note rather than an
// error: signed attributes out of DER order (node-forge, which
// passkit-generator signs with, writes them unsorted). The signature still
// verifies over the bytes as written; only a strict DER reader objects.
func Equivalent(ours, theirs []byte, rootFile string) (notes []string, err error) {
	roots, err := loadRoots(rootFile)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name     string
		data     []byte
		tolerate bool
	}{{"loyalpass", ours, false}, {"the other", theirs, true}} {
		rep := passcheck.Check(p.data, passcheck.Options{Roots: roots, AllowHTTP: true})
		var problems []string
		for _, pr := range rep.Problems {
			if p.tolerate && pr.Rule == "SIG-03" && strings.Contains(pr.Message, "not in DER order") {
				notes = append(notes, pr.String())
				continue
			}
			problems = append(problems, pr.String())
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("%s pass fails verification: %s", p.name, strings.Join(problems, "; "))
		}
	}
	a, err := unzip(ours)
	if err != nil {
		return nil, err
	}
	b, err := unzip(theirs)
	if err != nil {
		return nil, err
	}
	if an, bn := sortedKeys(a), sortedKeys(b); !slices.Equal(an, bn) {
		return nil, fmt.Errorf("files differ: %v and %v", an, bn)
	}
	for name, data := range a {
		switch {
		case name == "manifest.json" || name == "signature":
		case name == "pass.json":
			if err := sameJSON(data, b[name]); err != nil {
				return nil, fmt.Errorf("pass.json: %w", err)
			}
		case strings.HasSuffix(name, ".strings"):
			if x, y := stringsLines(data), stringsLines(b[name]); !slices.Equal(x, y) {
				return nil, fmt.Errorf("%s differs: %q and %q", name, x, y)
			}
		case !bytes.Equal(data, b[name]):
			return nil, fmt.Errorf("%s differs", name)
		}
	}
	return notes, nil
}

// sameJSON reports whether two JSON documents hold the same value, a key
// with an empty array counting as absent: passkit-generator writes
// "headerFields": [] where loyalpass leaves the key out.
func sameJSON(x, y []byte) error {
	var a, b any
	if err := json.Unmarshal(x, &a); err != nil {
		return err
	}
	if err := json.Unmarshal(y, &b); err != nil {
		return err
	}
	dropEmptyArrays(a)
	dropEmptyArrays(b)
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("differs: %s and %s", x, y)
	}
	return nil
}

func dropEmptyArrays(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if arr, ok := e.([]any); ok && len(arr) == 0 {
				delete(v, k)
				continue
			}
			dropEmptyArrays(e)
		}
	case []any:
		for _, e := range v {
			dropEmptyArrays(e)
		}
	}
}

// stringsLines returns the non-empty lines of a .strings file, sorted.
func stringsLines(data []byte) []string {
	var lines []string
	for l := range strings.SplitSeq(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// unzip returns the files of a ZIP archive by name.
func unzip(data []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("open pkpass: %w", err)
	}
	files := make(map[string][]byte, len(zr.File))
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
		files[f.Name] = b
	}
	return files, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func loadRoots(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		pool.AddCert(c)
	}
	if pool.Equal(x509.NewCertPool()) {
		return nil, errors.New(file + ": no certificate")
	}
	return pool, nil
}
