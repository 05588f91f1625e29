package bench

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/assets"
	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/passes"
)

// TestRunEverySection runs the whole benchmark twice with tiny counts and
// checks that each section measured something and the report prints it.
// passkit-generator needs node and the npm registry; without them its row
// must turn into a note. -short leaves it out.
func TestRunEverySection(t *testing.T) {
	only := Sections
	if testing.Short() {
		only = []string{SectionTransactions, SectionRender, SectionDownloads, SectionPush, SectionGoogle, SectionCampaign}
	}
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Options{
		Runs:           2,
		Only:           only,
		Transactions:   TransactionOptions{Requests: 40, Concurrency: 4, Cards: 5},
		Render:         RenderOptions{Passes: 6, Workers: 2},
		Passkit:        PasskitOptions{Passes: 2, Workers: 2},
		PasskitInstall: PasskitInstallOptions{CacheDir: t.TempDir(), Timeout: 2 * time.Minute},
		Downloads:      DownloadOptions{Requests: 30, Concurrency: 4, Cards: 5},
		Push:           PushOptions{Pushes: 30},
		Google:         GoogleOptions{Cards: 5},
		Campaign:       CampaignOptions{Customers: 200, Texts: 1000},
		Progress:       &progress,
	})
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, &progress)
	}
	want := []string{"transactions (SQLite, 4 clients)", "transactions, stamps program (SQLite, 4 clients)", "stamps ÷ points", "RSA-2048", "signed pass, passes.Renderer", "rendering ÷ signing",
		"cached pass download (4 clients)",
		"push to fake APNs over HTTP/2, delivery worker (SQLite, 30 changed cards)",
		"Google Wallet object PATCH to fake Wallet API, delivery worker (SQLite, 5 changed cards)",
		"campaign planning, 200 customers, 150 selected (SQLite): wall time",
		"campaign sending to fake Twilio, one sender (SQLite)"}
	passkitRan := false
	if !testing.Short() {
		skipped := false
		for _, n := range rep.Notes {
			skipped = skipped || strings.HasPrefix(n, "passkit-generator row skipped")
		}
		if !skipped {
			passkitRan = true
			want = append(want, "signed pass, passkit-generator 3.6.1", "passes.Renderer ÷ passkit-generator")
		} else {
			t.Logf("passkit-generator could not run here: %v", rep.Notes)
		}
	}
	if len(rep.Rows) != len(want) {
		t.Errorf("%d rows, want %d: %v", len(rep.Rows), len(want), rowNames(rep))
	}
	for _, name := range want {
		row := findRow(rep, name)
		if row == nil {
			t.Errorf("no row %q among %v", name, rowNames(rep))
			continue
		}
		if len(row.Runs) != 2 {
			t.Errorf("%s: %d runs, want 2", row.Name, len(row.Runs))
		}
		for _, m := range row.Runs {
			latency := row.Ratio == 0 && !strings.HasPrefix(row.Name, "push") && !strings.HasPrefix(row.Name, "Google") &&
				!strings.HasPrefix(row.Name, "campaign sending")
			if m.PerSec <= 0 || (row.Ratio == 0 && m.CPUPerOp <= 0) || (latency && m.P50 <= 0) || (row.Ratio != 0 && m.CPURatio <= 0) ||
				(row.Wall && m.Elapsed <= 0) {
				t.Errorf("%s: empty measure %+v", row.Name, m)
			}
		}
	}
	if rep.Memory.PeakRSS <= 0 || rep.Memory.GoTotal == 0 {
		t.Errorf("memory not measured: %+v", rep.Memory)
	}

	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Logf("report:\n%s", text)
	for _, s := range append(want, "machine: ", "2 runs, medians", "spread", "peak memory: ", "load average: ", " s  ") {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
	if passkitRan && !strings.Contains(text, "passed loyalpass's verifier") {
		t.Errorf("report does not say passkit-generator's pass was checked:\n%s", text)
	}
}

