package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
)

// Memory is how much memory the benchmark process took.
type Memory struct {
	// PeakRSS is the most resident memory the process ever held, in bytes:
	// VmHWM from /proc/self/status, or getrusage's ru_maxrss where there
	// is no /proc. It spans the whole process (server, load clients and
	// every section and run), not one measure.
	PeakRSS int64
	// Source says where PeakRSS was read.
	Source string
	// GoTotal is the memory the Go runtime has mapped now (heap, stacks,
	// metadata), from runtime/metrics.
	GoTotal uint64
	// GoHeapGoal is the heap size the collector currently aims for.
	GoHeapGoal uint64
}

// MeasureMemory reads the process's peak and current memory.
func MeasureMemory() Memory {
	var m Memory
	if kb, ok := vmHWM(); ok {
		m.PeakRSS, m.Source = kb*1024, "VmHWM"
	} else {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
			// Kilobytes on Linux and the BSDs; bytes on macOS, which has
			// no /proc either. Assume kilobytes: this is only a fallback.
			m.PeakRSS, m.Source = ru.Maxrss*1024, "ru_maxrss"
		}
	}
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(samples)
	if samples[0].Value.Kind() == metrics.KindUint64 {
		m.GoTotal = samples[0].Value.Uint64()
	}
	if samples[1].Value.Kind() == metrics.KindUint64 {
		m.GoHeapGoal = samples[1].Value.Uint64()
	}
	return m
}

// vmHWM returns the VmHWM line of /proc/self/status, in kilobytes.
func vmHWM() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "123456 kB"
		if len(f) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		return kb, err == nil
	}
	return 0, false
}
