package landing

import (
	"bytes"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"
)

// kindPages are a page of each card kind, with what must show on it.
func kindPages() []struct {
	name string
	page Page
	text map[string]string // element id → its text
} {
	until := time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC)
	with := func(edit func(*Page)) Page {
		p := testPage()
		p.BonusPoints = 0
		edit(&p)
		return p
	}
	return []struct {
		name string
		page Page
		text map[string]string
	}{
		{"stamps", with(func(p *Page) {
			p.Kind, p.ProgramName, p.Balance, p.StampsRequired, p.Rewards, p.Reward = "stamps", "Кофейная карта", 4, 6, 1, "Булочка в подарок"
		}), map[string]string{"stamps": "4 из 6", "rewards": "1", "reward": "Награда: Булочка в подарок"}},
		{"discount", with(func(p *Page) {
			p.Kind, p.ProgramName, p.Balance, p.DiscountPercent, p.Tier = "discount", "Скидочная карта", 0, 10, "Золотой"
		}), map[string]string{"discount": "10%", "tier": "Золотой"}},
		{"coupon", with(func(p *Page) {
			p.Kind, p.ProgramName, p.Balance, p.Offer, p.ValidUntil, p.CouponState = "coupon", "Весенний купон", 1, "−20% на всё", until, "active"
		}), map[string]string{"offer": "−20% на всё", "valid-until": "31.12.2026", "coupon-state": "Действует"}},
		{"coupon-redeemed", with(func(p *Page) {
			p.Kind, p.ProgramName, p.Balance, p.Offer, p.ValidUntil, p.CouponState = "coupon", "Весенний купон", 0, "−20% на всё", until, "redeemed"
		}), map[string]string{"coupon-state": "Купон использован"}},
		{"gift", with(func(p *Page) {
			p.Kind, p.ProgramName, p.Balance, p.Currency, p.CurrencyDigits = "gift", "Подарочный сертификат", 300050, "RUB", 2
		}), map[string]string{"balance": "3 000,50 ₽"}}, // textOf folds the no-break spaces
	}
}

// TestCardKinds renders each kind's page: what its kind counts, no points.
func TestCardKinds(t *testing.T) {
	for _, k := range kindPages() {
		t.Run(k.name, func(t *testing.T) {
			h, _ := newTestServer(t, newFakeSource(k.page))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/c/"+testToken, nil)
			req.Header.Set("User-Agent", uaIPhoneSafari)
			req.Header.Set("Accept-Language", "ru")
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("page = %d", rec.Code)
			}
			doc := parseHTML(t, rec.Body.String())
			checkKindPage(t, doc, k.page, k.text)
		})
	}
}

func checkKindPage(t *testing.T, doc *html.Node, p Page, text map[string]string) {
	t.Helper()
	for id, want := range text {
		if got := strings.TrimSpace(textOf(byID(doc, id))); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	if p.Kind == "stamps" {
		grid := byID(doc, "stamp-grid")
		var cells, on int
		for c := grid.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "li" {
				cells++
				if strings.Contains(attr(c, "class"), "on") {
					on++
				}
			}
		}
		if cells != p.StampsRequired || int64(on) != p.Balance {
			t.Errorf("stamp grid has %d cells, %d filled; want %d, %d", cells, on, p.StampsRequired, p.Balance)
		}
	}
	if p.Kind != "points" && p.Kind != "gift" && byID(doc, "balance") != nil {
		t.Errorf("a %s card shows a points balance", p.Kind)
	}
}

// TestBrowserCardKinds shows each kind's card in Chromium, at phone width,
// and keeps a screenshot of each under $LOYALPASS_ARTIFACTS.
func TestBrowserCardKinds(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: no %s (apt-get install -y chromium fonts-dejavu-core)", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	gin.SetMode(gin.TestMode)
	dir := artifactsDir(t)
	for _, k := range kindPages() {
		t.Run(k.name, func(t *testing.T) {
			r := gin.New()
			New(newFakeSource(k.page), nil).Register(r)
			srv := httptest.NewServer(r)
			defer srv.Close()
			url := srv.URL + "/c/" + testToken
			const width, height = 390, 844
			doc := parseHTML(t, string(chromium(t, uaIPhoneSafari, "ru-RU,ru", width, height, url, "--dump-dom")))
			checkKindPage(t, doc, k.page, k.text)
			shot := filepath.Join(dir, "landing-kind-"+k.name+".png")
			chromium(t, uaIPhoneSafari, "ru-RU,ru", width, height, url, "--screenshot="+shot)
			data, err := os.ReadFile(shot)
			if err != nil {
				t.Fatalf("no screenshot: %v", err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			// The card is painted in the program's colour: the style got
			// past the Content-Security-Policy.
			if r, g, b, _ := img.At(width/2, 40).RGBA(); !near(r>>8, 0x6b) || !near(g>>8, 0x3e) || !near(b>>8, 0x26) {
				t.Errorf("card colour on screen is #%02x%02x%02x, want #6b3e26", r>>8, g>>8, b>>8)
			}
			t.Logf("screenshot: %s", shot)
		})
	}
}
