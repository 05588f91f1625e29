package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	passkitgenerator "github.com/loyalpass/loyalpass/bench/passkit-generator"
	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/passes"
)

// ErrSkipped marks a comparison that could not run on this machine (no
// node or npm, registry unreachable): its row is left out with a note, and
// the rest of the benchmark goes on.
var ErrSkipped = errors.New("skipped")

// defaultInstallTimeout bounds `npm ci`, which can hang for minutes on an
// unreachable registry before it gives up.
const defaultInstallTimeout = 5 * time.Minute

// PasskitInstallOptions configures InstallPasskit.
type PasskitInstallOptions struct {
	// CacheDir holds the installed script between runs and invocations;
	// empty means loyalpass/bench in the user's cache directory, or the
	// temporary directory where there is none.
	CacheDir string
	// Log receives npm's output; nil discards it.
	Log io.Writer
	// Timeout bounds `npm ci`; zero means five minutes.
	Timeout time.Duration
}

// Passkit is the passkit-generator benchmark script (bench/passkit-generator)
// installed with its locked dependencies, ready to run.
type Passkit struct {
	dir  string // holds bench.js and node_modules
	node string // the node executable
	// NodeVersion and Version are node's and passkit-generator's versions.
	NodeVersion, Version string
}

// InstallPasskit copies the embedded script into a cache directory named
// after its content and runs `npm ci` there, unless an earlier call did.
// It returns an error wrapping ErrSkipped when node or npm is missing or
// the install fails.
func InstallPasskit(ctx context.Context, o PasskitInstallOptions) (*Passkit, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not installed", ErrSkipped)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, fmt.Errorf("%w: npm is not installed", ErrSkipped)
	}
	cache := o.CacheDir
	if cache == "" {
		if base, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(base, "loyalpass", "bench")
		} else {
			cache = filepath.Join(os.TempDir(), "loyalpass-bench")
		}
	}
	files, sum, err := scriptFiles()
	if err != nil {
		return nil, err
	}
	p := &Passkit{dir: filepath.Join(cache, "passkit-generator-"+sum[:12]), node: node}
	if !installed(p.dir) {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return nil, fmt.Errorf("passkit-generator cache: %w", err)
		}
		if err := npmInstall(ctx, npm, cache, p.dir, files, o); err != nil {
			return nil, err
		}
	}
	if p.NodeVersion, err = output(ctx, node, "--version"); err != nil {
		return nil, fmt.Errorf("%w: node --version: %v", ErrSkipped, err)
	}
	var pkg struct{ Version string }
	b, err := os.ReadFile(filepath.Join(p.dir, "node_modules", "passkit-generator", "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		return nil, fmt.Errorf("passkit-generator version: %w", err)
	}
	p.Version = pkg.Version
	return p, nil
}

// scriptFiles returns the embedded script files by name and a digest of
// them all, which names the install directory: a changed script or lock
// gets a fresh install.
func scriptFiles() (map[string][]byte, string, error) {
	files := map[string][]byte{}
	h := sha256.New()
	for _, name := range []string{"bench.js", "package.json", "package-lock.json"} {
		b, err := fs.ReadFile(passkitgenerator.FS, name)
		if err != nil {
			return nil, "", err
		}
		files[name] = b
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return files, hex.EncodeToString(h.Sum(nil)), nil
}

// installedMarker is written last, so a directory that has it holds a
// complete install.
const installedMarker = ".installed"

func installed(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, installedMarker))
	return err == nil
}

