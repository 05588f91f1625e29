package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: Linux fixes it
// at 100 per second for user space.
const userHZ = 100

// cpuTicks returns the user plus system CPU time process pid has used, in
// 1/userHZ s.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) may hold spaces; count from the ")"
	// that closes it: the rest starts with field 3, so utime (field 14)
	// and stime (15) are the 12th and 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("unreadable /proc/%d/stat: %q", pid, b)
	}
	return utime + stime
}

// idleWindow is how long the server is watched doing nothing, and
// maxIdleTicks what it may spend meanwhile: 2 % of one core.
const (
	idleWindow   = 10 * time.Second
	maxIdleTicks = int64(idleWindow / time.Second * userHZ * 2 / 100)
)

// measureIdle returns the CPU ticks the server spends over idleWindow.
func measureIdle(t *testing.T, srv *server) int64 {
	t.Helper()
	before := cpuTicks(t, srv.cmd.Process.Pid)
	time.Sleep(idleWindow) // the measurement itself: the server must rest through it
	return cpuTicks(t, srv.cmd.Process.Pid) - before
}

// fakeAPNsEnv starts a fake APNs and returns the environment that points
// serve's APNs channel at it.
func fakeAPNsEnv(t *testing.T, opts ...apnstest.Option) (*apnstest.Server, []string) {
	t.Helper()
	fake := apnstest.NewServer(t, opts...)
	caFile := filepath.Join(t.TempDir(), "apns-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return fake, []string{"LOYALPASS_APNS_ENABLED=on", "LOYALPASS_APNS_HOST=" + fake.URL, "LOYALPASS_APNS_CA_FILE=" + caFile}
}

// openData opens a stopped or running server's SQLite database read-only.
func openData(t *testing.T, data string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "loyalpass.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// issueInstalledCard issues a card for phone and registers a device with
// pushToken for it, as an iPhone adding the pass would.
func issueInstalledCard(t *testing.T, srv *server, db *sql.DB, key, programID, phone, device, pushToken string) string {
	t.Helper()
	status, card, err := srv.request(context.Background(), "POST", "/api/v1/programs/"+programID+"/cards", key, "", map[string]any{"phone": phone})
	if err != nil || status != 201 {
		t.Fatalf("issue card = %d %v", status, err)
	}
	serial := card["serial_number"].(string)
	var token string
	if err := db.QueryRow(`SELECT auth_token FROM cards WHERE serial_number = ?`, serial).Scan(&token); err != nil {
		t.Fatal(err)
	}
	if status := registerDevice(t, srv, "pass.dev.loyalpass.card", serial, token, device, pushToken); status != 201 {
		t.Fatalf("register = %d", status)
	}
	return serial
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIdleServerRests measures the CPU a server spends doing nothing: on
// an empty database, and again after cards were issued and transactions
// posted, pushed to devices and reported to a webhook. Idle workers must
// sleep, not wake each other.
func TestIdleServerRests(t *testing.T) {
	if testing.Short() {
		t.Skip("watches a server process for 20 s")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to read a process's CPU time")
	}
	data := t.TempDir()
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "idle", "--data", data)
	if code != 0 {
		t.Fatal(errOut)
	}
	key := strings.TrimSpace(out)
	fake, env := fakeAPNsEnv(t)
	var hooks atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	// The receiver listens on loopback, which outbound calls may reach
	// only when the operator allows it.
	srv := startServer(t, data, append(env, "LOYALPASS_OUTBOUND_ALLOW=127.0.0.0/8, ::1")...)

	if ticks := measureIdle(t, srv); ticks > maxIdleTicks {
		t.Errorf("fresh server used %d CPU ticks (1/%d s) in %v idle; want at most %d (2 %% of a core)", ticks, userHZ, idleWindow, maxIdleTicks)
	} else {
		t.Logf("fresh server: %d CPU ticks in %v idle", ticks, idleWindow)
	}

	// Traffic that gives every worker something to do.
	ctx := context.Background()
	db := openData(t, data)
	_, prog, err := srv.request(ctx, "POST", "/api/v1/programs", key, "", map[string]any{"name": "Idle", "earn_rate_bp": 1000})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, err := srv.request(ctx, "POST", "/api/v1/webhooks", key, "", map[string]any{"url": receiver.URL + "/lp",
		"events": []string{"balance.changed"}}); err != nil || status != 201 {
		t.Fatalf("create webhook = %d %v", status, err)
	}
	const cards, posts = 3, 5
	serials := make([]string, cards)
	for c := range cards {
		serials[c] = issueInstalledCard(t, srv, db, key, prog["id"].(string), fmt.Sprintf("+7912345671%d", c),
			fmt.Sprintf("idle%d", c), fmt.Sprintf("%064x", c+1))
	}
	for i := range cards * posts {
		status, _, err := srv.request(ctx, "POST", "/api/v1/cards/"+serials[i%cards]+"/transactions", key,
			fmt.Sprint("idle-", i), map[string]any{"kind": "earn", "purchase_amount": 10000})
		if err != nil || status != 201 {
			t.Fatalf("post = %d %v", status, err)
		}
	}
	waitFor(t, "the outbox and the webhook deliveries to empty", func() bool {
		return count(t, db, `SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`) == 0 &&
			count(t, db, `SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'`) == 0 &&
			count(t, db, `SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
				WHERE r.pushed_seq <> c.change_seq`) == 0
	})
	if fake.Count() == 0 || hooks.Load() != cards*posts {
		t.Fatalf("traffic did not reach the workers: %d pushes, %d webhook posts for %d transactions", fake.Count(), hooks.Load(), cards*posts)
	}

	if ticks := measureIdle(t, srv); ticks > maxIdleTicks {
		t.Errorf("server used %d CPU ticks (1/%d s) in %v idle after traffic; want at most %d (2 %% of a core)", ticks, userHZ, idleWindow, maxIdleTicks)
	} else {
		t.Logf("after %d pushes and %d webhook posts: %d CPU ticks in %v idle", fake.Count(), hooks.Load(), ticks, idleWindow)
	}
}
