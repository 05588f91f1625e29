package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File names of a development chain inside its directory.
const (
	DevRootFile         = "root.pem"
	DevIntermediateFile = "wwdr.pem"
	DevCertFile         = "pass.pem"
	DevKeyFile          = "pass.key"
	devLockFile         = ".dev.lock"
)

// DevOptions configures a development signing chain.
type DevOptions struct {
	// PassTypeID and TeamID go into the leaf subject (UID and OU) exactly
	// where Apple puts them. Both are required.
	PassTypeID string
	TeamID     string
	// Organization is the leaf's O attribute; default "loyalpass development".
	Organization string
	// Now is the issuing time; zero means time.Now().
	Now time.Time
	// Validity is the leaf's lifetime; zero means one year. The intermediate
	// lives five times as long and the root ten times.
	Validity time.Duration
}

func (o DevOptions) withDefaults() DevOptions {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Validity <= 0 {
		o.Validity = defaultLeafValidity
	}
	if o.Organization == "" {
		o.Organization = devOrganization
	}
	return o
}

// DevFiles are the paths of a development chain on disk.
type DevFiles struct {
	Root         string // self-signed root CA, PEM
	Intermediate string // WWDR-like intermediate CA, PEM
	Cert         string // Pass Type ID leaf certificate, PEM
	Key          string // leaf private key, PKCS#8 PEM, mode 0600
}

// DevFilesIn returns the paths a development chain uses in dir.
func DevFilesIn(dir string) DevFiles {
	return DevFiles{
		Root:         filepath.Join(dir, DevRootFile),
		Intermediate: filepath.Join(dir, DevIntermediateFile),
		Cert:         filepath.Join(dir, DevCertFile),
		Key:          filepath.Join(dir, DevKeyFile),
	}
}

// GenerateDev creates a fresh development chain (root CA, an intermediate
// that mimics Apple WWDR G4, and a Pass Type ID leaf with an RSA-2048 key)
// and writes it to dir, replacing any chain already there. Passes signed
// with it install on no real device; it exists so the server can run
// end to end without Apple credentials.
func GenerateDev(dir string, opts DevOptions) (DevFiles, error) {
	var files DevFiles
	err := withDirLock(dir, func() error {
		var err error
		files, err = generateDevLocked(dir, opts)
		return err
	})
	return files, err
}

// EnsureDev returns the development chain in dir, generating it first if
// dir holds no pass.pem; created reports whether it did. Concurrent callers,
// in one process or several, serialise on a lock file in dir, so exactly one
// of them generates and the others see its complete set.
func EnsureDev(dir string, opts DevOptions) (files DevFiles, created bool, err error) {
	err = withDirLock(dir, func() error {
		files = DevFilesIn(dir)
		_, statErr := os.Stat(files.Cert)
		switch {
		case statErr == nil:
			return nil
		case !errors.Is(statErr, fs.ErrNotExist):
			return fmt.Errorf("certs: check development certificate: %w", statErr)
		}
		var genErr error
		files, genErr = generateDevLocked(dir, opts)
		created = genErr == nil
		return genErr
	})
	return files, created, err
}

// withDirLock creates dir and runs fn while holding an exclusive lock on a
// file inside it.
func withDirLock(dir string, fn func() error) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: create development directory: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, devLockFile))
	if err != nil {
		return fmt.Errorf("certs: lock development directory %s: %w", dir, err)
	}
	defer unlock()
	return fn()
}

// generateDevLocked writes a new chain; the caller holds the directory lock.
func generateDevLocked(dir string, opts DevOptions) (DevFiles, error) {
	chain, err := buildDevChain(opts, devKeys{})
	if err != nil {
		return DevFiles{}, err
	}
	files := DevFilesIn(dir)
	if err := writeDevChain(files, chain); err != nil {
		return DevFiles{}, err
	}
	return files, nil
}

// writeDevChain writes chain to files. pass.pem goes first out and last in,
// so its presence means the set is complete and never pairs with a stale
// key.
func writeDevChain(files DevFiles, chain *devChain) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(chain.keys.leaf)
	if err != nil {
		return fmt.Errorf("certs: encode development key: %w", err)
	}
	if err := os.Remove(files.Cert); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("certs: remove old development certificate: %w", err)
	}
	writes := []struct {
		path  string
		block *pem.Block
		perm  os.FileMode
	}{
		{files.Root, certBlock(chain.root), 0o644},
		{files.Intermediate, certBlock(chain.intermediate), 0o644},
		{files.Key, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}, 0o600},
		{files.Cert, certBlock(chain.leaf), 0o644},
	}
	for _, w := range writes {
		if err := writeFileAtomic(w.path, pem.EncodeToMemory(w.block), w.perm); err != nil {
			return err
		}
	}
	return nil
}

func certBlock(c *x509.Certificate) *pem.Block {
	return &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so readers see either the old file or the whole new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}
