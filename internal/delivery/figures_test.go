package delivery_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// TestPushFigures measures the push path for the issue's figures; it runs
// only with LOYALPASS_FIGURES=1 (go test -run PushFigures -v):
//   - fan-out: 100,000 devices registered on 100,000 cards that all
//     changed; pushes per second from one worker to the fake APNs;
//   - latency: time from a transaction's commit to its push reaching APNs.
func TestPushFigures(t *testing.T) {
	if os.Getenv("LOYALPASS_FIGURES") == "" {
		t.Skip("set LOYALPASS_FIGURES=1 to measure")
	}
	w := newWorld(t, 15*time.Second)
	serial, authToken := w.issue("+79123456789")
	p := &phone{w: w, device: "latency-device", scheme: "ApplePass", regPath: "registrations", token: strings.Repeat("ef", 32)}
	if code := p.register(serial, authToken); code != 201 {
		t.Fatal(code)
	}
	w.drain()

	// Latency: the worker runs as in production, woken by commits.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.worker.Run(ctx); close(done) }()
	arrived := make(chan string, 1)
	w.apns.Respond(p.token, apnstest.Response{Arrived: arrived})
	var lat []time.Duration
	for i := range 300 {
		start := time.Now()
		w.earn(serial, fmt.Sprint("lat-", i), "10000")
		<-arrived
		lat = append(lat, time.Since(start))
	}
	cancel()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("commit to push: p50 %v, p99 %v (n=%d; includes the HTTP request that commits)", lat[len(lat)/2], lat[len(lat)*99/100], len(lat))

	// Fan-out: seed 100k cards with one device each, all changed.
	const n = 100_000
	db := openRW(t, w)
	seed(t, db, serial, n, w.clock.Now().UTC())
	fake := apnstest.NewServer(t, apnstest.WithoutRecording())
	_, material := devChain(t)
	cert := material.TLSCertificate()
	client, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: fake.URL, RootCAs: fake.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	worker := delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), Apple: client, PassTypeID: material.PassTypeID, Batch: 1000})
	cpu0, start := cpuNow(), time.Now()
	for {
		k, err := worker.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	elapsed, cpu := time.Since(start), cpuNow()-cpu0
	if got := fake.Count(); got < n {
		t.Fatalf("fake APNs got %d pushes, want %d", got, n)
	}
	t.Logf("fan-out: %d pushes in %v = %.0f/s; process CPU %v (%.0f µs per push, worker and fake APNs together)",
		fake.Count(), elapsed.Round(time.Millisecond), float64(fake.Count())/elapsed.Seconds(), cpu.Round(time.Millisecond),
		float64(cpu.Microseconds())/float64(fake.Count()))
	var pending int
	w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND serial_number LIKE 'seed%'`).Scan(&pending)
	if pending != 0 {
		t.Fatalf("%d outbox rows left", pending)
	}
}

func openRW(t *testing.T, w *world) *sql.DB {
	t.Helper()
	var path string
	w.db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path)
	db, err := sql.Open("sqlite3", "file:"+filepath.Clean(path)+"?_busy_timeout=10000&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seed copies the template card n times, registers a device on each and
// queues a change for each, in one transaction.
func seed(t *testing.T, db *sql.DB, template string, n int, now time.Time) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	stmts := []string{
		`INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier, status,
			version, created_at, updated_at, change_seq, pass_modified)
			SELECT ?, merchant_id, program_id, customer_id, ?, auth_token, 0, tier, 'voided', 2, created_at, updated_at, 1000000, 0
			FROM cards WHERE serial_number = ?`,
		`INSERT INTO devices (id, created_at, updated_at) VALUES (?, ?, ?)`,
		`INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, push_token, created_at, registered_at)
			VALUES (?, ?, 'pass.test.loyalpass', 'apple', ?, ?, ?)`,
		`INSERT INTO outbox (merchant_id, topic, serial_number, card_version, payload, created_at, due_at)
			SELECT merchant_id, ?, serial_number, 2, '{}', ?, ? FROM cards WHERE serial_number = ?`,
	}
	prepared := make([]*sql.Stmt, len(stmts))
	for i, q := range stmts {
		if prepared[i], err = tx.Prepare(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		serial := fmt.Sprintf("seed%08d", i)
		device := fmt.Sprintf("dev%08d", i)
		token := fmt.Sprintf("%064x", i)
		if _, err := prepared[0].Exec(serial, fmt.Sprintf("9%012d", i), template); err != nil {
			t.Fatal(err)
		}
		if _, err := prepared[1].Exec(device, now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := prepared[2].Exec(device, serial, token, now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := prepared[3].Exec(store.TopicCardChanged, now, now, serial); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
