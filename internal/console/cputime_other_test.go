//go:build !unix

package console

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
