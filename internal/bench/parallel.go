package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runParallel calls op(0) … op(n-1) from workers goroutines, each taking
// the next index, and times every call. The CPU time is the whole
// process's, so whatever op makes the process do (a server answering it,
// for one) counts.
func runParallel(ctx context.Context, n, workers int, op func(i int) error) (Latencies, error) {
	raw, err := runParallelRaw(ctx, n, workers, op)
	return raw.summary(), err
}

// rawRun is what runParallelRaw measured, before summarising: runs of the
// same operation add up.
type rawRun struct {
	samples      []time.Duration
	elapsed, cpu time.Duration
	errs         int
}

func (r *rawRun) add(o rawRun) {
	r.samples = append(r.samples, o.samples...)
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.errs += o.errs
}

func (r rawRun) summary() Latencies { return summarise(r.samples, r.elapsed, r.cpu, r.errs) }

func runParallelRaw(ctx context.Context, n, workers int, op func(i int) error) (rawRun, error) {
	if workers < 1 {
		workers = 1
	}
	var next atomic.Int64
	samples := make([][]time.Duration, workers)
	var (
		errs     atomic.Int64
		mu       sync.Mutex
		firstErr error
	)
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := op(i); err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				samples[w] = append(samples[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	raw := rawRun{elapsed: time.Since(start), cpu: cpuTime() - cpu0, errs: int(errs.Load())}
	for _, s := range samples {
		raw.samples = append(raw.samples, s...)
	}
	if firstErr != nil {
		return raw, fmt.Errorf("%d of %d operations failed, first: %w", raw.errs, n, firstErr)
	}
	if err := ctx.Err(); err != nil {
		return raw, err
	}
	return raw, nil
}
