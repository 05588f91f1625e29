package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// pushesTo counts the pushes the fake received for token.
func pushesTo(fake *apnstest.Server, token string) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Token == token {
			n++
		}
	}
	return n
}

// TestSIGTERMLetsAPushInFlightFinish stops the server while a push is on
// its way to a slow APNs: the push is answered and recorded before the
// process exits, and a restarted server does not send it again.
func TestSIGTERMLetsAPushInFlightFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops server processes")
	}
	data := t.TempDir()
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "drain", "--data", data)
	if code != 0 {
		t.Fatal(errOut)
	}
	key := strings.TrimSpace(out)
	// Every push takes 2 s to be answered: long enough to stop the
	// server in the middle of one, far less than the 20 s grace.
	fake, env := fakeAPNsEnv(t, apnstest.WithLatency(2*time.Second))
	first, second := fmt.Sprintf("%064x", 1), fmt.Sprintf("%064x", 2)
	arrived := make(chan string)
	fake.Respond(first, apnstest.Response{Arrived: arrived})
	ctx := context.Background()
	db := openData(t, data)

	srv := startServer(t, data, env...)
	_, prog, err := srv.request(ctx, "POST", "/api/v1/programs", key, "", map[string]any{"name": "Drain", "earn_rate_bp": 1000})
	if err != nil {
		t.Fatal(err)
	}
	serial := issueInstalledCard(t, srv, db, key, prog["id"].(string), "+79123456720", "drain1", first)
	if status, _, err := srv.request(ctx, "POST", "/api/v1/cards/"+serial+"/transactions", key, "drain-1",
		map[string]any{"kind": "earn", "purchase_amount": 10000}); err != nil || status != 201 {
		t.Fatalf("post = %d %v", status, err)
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the push never reached the fake APNs")
	}
	stopped := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	took := time.Since(stopped)
	if took > 15*time.Second {
		t.Errorf("shutdown took %v with one 2 s push in flight", took)
	}
	if n := pushesTo(fake, first); n != 1 {
		t.Fatalf("the fake got %d pushes for the device; want 1", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`); n != 0 {
		t.Errorf("%d outbox rows left undone by a clean shutdown", n)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
		WHERE r.pushed_seq <> c.change_seq`); n != 0 {
		t.Errorf("the push in flight at SIGTERM was not recorded as delivered")
	}

	// After a restart, a change to another card goes out: the worker has
	// run, and the first device still got its push only once.
	srv = startServer(t, data, env...)
	other := issueInstalledCard(t, srv, db, key, prog["id"].(string), "+79123456721", "drain2", second)
	if status, _, err := srv.request(ctx, "POST", "/api/v1/cards/"+other+"/transactions", key, "drain-2",
		map[string]any{"kind": "earn", "purchase_amount": 10000}); err != nil || status != 201 {
		t.Fatalf("post after restart = %d %v", status, err)
	}
	waitFor(t, "the push after the restart", func() bool {
		return count(t, db, `SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
			WHERE r.pushed_seq <> c.change_seq`) == 0 && pushesTo(fake, second) == 1
	})
	if n := pushesTo(fake, first); n != 1 {
		t.Errorf("after the restart the first device got %d pushes in all; want 1", n)
	}
	t.Logf("SIGTERM with a 2 s push in flight: exited after %v, push delivered once", took.Round(time.Millisecond))
}
