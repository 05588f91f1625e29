// Package certstest hands tests one development signing chain per test
// binary: RSA key generation is too slow to repeat in every test.
package certstest

import (
	"os"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/certs"
)

// PassTypeID and TeamID are the identifiers of the test chain.
const (
	PassTypeID = "pass.test.loyalpass"
	TeamID     = "TEAMTEST01"
)

var chain struct {
	once     sync.Once
	files    certs.DevFiles
	material *certs.Material
	err      error
}

// Chain returns the test binary's development chain, made on first use in
// a temporary directory that the operating system's cleanup removes.
func Chain(t testing.TB) (certs.DevFiles, *certs.Material) {
	t.Helper()
	chain.once.Do(func() {
		dir, err := os.MkdirTemp("", "loyalpass-test-chain-")
		if err != nil {
			chain.err = err
			return
		}
		chain.files, chain.err = certs.GenerateDev(dir, certs.DevOptions{PassTypeID: PassTypeID, TeamID: TeamID})
		if chain.err == nil {
			chain.material, chain.err = certs.Load(certs.LoadOptions{CertFile: chain.files.Cert,
				KeyFile: chain.files.Key, IntermediateFile: chain.files.Intermediate})
		}
	})
	if chain.err != nil {
		t.Fatal(chain.err)
	}
	return chain.files, chain.material
}
