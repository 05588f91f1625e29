package landing

import "strings"

// device is the kind of device a request comes from, as far as the
// User-Agent tells.
type device int

const (
	// deviceDesktop is anything not recognised as a phone or tablet,
	// including iPadOS 13+ Safari, which sends a Mac User-Agent.
	deviceDesktop device = iota
	deviceIOS
	deviceAndroid
)

// client is what the landing page needs to know about the browser.
type client struct {
	device device
	// inApp is true inside an app's built-in browser (a webview), which
	// cannot hand a .pkpass to Wallet or open Google Wallet.
	inApp bool
	// app names the app when its marker is known ("Instagram"), else "".
	app string
}

// inAppMarkers are the tokens apps add to their webview's User-Agent,
// matched case-sensitively. Telegram's in-app browser on iOS, and on
// Android in many versions, adds nothing and looks like Safari or Chrome;
// such visitors get the softer hint every phone page carries.
var inAppMarkers = []struct{ marker, app string }{
	{"Instagram", "Instagram"},
	{"FBAN/", "Facebook"},
	{"FBAV/", "Facebook"},
	{"FB_IAB/", "Facebook"},
	{"MetaIAB", "Facebook"},
	{"[WAiOS/", "WhatsApp"},
	{"WA4A/", "WhatsApp"},
	{"WhatsApp/", "WhatsApp"},
	{"Telegram-Android/", "Telegram"},
	{"VKAndroidApp/", "VK"},
	{"com.vk.vkclient", "VK"},
	{"VKClient/", "VK"},
}

// detectClient reads the User-Agent header.
func detectClient(ua string) client {
	var c client
	switch {
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		c.device = deviceIOS
	case strings.Contains(ua, "Android"):
		c.device = deviceAndroid
	}
	for _, m := range inAppMarkers {
		if strings.Contains(ua, m.marker) {
			c.inApp, c.app = true, m.app
			return c
		}
	}
	switch c.device {
	case deviceIOS:
		// Safari, Chrome (CriOS), Firefox (FxiOS), Edge and Yandex Browser on
		// iOS all say "Safari/"; a bare WKWebView does not.
		c.inApp = !strings.Contains(ua, "Safari/")
	case deviceAndroid:
		// Android System WebView marks itself with "; wv)"; Chrome Custom
		// Tabs do not, and they can save to Google Wallet.
		c.inApp = strings.Contains(ua, "; wv)")
	}
	return c
}
