package console

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browser is a Chromium driving the rig's console, for the screens'
// browser tests: sessions of their own, sign-in, screenshots, page
// weights.
type browser struct {
	r    *rig
	root context.Context
	dir  string
}

// newBrowser starts Chromium, or skips the test where there is none.
func newBrowser(t *testing.T, r *rig) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: no %s (apt-get install -y chromium fonts-dejavu-core)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("lang", "ru"), chromedp.Flag("accept-lang", "ru"), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{r: r, root: root, dir: artifactsDir(t)}
}

// session opens a browser context with cookies of its own.
func (b *browser) session(t *testing.T) context.Context {
	c, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	c, cancelT := context.WithTimeout(c, 90*time.Second)
	t.Cleanup(cancelT)
	return c
}

func (b *browser) do(t *testing.T, c context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatal(err)
	}
}

// open navigates to path and returns the answer's status.
func (b *browser) open(t *testing.T, c context.Context, path string) int64 {
	t.Helper()
	resp, err := chromedp.Run(c, chromedp.NavigateResponse(b.r.srv.URL+path))
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status
}

// submit runs a step that sends a form and returns the answer's status.
func (b *browser) submit(t *testing.T, c context.Context, step chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(c, step)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status
}

func (b *browser) eval(t *testing.T, c context.Context, js string) string {
	t.Helper()
	v, err := chromedp.Run(c, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (b *browser) location(t *testing.T, c context.Context) string {
	t.Helper()
	u, err := chromedp.Run(c, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u, b.r.srv.URL)
}

// signIn signs role in through the sign-in form.
func (b *browser) signIn(t *testing.T, c context.Context, role Role) {
	t.Helper()
	b.open(t, c, "/console/login")
	b.do(t, c, chromedp.SetValue(chromedp.ID("email"), b.r.emails[role]),
		chromedp.SetValue(chromedp.ID("password"), b.r.passwords[role]))
	if st := b.submit(t, c, chromedp.Submit(chromedp.ID("password"))); st != 200 {
		t.Fatalf("sign-in answered %d", st)
	}
}

// shoot saves a screenshot of the whole page as console-NAME.png and
// returns it.
func (b *browser) shoot(t *testing.T, c context.Context, name string) []byte {
	t.Helper()
	data, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.dir, "console-"+name+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return data
}

// weigh opens path with the cache off and returns what the page cost
// without images: the document, style sheets and scripts as sent, and
// what the page fetched itself (a preview).
func (b *browser) weigh(t *testing.T, c context.Context, path string) int {
	t.Helper()
	if _, err := chromedp.Call(c, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	b.open(t, c, path)
	const weigh = `(() => {
		let n = performance.getEntriesByType("navigation")[0].transferSize;
		for (const e of performance.getEntriesByType("resource")) if (e.initiatorType !== "img" && e.initiatorType !== "image") n += e.transferSize;
		return String(n);
	})()`
	var n int
	fmt.Sscan(b.eval(t, c, weigh), &n)
	t.Logf("page weight %s: %d bytes", path, n)
	if n <= 0 || n > maxPageWeight {
		t.Errorf("%s weighs %d bytes, budget %d", path, n, maxPageWeight)
	}
	return n
}

// focusOn waits until the element with id has the focus (autofocus runs
// with the page's first rendering, which on a loaded machine may come
// after the load event) and fails, saying what has it, if it never does.
func focusOn(t *testing.T, c context.Context, id string) {
	t.Helper()
	js := `document.activeElement && document.activeElement.id === ` + strconv.Quote(id)
	if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		got, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		t.Fatalf("the focus is on %q, want #%s (%v)", got, id, err)
	}
}

// waitFor waits until the page's JavaScript condition js holds: the DOM
// state a step waits on, never a time.
func waitFor(t *testing.T, c context.Context, js string) {
	t.Helper()
	if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

// doubleTap presses the element with id twice in a row with the mouse,
// as a hurried finger does: two full clicks at one spot, the second sent
// before the first one's answer can arrive. (chromedp.DoubleClick sends
// one press with a click count of 2: a single click to the page.)
func doubleTap(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.ScrollIntoView(chromedp.ID(id))(ctx, t); err != nil {
			return err
		}
		box, err := chromedp.Dimensions(chromedp.ID(id))(ctx, t)
		if err != nil {
			return err
		}
		q := box.Content
		x, y := (q[0]+q[2]+q[4]+q[6])/4, (q[1]+q[3]+q[5]+q[7])/4
		for range 2 {
			if _, err := chromedp.MouseClickXY(x, y)(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
}
