package certs

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

const ensureDirEnv = "LOYALPASS_CERTS_TEST_ENSURE_DIR"

func TestEnsureDevIdempotent(t *testing.T) {
	dir := t.TempDir()
	// Leftovers of a run that died before writing pass.pem.
	files := DevFilesIn(dir)
	for _, p := range []string{files.Root, files.Key} {
		if err := os.WriteFile(p, []byte("half-written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID}

	got, created, err := EnsureDev(dir, opts)
	if err != nil || !created || got != files {
		t.Fatalf("first EnsureDev = %+v, %v, %v; want %+v, created", got, created, err, files)
	}
	before := snapshot(t, files)
	loadDev(t, files)

	other := DevOptions{PassTypeID: "pass.other", TeamID: "OTHERTEAM1"}
	got, created, err = EnsureDev(dir, other)
	if err != nil || created || got != files {
		t.Fatalf("second EnsureDev = %+v, %v, %v; want %+v, not created", got, created, err, files)
	}
	after := snapshot(t, files)
	for i := range after {
		if !bytes.Equal(after[i], before[i]) {
			t.Fatalf("second EnsureDev changed file %d", i)
		}
	}
}

// TestEnsureDevHelperProcess is not a test: TestEnsureDevConcurrent runs the
// test binary with it to get a second process calling EnsureDev.
func TestEnsureDevHelperProcess(t *testing.T) {
	dir := os.Getenv(ensureDirEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	_, created, err := EnsureDev(dir, DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID})
	if err != nil {
		t.Fatalf("EnsureDev: %v", err)
	}
	if created {
		os.Stdout.WriteString("HELPER created=true\n")
	} else {
		os.Stdout.WriteString("HELPER created=false\n")
	}
}

func TestEnsureDevConcurrent(t *testing.T) {
	dir := t.TempDir()
	opts := DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID}

	const procs = 2
	cmds := make([]*exec.Cmd, procs)
	outs := make([]strings.Builder, procs)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestEnsureDevHelperProcess$", "-test.count=1")
		cmds[i].Env = append(os.Environ(), ensureDirEnv+"="+dir)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
	}

	const goroutines = 4
	var (
		wg      sync.WaitGroup
		startGo = make(chan struct{})
		created = make([]bool, goroutines)
		errs    = make([]error, goroutines)
	)
	for i := range goroutines {
		wg.Go(func() {
			<-startGo
			_, created[i], errs[i] = EnsureDev(dir, opts)
		})
	}
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatalf("start helper %d: %v", i, err)
		}
	}
	close(startGo)
	wg.Wait()

	winners := 0
	for i := range goroutines {
		if errs[i] != nil {
			t.Errorf("goroutine %d: %v", i, errs[i])
		}
		if created[i] {
			winners++
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i].String())
		}
		switch out := outs[i].String(); {
		case strings.Contains(out, "HELPER created=true"):
			winners++
		case !strings.Contains(out, "HELPER created=false"):
			t.Fatalf("helper %d did not run:\n%s", i, out)
		}
	}
	if winners != 1 {
		t.Fatalf("%d callers created the chain, want exactly 1", winners)
	}

	files := DevFilesIn(dir)
	if m := loadDev(t, files); !m.IsDevelopment() {
		t.Error("concurrently created chain is not recognised as development material")
	}
	if out := runOpenSSL(t, "verify", "-CAfile", files.Root, "-untrusted", files.Intermediate, files.Cert); !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify: %s", out)
	}
}
