package delivery

import (
	"context"
	"testing"
)

// TestInHandWaitsForTheSameCard checks that a round holding a card makes
// another round with that card wait until it lets go, while a round with
// other cards goes on.
func TestInHandWaitsForTheSameCard(t *testing.T) {
	var h inHand
	ctx := context.Background()
	release, err := h.hold(ctx, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.hold(ctx, []string{"c"})
	if err != nil {
		t.Fatal(err)
	}
	other()
	got := make(chan struct{})
	go func() {
		r, err := h.hold(ctx, []string{"c", "b"})
		if err == nil {
			r()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a round took card b while another held it")
	default:
	}
	release()
	<-got
	cancelled, cancel := context.WithCancel(ctx)
	r, _ := h.hold(ctx, []string{"a"})
	cancel()
	if _, err := h.hold(cancelled, []string{"a"}); err == nil {
		t.Error("hold on a held card returned without error after its context ended")
	}
	r()
}