// TestInstallPasskitSkips checks that a machine without node, or without
// the npm registry, gets ErrSkipped (a note) rather than a failed bench.
func TestInstallPasskitSkips(t *testing.T) {
	_, npmErr := exec.LookPath("npm")
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no node", map[string]string{"PATH": t.TempDir()}, "node is not installed"},
		{"registry unreachable", map[string]string{"npm_config_registry": "http://127.0.0.1:9/",
			"npm_config_fetch_retries": "0", "npm_config_cache": t.TempDir()}, "npm ci failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "registry unreachable" && npmErr != nil {
				t.Skip("npm is not installed")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := InstallPasskit(context.Background(), PasskitInstallOptions{CacheDir: t.TempDir(), Timeout: time.Minute})
			if !errors.Is(err, ErrSkipped) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("InstallPasskit = %v, want ErrSkipped saying %q", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}

func TestParseSections(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"render", []string{"render"}, false},
		{"transactions, downloads", []string{"transactions", "downloads"}, false},
		{"render,bogus", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSections(tc.in)
			if (err != nil) != tc.err || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("ParseSections(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestReportMedians(t *testing.T) {
	rep := &Report{Runs: 3, Rows: []*Row{
		{Name: "op", Runs: []Measure{
			{PerSec: 100, P50: time.Millisecond, P99: 3 * time.Millisecond, CPUPerOp: 900 * time.Microsecond, Load: 1},
			{PerSec: 300, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond, CPUPerOp: 1100 * time.Microsecond, Load: 3},
			{PerSec: 200, P50: 2 * time.Millisecond, P99: 5 * time.Millisecond, CPUPerOp: 1000 * time.Microsecond, Load: 2},
		}},
		{Name: "  a ÷ b", Ratio: percent, Runs: []Measure{{PerSec: 0.8, CPURatio: 0.9}, {PerSec: 0.86, CPURatio: 0.87}, {PerSec: 0.84, CPURatio: 0.88}}},
	}}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for l := range strings.Lines(out.String()) {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = strings.Join(f, " ")
		}
	}
	if got, want := lines["op"], "op 200/s 2.00 ms 5.00 ms 1000 µs 2.00 100/s–300/s"; got != want {
		t.Errorf("measure row = %q, want %q", got, want)
	}
	if got, want := lines["a"], "a ÷ b 84% 88% by CPU 80%–86%"; got != want {
		t.Errorf("ratio row = %q, want %q", got, want)
	}
}

// TestEquivalent checks the comparison the passkit-generator row relies on:
// two renderings of one card are the same pass though their signatures
// differ, and a changed pass.json or image is caught.
func TestEquivalent(t *testing.T) {
	dir := t.TempDir()
	files, err := certs.GenerateDev(dir, certs.DevOptions{PassTypeID: "pass.bench.loyalpass", TeamID: "BENCHTEAM1"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := certs.Load(certs.LoadOptions{CertFile: files.Cert, KeyFile: files.Key, IntermediateFile: files.Intermediate})
	if err != nil {
		t.Fatal(err)
	}
	r := passes.NewRenderer(m, benchWebService)
	render := func(c passes.Card) []byte {
		t.Helper()
		b, err := r.Render(benchProgram(), c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := render(benchCard(0)), render(benchCard(0)) // two signatures over one manifest
	if notes, err := Equivalent(a, b, files.Root); err != nil || len(notes) > 0 {
		t.Errorf("two renderings of one card: %v, notes %v", err, notes)
	}
	if _, err := Equivalent(a, render(benchCard(1)), files.Root); err == nil || !strings.Contains(err.Error(), "pass.json") {
		t.Errorf("another card's pass: err = %v, want a pass.json difference", err)
	}
	// The same icon encoded anew: a valid, signed pass that differs only
	// in the bytes of icon.png.
	p := benchProgram()
	p.Design.Images = map[string][]byte{"icon.png": reencodePNG(t, "icon.png")}
	changed, err := r.Render(p, benchCard(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Equivalent(a, changed, files.Root); err == nil || !strings.Contains(err.Error(), "icon.png") {
		t.Errorf("a changed icon.png: err = %v, want an icon.png difference", err)
	}
	other, err := certs.GenerateDev(filepath.Join(dir, "other"), certs.DevOptions{PassTypeID: "pass.bench.loyalpass", TeamID: "BENCHTEAM1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Equivalent(a, b, other.Root); err == nil || !strings.Contains(err.Error(), "verification") {
		t.Errorf("passes signed under another root: err = %v, want a verification failure", err)
	}
}

// reencodePNG decodes a default image and encodes it again with Go's
// encoder: the same picture in other bytes.
func reencodePNG(t *testing.T, name string) []byte {
	t.Helper()
	data, ok := assets.DefaultImage(name)
	if !ok {
		t.Fatalf("no default %s", name)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("re-encoding %s changed nothing", name)
	}
	return buf.Bytes()
}

func TestMeasureMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	m := MeasureMemory()
	if m.Source != "VmHWM" || m.PeakRSS < 1<<20 {
		t.Errorf("MeasureMemory() = %+v, want VmHWM of at least 1 MiB", m)
	}
}

func findRow(rep *Report, prefix string) *Row {
	for _, r := range rep.Rows {
		if strings.HasPrefix(strings.TrimSpace(r.Name), strings.TrimSpace(prefix)) {
			return r
		}
	}
	return nil
}

func rowNames(rep *Report) []string {
	var names []string
	for _, r := range rep.Rows {
		names = append(names, r.Name)
	}
	return names
}

// TestWritePlot draws a report of two instance counts and checks the
// marks and the figures written under the chart.
func TestWritePlot(t *testing.T) {
	row := func(perSec float64) *Row {
		return &Row{Runs: []Measure{{PerSec: perSec, P50: time.Millisecond, P99: 9 * time.Millisecond}}}
	}
	rep := &Report{Runs: 1, Scaling: []ScalePoint{{Series: SectionTransactions, Instances: 2, Row: row(900)},
		{Series: SectionTransactions, Instances: 1, Row: row(700)}, {Series: "stamps", Instances: 1, Row: row(650)}}}
	var b bytes.Buffer
	if err := rep.WritePlot(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if n := strings.Count(svg, `class="mark`); n != 3 {
		t.Errorf("%d marks, want 3 (stamps has no two-instance point)", n)
	}
	for _, want := range []string{`xmlns="http://www.w3.org/2000/svg"`, "<style>", "points program, 1 instance: 700/s, p50 1.00 ms, p99 9.00 ms",
		"points program, 2 instances: 900/s", "stamps program, 1 instance: 650/s", `data-value="900"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("plot lacks %q:\n%s", want, svg)
		}
	}
	if err := (&Report{}).WritePlot(&b); err == nil {
		t.Error("a report without transactions plotted")
	}
}
