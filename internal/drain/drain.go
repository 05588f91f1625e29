// Package drain lets a background worker stop claiming new work the
// moment it is told to stop, while the work it already holds (a push or a
// webhook post in flight, and the writes that record its outcome) gets a
// bounded grace to finish.
package drain

import (
	"context"
	"time"
)

// Context returns the context for work claimed under ctx. It is not
// cancelled when ctx is, but grace later, or when cancel is called; it
// keeps ctx's values. Call cancel once the worker has stopped.
func Context(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	work, end := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, end)
		context.AfterFunc(work, func() { t.Stop() })
	})
	return work, func() {
		stop()
		end()
	}
}
