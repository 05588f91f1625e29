//go:build unix

package passes

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time the test process has used so far.
// Benchmarks report it per operation as well as wall time: on a shared
// machine wall time measures the neighbours too.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
