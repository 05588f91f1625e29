package console

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/loyalpass/loyalpass/internal/browsertest"
	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const chromiumPath = browsertest.ChromiumPath

// maxPageWeight is the budget of a console page without images: the
// HTML, the style sheet and the scripts as sent.
const maxPageWeight = 200 << 10

// artifactsDir is where the screenshots go: $LOYALPASS_ARTIFACTS, so CI
// keeps them, else a temporary directory.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("LOYALPASS_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// qrVideo writes a Y4M video whose every frame shows a QR code of text:
// Chromium plays it as the camera (--use-file-for-fake-video-capture).
func qrVideo(t *testing.T, text string) string {
	const w, h = 640, 480
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	img := q.Image(400)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\nFRAME\n", w, h)
	ox, oy := (w-400)/2, (h-400)/2
	for y := range h {
		for x := range w {
			luma := byte(235)
			if x >= ox && x < ox+400 && y >= oy && y < oy+400 {
				if r, _, _, _ := img.At(x-ox, y-oy).RGBA(); r < 0x8000 {
					luma = 16
				}
			}
			buf.WriteByte(luma)
		}
	}
	buf.Write(bytes.Repeat([]byte{128}, w*h/2)) // U and V: no colour
	path := filepath.Join(t.TempDir(), "qr.y4m")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowser drives the console in real Chromium: keyboard-only sign-in,
// issuing a card, a form without its CSRF token, the owner's screens, the
// page weights; then a cashier on a phone-sized screen: keyboard-only
// earn, a double click that posts once, a scan with the camera, and the
// screens the role may not open. Screenshots of every screen go to
// $LOYALPASS_ARTIFACTS.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: no %s (apt-get install -y chromium fonts-dejavu-core)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	r := newRig(t)
	ctx := context.Background()
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна Петрова")
	dir := artifactsDir(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("lang", "ru"), chromedp.Flag("accept-lang", "ru"), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", qrVideo(t, card.Number)))
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	root, cancelRoot := chromedp.NewContext(alloc)
	defer cancelRoot()
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	// session opens a browser context of its own (its own cookies).
	session := func(t *testing.T) context.Context {
		c, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		c, cancelT := context.WithTimeout(c, 90*time.Second)
		t.Cleanup(cancelT)
		return c
	}
	do := func(t *testing.T, c context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(c, steps...); err != nil {
			t.Fatal(err)
		}
	}
	// submit runs a step that sends a form and waits for the answer.
	submit := func(t *testing.T, c context.Context, step chromedp.Action[chromedp.Void]) int64 {
		t.Helper()
		resp, err := chromedp.RunResponse(c, step)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status
	}
	location := func(t *testing.T, c context.Context) string {
		t.Helper()
		u, err := chromedp.Run(c, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, r.srv.URL)
	}
	eval := func(t *testing.T, c context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	text := func(t *testing.T, c context.Context, id string) string {
		t.Helper()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("#%s: %v", id, err)
		}
		return strings.TrimSpace(s)
	}
	shoot := func(t *testing.T, c context.Context, name string) {
		t.Helper()
		data, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, "console-"+name+".png")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	// signIn signs in with the keyboard alone: the email field has the
	// focus, Tab goes to the password, Enter sends.
	signIn := func(t *testing.T, c context.Context, role Role) {
		t.Helper()
		do(t, c, chromedp.Navigate(r.srv.URL+"/console"))
		if got := location(t, c); !strings.HasPrefix(got, "/console/login") {
			t.Fatalf("anonymous /console is at %s, want the sign-in", got)
		}
		focusOn(t, c, "email")
		do(t, c, chromedp.KeyEvent(r.emails[role]), chromedp.KeyEvent("\t"), chromedp.KeyEvent(r.passwords[role]))
		if st := submit(t, c, chromedp.KeyEvent("\r")); st != http.StatusOK {
			t.Fatalf("sign-in answered %d", st)
		}
	}

	t.Run("owner", func(t *testing.T) {
		c := session(t)
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/login"))
		shoot(t, c, "login")
		signIn(t, c, Owner)
		if got := location(t, c); got != "/console/dashboard" {
			t.Fatalf("after sign-in at %s", got)
		}
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/customers"))

		// Issue a card from the console.
		do(t, c, chromedp.SetValue(chromedp.ID("issue-phone"), "8 912 555-44-33"),
			chromedp.SetValue(chromedp.ID("issue-name"), "Мария Соколова"), chromedp.Click(chromedp.ID("issue-consent")))
		if st := submit(t, c, chromedp.Click(chromedp.ID("issue"))); st != http.StatusOK {
			t.Fatalf("issue answered %d", st)
		}
		if got := text(t, c, "customer-name"); got != "Мария Соколова" {
			t.Fatalf("customer page of %q", got)
		}
		issued, _ := r.st.Customers().Search(ctx, r.merchant.ID, storeQueryPhone("+79125554433"), 5)
		if len(issued) != 1 || issued[0].Balance != r.program.WelcomeBonus {
			t.Fatalf("issued cards %+v", issued)
		}
		shoot(t, c, "customer")
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/customers?q="+"5544"))
		shoot(t, c, "customers")
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/programs"))
		shoot(t, c, "programs")

		// A form without its CSRF token is refused and changes nothing.
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/programs/"+r.program.ID))
		shoot(t, c, "program")
		eval(t, c, `document.getElementById('save-program').form.querySelector('input[name=csrf]').remove(), "ok"`)
		do(t, c, chromedp.SetValue(chromedp.ID("name"), "Без токена"))
		if st := submit(t, c, chromedp.Click(chromedp.ID("save-program"))); st != http.StatusForbidden {
			t.Fatalf("a form without its token answered %d, want 403", st)
		}
		if got := text(t, c, "message-heading"); got != "Форма отклонена" {
			t.Fatalf("refusal page says %q", got)
		}
		shoot(t, c, "refused")
		if p, _ := r.st.Programs().Program(ctx, r.merchant.ID, r.program.ID); p.Name != r.program.Name {
			t.Fatalf("the refused form renamed the program to %q", p.Name)
		}

		do(t, c, chromedp.Navigate(r.srv.URL+"/console/keys"))
		if st := submit(t, c, chromedp.Click(chromedp.ID("create-key"))); st != http.StatusCreated {
			t.Fatalf("create key answered %d", st)
		}
		if k := text(t, c, "new-key"); !strings.HasPrefix(k, "lp_") {
			t.Fatalf("new key %q", k)
		}
		shoot(t, c, "keys")
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/webhooks"),
			chromedp.SetValue(chromedp.ID("hook-url"), "https://crm.example.com/loyalpass"))
		if st := submit(t, c, chromedp.Click(chromedp.ID("create-hook"))); st != http.StatusCreated {
			t.Fatalf("create webhook answered %d", st)
		}
		shoot(t, c, "webhooks")
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/reports"))
		shoot(t, c, "reports")

		// Page weight without images, nothing cached.
		if _, err := chromedp.Call(c, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			t.Fatal(err)
		}
		const weigh = `(() => {
			let n = performance.getEntriesByType("navigation")[0].transferSize;
			for (const e of performance.getEntriesByType("resource")) if (e.initiatorType !== "img") n += e.transferSize;
			return String(n);
		})()`
		for _, path := range []string{"/console/customers?q=5544", "/console/customers/" + issued[0].CustomerID,
			"/console/programs", "/console/programs/" + r.program.ID, "/console/cashier?number=" + card.Number,
			"/console/reports", "/console/keys", "/console/webhooks"} {
			do(t, c, chromedp.Navigate(r.srv.URL+path))
			var n int
			fmt.Sscan(eval(t, c, weigh), &n)
			t.Logf("page weight %s: %d bytes", path, n)
			if n <= 0 || n > maxPageWeight {
				t.Errorf("%s weighs %d bytes, budget %d", path, n, maxPageWeight)
			}
		}
		// The cashier page with the fallback decoder loaded, as on a
		// browser without BarcodeDetector once the camera starts.
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/cashier?number="+card.Number))
		eval(t, c, `new Promise(ok => { const s = document.createElement("script");
			s.src = document.getElementById("scanner").dataset.decoder; s.onload = () => ok(String(typeof jsQR));
			document.head.appendChild(s); })`)
		var n int
		fmt.Sscan(eval(t, c, weigh), &n)
		t.Logf("page weight /console/cashier with the QR decoder: %d bytes", n)
		if n > maxPageWeight {
			t.Errorf("the cashier page with its decoder weighs %d bytes, budget %d", n, maxPageWeight)
		}
	})

	t.Run("cashier", func(t *testing.T) {
		c := session(t)
		do(t, c, chromedp.EmulateViewport(390, 844))
		signIn(t, c, Cashier)
		if got := location(t, c); got != "/console/cashier" {
			t.Fatalf("a cashier lands on %s", got)
		}
		// The till and their own password.
		if got := eval(t, c, `String(document.querySelectorAll("header nav a").length)`); got != "2" {
			t.Fatalf("a cashier's navigation has %s links, want 2", got)
		}
		// Keyboard only: the number field has the focus; Enter finds the
		// card; the amount field then has the focus; Enter earns.
		focusOn(t, c, "number")
		do(t, c, chromedp.KeyEvent(card.Number))
		submit(t, c, chromedp.KeyEvent("\r"))
		if got := text(t, c, "balance"); got != "100\u00a0баллов" {
			t.Fatalf("balance shown %q", got)
		}
		focusOn(t, c, "amount")
		do(t, c, chromedp.KeyEvent("100"))
		submit(t, c, chromedp.KeyEvent("\r"))
		do(t, c, chromedp.WaitVisible(chromedp.ID("last")))

		// A double tap on Earn posts once. The page after it is told from
		// the one before (which shows a line too) by the balance it shows.
		do(t, c, chromedp.SetValue(chromedp.ID("amount"), "1250"))
		submit(t, c, doubleTap("earn"))
		waitFor(t, c, `document.getElementById("last") !== null && document.getElementById("balance").textContent.startsWith("167")`)
		lines := r.ledger(r.merchant.ID, card.SerialNumber)
		var earns []int64
		for _, l := range lines {
			if l.Kind == loyalty.Earn {
				earns = append(earns, l.Points)
			}
		}
		if len(lines) != 3 || len(earns) != 2 || earns[0] != 62 || earns[1] != 5 {
			t.Fatalf("ledger after a keyboard earn and a double click: %+v", lines)
		}
		if got := text(t, c, "balance"); got != "167\u00a0баллов" {
			t.Fatalf("balance shown %q, want 167", got)
		}
		shoot(t, c, "cashier")

		// The camera: Chromium's fake camera shows the card's QR code.
		do(t, c, chromedp.Navigate(r.srv.URL+"/console/cashier"), chromedp.WaitVisible(chromedp.ID("scan")))
		detector := eval(t, c, `String("BarcodeDetector" in window)`)
		do(t, c, chromedp.Click(chromedp.ID("scan")), chromedp.WaitVisible(chromedp.ID("balance")))
		if got := text(t, c, "card-number"); got != card.Number {
			t.Fatalf("scanned card %q, want %s", got, card.Number)
		}
		t.Logf("scanned with the camera (BarcodeDetector present: %s)", detector)
		shoot(t, c, "cashier-scanned")

		for _, path := range []string{"/console/keys", "/console/webhooks", "/console/reports", "/console/customers"} {
			resp, err := chromedp.Run(c, chromedp.NavigateResponse(r.srv.URL+path))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusForbidden || text(t, c, "message-heading") != "Недоступно для вашей роли" {
				t.Errorf("a cashier opening %s: %d", path, resp.Status)
			}
		}
		shoot(t, c, "cashier-forbidden")
	})
}
