package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The sections Options.Only may name.
const (
	SectionTransactions = "transactions" // earn and redeem, then stamps and rewards, over HTTP
	SectionRender       = "render"       // passes.Renderer next to bare RSA signatures
	SectionPasskit      = "passkit"      // passkit-generator building the same pass
	SectionDownloads    = "downloads"    // cached pass downloads over HTTP
	SectionPush         = "push"         // changed cards through the delivery worker to a fake APNs
	SectionGoogle       = "google"       // changed cards through the delivery worker to a fake Google Wallet API
	SectionCampaign     = "campaign"     // planning a win-back over many customers, then texting through a fake Twilio
)

// Sections lists every section in the order they run.
var Sections = []string{SectionTransactions, SectionRender, SectionPasskit, SectionDownloads,
	SectionPush, SectionGoogle, SectionCampaign}

// Options configures Run.
type Options struct {
	// Runs is how many times every section runs; the report shows medians.
	Runs int
	// Only names the sections to run; empty means all of them.
	Only []string

	Transactions   TransactionOptions
	Render         RenderOptions
	Passkit        PasskitOptions
	PasskitInstall PasskitInstallOptions
	Downloads      DownloadOptions
	Push           PushOptions
	Google         GoogleOptions
	Campaign       CampaignOptions

	// Progress receives a line as each section starts; nil discards them.
	Progress io.Writer

	// Database is a PostgreSQL URL to run the server on instead of a SQLite
	// file; each run works in a schema of its own that it drops at the end.
	Database string
	// Instances lists how many servers share the database in the
	// transactions section, their clients split between them: the section
	// runs once per count, each on a fresh database (default just 1).
	Instances []int
}

