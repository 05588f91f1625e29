package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/sms/smstest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
)

// Instances on one PostgreSQL database: a change committed by one reaches
// the workers of another through LISTEN/NOTIFY, and an instance killed
// with SIGKILL harms neither the live one nor its own next life. Skipped
// unless LOYALPASS_TEST_POSTGRES is set.

// testLease is the instance lease the servers of these tests run with,
// so that a killed instance's claims are recovered within seconds.
const testLease = "3"

// cluster is a PostgreSQL database shared by server processes, with one
// merchant whose API key the tests use.
type cluster struct {
	t     *testing.T
	url   string
	env   []string
	key   string
	db    *sql.DB
	merch string
}

func newCluster(t *testing.T, env ...string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts server processes")
	}
	c := &cluster{t: t, url: storetest.PostgresURL(t)}
	c.env = append([]string{"LOYALPASS_DATABASE_URL=" + c.url, "LOYALPASS_INSTANCE_LEASE_SECONDS=" + testLease}, env...)
	t.Setenv("LOYALPASS_DATABASE_URL", c.url)
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "restart", "--data", t.TempDir())
	if code != 0 {
		t.Fatal(errOut)
	}
	c.key = strings.TrimSpace(out)
	db, err := sql.Open("pgx", c.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c.db = db
	if err := db.QueryRow(`SELECT id FROM merchants WHERE name = 'restart'`).Scan(&c.merch); err != nil {
		t.Fatal(err)
	}
	return c
}

// start starts a server process on the cluster with its own data dir.
func (c *cluster) start() *server { return startServer(c.t, c.t.TempDir(), c.env...) }

