package bench

import (
	"fmt"
	"slices"
	"sync"
)

// fakes owns the fake providers (apnstest, gwallettest, smstest) a
// section starts outside a test: it stands in for the testing.TB they
// take, runs their cleanups when the section is done, and turns a
// malformed request a fake reports into the section's error.
type fakes struct {
	mu       sync.Mutex
	cleanups []func()
	problems []string
}

func (f *fakes) Helper() {}

func (f *fakes) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakes) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

// err is the first problem a fake reported, if any.
func (f *fakes) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.problems) == 0 {
		return nil
	}
	return fmt.Errorf("a fake provider saw %d malformed requests, first: %s", len(f.problems), f.problems[0])
}

// close runs the cleanups, last registered first, as testing does.
func (f *fakes) close() {
	f.mu.Lock()
	fns := slices.Clone(f.cleanups)
	f.cleanups = nil
	f.mu.Unlock()
	for _, fn := range slices.Backward(fns) {
		fn()
	}
}
