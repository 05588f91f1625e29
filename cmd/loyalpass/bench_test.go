package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchChannelsAndPlot runs the transactions and push sections with
// tiny counts and checks the rows and the plot file.
func TestBenchChannelsAndPlot(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "scaling.svg")
	code, out, errOut := runCLI(t, "bench", "--only", "transactions,push", "--requests", "20", "--concurrency", "2",
		"--cards", "2", "--pushes", "15", "--plot", svg)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"transactions (SQLite, 2 clients)", "push to fake APNs over HTTP/2, delivery worker (SQLite, 15 changed cards)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "1 instance") || strings.Count(s, `class="mark`) != 2 {
		t.Errorf("plot is not the one-instance chart of two series:\n%s", s)
	}
}

func TestBenchRefusesBadInstances(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--instances", "1,2"}, "--instances needs --database"},
		{[]string{"--instances", "1,x"}, `"x" is not a count`},
		{[]string{"--instances", "0"}, `"0" is not a count`},
		{[]string{"--pushes", "0"}, "--pushes must be at least 1"},
		{[]string{"--push-latency", "-1s"}, "--push-latency must not be negative"},
	} {
		code, _, errOut := runCLI(t, append([]string{"bench"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
