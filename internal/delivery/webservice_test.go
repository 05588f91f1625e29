package delivery_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/relay"
)

// phone is a wallet app on a device, speaking the web service protocol.
type phone struct {
	w        *world
	device   string
	scheme   string
	token    string // push token
	regPath  string // "registrations" or "registrations_attido"
	extra    string // extra JSON fields of the registration body
	lastTag  string
	modified string
}

func (p *phone) auth(authToken string) map[string]string {
	return map[string]string{"Authorization": p.scheme + " " + authToken, "Content-Type": "application/json"}
}

func (p *phone) register(serial, authToken string) int {
	body := `{"pushToken":"` + p.token + `"` + p.extra + `}`
	return p.w.do("POST", "/wallet/v1/devices/"+p.device+"/"+p.regPath+"/"+p.w.typeID+"/"+serial, p.auth(authToken), body).Code
}

// changed asks "what changed since my tag?".
func (p *phone) changed() (int, []string) {
	path := "/wallet/v1/devices/" + p.device + "/registrations/" + p.w.typeID
	if p.lastTag != "" {
		path += "?passesUpdatedSince=" + p.lastTag
	}
	rec := p.w.do("GET", path, nil, "")
	if rec.Code != http.StatusOK {
		return rec.Code, nil
	}
	var out struct {
		SerialNumbers []string `json:"serialNumbers"`
		LastUpdated   string   `json:"lastUpdated"`
	}
	json.Unmarshal(rec.Body.Bytes(), &out)
	if out.LastUpdated == "" || out.LastUpdated == p.lastTag {
		p.w.t.Errorf("lastUpdated %q did not advance from %q", out.LastUpdated, p.lastTag)
	}
	p.lastTag = out.LastUpdated
	return rec.Code, out.SerialNumbers
}

func (p *phone) fetch(serial, authToken string) (int, []byte) {
	h := p.auth(authToken)
	if p.modified != "" {
		h["If-Modified-Since"] = p.modified
	}
	rec := p.w.do("GET", "/wallet/v1/passes/"+p.w.typeID+"/"+serial, h, "")
	if rec.Code == http.StatusOK {
		p.modified = rec.Header().Get("Last-Modified")
	}
	return rec.Code, rec.Body.Bytes()
}

// TestUpdateFlowThroughEveryChannel plays the phone for Apple Wallet,
// WalletPasses and PassWallet: register, earn, receive the push, ask what
// changed, download the new pass, and get 304 when nothing changed.
func TestUpdateFlowThroughEveryChannel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scheme  string
		regPath string
		vendor  relay.Vendor
	}{
		{"apple", "ApplePass", "registrations", relay.Apple},
		{"walletpasses", "AndroidPass", "registrations", relay.WalletPasses},
		{"passwallet", "AttidoPass", "registrations_attido", relay.PassWallet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 5*time.Second)
			serial, authToken := w.issue("+79123456789")
			p := &phone{w: w, device: "device-" + tc.name, scheme: tc.scheme, regPath: tc.regPath,
				token: strings.Repeat("ab", 32)}
			if tc.vendor == relay.PassWallet {
				p.extra = `,"pushServiceUrl":"` + w.relays.PassWalletURL() + `"`
			}

			if code := p.register(serial, "wrong-token-wrong-token-wrong-token"); code != http.StatusUnauthorized {
				t.Fatalf("register with a wrong token = %d", code)
			}
			if code := p.register(serial, authToken); code != http.StatusCreated {
				t.Fatalf("register = %d", code)
			}
			if code := p.register(serial, authToken); code != http.StatusOK {
				t.Fatalf("second register = %d", code)
			}
			code, serials := p.changed() // no tag: everything registered
			if code != 200 || len(serials) != 1 || serials[0] != serial {
				t.Fatalf("first list = %d %v", code, serials)
			}
			if code, _ := p.fetch(serial, authToken); code != 200 {
				t.Fatalf("first fetch = %d", code)
			}
			if code, _ := p.changed(); code != http.StatusNoContent {
				t.Fatalf("list with a current tag = %d, want 204", code)
			}

			w.earn(serial, "e1", "150000") // 10 % of 1,500.00 = 150 points
			w.drain()

			switch tc.vendor {
			case relay.Apple:
				reqs := w.apns.Requests()
				if len(reqs) != 1 || reqs[0].Token != p.token || reqs[0].Topic != w.typeID || string(reqs[0].Body) != "{}" {
					t.Fatalf("APNs got %+v", reqs)
				}
				if reqs[0].ClientCert == nil || reqs[0].ClientCert.Subject.CommonName != "Pass Type ID: "+w.typeID {
					t.Fatal("APNs push was not authenticated with the Pass Type ID certificate")
				}
			default:
				if got := w.relays.Tokens(tc.vendor); len(got) != 1 || got[0] != p.token {
					t.Fatalf("%s relay got tokens %v", tc.vendor, got)
				}
				if len(w.apns.Requests()) != 0 {
					t.Fatal("an Android app's token went to APNs")
				}
			}

			code, serials = p.changed()
			if code != 200 || len(serials) != 1 || serials[0] != serial {
				t.Fatalf("list after the earn = %d %v", code, serials)
			}
			code, pkpass := p.fetch(serial, authToken)
			if code != 200 {
				t.Fatalf("fetch after the earn = %d", code)
			}
			if bal := passJSON(t, pkpass)["storeCard"].(map[string]any)["primaryFields"].([]any)[0].(map[string]any)["value"]; bal != 150.0 {
				t.Fatalf("balance on the new pass = %v", bal)
			}
			verifyWithOpenSSL(t, pkpass, w.files.Root)
			if code, _ := p.fetch(serial, authToken); code != http.StatusNotModified {
				t.Fatalf("fetch of an unchanged pass = %d, want 304", code)
			}
			if code, _ := p.changed(); code != http.StatusNoContent {
				t.Fatalf("list after catching up = %d, want 204", code)
			}
			// No second push for the same change.
			w.drain()
			if n := len(w.apns.Requests()) + len(w.relays.Tokens(tc.vendor)); n != 1 {
				t.Fatalf("%d pushes for one change", n)
			}

			// Unregister counts as an uninstall; the list then has nothing.
			rec := w.do("DELETE", "/wallet/v1/devices/"+p.device+"/"+p.regPath+"/"+w.typeID+"/"+serial, p.auth(authToken), "")
			if rec.Code != 200 {
				t.Fatalf("unregister = %d", rec.Code)
			}
			card := w.merchant("GET", "/api/v1/cards/"+serial, "", "")
			installs := card["installs"].([]any)
			if len(installs) != 1 || installs[0].(map[string]any)["channel"] != string(tc.vendor) ||
				installs[0].(map[string]any)["uninstalled"] != 1.0 || card["first_installed_at"] == nil {
				t.Fatalf("installs after unregister = %v (first %v)", installs, card["first_installed_at"])
			}
		})
	}
}

