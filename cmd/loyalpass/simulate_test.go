package main

import (
	"strings"
	"testing"
)

// TestSimulate runs `loyalpass simulate` small: it prints every
// automation's report and checks that pass.
func TestSimulate(t *testing.T) {
	code, out, errOut := runCLI(t, "simulate", "--customers", "60", "--days", "40", "--step", "6h", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Simulated 60 customers over 40 days (seed 3)", "Пора за кофе (repurchase_due)",
		"variant B", "Добро пожаловать (enrolled)", "messages inside a 14-day frequency window:      0",
		"messages to customers in a holdout:              0", "repurchase reminders off the customer's own gap: 0 of"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{{"--customers", "0"}, {"--effect", "5"}, {"--effect", "x,y"}, {"--step", "1s"}} {
		if code, _, _ := runCLI(t, append([]string{"simulate"}, args...)...); code != 2 {
			t.Errorf("simulate %v: exit %d, want 2", args, code)
		}
	}
}
