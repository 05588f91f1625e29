package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
)

// instance is this process's membership among the instances sharing the
// database: it joins with a heartbeat lease, renews it while it runs,
// recovers the claims of instances whose lease ran out, and leaves on a
// clean stop once its work is finished.
type instance struct {
	st    *store.Store
	lease time.Duration
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}
}

// joinInstance registers this process, recovers what dead instances left
// claimed, and starts the heartbeat. Leave ends it.
func joinInstance(ctx context.Context, st *store.Store, lease time.Duration, log *slog.Logger) (*instance, error) {
	in := &instance{st: st, lease: lease, log: log.With("component", "instance", "instance", st.Instances().ID()),
		done: make(chan struct{})}
	if err := st.Instances().Join(ctx, lease); err != nil {
		return nil, err
	}
	if err := in.recover(ctx); err != nil {
		return nil, err
	}
	// The heartbeat outlives the stop signal: it must keep the lease until
	// the workers have finished what they hold.
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	in.stop = stop
	go in.heartbeat(hctx)
	return in, nil
}

// heartbeat renews the lease every third of it and recovers dead
// instances' claims, until ctx ends.
func (in *instance) heartbeat(ctx context.Context) {
	defer close(in.done)
	t := time.NewTicker(in.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := in.st.Instances().Heartbeat(ctx, in.lease); err != nil {
			if ctx.Err() == nil {
				in.log.Error("renewing the instance lease failed: past it, other instances recover this one's claims", "err", err)
			}
			continue
		}
		if err := in.recover(ctx); err != nil && ctx.Err() == nil {
			in.log.Error("recovering dead instances' claims failed", "err", err)
		}
	}
}

func (in *instance) recover(ctx context.Context) error {
	r, err := in.st.Instances().Recover(ctx)
	if err != nil {
		return err
	}
	if r.Leases+r.Recipients+r.Interrupted+r.Messages+r.MessagesLost > 0 {
		in.log.Warn("recovered the claims of stopped instances", "leases", r.Leases, "recipients_back", r.Recipients,
			"texts_interrupted", r.Interrupted, "messages_back", r.Messages, "messages_interrupted", r.MessagesLost,
			"instances", r.DeadInstances)
	}
	if r.Interrupted+r.MessagesLost > 0 {
		in.log.Warn("texts interrupted while being handed to the provider are not resent, so nobody gets two",
			"recipients", r.Interrupted, "automation_messages", r.MessagesLost)
	}
	return nil
}

// Leave stops the heartbeat and removes this instance, after its workers
// stopped: what it still holds is recoverable at once.
func (in *instance) Leave(ctx context.Context) {
	in.stop()
	<-in.done
	if err := in.st.Instances().Leave(ctx); err != nil {
		in.log.Error("leaving the instances failed: its lease runs out instead", "err", err)
	}
}
