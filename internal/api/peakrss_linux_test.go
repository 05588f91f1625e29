package api_test

import (
	"os"
	"syscall"
)

// peakRSS returns the most resident memory an exited child ever held, in
// bytes: getrusage's ru_maxrss, which Linux counts in kilobytes.
func peakRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss * 1024, true
}