func TestWebServiceEdges(t *testing.T) {
	w := newWorld(t, 5*time.Second)
	serial, authToken := w.issue("+79123456789")
	p := &phone{w: w, device: "dev1", scheme: "ApplePass", regPath: "registrations", token: "aa"}
	if code := p.register(serial, authToken); code != 201 {
		t.Fatal(code)
	}
	// HEAD serves the headers.
	rec := w.do("HEAD", "/wallet/v1/passes/"+w.typeID+"/"+serial, p.auth(authToken), "")
	if rec.Code != 200 || rec.Header().Get("Last-Modified") == "" || rec.Body.Len() != 0 {
		t.Fatalf("HEAD = %d %q %d bytes", rec.Code, rec.Header().Get("Last-Modified"), rec.Body.Len())
	}
	// Another card's token does not open this card.
	other, otherToken := w.issue("+79123456780")
	if code, _ := p.fetch(serial, otherToken); code != 401 {
		t.Fatalf("fetch with another card's token = %d", code)
	}
	if code, _ := p.fetch("nope", authToken); code != 401 {
		t.Fatalf("fetch of an unknown serial = %d", code)
	}
	if code := (&phone{w: w, device: "dev1", scheme: "Bearer", regPath: "registrations", token: "aa"}).register(other, otherToken); code != 401 {
		t.Fatalf("register with an unknown scheme = %d", code)
	}
	// Unknown devices and wrong pass types get 204.
	if rec := w.do("GET", "/wallet/v1/devices/nobody/registrations/"+w.typeID, nil, ""); rec.Code != 204 {
		t.Fatalf("unknown device = %d", rec.Code)
	}
	// The log endpoint stores what devices say.
	rec = w.do("POST", "/wallet/v1/log", map[string]string{"Content-Type": "application/json"}, `{"logs":["Signature validation: FAILED"]}`)
	if rec.Code != 200 {
		t.Fatalf("log = %d", rec.Code)
	}
	// Two changes within one second still move Last-Modified forward, so
	// If-Modified-Since never hides the second one.
	if code, _ := p.fetch(serial, authToken); code != 200 {
		t.Fatal(code)
	}
	first := p.modified
	w.earn(serial, "a", "10000")
	if code, _ := p.fetch(serial, authToken); code != 200 {
		t.Fatalf("fetch after the first change = %d", code)
	}
	w.earn(serial, "b", "10000")
	if code, _ := p.fetch(serial, authToken); code != 200 || p.modified == first {
		t.Fatalf("fetch after a second change in the same second = %d (Last-Modified %s)", code, p.modified)
	}
}
