package landing

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/browsertest"
)

const chromiumPath = browsertest.ChromiumPath

// hitLog records the requests a test server answered.
type hitLog struct {
	mu   sync.Mutex
	hits []string
}

func (l *hitLog) middleware(c *gin.Context) {
	c.Next()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hits = append(l.hits, fmt.Sprintf("%s %s %d", c.Request.Method, c.Request.URL.Path, c.Writer.Status()))
}

func (l *hitLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.hits)
}

// artifactsDir is where the screenshots go: $LOYALPASS_ARTIFACTS, so CI can
// keep them, else a temporary directory.
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

// chromium runs headless Chromium once on url with the given extra flags
// and returns its standard output.
func chromium(t *testing.T, ua, lang string, width, height int, url string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(),
		"--user-agent=" + ua,
		"--accept-lang=" + lang,
		fmt.Sprintf("--window-size=%d,%d", width, height),
	}
	args = append(append(args, flags...), url)
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", flags, err, stderr.String())
	}
	return stdout.Bytes()
}

func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: no %s (apt-get install -y chromium fonts-dejavu-core)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	gin.SetMode(gin.TestMode)
	hits := &hitLog{}
	r := gin.New()
	r.Use(hits.middleware)
	src := newFakeSource()
	New(src, nil).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	p := testPage()
	p.ShortURL = srv.URL + "/c/" + testToken
	src.put(p)
	pageURL := srv.URL + "/c/" + testToken
	dir := artifactsDir(t)

	tests := []struct {
		name          string
		ua, lang      string
		width, height int
		want, absent  []string
		text          map[string]string
	}{
		{
			name: "iphone", ua: uaIPhoneSafari, lang: "ru-RU,ru", width: 390, height: 844,
			want:   []string{"apple-wallet", "ios-hint"},
			absent: []string{"google-wallet", "pkpass", "qr", "inapp-hint"},
			text:   map[string]string{"apple-wallet": "Добавить в Apple Wallet"},
		},
		{
			name: "android", ua: uaAndroidChrome, lang: "ru-RU,ru", width: 412, height: 915,
			want:   []string{"google-wallet", "pkpass", "pkpass-hint"},
			absent: []string{"apple-wallet", "qr", "inapp-hint"},
			text:   map[string]string{"google-wallet": "Сохранить в Google Wallet"},
		},
		{
			name: "instagram-android", ua: uaInstagramAnd, lang: "ru-RU,ru", width: 412, height: 915,
			want:   []string{"inapp-hint", "short-url"},
			absent: []string{"apple-wallet", "google-wallet", "pkpass", "qr"},
		},
		{
			name: "desktop", ua: uaDesktopChrome, lang: "en-US,en", width: 1280, height: 1000,
			want:   []string{"apple-wallet", "google-wallet", "qr"},
			absent: []string{"pkpass", "inapp-hint"},
			text:   map[string]string{"apple-wallet": "Add to Apple Wallet", "google-wallet": "Save to Google Wallet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dom := chromium(t, tt.ua, tt.lang, tt.width, tt.height, pageURL, "--dump-dom")
			doc := parseHTML(t, string(dom))
			for _, id := range tt.want {
				if byID(doc, id) == nil {
					t.Errorf("#%s missing from the rendered DOM", id)
				}
			}
			for _, id := range tt.absent {
				if byID(doc, id) != nil {
					t.Errorf("#%s shown", id)
				}
			}
			for id, want := range tt.text {
				if got := textOf(byID(doc, id)); got != want {
					t.Errorf("#%s = %q, want %q", id, got, want)
				}
			}

			shot := filepath.Join(dir, "landing-"+tt.name+".png")
			chromium(t, tt.ua, tt.lang, tt.width, tt.height, pageURL, "--screenshot="+shot)
			data, err := os.ReadFile(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.width || b.Dy() != tt.height {
				t.Errorf("screenshot is %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.width, tt.height)
			}
			t.Logf("screenshot: %s", shot)
			// The card is painted in the program's colour, so the style
			// sheet got past the Content-Security-Policy.
			if r, g, b, _ := img.At(tt.width/2, 40).RGBA(); !near(r>>8, 0x6b) || !near(g>>8, 0x3e) || !near(b>>8, 0x26) {
				t.Errorf("card colour on screen is #%02x%02x%02x, want #6b3e26", r>>8, g>>8, b>>8)
			}

			if tt.name == "desktop" {
				if got := hits.list(); !slices.Contains(got, "GET /c/"+testToken+"/qr.png 200") {
					t.Errorf("the browser did not load the QR image; requests: %v", got)
				}
				// The QR code on the screen scans to the link: the image
				// loaded, is shown whole and is big enough.
				if got := decodeQR(t, img); got != p.ShortURL {
					t.Errorf("the QR code on screen says %q, want %q", got, p.ShortURL)
				}
			}
		})
	}
}

// near reports whether a colour channel is within rounding of want.
func near(got uint32, want uint32) bool {
	return got+4 >= want && got <= want+4
}
