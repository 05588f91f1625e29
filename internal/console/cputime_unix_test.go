//go:build unix

package console

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time the test process has used so far:
// on a shared machine the wall time of a request measures the neighbours
// too, its CPU time does not.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