// npmInstall installs the script into a fresh directory next to dir and
// renames it into place, so an interrupted install never looks complete
// and two processes installing at once both end up with a good one.
func npmInstall(ctx context.Context, npm, cache, dir string, files map[string][]byte, o PasskitInstallOptions) error {
	tmp, err := os.MkdirTemp(cache, "install-")
	if err != nil {
		return fmt.Errorf("passkit-generator install: %w", err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("passkit-generator install: %w", err)
		}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultInstallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var tail tailBuffer
	// One writer for both, so exec never calls it from two goroutines.
	w := io.MultiWriter(&tail, orDiscard(o.Log))
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: npm ci failed (registry unreachable?): %v: %s", ErrSkipped, err, tail.summary())
	}
	if err := os.WriteFile(filepath.Join(tmp, installedMarker), nil, 0o644); err != nil {
		return fmt.Errorf("passkit-generator install: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil && !installed(dir) {
		return fmt.Errorf("passkit-generator install: %w", err)
	}
	return nil
}

// PasskitOptions configures Passkit.Run.
type PasskitOptions struct {
	Passes  int // passes to build
	Workers int // Node worker threads; 0 means GOMAXPROCS
}

// PasskitResult is one run of passkit-generator.
type PasskitResult struct {
	Latencies
	Workers int
	PeakRSS int64 // of the node process, bytes
	// VerifierNotes are what loyalpass's verifier found in the sample
	// that Equivalent tolerates.
	VerifierNotes []string
}

// passkitOutput is the JSON line bench.js prints with --json.
type passkitOutput struct {
	Passes        int     `json:"passes"`
	Seconds       float64 `json:"seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	PassesPerSec  float64 `json:"passes_per_sec"`
	WorkerThreads int     `json:"workers"`
}

// Run has passkit-generator build o.Passes passes of the benchmark card,
// signed with chain, and checks that the sample it wrote is a valid pass
// equivalent to the one passes.Renderer makes (see Equivalent).
func (p *Passkit) Run(ctx context.Context, m *certs.Material, chain certs.DevFiles, o PasskitOptions) (PasskitResult, error) {
	work, err := os.MkdirTemp("", "loyalpass-bench-passkit-")
	if err != nil {
		return PasskitResult{}, err
	}
	defer os.RemoveAll(work)
	ours, err := passes.NewRenderer(m, benchWebService).Render(benchProgram(), benchCard(0))
	if err != nil {
		return PasskitResult{}, err
	}
	model := filepath.Join(work, "model")
	if err := writeModel(ours, model); err != nil {
		return PasskitResult{}, err
	}
	workers := RenderOptions{Workers: o.Workers}.workers()
	sample := filepath.Join(work, "sample.pkpass")
	cmd := exec.CommandContext(ctx, p.node, filepath.Join(p.dir, "bench.js"), "--json",
		"--model", model, "--wwdr", chain.Intermediate, "--cert", chain.Cert, "--key", chain.Key,
		"--count", strconv.Itoa(o.Passes), "--workers", strconv.Itoa(workers), "--out", sample)
	cmd.Dir = p.dir
	var stdout bytes.Buffer
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return PasskitResult{}, fmt.Errorf("passkit-generator: %v: %s", err, stderr.summary())
	}
	var out passkitOutput
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil || out.Passes == 0 {
		return PasskitResult{}, fmt.Errorf("passkit-generator: unexpected output %q", stdout.String())
	}
	theirs, err := os.ReadFile(sample)
	if err != nil {
		return PasskitResult{}, fmt.Errorf("passkit-generator sample: %w", err)
	}
	notes, err := Equivalent(ours, theirs, chain.Root)
	if err != nil {
		return PasskitResult{}, fmt.Errorf("passkit-generator's pass differs from loyalpass's: %w", err)
	}
	res := PasskitResult{Workers: out.WorkerThreads, VerifierNotes: notes, Latencies: Latencies{
		N:        out.Passes,
		Elapsed:  seconds(out.Seconds),
		PerSec:   out.PassesPerSec,
		P50:      seconds(out.P50ms / 1000),
		P99:      seconds(out.P99ms / 1000),
		CPUPerOp: seconds(out.CPUSeconds / float64(out.Passes)),
	}}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.PeakRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return res, nil
}

// writeModel unpacks a rendered pass into dir without manifest.json and
// signature: the model passkit-generator builds the same pass from.
func writeModel(pkpass []byte, dir string) error {
	files, err := unzip(pkpass)
	if err != nil {
		return err
	}
	for name, data := range files {
		if name == "manifest.json" || name == "signature" {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func output(ctx context.Context, name string, args ...string) (string, error) {
	b, err := exec.CommandContext(ctx, name, args...).Output()
	return strings.TrimSpace(string(b)), err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// tailBuffer keeps the last few kilobytes written to it: enough to say why
// a command failed.
type tailBuffer struct{ b []byte }

const tailSize = 4096

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = t.b[len(t.b)-tailSize:]
	}
	return len(p), nil
}

// summary is the first two lines that mention an error (npm ends with the
// path of its log, node with a stack trace), or else the last line.
func (t *tailBuffer) summary() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	var picked []string
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l), "error") && len(picked) < 2 {
			picked = append(picked, strings.TrimSpace(l))
		}
	}
	if len(picked) == 0 {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return strings.Join(picked, "; ")
}
