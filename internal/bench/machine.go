package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPU        string // model name, from /proc/cpuinfo where there is one
	Cores      int    // logical CPUs this process may use
	GOMAXPROCS int
	MemTotal   int64 // bytes; 0 when unknown
	OS, Arch   string
	GoVersion  string
}

// DescribeMachine reads the machine's description.
func DescribeMachine() Machine {
	m := Machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.CPU = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if f := strings.Fields(v); len(f) > 0 {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				m.MemTotal = kb * 1024
			}
		}
	}
	return m
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d cores (GOMAXPROCS %d)", m.CPU, m.Cores, m.GOMAXPROCS)
	if m.MemTotal > 0 {
		s += ", " + mib(m.MemTotal) + " RAM"
	}
	return s + fmt.Sprintf(", %s/%s, %s", m.OS, m.Arch, m.GoVersion)
}

// procField returns the value of the first "key: value" line of a /proc
// file with the given key.
func procField(file, key string) (string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// LoadAverage returns the 1, 5 and 15-minute load averages, to judge how
// busy the machine was; ok is false where /proc/loadavg is missing.
func LoadAverage() (avg [3]float64, ok bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return avg, false
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return avg, false
	}
	for i := range avg {
		if avg[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return avg, false
		}
	}
	return avg, true
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
