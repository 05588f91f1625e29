package console

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/loyalpass/loyalpass/internal/store"
)

// screens opens every screen of the console with data on it, as the owner.
func screens(t *testing.T, r *rig) map[string]string {
	ctx := context.Background()
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	ep := store.WebhookEndpoint{MerchantID: r.merchant.ID, URL: "https://crm.example.com/hook", Events: []string{"card.issued"}}
	if err := r.st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	camp := store.Campaign{MerchantID: r.merchant.ID, ProgramID: r.program.ID, Name: "Win-back", LapsedDays: 1,
		Installed: "any", BonusOn: "open", Template: "{name}: {link}", HoldoutBP: 1000, QuietStart: 21, QuietEnd: 9,
		Timezone: "Europe/Moscow", SendRate: 60, FrequencyCapDays: 30, PurchaseWindowDays: 30, Provider: "log"}
	if err := r.st.Campaigns().CreateCampaign(ctx, &camp); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Campaigns().StartCampaign(ctx, r.merchant.ID, camp.ID); err != nil {
		t.Fatal(err)
	}
	auto, job := newScreenFixtures(t, r)
	return map[string]string{
		"automations": "/console/automations",
		"automation":  "/console/automations/" + auto,
		"coupons":     "/console/coupons",
		"coupon":      "/console/coupons/" + job,
		"users":       "/console/users",
		"password":    "/console/password",
		"settings":    "/console/settings",
		"dashboard":   "/console/dashboard",
		"campaigns":   "/console/campaigns",
		"campaign":    "/console/campaigns/" + camp.ID,
		"login":       "/console/login",
		"customers":   "/console/customers?q=Анна",
		"customer":    "/console/customers/" + card.CustomerID,
		"programs":    "/console/programs",
		"program":     "/console/programs/" + r.program.ID,
		"cashier":     "/console/cashier?number=" + card.Number,
		"reports":     "/console/reports",
		"keys":        "/console/keys",
		"webhooks":    "/console/webhooks?deliveries=" + ep.ID,
		"forbidden":   "/console/nothing-here",
	}
}

// TestEveryInputHasALabel and every page speaks each language: a form
// control has a <label for> (or sits in one, or has aria-label), and no
// text key shows through untranslated.
func TestEveryInputHasALabel(t *testing.T) {
	r := newRig(t)
	pages := screens(t, r)
	for _, lang := range []string{"ru", "en"} {
		owner, anon := r.as(Owner), r.client()
		owner.get("/console/lang/" + lang)
		anon.get("/console/lang/" + lang)
		for name, path := range pages {
			c := owner
			if name == "login" {
				c = anon
			}
			p := c.get(path)
			if p.status >= 500 {
				t.Fatalf("%s: %d", path, p.status)
			}
			doc, err := html.Parse(strings.NewReader(p.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := attr(find(doc, "html"), "lang"); got != lang {
				t.Errorf("%s: lang=%q, want %s", name, got, lang)
			}
			if strings.Contains(p.body, "con_") {
				i := strings.Index(p.body, "con_")
				t.Errorf("%s (%s): untranslated key near %q", name, lang, p.body[i:min(i+40, len(p.body))])
			}
			labels := map[string]bool{}
			walk(doc, func(n *html.Node) {
				if n.Data == "label" && attr(n, "for") != "" {
					labels[attr(n, "for")] = true
				}
			})
			walk(doc, func(n *html.Node) {
				switch n.Data {
				case "input", "select", "textarea":
				default:
					return
				}
				if typ := attr(n, "type"); typ == "hidden" || typ == "submit" {
					return
				}
				if !labels[attr(n, "id")] && attr(n, "aria-label") == "" && !inside(n, "label") {
					t.Errorf("%s (%s): <%s name=%q> has no label", name, lang, n.Data, attr(n, "name"))
				}
			})
		}
	}
}

func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func find(n *html.Node, tag string) *html.Node {
	var out *html.Node
	walk(n, func(x *html.Node) {
		if out == nil && x.Data == tag {
			out = x
		}
	})
	return out
}

func inside(n *html.Node, tag string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestPagesAreLockedDown: every page carries the strict policy, admits no
// inline script or style, and is not cached.
func TestPagesAreLockedDown(t *testing.T) {
	r := newRig(t)
	owner := r.as(Owner)
	for name, path := range screens(t, r) {
		c := owner
		if name == "login" {
			c = r.client()
		}
		p := c.get(path)
		if got := p.header.Get("Content-Security-Policy"); got != contentPolicy {
			t.Errorf("%s: CSP %q", name, got)
		}
		if p.header.Get("Cache-Control") != "no-store" || p.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", name, p.header)
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, "<style") {
			t.Errorf("%s: inline script or style", name)
		}
		if strings.Contains(p.body, "http://") && name != "customer" && name != "webhooks" && name != "campaigns" &&
			name != "campaign" && name != "program" && name != "automations" && name != "automation" {
			// Only data (a card link, a webhook URL, the link in a text, the
			// join page's address) may name another address.
			t.Errorf("%s: links to another origin", name)
		}
	}
}

// TestStaticFiles are served by content hash, cached for good, gzipped
// where it pays; a wrong hash is 404.
func TestStaticFiles(t *testing.T) {
	r := newRig(t)
	for _, name := range []string{"console.css", "cashier.js", "jsQR.js"} {
		u := r.con.static.urls[name]
		if u == "" {
			t.Fatalf("%s is not served", name)
		}
		req, _ := http.NewRequest("GET", r.srv.URL+u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			body, _ = gzip.NewReader(resp.Body)
		}
		data, _ := io.ReadAll(body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
			string(data) != string(r.con.static.files[name].data) {
			t.Errorf("%s: %d %v", name, resp.StatusCode, resp.Header)
		}
		if name == "jsQR.js" && resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("the decoder is sent uncompressed")
		}
	}
	if p := r.client().get("/console/static/000000000000/console.css"); p.status != http.StatusNotFound {
		t.Errorf("wrong hash: %d", p.status)
	}
	if p := r.client().get("/console/static/" + r.con.static.files["console.css"].hash + "/LICENSE"); p.status != http.StatusNotFound {
		t.Errorf("LICENSE served: %d", p.status)
	}
}