func (c *cluster) count(query string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRow(query, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond until it holds, failing after limit.
func (c *cluster) waitFor(what string, limit time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// program creates a program through s.
func (c *cluster) program(s *server) string {
	c.t.Helper()
	status, prog, err := s.request(context.Background(), "POST", "/api/v1/programs", c.key, "",
		map[string]any{"name": "Рестарт", "earn_rate_bp": 1000})
	if err != nil || status != 201 {
		c.t.Fatalf("create program: %d %v", status, err)
	}
	return prog["id"].(string)
}

// kill stops s with SIGKILL and waits for it to be gone.
func kill(s *server) {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// TestNotifyLatencyAcrossInstances measures how long a change committed by
// instance A takes to reach the fake APNs as a push from instance B: A is
// a store in this process with no workers, B a server process that learns
// of A's commits only through LISTEN/NOTIFY (or its 1 s poll). It logs
// p50 and p99 over 200 changes; it asserts only that every change was
// pushed once.
func TestNotifyLatencyAcrossInstances(t *testing.T) {
	fake, apnsEnv := fakeAPNsEnv(t)
	c := newCluster(t, apnsEnv...)
	b := c.start()
	prog := c.program(b)
	ctx := context.Background()
	_, card, err := b.request(ctx, "POST", "/api/v1/programs/"+prog+"/cards", c.key, "", map[string]any{"phone": "+79123450001"})
	if err != nil {
		t.Fatal(err)
	}
	serial := card["serial_number"].(string)
	var token string
	c.db.QueryRow(`SELECT auth_token FROM cards WHERE serial_number = $1`, serial).Scan(&token)
	const pushToken = "00000000000000000000000000000000000000000000000000000000000000aa"
	arrived := make(chan string, 16)
	fake.Respond(pushToken, apnstest.Response{Arrived: arrived})
	if status := registerDevice(t, b, "pass.dev.loyalpass.card", serial, token, "latency", pushToken); status != 201 {
		t.Fatalf("register = %d", status)
	}

	a, err := store.Open(ctx, store.Options{URL: c.url})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const changes = 200
	lat := make([]time.Duration, 0, changes)
	for i := range changes {
		if _, err := a.Cards().SetCardMessage(ctx, c.merch, serial, fmt.Sprintf("Сообщение %d", i)); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		select {
		case <-arrived:
			lat = append(lat, time.Since(committed))
		case <-time.After(10 * time.Second):
			t.Fatalf("change %d: no push from instance B within 10 s", i)
		}
	}
	// Every change was pushed, none twice (no push is left to arrive).
	c.waitFor("instance B to record its pushes", 10*time.Second, func() bool {
		return c.count(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`) == 0
	})
	if n := fake.Count(); n != changes {
		t.Fatalf("the fake APNs got %d pushes for %d changes", n, changes)
	}
	slices.Sort(lat)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("commit on instance A → push from instance B over %d changes: p50 %v, p90 %v, p99 %v, max %v (load %s)",
		changes, lat[changes/2], lat[changes*90/100], lat[changes*99/100], lat[changes-1], strings.TrimSpace(string(load)))
}

// TestKillDuringCampaign kills one of two instances with SIGKILL while
// both send a campaign, and restarts it at once, while the other is still
// sending. Nobody is texted twice; the restart takes nothing the live
// instance holds; what the dead one had claimed but not handed to the
// provider is sent after its lease runs out; at most the one text it was
// handing over when it died is failed rather than risked twice.
func TestKillDuringCampaign(t *testing.T) {
	fakeSMS := smstest.NewSMSRu(t, "restart-api-id")
	c := newCluster(t, "LOYALPASS_SMS_PROVIDER=smsru", "LOYALPASS_SMSRU_API_ID=restart-api-id",
		"LOYALPASS_SMSRU_BASE_URL="+fakeSMS.URL)
	servers := []*server{c.start(), c.start()}
	prog := c.program(servers[0])
	ctx := context.Background()

	// Customers who last bought 200 days ago, from a store on an old clock.
	const audience = 300
	old, err := store.Open(ctx, store.Options{URL: c.url, Now: func() time.Time { return time.Now().Add(-200 * 24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	for i := range audience {
		if _, _, err := old.Cards().IssueCard(ctx, store.IssueCard{MerchantID: c.merch, ProgramID: prog,
			Phone: fmt.Sprintf("+7912%07d", i), SMSConsent: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	status, camp, err := servers[0].request(ctx, "POST", "/api/v1/campaigns", c.key, "", map[string]any{
		"program_id": prog, "name": "Скучаем", "lapsed_days": 90, "template": "Вернитесь: {link}", "holdout_percent": 0,
		"quiet_start": 0, "quiet_end": 0, "timezone": "UTC", "send_rate": 1200, "provider": "smsru"})
	if err != nil || status != 201 {
		t.Fatalf("create campaign: %d %v %v", status, err, camp)
	}
	id := camp["id"].(string)
	if status, res, err := servers[1].request(ctx, "POST", "/api/v1/campaigns/"+id+"/start", c.key, "", nil); err != nil || status != 200 {
		t.Fatalf("start campaign: %d %v %v", status, err, res)
	}

	// Kill the first instance once a fifth of the texts went out, and
	// restart it at once: the other is sending meanwhile.
	c.waitFor("texts to go out", 60*time.Second, func() bool { return len(fakeSMS.Messages()) >= audience/5 })
	kill(servers[0])
	killedAt := len(fakeSMS.Messages())
	servers[0] = c.start()
	c.waitFor("the campaign to finish", 90*time.Second, func() bool {
		return c.count(`SELECT COUNT(*) FROM campaigns WHERE id = $1 AND status = 'finished'`, id) == 1
	})

	texted := map[string]int{}
	for _, m := range fakeSMS.Messages() {
		texted[m.To]++
	}
	for to, n := range texted {
		if n != 1 {
			t.Errorf("%s was texted %d times", to, n)
		}
	}
	sent := c.count(`SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND status = 'sent'`, id)
	interrupted := c.count(`SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND reason LIKE 'interrupted%'`, id)
	other := c.count(`SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND status NOT IN ('sent') AND reason NOT LIKE 'interrupted%'`, id)
	if sent+interrupted != audience || other != 0 {
		t.Fatalf("%d sent, %d interrupted, %d otherwise, of %d", sent, interrupted, other, audience)
	}
	// Only the text the killed instance was handing over may be failed;
	// it was lost only if it never reached the provider.
	if interrupted > 1 {
		t.Fatalf("%d texts failed as interrupted; at most the 1 in flight at the kill may be", interrupted)
	}
	lost := audience - len(texted)
	if lost > interrupted {
		t.Fatalf("%d customers never texted, %d interrupted", lost, interrupted)
	}
	t.Logf("campaign of %d: killed one instance at %d texts; %d texted once each, %d interrupted at the kill (%d of them lost), none twice",
		audience, killedAt, len(texted), interrupted, lost)
}

// TestKillDuringProgramMessage kills, with SIGKILL, the instance that is
// pushing a program-wide message to every device, while postings run on
// both instances; the other instance takes over once the dead one's lease
// runs out. Every device gets the message; a device is pushed twice only
// if the killed instance pushed it before dying without recording it, and
// as outcomes are recorded as pushes complete, those are at most the
// pushes it had in flight (apns.concurrency); no posting deadlocks or
// fails.
func TestKillDuringProgramMessage(t *testing.T) {
	const inFlight = 4 // apns.concurrency of the servers
	fake, apnsEnv := fakeAPNsEnv(t, apnstest.WithLatency(20*time.Millisecond), apnstest.WithMaxStreams(inFlight))
	c := newCluster(t, append(apnsEnv, fmt.Sprintf("LOYALPASS_APNS_CONCURRENCY=%d", inFlight))...)
	servers := []*server{c.start(), c.start()}
	prog := c.program(servers[0])
	ctx := context.Background()
	const cards = 200
	serials := make([]string, cards)
	tokens := map[string]bool{}
	for i := range cards {
		_, card, err := servers[i%2].request(ctx, "POST", "/api/v1/programs/"+prog+"/cards", c.key, "",
			map[string]any{"phone": fmt.Sprintf("+7913%07d", i)})
		if err != nil {
			t.Fatal(err)
		}
		serials[i] = card["serial_number"].(string)
		var auth string
		c.db.QueryRow(`SELECT auth_token FROM cards WHERE serial_number = $1`, serials[i]).Scan(&auth)
		push := fmt.Sprintf("%064x", i+1)
		tokens[push] = true
		if status := registerDevice(t, servers[(i+1)%2], "pass.dev.loyalpass.card", serials[i], auth, fmt.Sprintf("dev%d", i), push); status != 201 {
			t.Fatalf("register = %d", status)
		}
	}
	c.waitFor("registrations to settle", 30*time.Second, func() bool {
		return c.count(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`) == 0
	})
	before := map[string]int{}
	for _, r := range fake.Requests() {
		before[r.Token]++
	}

	status, res, err := servers[0].request(ctx, "POST", "/api/v1/programs/"+prog+"/messages", c.key, "",
		map[string]any{"text": "Всем: двойные баллы в субботу"})
	if err != nil || status >= 300 {
		t.Fatalf("program message: %d %v %v", status, err, res)
	}
	// Postings on both instances, on the first cards, while the message
	// goes out.
	const posted = 40
	var wg sync.WaitGroup
	postings := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for j := range 10 {
				s := servers[(w+j)%2]
				status, _, err := s.request(ctx, "POST", "/api/v1/cards/"+serials[(w*10+j)%posted]+"/transactions", c.key,
					fmt.Sprintf("m%d-%d", w, j), map[string]any{"kind": "earn", "purchase_amount": 1000})
				if err != nil || status != 201 {
					postings <- fmt.Errorf("posting on %s: %d %v", s.addr, status, err)
				}
			}
		})
	}
	// Find the instance pushing the message and kill it mid-way.
	var pid int
	c.waitFor("an instance to push the message", 30*time.Second, func() bool {
		c.db.QueryRow(`SELECT i.pid FROM outbox o JOIN instances i ON i.id = o.claimed_by
			WHERE o.topic = 'program.changed' AND o.done_at IS NULL`).Scan(&pid)
		return pid != 0 && fake.Count() >= int64(sumOf(before)+cards/4)
	})
	victim := slices.IndexFunc(servers, func(s *server) bool { return s.cmd.Process.Pid == pid })
	if victim < 0 {
		t.Fatalf("the message is pushed by pid %d, none of the servers", pid)
	}
	deadAddr := servers[victim].addr
	kill(servers[victim])
	// What reached the fake by now, the dead instance pushed (or a
	// posting's change did, on the first cards).
	pushedBeforeKill := map[string]bool{}
	for _, r := range fake.Requests()[sumOf(before):] {
		pushedBeforeKill[r.Token] = true
	}
	servers[victim] = c.start()
	wg.Wait()
	close(postings)
	for err := range postings {
		if strings.Contains(err.Error(), deadAddr) {
			continue // requests to the killed instance may fail with it
		}
		t.Error(err)
	}
	c.waitFor("every device to get the message", 60*time.Second, func() bool {
		return c.count(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL AND NOT dead`) == 0 &&
			c.count(`SELECT COUNT(*) FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
				WHERE r.pushed_seq < c.change_seq`) == 0
	})
	after := map[string]int{}
	for _, r := range fake.Requests() {
		after[r.Token]++
	}
	var doubled int
	for i := range cards {
		tok := fmt.Sprintf("%064x", i+1)
		n := after[tok] - before[tok]
		switch {
		case n < 1:
			t.Errorf("device %d: the message never arrived", i)
		case i < posted:
			// its card changed again with the postings: more pushes due
		case n == 2 && pushedBeforeKill[tok]:
			doubled++ // pushed by the dead instance, which died before recording it
		case n != 1:
			t.Errorf("device %d got the message %d times", i, n)
		}
	}
	if doubled > inFlight {
		t.Errorf("%d devices pushed twice; at most the %d pushes in flight at the kill may be", doubled, inFlight)
	}
	t.Logf("program message to %d devices: killed the pushing instance after %d pushes; %d devices pushed again because the dead instance had not recorded them (at most %d in flight), the rest once",
		cards, len(pushedBeforeKill), doubled, inFlight)
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
