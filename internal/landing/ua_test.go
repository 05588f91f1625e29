package landing

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Real User-Agent strings. Sources: the browsers themselves; the test
// suites of shalanah/inapp-spy (Instagram, Facebook, WhatsApp, WebView,
// Telegram iOS) and the UAs quoted in intoli/user-agents#78 (Telegram
// Android), Telegram-iOS#736 (Telegram's in-app browser on iOS sends
// Safari's UA unchanged) and bowser-js/bowser#140 (a bare WKWebView).
// The VK strings are the ones other projects' tests use for VK's webview;
// no first-hand capture was at hand.
const (
	uaIPhoneSafari  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	uaIPhoneChrome  = "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2_1 like Mac OS X) AppleWebKit/602.1.50 (KHTML, like Gecko) CriOS/58.0.3029.113 Mobile/14D27 Safari/602.1"
	uaIPhoneYandex  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 YaBrowser/24.7.7.799.10 SA/3 Mobile/15E148 Safari/604.1"
	uaIPad          = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1"
	uaIPadDesktop   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	uaAndroidChrome = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Mobile Safari/537.36"
	uaSamsung       = "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
	uaDesktopChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	uaDesktopFF     = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"
	uaTelegramIOS   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/22B5045g Safari/604.1"
	uaTelegramAnd   = "Mozilla/5.0 (Linux; Android 11; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.70 Mobile Safari/537.36 Telegram-Android/11.2.1 (Tecno mobile limited TECNO CH7n; Android 11; SDK 30; AVERAGE)"
	uaInstagramIOS  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22F76 Instagram 393.1.0.36.70 (iPhone15,3; iOS 18_5; en_US; en; scale=3.00; 1290x2796; IABMV/1; 776538208) Safari/604.1"
	uaInstagramAnd  = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.58 Mobile Safari/537.36 Instagram 355.1.0.44.103 Android (34/14; 420dpi; 1080x2205; Google/google; Pixel 8; shiba; shiba; en_US; 658190016)"
	uaWhatsAppIOS   = "Mozilla/5.0 (iPhone; CPU iPhone OS 26_0_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0.1 Mobile/15E148 Safari/604.1 [WAiOS/2.25.31]"
	uaWhatsAppAnd   = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.7390.124 Mobile Safari/537.36 [WA4A/2.25.32.75;]"
	uaVKAndroid     = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.0.0 Mobile Safari/537.36 VKAndroidApp/7.44"
	uaFacebookIOS   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 [FBAN/FBIOS;FBAV/488.0.0.68.101;FBBV/658219612;FBDV/iPhone12,8;FBMD/iPhone;FBSN/iOS;FBSV/18.1;FBSS/2;FBID/phone;FBLC/en_US;FBOP/5;FBRV/0;IABMV/1]"
	uaFacebookAnd   = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.83 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/488.0.0.62.79;IABMV/1;]"
	uaWKWebView     = "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/16B92"
	uaAndroidWV     = "Mozilla/5.0 (Linux; Android 9; Pixel 2 Build/PQ1A.181205.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/71.0.3578.83 Mobile Safari/537.36"
	// WhatsApp's link-preview fetcher: no phone, so no hint either.
	uaWhatsAppPreview = "WhatsApp/2.23.20.0 A"
)

// controls are the ids of the elements that depend on the browser.
var controls = []string{
	"apple-wallet", "google-wallet", "pkpass", "qr",
	"ios-hint", "android-hint", "pkpass-hint",
	"inapp-hint", "short-url", "apple-anyway", "google-anyway", "pkpass-anyway",
}

