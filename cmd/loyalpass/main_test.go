package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/certs"
)

// TestMain lets the test binary act as the loyalpass binary, so tests can
// run it as a child process (for signals and separate processes).
func TestMain(m *testing.M) {
	if os.Getenv("LOYALPASS_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// command returns the test binary set up to behave as `loyalpass args…`,
// with an environment free of the developer's LOYALPASS_* settings.
func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"LOYALPASS_TEST_AS_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	return cmd
}

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var keyRE = regexp.MustCompile(`^lp_[a-z2-7]{10}_[A-Z2-7]{26}\n$`)

func TestServeStartsAnswersAndShutsDownGracefully(t *testing.T) {
	data := t.TempDir()
	cmd := command(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", data)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	go io.Copy(io.Discard, stdout)

	addrRE := regexp.MustCompile(`loyalpass is serving.* addr=(\S+)`)
	lines := bufio.NewScanner(stderr)
	var addr, log string
	for addr == "" && lines.Scan() {
		log += lines.Text() + "\n"
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("server never said where it listens:\n%s", log)
	}
	if !strings.Contains(log, "DEVELOPMENT SIGNING") || !strings.Contains(log, "WWDR G4") {
		t.Errorf("start-up does not warn about the development chain:\n%s", log)
	}
	rest := make(chan string)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()

	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	checkOps(t, addr)
	for _, f := range []string{"loyalpass.db", "certs/pass.pem", "certs/pass.key", "certs/wwdr.pem", "certs/root.pem"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("data dir lacks %s", f)
		}
	}

	// keys create works against the data dir while the server runs, and the
	// server accepts the new key.
	out, err := command(t, nil, "keys", "create", "--merchant", "Second Shop", "--data", data).Output()
	if err != nil || !keyRE.Match(out) {
		t.Fatalf("keys create printed %q (%v); want only a key", out, err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/programs", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(out)))
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("new key refused: %v %v", res, err)
	}
	res.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if tail := <-rest; !strings.Contains(tail, "stopped") {
		t.Errorf("no graceful stop in the log:\n%s", tail)
	}
}

func TestDemoMerchantIsCreatedOnceAndItsKeyPrintedOnce(t *testing.T) {
	data := t.TempDir()
	first := startAndStop(t, data)
	m := regexp.MustCompile(`lp_[a-z2-7]{10}_[A-Z2-7]{26}`).FindString(first)
	if m == "" {
		t.Fatalf("first start printed no demo key:\n%s", first)
	}
	// The demo owner is printed with the key, and signs in with what was printed.
	pw := regexp.MustCompile(`email +owner@demo\.loyalpass\.local\n +password +([A-Z2-7]{20})\n`).FindStringSubmatch(first)
	if pw == nil {
		t.Fatalf("first start printed no demo owner:\n%s", first)
	}
	checkUser(t, data, "owner@demo.loyalpass.local", pw[1], "owner", "Demo Coffee")
	if second := startAndStop(t, data); strings.Contains(second, "lp_") || strings.Contains(second, "password") {
		t.Fatalf("second start printed a key or a password again:\n%s", second)
	}
}

// startAndStop runs serve in-process until it is listening, then cancels
// it, and returns what it printed on stdout.
func startAndStop(t *testing.T, data string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, &out, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var log strings.Builder
	for sc.Scan() && !strings.Contains(sc.Text(), "loyalpass is serving") {
		log.WriteString(sc.Text() + "\n")
	}
	if sc.Err() == nil && !strings.Contains(sc.Text(), "loyalpass is serving") {
		t.Fatalf("serve stopped before listening (exit %d):\n%s", <-done, log.String())
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	return out.String()
}

func TestKeysCreatePrintsOnlyTheKey(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "Кофейня", "--data", data)
	if code != 0 || !keyRE.MatchString(out) {
		t.Fatalf("keys create = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "keys", "create", "--data", data); code != 2 || !strings.Contains(errOut, "--merchant") {
		t.Fatalf("keys create without --merchant = %d %q", code, errOut)
	}
}

func TestServeRefusesBadSigningMaterial(t *testing.T) {
	dir := t.TempDir()
	good, err := certs.GenerateDev(filepath.Join(dir, "good"), certs.DevOptions{PassTypeID: "pass.com.example.card", TeamID: "ABCDE12345"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.GenerateDev(filepath.Join(dir, "other"), certs.DevOptions{PassTypeID: "pass.com.example.card", TeamID: "ABCDE12345"})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := certs.GenerateDev(filepath.Join(dir, "expired"), certs.DevOptions{PassTypeID: "pass.com.example.card",
		TeamID: "ABCDE12345", Now: time.Now().Add(-400 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	base := func(f certs.DevFiles) []string {
		return []string{"LOYALPASS_PASS_CERT_FILE=" + f.Cert, "LOYALPASS_PASS_KEY_FILE=" + f.Key,
			"LOYALPASS_PASS_WWDR_FILE=" + f.Intermediate, "LOYALPASS_PASS_TYPE_ID=pass.com.example.card",
			"LOYALPASS_PASS_TEAM_ID=ABCDE12345", "LOYALPASS_PUBLIC_URL=https://cards.example.com"}
	}
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"expired", base(expired), "expired"},
		{"key mismatch", append(base(good), "LOYALPASS_PASS_KEY_FILE="+other.Key), "does not match"},
		{"pass type id mismatch", append(base(good), "LOYALPASS_PASS_TYPE_ID=pass.com.example.other"), "pass.com.example.other"},
		{"team id mismatch", append(base(good), "LOYALPASS_PASS_TEAM_ID=ZZZZZ99999"), "ZZZZZ99999"},
		{"wrong intermediate", append(base(good), "LOYALPASS_PASS_WWDR_FILE="+other.Intermediate), "G4"},
		{"http public url", append(base(good), "LOYALPASS_PUBLIC_URL=http://cards.example.com"), "https"},
		{"missing file", append(base(good), "LOYALPASS_PASS_CERT_FILE="+filepath.Join(dir, "nope.pem")), "nope.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			code, _, stderr := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
			if code != 1 {
				t.Fatalf("serve exited %d with %s, want 1", code, tt.name)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("refusal does not mention %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestCertsDevAndVersion(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "certs", "dev", "--out", out, "--pass-type-id", "pass.com.example.card", "--team-id", "ABCDE12345")
	if code != 0 {
		t.Fatalf("certs dev = %d %s", code, stderr)
	}
	m, err := certs.Load(certs.LoadOptions{CertFile: filepath.Join(out, "pass.pem"), KeyFile: filepath.Join(out, "pass.key"),
		IntermediateFile: filepath.Join(out, "wwdr.pem"), PassTypeID: "pass.com.example.card", TeamID: "ABCDE12345"})
	if err != nil {
		t.Fatalf("certs dev output does not load: %v\n%s", err, stdout)
	}
	if m.Leaf.PublicKey == nil || !m.IsDevelopment() {
		t.Fatal("not a development leaf")
	}
	if code, stdout, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(stdout, "loyalpass ") {
		t.Fatalf("version = %d %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown command = %d %q", code, stderr)
	}
}
