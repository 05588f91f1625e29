package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// server is a loyalpass child process.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// startServer runs `serve` in a child process on a free port and waits
// until it listens.
func startServer(t *testing.T, data string, env ...string) *server {
	t.Helper()
	cmd := command(t, append([]string{"LOYALPASS_DEMO=false"}, env...), "serve", "--addr", "127.0.0.1:0", "--data", data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRE := regexp.MustCompile(`loyalpass is serving.* addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return &server{cmd: cmd, addr: m[1]}
		}
	}
	t.Fatal("server did not start")
	return nil
}

func (s *server) request(ctx context.Context, method, path, key, idem string, body any) (int, map[string]any, error) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+s.addr+path, strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	err = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, err
}

// TestAcknowledgedTransactionsSurviveSIGKILL kills the server with SIGKILL
// in the middle of a stream of transactions, several times, and checks
// after each restart that every acknowledged transaction is in the ledger
// and every balance equals its ledger sum.
func TestAcknowledgedTransactionsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills server processes")
	}
	data := t.TempDir()
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "crash", "--data", data)
	if code != 0 {
		t.Fatal(errOut)
	}
	key := strings.TrimSpace(out)
	ctx := context.Background()

	srv := startServer(t, data)
	_, prog, err := srv.request(ctx, "POST", "/api/v1/programs", key, "", map[string]any{"name": "Crash", "earn_rate_bp": 1000, "welcome_bonus": 10})
	if err != nil {
		t.Fatal(err)
	}
	var serials []string
	for i := range 4 {
		_, card, err := srv.request(ctx, "POST", "/api/v1/programs/"+prog["id"].(string)+"/cards", key, "", map[string]any{"phone": fmt.Sprintf("+7912345670%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, card["serial_number"].(string))
	}

	acked := map[string]string{} // transaction id → serial
	var mu sync.Mutex
	for round := range 3 {
		var n atomic.Int64
		enough := make(chan struct{})
		var enoughOnce sync.Once
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-killed:
						return
					default:
					}
					serial := serials[(w+i)%len(serials)]
					body := map[string]any{"kind": "earn", "purchase_amount": 1000 * (1 + i%7)}
					if i%3 == 2 {
						body = map[string]any{"kind": "redeem", "points": 1}
					}
					status, res, err := srv.request(ctx, "POST", "/api/v1/cards/"+serial+"/transactions", key,
						fmt.Sprintf("r%d-w%d-%d", round, w, i), body)
					if err != nil {
						return // the server died under us
					}
					if status == 201 {
						mu.Lock()
						acked[res["transaction"].(map[string]any)["id"].(string)] = serial
						mu.Unlock()
						if n.Add(1) == 150 {
							enoughOnce.Do(func() { close(enough) })
						}
					}
				}
			})
		}
		// Kill once some writes were acknowledged in this round.
		<-enough
		srv.cmd.Process.Kill()
		close(killed)
		wg.Wait()
		srv.cmd.Wait()

		srv = startServer(t, data)
		checkLedger(t, filepath.Join(data, "loyalpass.db"), acked)
		t.Logf("round %d: %d transactions acknowledged in all", round, len(acked))
	}
}

func checkLedger(t *testing.T, path string, acked map[string]string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := 0
	for id, serial := range acked {
		var got string
		if err := db.QueryRow(`SELECT serial_number FROM transactions WHERE id = ?`, id).Scan(&got); err != nil || got != serial {
			t.Errorf("acknowledged transaction %s is missing after SIGKILL (%v)", id, err)
			continue
		}
		found++
	}
	rows, err := db.Query(`SELECT c.serial_number, c.balance, (SELECT COALESCE(SUM(points),0) FROM transactions t WHERE t.serial_number = c.serial_number) FROM cards c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var serial string
		var balance, sum int64
		rows.Scan(&serial, &balance, &sum)
		if balance != sum {
			t.Errorf("card %s: balance %d, ledger sum %d", serial, balance, sum)
		}
	}
	if found != len(acked) {
		t.Fatalf("%d of %d acknowledged transactions survived", found, len(acked))
	}
}