// ParseSections splits a comma-separated list of section names and
// rejects unknown ones.
func ParseSections(list string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(Sections, s) {
			return nil, fmt.Errorf("unknown section %q: want some of %s", s, strings.Join(Sections, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// databaseLabel names the database (and the instances) in row names.
// The instance count is left out when every run has one instance.
func (o Options) databaseLabel(instances int) string {
	name := "SQLite"
	if o.Database != "" {
		name = "PostgreSQL"
	}
	switch {
	case instances > 1:
		name += fmt.Sprintf(", %d instances", instances)
	case len(o.instances()) > 1:
		name += ", 1 instance"
	}
	return name
}

func (o Options) instances() []int {
	if len(o.Instances) == 0 {
		return []int{1}
	}
	return o.Instances
}

func (o Options) runs(section string) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, section)
}

// Run runs the selected sections o.Runs times, each run on a fresh server
// and database, and returns every run's figures. A comparison that cannot
// run here (passkit-generator without node) becomes a note, not an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	progress := orDiscard(o.Progress)
	if o.Runs < 1 {
		o.Runs = 1
	}
	rep := &Report{Machine: DescribeMachine(), Runs: o.Runs}
	rep.LoadBefore, _ = LoadAverage()

	var pk *Passkit
	if o.runs(SectionPasskit) {
		fmt.Fprintln(progress, "passkit-generator: installing the locked packages (once per version)…")
		var err error
		pk, err = InstallPasskit(ctx, o.PasskitInstall)
		switch {
		case errors.Is(err, ErrSkipped):
			rep.Notes = append(rep.Notes, "passkit-generator row skipped: "+strings.TrimPrefix(err.Error(), ErrSkipped.Error()+": "))
		case err != nil:
			return nil, err
		}
	}

	t := newTable(rep)
	for run := 1; run <= o.Runs; run++ {
		if err := runOnce(ctx, o, pk, t, fmt.Sprintf("run %d/%d", run, o.Runs), progress); err != nil {
			return nil, err
		}
	}
	if t.passkitRuns > 0 {
		n := fmt.Sprintf("passkit-generator's sample pass of each run passed loyalpass's verifier and matched loyalpass's pass file for file; node's peak RSS %s",
			mib(t.nodePeak))
		if len(t.passkitNotes) > 0 {
			n += "; the verifier also found, and the comparison tolerates: " + strings.Join(t.passkitNotes, "; ")
		}
		rep.Notes = append(rep.Notes, n)
	}
	rep.LoadAfter, _ = LoadAverage()
	rep.Memory = MeasureMemory()
	return rep, nil
}

// runOnce runs every selected section once on fresh servers.
func runOnce(ctx context.Context, o Options, pk *Passkit, t *table, label string, progress io.Writer) error {
	step := func(format string, args ...any) {
		fmt.Fprintf(progress, "%s: %s\n", label, fmt.Sprintf(format, args...))
	}
	if o.runs(SectionTransactions) {
		for _, n := range o.instances() {
			if err := runTransactions(ctx, o, n, t, step); err != nil {
				return err
			}
		}
	}
	if o.runs(SectionRender) || pk != nil || o.runs(SectionDownloads) {
		srv, closeAll, err := startServers(ctx, o, 1)
		if err != nil {
			return err
		}
		err = runPasses(ctx, o, pk, srv[0], t, step)
		closeAll()
		if err != nil {
			return err
		}
	}
	if o.runs(SectionPush) || o.runs(SectionGoogle) || o.runs(SectionCampaign) {
		return runChannels(ctx, o, t, step)
	}
	return nil
}

// startServers starts n servers on one fresh database: a scratch schema
// of o.Database, or a SQLite file (n must then be 1).
func startServers(ctx context.Context, o Options, n int) ([]*Server, func(), error) {
	var cleanups []func()
	closeAll := func() {
		for _, c := range slices.Backward(cleanups) {
			c()
		}
	}
	db := ServerOptions{}
	if o.Database != "" {
		url, drop, err := scratchSchema(ctx, o.Database)
		if err != nil {
			return nil, nil, err
		}
		cleanups = append(cleanups, drop)
		db.DatabaseURL = url
	}
	servers := make([]*Server, max(n, 1))
	for i := range servers {
		srv, err := StartServerWith(ctx, db)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		cleanups = append(cleanups, srv.Close)
		servers[i] = srv
	}
	return servers, closeAll, nil
}

// runTransactions runs the transactions section on n instances.
func runTransactions(ctx context.Context, o Options, n int, t *table, step func(string, ...any)) error {
	servers, closeAll, err := startServers(ctx, o, n)
	if err != nil {
		return err
	}
	defer closeAll()
	to := o.Transactions
	db := o.databaseLabel(n)
	step("transactions (%s): %d requests from %d clients over %d cards…", db, to.Requests, to.Concurrency, to.Cards)
	tx, err := RunTransactionsOn(ctx, servers, to)
	if err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	t.scale(SectionTransactions, n, t.add(fmt.Sprintf("transactions (%s, %d clients)", db, to.Concurrency), tx))
	step("transactions, stamps program (%s): %d requests from %d clients over %d cards…", db, to.Requests, to.Concurrency, to.Cards)
	to.Kind = "stamps"
	stamps, err := RunTransactionsOn(ctx, servers, to)
	if err != nil {
		return fmt.Errorf("stamp transactions: %w", err)
	}
	t.scale("stamps", n, t.add(fmt.Sprintf("transactions, stamps program (%s, %d clients)", db, to.Concurrency), stamps))
	ratio := "  stamps ÷ points"
	if len(o.instances()) > 1 {
		ratio += " (" + db + ")"
	}
	t.ratio(ratio, stamps, tx, percent)
	return nil
}

// runChannels runs the push, google and campaign sections, each on a
// fresh SQLite server of its own: their data is seeded into its file.
func runChannels(ctx context.Context, o Options, t *table, step func(string, ...any)) error {
	fresh := func(run func(*Server) error) error {
		srv, err := StartServer(ctx)
		if err != nil {
			return err
		}
		defer srv.Close()
		return run(srv)
	}
	if o.runs(SectionPush) {
		po := o.Push
		step("push: %d changed cards, a device each, through the delivery worker to a fake APNs…", po.Pushes)
		if err := fresh(func(srv *Server) error {
			res, err := RunPushes(ctx, srv, po)
			if err != nil {
				return fmt.Errorf("push: %w", err)
			}
			name := fmt.Sprintf("push to fake APNs over HTTP/2, delivery worker (SQLite, %d changed cards)", po.Pushes)
			if po.Latency > 0 {
				name = fmt.Sprintf("push to fake APNs over HTTP/2, %v round trip, delivery worker (SQLite, %d changed cards)", po.Latency, po.Pushes)
			}
			t.add(name, res.Latencies)
			return nil
		}); err != nil {
			return err
		}
	}
	if o.runs(SectionGoogle) {
		step("google: %d changed cards through the delivery worker to a fake Google Wallet API…", o.Google.Cards)
		if err := fresh(func(srv *Server) error {
			res, err := RunGoogle(ctx, srv, o.Google)
			if err != nil {
				return fmt.Errorf("google: %w", err)
			}
			t.add(fmt.Sprintf("Google Wallet object PATCH to fake Wallet API, delivery worker (SQLite, %d changed cards)", o.Google.Cards), res.Latencies)
			return nil
		}); err != nil {
			return err
		}
	}
	if o.runs(SectionCampaign) {
		co := o.Campaign
		step("campaign: seeding %d customers, planning a win-back over them, sending %d texts to a fake Twilio…", co.Customers, co.Texts)
		if err := fresh(func(srv *Server) error {
			res, err := RunCampaign(ctx, srv, co)
			if err != nil {
				return fmt.Errorf("campaign: %w", err)
			}
			t.wall(fmt.Sprintf("campaign planning, %d customers, %d selected (SQLite): wall time", co.Customers, res.Audience), res.Planning)
			t.add("campaign sending to fake Twilio, one sender (SQLite)", res.Sending)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// runPasses runs the render, passkit and downloads sections on srv.
func runPasses(ctx context.Context, o Options, pk *Passkit, srv *Server, t *table, step func(string, ...any)) error {
	var render Latencies
	if o.runs(SectionRender) {
		w := o.Render.workers()
		step("RSA signatures and rendering: %d each on %d goroutines…", o.Render.Passes, w)
		sign, rendered, err := RunRenderAndSign(ctx, srv.Material, o.Render)
		if err != nil {
			return fmt.Errorf("rendering: %w", err)
		}
		render = rendered
		t.add(fmt.Sprintf("RSA-2048 PKCS#1 v1.5 SHA-256 signature alone (%d goroutines)", w), sign)
		t.add(fmt.Sprintf("signed pass, passes.Renderer (%d goroutines)", w), render)
		t.ratio("  rendering ÷ signing", render, sign, percent)
	}
	if pk != nil {
		step("passkit-generator: %d passes…", o.Passkit.Passes)
		res, err := pk.Run(ctx, srv.Material, srv.Certs, o.Passkit)
		if err != nil {
			return err
		}
		t.add(fmt.Sprintf("signed pass, passkit-generator %s, node %s (%d threads)", pk.Version, pk.NodeVersion, res.Workers), res.Latencies)
		if render.N > 0 {
			t.ratio("  passes.Renderer ÷ passkit-generator", render, res.Latencies, times)
		}
		t.nodePeak = max(t.nodePeak, res.PeakRSS)
		t.passkitRuns++
		for _, n := range res.VerifierNotes {
			if !slices.Contains(t.passkitNotes, n) {
				t.passkitNotes = append(t.passkitNotes, n)
			}
		}
	}
	if o.runs(SectionDownloads) {
		do := o.Downloads
		step("cached pass downloads: %d from %d clients over %d cards…", do.Requests, do.Concurrency, do.Cards)
		dl, err := RunDownloads(ctx, srv, do)
		if err != nil {
			return fmt.Errorf("downloads: %w", err)
		}
		t.add(fmt.Sprintf("cached pass download (%d clients)", do.Concurrency), dl)
	}
	return nil
}

// table collects the rows of a report, run after run.
type table struct {
	rep          *Report
	passkitRuns  int
	passkitNotes []string // verifier findings Equivalent tolerated
	nodePeak     int64    // bytes
}

func newTable(rep *Report) *table { return &table{rep: rep} }

func (t *table) row(name string, format ratioFormat) *Row {
	for _, r := range t.rep.Rows {
		if r.Name == name {
			return r
		}
	}
	r := &Row{Name: name, Ratio: format}
	t.rep.Rows = append(t.rep.Rows, r)
	return r
}

func (t *table) add(name string, l Latencies) *Row {
	load, _ := LoadAverage()
	r := t.row(name, 0)
	r.Runs = append(r.Runs, Measure{PerSec: l.PerSec, P50: l.P50, P99: l.P99, CPUPerOp: l.CPUPerOp, Elapsed: l.Elapsed, Load: load[0]})
	return r
}

// wall adds a measure whose figure is how long the one operation took.
func (t *table) wall(name string, l Latencies) {
	t.add(name, l).Wall = true
}

// scale notes that row measured series with the given instance count,
// for the plot of throughput against instances.
func (t *table) scale(series string, instances int, row *Row) {
	for _, p := range t.rep.Scaling {
		if p.Series == series && p.Instances == instances {
			return
		}
	}
	t.rep.Scaling = append(t.rep.Scaling, ScalePoint{Series: series, Instances: instances, Row: row})
}

// ratio adds a row comparing a with b: a's rate over b's, and b's CPU per
// operation over a's, so both read "a does x times as much".
func (t *table) ratio(name string, a, b Latencies, format ratioFormat) {
	m := Measure{}
	if b.PerSec > 0 {
		m.PerSec = a.PerSec / b.PerSec
	}
	if a.CPUPerOp > 0 {
		m.CPURatio = float64(b.CPUPerOp) / float64(a.CPUPerOp)
	}
	r := t.row(name, format)
	r.Runs = append(r.Runs, m)
}

// Report is the outcome of Run.
type Report struct {
	Machine               Machine
	Runs                  int
	LoadBefore, LoadAfter [3]float64
	Rows                  []*Row
	Notes                 []string
	Memory                Memory
	// Scaling is the transactions rows by instance count.
	Scaling []ScalePoint
}

// ScalePoint is a transactions row measured with some instances.
type ScalePoint struct {
	Series    string // "transactions" or "stamps"
	Instances int
	Row       *Row
}

// Row is one measure across runs.
type Row struct {
	Name string
	// Ratio is zero for a measure, or how to print a row that compares
	// two others.
	Ratio ratioFormat
	// Wall rows time one long operation: the figure is its wall time.
	Wall bool
	Runs []Measure
}

// Measure is one run of one row.
type Measure struct {
	PerSec   float64 // operations per second; for a ratio row, the ratio of rates
	P50, P99 time.Duration
	CPUPerOp time.Duration
	Elapsed  time.Duration // the measure's wall time
	CPURatio float64       // ratio rows: the ratio of CPU time per operation
	Load     float64       // one-minute load average when the measure ended
}

type ratioFormat int

const (
	percent ratioFormat = iota + 1 // 0.85 → "85%"
	times                          // 23.4 → "23×"
)