func TestButtonsByUserAgent(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want []string
		app  string // the app the in-app hint names
	}{
		{"iPhone Safari", uaIPhoneSafari, []string{"apple-wallet", "ios-hint"}, ""},
		{"iPhone Chrome", uaIPhoneChrome, []string{"apple-wallet", "ios-hint"}, ""},
		{"iPhone Yandex Browser", uaIPhoneYandex, []string{"apple-wallet", "ios-hint"}, ""},
		{"iPad", uaIPad, []string{"apple-wallet", "ios-hint"}, ""},
		// iPadOS 13+ Safari claims to be a Mac: it gets the desktop page,
		// whose Apple Wallet button works there too.
		{"iPad desktop-class", uaIPadDesktop, []string{"apple-wallet", "google-wallet", "qr"}, ""},
		{"Android Chrome", uaAndroidChrome, []string{"google-wallet", "pkpass", "android-hint", "pkpass-hint"}, ""},
		{"Samsung Internet", uaSamsung, []string{"google-wallet", "pkpass", "android-hint", "pkpass-hint"}, ""},
		{"desktop Chrome", uaDesktopChrome, []string{"apple-wallet", "google-wallet", "qr"}, ""},
		{"desktop Firefox", uaDesktopFF, []string{"apple-wallet", "google-wallet", "qr"}, ""},
		{"no User-Agent", "", []string{"apple-wallet", "google-wallet", "qr"}, ""},
		// Undetectable by its UA: the soft hint under the button covers it.
		{"Telegram iOS", uaTelegramIOS, []string{"apple-wallet", "ios-hint"}, ""},
		{"Telegram Android", uaTelegramAnd, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, "Telegram"},
		{"Instagram iOS", uaInstagramIOS, []string{"inapp-hint", "short-url", "apple-anyway"}, "Instagram"},
		{"Instagram Android", uaInstagramAnd, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, "Instagram"},
		{"WhatsApp iOS", uaWhatsAppIOS, []string{"inapp-hint", "short-url", "apple-anyway"}, "WhatsApp"},
		{"WhatsApp Android", uaWhatsAppAnd, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, "WhatsApp"},
		{"VK Android", uaVKAndroid, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, "VK"},
		{"Facebook iOS", uaFacebookIOS, []string{"inapp-hint", "short-url", "apple-anyway"}, "Facebook"},
		{"Facebook Android", uaFacebookAnd, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, "Facebook"},
		{"iOS WKWebView", uaWKWebView, []string{"inapp-hint", "short-url", "apple-anyway"}, ""},
		{"Android WebView", uaAndroidWV, []string{"inapp-hint", "short-url", "google-anyway", "pkpass-anyway"}, ""},
		{"WhatsApp link preview", uaWhatsAppPreview, []string{"apple-wallet", "google-wallet", "qr"}, ""},
	}
	p := testPage()
	h, _ := newTestServer(t, newFakeSource(p))
	for _, tt := range tests {
		for _, lang := range []string{"ru", "en"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				rec := do(t, h, request{path: "/c/" + testToken, ua: tt.ua, lang: lang})
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, body %s", rec.Code, rec.Body)
				}
				doc := parseHTML(t, rec.Body.String())
				var got []string
				for _, id := range controls {
					if byID(doc, id) != nil {
						got = append(got, id)
					}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("controls = %v, want %v", got, tt.want)
				}
				for id, href := range map[string]string{
					"apple-wallet": p.PassURL, "pkpass": p.PassURL, "apple-anyway": p.PassURL, "pkpass-anyway": p.PassURL,
					"google-wallet": p.GoogleSaveURL, "google-anyway": p.GoogleSaveURL,
				} {
					if n := byID(doc, id); n != nil && attr(n, "href") != href {
						t.Errorf("%s href = %q, want %q", id, attr(n, "href"), href)
					}
				}
				if n := byID(doc, "short-url"); n != nil && attr(n, "value") != p.ShortURL {
					t.Errorf("link to copy = %q, want %q", attr(n, "value"), p.ShortURL)
				}
				if n := byID(doc, "qr"); n != nil && attr(n, "src") != "/c/"+testToken+"/qr.png" {
					t.Errorf("qr src = %q", attr(n, "src"))
				}
				if hint := textOf(byID(doc, "inapp-hint")); tt.app != "" && !strings.Contains(hint, tt.app) {
					t.Errorf("in-app hint %q does not name %s", hint, tt.app)
				}
			})
		}
	}
}

func TestInAppHintText(t *testing.T) {
	h, _ := newTestServer(t, newFakeSource(testPage()))
	rec := do(t, h, request{path: "/c/" + testToken, ua: uaInstagramIOS, lang: "ru"})
	hint := textOf(byID(parseHTML(t, rec.Body.String()), "inapp-hint"))
	for _, want := range []string{"Откройте страницу в браузере телефона", "Открыть в Safari"} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q lacks %q", hint, want)
		}
	}
	rec = do(t, h, request{path: "/c/" + testToken, ua: uaVKAndroid, lang: "en"})
	hint = textOf(byID(parseHTML(t, rec.Body.String()), "inapp-hint"))
	for _, want := range []string{"Open this page in your phone's browser", "Open in browser"} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q lacks %q", hint, want)
		}
	}
}

func TestAndroidWithoutGoogleWallet(t *testing.T) {
	p := testPage()
	p.GoogleSaveURL = ""
	h, _ := newTestServer(t, newFakeSource(p))
	for _, ua := range []string{uaAndroidChrome, uaSamsung} {
		doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, ua: ua}).Body.String())
		if byID(doc, "google-wallet") != nil {
			t.Error("Google Wallet button shown without a save URL")
		}
		pk := byID(doc, "pkpass")
		if !strings.Contains(attr(pk, "class"), "wallet") {
			t.Errorf("the .pkpass download is not the main button: class %q", attr(pk, "class"))
		}
		if hint := textOf(byID(doc, "pkpass-hint")); !strings.Contains(hint, "WalletPasses") || !strings.Contains(hint, "PassWallet") {
			t.Errorf("pkpass hint %q does not name the Android apps", hint)
		}
	}
	// The desktop page just leaves the Google button out.
	doc := parseHTML(t, do(t, h, request{path: "/c/" + testToken, ua: uaDesktopChrome}).Body.String())
	if byID(doc, "google-wallet") != nil || byID(doc, "apple-wallet") == nil {
		t.Error("desktop without Google Wallet: want the Apple button only")
	}
}

func TestDetectClient(t *testing.T) {
	tests := []struct {
		ua     string
		device device
		inApp  bool
	}{
		{uaIPhoneSafari, deviceIOS, false},
		{uaIPadDesktop, deviceDesktop, false},
		{uaSamsung, deviceAndroid, false},
		{uaTelegramAnd, deviceAndroid, true},
		{uaFacebookIOS, deviceIOS, true},
		{uaDesktopFF, deviceDesktop, false},
	}
	for _, tt := range tests {
		c := detectClient(tt.ua)
		if c.device != tt.device || c.inApp != tt.inApp {
			t.Errorf("detectClient(%.50q…) = %+v, want device %d inApp %v", tt.ua, c, tt.device, tt.inApp)
		}
	}
}
