package drain

import (
	"context"
	"testing"
	"time"
)

func TestWorkOutlivesStopByGraceOnly(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	work, cancel := Context(ctx, 50*time.Millisecond)
	defer cancel()
	stop()
	if err := work.Err(); err != nil {
		t.Fatalf("work ended with the stop: %v", err)
	}
	select {
	case <-work.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("work outlived its grace")
	}
}

func TestCancelEndsWorkAtOnce(t *testing.T) {
	work, cancel := Context(context.Background(), time.Hour)
	cancel()
	if work.Err() == nil {
		t.Fatal("cancel left work running")
	}
}
