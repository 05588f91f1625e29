package bench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used. With
// other work on the machine, wall-clock rates say little; CPU per
// operation does not depend on it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
