package passcheck

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"
)

// ruleCase breaks one rule of a valid package and names the rules the
// report must carry, no more and no fewer.
type ruleCase struct {
	name   string
	break_ func(t *testing.T, b *build, o *Options)
	want   []string
}

// runRuleCases builds each case's package, checks it, and compares the
// reported rule IDs with the wanted ones.
func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuild(t)
			var opts Options
			if tc.break_ != nil {
				tc.break_(t, b, &opts)
			}
			assertRules(t, Check(b.bytes(t), opts), tc.want...)
		})
	}
}

// assertRules fails unless rep reports exactly the rule IDs want.
func assertRules(t *testing.T, rep Report, want ...string) {
	t.Helper()
	got := rep.Rules()
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(got, want) {
		t.Errorf("rules = %v, want %v\n%s", got, want, dump(rep))
	}
}

// dump renders a report for a failure message.
func dump(rep Report) string {
	var sb strings.Builder
	for _, p := range rep.Problems {
		sb.WriteString("  " + p.String() + "\n")
	}
	for _, n := range rep.Notes {
		sb.WriteString("  note: " + n + "\n")
	}
	return sb.String()
}

func TestValidPackage(t *testing.T) {
	a, _ := chains(t)
	rep := Check(newBuild(t).bytes(t), Options{Roots: a.roots, PassTypeID: testPassTypeID, TeamID: testTeamID})
	if !rep.OK() {
		t.Fatalf("valid package reported problems:\n%s", dump(rep))
	}
	if rep.PassTypeID != testPassTypeID || rep.SerialNumber != "SN-0001" {
		t.Errorf("PassTypeID, SerialNumber = %q, %q", rep.PassTypeID, rep.SerialNumber)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "trusted root not checked") {
			t.Errorf("roots were given, yet the report notes: %s", n)
		}
	}
}

func TestNoRootsIsNoted(t *testing.T) {
	rep := Check(newBuild(t).bytes(t), Options{})
	assertRules(t, rep)
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "trusted root not checked") }) {
		t.Errorf("no note about the unchecked root:\n%s", dump(rep))
	}
}

func TestGarbageInput(t *testing.T) {
	valid := newBuild(t).bytes(t)
	random := make([]byte, 4096)
	rand.Read(random)
	var emptyZip bytes.Buffer
	if err := zip.NewWriter(&emptyZip).Close(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		want []string
	}{
		"nil":       {nil, []string{"PKG-01"}},
		"text":      {[]byte("this is not a pass"), []string{"PKG-01"}},
		"random":    {random, []string{"PKG-01"}},
		"truncated": {valid[:len(valid)/2], []string{"PKG-01"}},
		"empty zip": {emptyZip.Bytes(), []string{"PKG-01", "PKG-02"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assertRules(t, Check(tc.data, Options{}), tc.want...)
		})
	}
}

func TestZeroNowMeansNow(t *testing.T) {
	a, _ := chains(t)
	// The fixture certificate is valid from a few minutes ago for a year,
	// so only a Check that fills in time.Now passes SIG-05.
	rep := Check(newBuild(t).bytes(t), Options{Roots: a.roots})
	assertRules(t, rep)
	rep = Check(newBuild(t).bytes(t), Options{Roots: a.roots, Now: time.Unix(0, 0)})
	if !slices.Contains(rep.Rules(), "SIG-05") {
		t.Errorf("a 1970 clock should make the certificate not yet valid:\n%s", dump(rep))
	}
}
