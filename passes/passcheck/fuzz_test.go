package passcheck

import (
	"testing"
	"time"
)

// FuzzCheck feeds Check mutations of valid packages: it must never panic,
// and must always explain a failure.
func FuzzCheck(f *testing.F) {
	a, _ := chains(f)
	valid := newBuild(f)
	f.Add(valid.bytes(f))
	crafted := newBuild(f)
	crafted.sign = func(m []byte) []byte { return craft{chain: a, ski: true}.sign(f, m) }
	f.Add(crafted.bytes(f))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Check(data, Options{Roots: a.roots, Now: now, PassTypeID: testPassTypeID, TeamID: testTeamID})
		for _, p := range rep.Problems {
			if p.Rule == "" || p.Message == "" {
				t.Fatalf("problem without rule or message: %+v", p)
			}
		}
	})
}
