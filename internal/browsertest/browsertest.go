// Package browsertest holds what the browser tests share: where Debian's
// Chromium is, and chromedp steps that survive a loaded machine.
//
// Two things go wrong in headless Chromium on a busy CI machine, and
// neither is the page's fault: an action sent just after a form post
// navigates can meet the old page's JavaScript context ("Cannot find
// context with specified id") without having done anything, and a
// screenshot can wait forever for a frame the compositor never paints.
// Steps runs such actions again; Screenshot gives each capture a deadline
// and tries again.
package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// Steps runs each action alone, and again (up to 20 times, 50 ms apart)
// when it met the page between two documents. Such an action failed
// before it did anything in the page, so running it again is safe.
func Steps(ctx context.Context, t testing.TB, actions ...chromedp.Action[chromedp.Void]) error {
	for i, a := range actions {
		for attempt := 0; ; attempt++ {
			err := chromedp.Do(ctx, a)
			if err == nil {
				break
			}
			if !Stale(err) || attempt == 20 {
				return fmt.Errorf("step %d: %w", i, err)
			}
			t.Logf("step %d met the page between documents (%v); again", i, err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("step %d: %w", i, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Stale reports whether err says the action met a JavaScript context
// that a navigation had just destroyed.
func Stale(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "Cannot find context") ||
		strings.Contains(err.Error(), "Execution context was destroyed"))
}

// Screenshot captures the whole page as PNG, giving each of three tries
// 20 seconds.
func Screenshot(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
	var err error
	for range 3 {
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var png []byte
		png, err = chromedp.FullScreenshot(100)(tctx, tg)
		cancel()
		if err == nil || ctx.Err() != nil {
			return png, err
		}
	}
	return nil, fmt.Errorf("screenshot: %w", err)
}
