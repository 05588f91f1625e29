package api_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/browsertest"
)

const chromiumPath = browsertest.ChromiumPath

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("LOYALPASS_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestJoinInChromium has a real browser join as a person would: fill the
// form, tick the consent, get the code (read here from the SMS fake),
// type it, and land on the card page with the wallet button that suits
// the device. It runs as an iPhone and as a desktop.
func TestJoinInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: no %s (apt-get install -y chromium fonts-dejavu-core)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	r := newJoinRig(t, func(o *api.Options) { o.PublicURL = base })
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: r.http}}
	srv.Start()
	t.Cleanup(srv.Close)
	joinURL := r.prog["join_url"].(string)
	if !strings.HasPrefix(joinURL, base+"/j/") {
		t.Fatalf("join_url %q is not on %s", joinURL, base)
	}
	dir := artifactsDir(t)

	tests := []struct {
		name, ua, lang, phone string
		width, height         int
		mobile                bool
		want, absent          []string
	}{
		{name: "iphone", ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
			lang: "ru-RU,ru", phone: "+79161234501", width: 390, height: 844, mobile: true,
			want: []string{"apple-wallet", "ios-hint"}, absent: []string{"qr", "pkpass"}},
		{name: "desktop", ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
			lang: "en-US,en", phone: "+79161234502", width: 1280, height: 1000,
			want: []string{"apple-wallet", "qr"}, absent: []string{"pkpass", "ios-hint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox,
				chromedp.DisableGPU, chromedp.UserAgent(tt.ua), chromedp.WindowSize(tt.width, tt.height),
				chromedp.Flag("lang", strings.Split(tt.lang, ",")[0]), chromedp.Flag("accept-lang", tt.lang),
				chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
				chromedp.UserDataDir(t.TempDir()))
			actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
			defer cancel()
			ctx, cancel := chromedp.NewContext(actx)
			defer cancel()
			// Generous: a loaded CI machine starts Chromium slowly.
			ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			shot := func(name string) chromedp.Action[chromedp.Void] {
				return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					png, err := browsertest.Screenshot(ctx, tg)
					if err != nil {
						// An artifact, not the test's finding: a loaded
						// machine's headless Chromium sometimes never
						// paints the frame a capture waits for.
						t.Logf("no screenshot %s: %v", name, err)
						return nil
					}
					path := filepath.Join(dir, "join-"+tt.name+"-"+name+".png")
					t.Logf("screenshot: %s", path)
					return os.WriteFile(path, png, 0o644)
				})
			}
			emulate := chromedp.EmulateViewport(int64(tt.width), int64(tt.height))
			if tt.mobile {
				emulate = chromedp.EmulateViewport(int64(tt.width), int64(tt.height), chromedp.EmulateMobile, chromedp.EmulateScale(2))
			}
			err := chromedp.Do(ctx, emulate,
				chromedp.Navigate(joinURL),
				chromedp.WaitVisible(chromedp.ID("join-form")),
			)
			if err != nil {
				t.Fatalf("open the join page: %v", err)
			}
			button, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("join-submit")))
			if err != nil {
				t.Fatal(err)
			}
			wantButton := map[string]string{"ru-RU": "Получить код", "en-US": "Get a code"}[strings.Split(tt.lang, ",")[0]]
			if strings.TrimSpace(button) != wantButton {
				t.Errorf("the form's button says %q, want %q (the language of Accept-Language)", button, wantButton)
			}
			err = browsertest.Steps(ctx, t,
				chromedp.SendKeys(chromedp.ID("phone"), tt.phone),
				chromedp.Click(chromedp.ID("consent_personal_data")),
				shot("form"),
				chromedp.Click(chromedp.ID("join-submit")),
				chromedp.WaitVisible(chromedp.ID("code-form")),
				shot("code"),
			)
			if err != nil {
				t.Fatalf("fill the join form: %v", err)
			}
			code := r.lastCode(tt.phone)
			err = browsertest.Steps(ctx, t,
				chromedp.SendKeys(chromedp.ID("code"), code),
				chromedp.Click(chromedp.ID("code-submit")),
				chromedp.WaitVisible(chromedp.ID("card")),
				// Images are loaded (the desktop's QR code) before the shot.
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := chromedp.Poll[bool](`[...document.images].every(i => i.complete && i.naturalWidth > 0)`)(ctx, tg)
					return err
				}),
				shot("card"),
			)
			if err != nil {
				t.Fatalf("enter the code: %v", err)
			}
			location, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil {
				t.Fatal(err)
			}
			present, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[id]")].map(e => e.id)`))
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(location)
			if err != nil || !strings.HasPrefix(u.Path, "/c/") {
				t.Fatalf("landed on %q, want the card page /c/{token}", location)
			}
			has := map[string]bool{}
			for _, id := range present {
				has[id] = true
			}
			for _, id := range tt.want {
				if !has[id] {
					t.Errorf("#%s missing on the card page (ids: %v)", id, present)
				}
			}
			for _, id := range tt.absent {
				if has[id] {
					t.Errorf("#%s shown on the card page", id)
				}
			}
		})
	}
	if n := r.count("cards"); n != 2 {
		t.Errorf("%d cards after two joins", n)
	}
}
