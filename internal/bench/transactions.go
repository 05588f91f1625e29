package bench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TransactionOptions configures RunTransactions.
type TransactionOptions struct {
	Requests    int // total POSTs
	Concurrency int // clients sending at once
	Cards       int // cards the requests spread over
	// Kind is the program's kind: "points" (the default) sends earns and
	// redeems; "stamps" sends stamps and, on each card's every fourth
	// request, the reward its three stamps before made.
	Kind string
}

// kindMix is what a benchmark of one program kind creates and sends.
type kindMix struct {
	program string
	// body is the transaction of request i, the card's n-th.
	body func(i, n int) string
}

var kindMixes = map[string]kindMix{
	"points": {program: `{"name":"Bench","earn_rate_bp":500,"welcome_bonus":100}`, body: func(i, _ int) string {
		if i%4 == 3 {
			return `{"kind":"redeem","points":1}`
		}
		return fmt.Sprintf(`{"kind":"earn","purchase_amount":%d}`, 10000+i%5000)
	}},
	// Three stamps make a reward: every third stamp converts the card's
	// stamps (the ledger reads its lots), and every fourth request uses a
	// reward. Uses start at the card's 12th request, so the two rewards
	// earned by then cover requests of one card that overtake each other
	// on the way (concurrent clients): a use never finds none.
	"stamps": {program: `{"name":"Bench stamps","kind":"stamps","stamps_required":3,"reward":"Кофе"}`, body: func(_, n int) string {
		if n%4 == 3 && n >= 11 {
			return `{"kind":"redeem_reward"}`
		}
		return `{"kind":"stamp","count":1}`
	}},
}

// RunTransactions issues cards, then sends Requests earn and redeem
// transactions (each with its own idempotency key) from Concurrency
// clients, and measures throughput and latency.
func RunTransactions(ctx context.Context, s *Server, o TransactionOptions) (Latencies, error) {
	return RunTransactionsOn(ctx, []*Server{s}, o)
}

// RunTransactionsOn is RunTransactions against several servers on one
// database (instances of one deployment): the clients are split between
// them, and each client sends to its own server only.
func RunTransactionsOn(ctx context.Context, servers []*Server, o TransactionOptions) (Latencies, error) {
	c := client(o.Concurrency)
	mix, ok := kindMixes[o.Kind]
	if o.Kind == "" {
		mix, ok = kindMixes["points"], true
	}
	if !ok {
		return Latencies{}, fmt.Errorf("no transaction mix for program kind %q", o.Kind)
	}
	serials, err := servers[0].issueCardsIn(ctx, c, mix.program, o.Cards)
	if err != nil {
		return Latencies{}, err
	}
	// Keys unique to this run: a shared database outlives one run.
	run := strings.ToLower(rand.Text()[:10])
	var next atomic.Int64
	samples := make([][]time.Duration, o.Concurrency)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for w := range o.Concurrency {
		s := servers[w%len(servers)]
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= o.Requests || ctx.Err() != nil {
					return
				}
				body := mix.body(i, i/len(serials))
				req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/api/v1/cards/"+serials[i%len(serials)]+"/transactions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+s.Key)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", run, i))
				t0 := time.Now()
				if err := do(c, req, http.StatusCreated); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				samples[w] = append(samples[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	l := summarise(all, elapsed, cpu, int(errs.Load()))
	if e, _ := firstErr.Load().(error); e != nil {
		return l, fmt.Errorf("%d requests failed, first: %w", l.Errors, e)
	}
	return l, nil
}

// issueCards creates a points program and n cards and returns their serials.
func (s *Server) issueCards(ctx context.Context, c *http.Client, n int) ([]string, error) {
	return s.issueCardsIn(ctx, c, kindMixes["points"].program, n)
}

// issueCardsIn creates the program of body and n cards in it, and
// returns their serials.
func (s *Server) issueCardsIn(ctx context.Context, c *http.Client, body string, n int) ([]string, error) {
	var prog struct{ ID string }
	if err := s.postJSON(ctx, c, "/api/v1/programs", body, &prog); err != nil {
		return nil, err
	}
	serials := make([]string, n)
	for i := range n {
		var card struct {
			SerialNumber string `json:"serial_number"`
		}
		body := fmt.Sprintf(`{"phone":"+7912%07d"}`, i)
		if err := s.postJSON(ctx, c, "/api/v1/programs/"+prog.ID+"/cards", body, &card); err != nil {
			return nil, err
		}
		serials[i] = card.SerialNumber
	}
	return serials, nil
}

func (s *Server) postJSON(ctx context.Context, c *http.Client, path, body string, out any) error {
	return s.postJSONStatus(ctx, c, path, body, http.StatusCreated, out)
}

// postJSONStatus posts body to path and decodes the answer, which must
// have status want.
func (s *Server) postJSONStatus(ctx context.Context, c *http.Client, path, body string, want int, out any) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("POST %s: status %d: %s", path, res.StatusCode, msg)
	}
	return json.NewDecoder(res.Body).Decode(out)
}
