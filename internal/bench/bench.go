// Package bench measures loyalpass end to end on this machine: it starts
// the real server in-process on loopback and drives it over HTTP, so the
// figures include routing, JSON, auth, the store and the network stack.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// Latencies summarises a run of timed operations.
type Latencies struct {
	N        int
	Elapsed  time.Duration
	PerSec   float64
	P50, P99 time.Duration
	Errors   int
	// CPUPerOp is the process's CPU time (server and load clients
	// together) per operation: steadier than PerSec on a busy machine.
	CPUPerOp time.Duration
}

func summarise(samples []time.Duration, elapsed, cpu time.Duration, errs int) Latencies {
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	l := Latencies{N: len(samples), Elapsed: elapsed, Errors: errs}
	if len(samples) > 0 {
		l.CPUPerOp = cpu / time.Duration(len(samples))
	}
	if len(samples) > 0 {
		l.PerSec = float64(len(samples)) / elapsed.Seconds()
		l.P50 = samples[len(samples)/2]
		l.P99 = samples[len(samples)*99/100]
	}
	return l
}

// Server is a loyalpass API server running in-process for a benchmark.
type Server struct {
	URL        string
	Store      *store.Store
	Material   *certs.Material
	Certs      certs.DevFiles // the PEM files Material was loaded from
	Key        string         // an API key of the benchmark merchant
	MerchantID string
	http       *http.Server
	dir        string
	dbURL      string // ServerOptions.DatabaseURL
}

// StartServer starts a server on a fresh SQLite database in a temporary
// directory, with a development signing chain and one merchant.
func StartServer(ctx context.Context) (*Server, error) {
	return StartServerWith(ctx, ServerOptions{})
}

// ServerOptions configures StartServerWith.
type ServerOptions struct {
	// DatabaseURL is the store's database; empty means a fresh SQLite file
	// in the server's temporary directory. Servers given one URL share the
	// database, as instances of a deployment do.
	DatabaseURL string
}

// StartServerWith starts a server as StartServer does, on o's database.
func StartServerWith(ctx context.Context, o ServerOptions) (*Server, error) {
	dir, err := os.MkdirTemp("", "loyalpass-bench-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	if err := s.start(ctx, o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, o ServerOptions) error {
	files, err := certs.GenerateDev(filepath.Join(s.dir, "certs"), certs.DevOptions{PassTypeID: "pass.bench.loyalpass", TeamID: "BENCHTEAM1"})
	if err != nil {
		return err
	}
	s.Certs = files
	if s.Material, err = certs.Load(certs.LoadOptions{CertFile: files.Cert, KeyFile: files.Key, IntermediateFile: files.Intermediate}); err != nil {
		return err
	}
	s.dbURL = o.DatabaseURL
	url := o.DatabaseURL
	if url == "" {
		url = "sqlite:" + filepath.Join(s.dir, "bench.db")
	}
	if s.Store, err = store.Open(ctx, store.Options{URL: url}); err != nil {
		return err
	}
	m, _, err := s.Store.Merchants().EnsureMerchant(ctx, "bench", "RU")
	if err != nil {
		return err
	}
	s.MerchantID = m.ID
	k := apikey.New()
	if err := s.Store.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: m.ID, SecretHash: k.Hash()}); err != nil {
		return err
	}
	s.Key = k.String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.URL = "http://" + ln.Addr().String()
	srv := api.New(api.Options{Stores: api.StoresOf(s.Store), PublicURL: s.URL,
		SMS:    api.SMSOptions{Providers: []string{"twilio"}, DefaultProvider: "twilio", TwilioAuthToken: benchTwilioToken},
		Passes: cardpass.New(cardpass.StoreOf(s.Store), passes.NewRenderer(s.Material, s.URL+"/wallet"), nil)})
	s.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln)
	return nil
}

// Close stops the server and removes its files.
func (s *Server) Close() {
	if s.http != nil {
		s.http.Shutdown(context.Background())
	}
	if s.Store != nil {
		s.Store.Close()
	}
	os.RemoveAll(s.dir)
}

// client returns an HTTP client that keeps a connection per worker.
func client(concurrency int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}}
}

// do sends one request and drains the answer.
func do(c *http.Client, req *http.Request, want int) error {
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, res.StatusCode)
	}
	return nil
}
