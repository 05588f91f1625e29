package delivery

import (
	"context"
	"sync"
)

// inHand is the set of cards the worker's rounds are sending. Run keeps
// several batches in hand at once, and two changes of one card can fall
// in two of them; sending both at once would push the card twice and,
// for Google Wallet, PATCH its object twice and may spend two of its
// three daily notifications.
type inHand struct {
	mu   sync.Mutex
	busy map[string]chan struct{} // closed when the card is let go
}

// hold takes every serial, waiting while another round holds any of them.
// It takes all or none, so rounds never deadlock; release lets them go.
func (h *inHand) hold(ctx context.Context, serials []string) (release func(), err error) {
	for {
		h.mu.Lock()
		var wait chan struct{}
		for _, s := range serials {
			if ch, ok := h.busy[s]; ok {
				wait = ch
				break
			}
		}
		if wait == nil {
			if h.busy == nil {
				h.busy = map[string]chan struct{}{}
			}
			done := make(chan struct{})
			for _, s := range serials {
				h.busy[s] = done
			}
			h.mu.Unlock()
			return func() {
				h.mu.Lock()
				for _, s := range serials {
					delete(h.busy, s)
				}
				h.mu.Unlock()
				close(done)
			}, nil
		}
		h.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
