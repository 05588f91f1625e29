package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// matrix is who may use each route: every route of the table must be
// here (TestRoleMatrix fails on one that is not), so a new screen states
// its roles twice, once in routes.go and once here.
var matrix = []struct {
	method, path            string
	owner, manager, cashier bool
}{
	{"GET", "/console", true, true, true},
	{"GET", "/console/dashboard", true, true, false},
	{"GET", "/console/customers", true, true, false},
	{"POST", "/console/customers", true, true, false},
	{"GET", "/console/customers/:id", true, true, false},
	{"POST", "/console/customers/:id/adjust", true, true, false},
	{"GET", "/console/programs", true, true, false},
	{"POST", "/console/programs", true, true, false},
	{"GET", "/console/programs/:id", true, true, false},
	{"POST", "/console/programs/:id", true, true, false},
	{"GET", "/console/programs/:id/preview", true, true, false},
	{"GET", "/console/programs/:id/image/:name", true, true, false},
	{"POST", "/console/programs/:id/images", true, true, false},
	{"GET", "/console/programs/:id/poster/:format", true, true, false},
	{"GET", "/console/campaigns", true, true, false},
	{"POST", "/console/campaigns", true, true, false},
	{"GET", "/console/campaigns/preview", true, true, false},
	{"GET", "/console/campaigns/:id", true, true, false},
	{"POST", "/console/campaigns/:id/:action", true, true, false},
	{"GET", "/console/automations", true, true, false},
	{"POST", "/console/automations", true, true, false},
	{"GET", "/console/automations/:id", true, true, false},
	{"POST", "/console/automations/:id/:action", true, true, false},
	{"GET", "/console/coupons", true, true, false},
	{"POST", "/console/coupons", true, true, false},
	{"GET", "/console/coupons/:id", true, true, false},
	{"GET", "/console/cashier", true, true, true},
	{"POST", "/console/cashier", true, true, true},
	{"GET", "/console/reports", true, true, false},
	{"GET", "/console/keys", true, false, false},
	{"POST", "/console/keys", true, false, false},
	{"POST", "/console/keys/:id/revoke", true, false, false},
	{"GET", "/console/webhooks", true, false, false},
	{"POST", "/console/webhooks", true, false, false},
	{"POST", "/console/webhooks/:id/delete", true, false, false},
	{"GET", "/console/users", true, false, false},
	{"POST", "/console/users", true, false, false},
	{"POST", "/console/users/:id/disable", true, false, false},
	{"GET", "/console/settings", true, false, false},
	{"POST", "/console/settings", true, false, false},
	{"GET", "/console/password", true, true, true},
	{"POST", "/console/password", true, true, true},
}

// TestRoleMatrix sends every route as every role (and as nobody): a role
// the route does not name gets 403 and changes nothing; a role it names
// gets past the check; an anonymous visitor is sent to the sign-in.
func TestRoleMatrix(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	card := r.issue(r.merchant.ID, r.program.ID, "+79123456789", "Анна")
	k := apikey.New()
	if err := r.st.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: r.merchant.ID, SecretHash: k.Hash()}); err != nil {
		t.Fatal(err)
	}
	ep := store.WebhookEndpoint{MerchantID: r.merchant.ID, URL: "https://crm.example.com/hook", Events: []string{"card.issued"}}
	if err := r.st.Webhooks().CreateWebhookEndpoint(ctx, &ep); err != nil {
		t.Fatal(err)
	}
	camp := store.Campaign{MerchantID: r.merchant.ID, ProgramID: r.program.ID, Name: "Win-back", LapsedDays: 90, Installed: "any",
		BonusOn: "open", Template: "{link}", HoldoutBP: 1000, QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow",
		SendRate: 60, FrequencyCapDays: 30, PurchaseWindowDays: 30, Provider: "log"}
	if err := r.st.Campaigns().CreateCampaign(ctx, &camp); err != nil {
		t.Fatal(err)
	}
	auto := store.Automation{MerchantID: r.merchant.ID, ProgramID: r.program.ID, Name: "Birthday",
		Trigger: loyalty.Trigger{Type: loyalty.TriggerBirthday, Days: 3}, HoldoutBP: 1000, FrequencyCapDays: 14,
		QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", PurchaseWindowDays: 14, Provider: "log",
		Variants: []store.Variant{{Text: "{name}: {link}", BonusKind: loyalty.BonusPoints, Bonus: 10}}}
	if err := r.st.Automations().CreateAutomation(ctx, &auto); err != nil {
		t.Fatal(err)
	}
	couponProg := loyalty.Program{MerchantID: r.merchant.ID, Kind: loyalty.KindCoupon, Name: "Купон", Offer: "−20%", ValidDays: 30,
		CurrencyLabel: "купон", BarcodeFormat: "qr", Locale: "ru", BackgroundColor: "#000000", ForegroundColor: "#ffffff",
		LabelColor: "#ffffff"}
	if err := r.st.Programs().CreateProgram(ctx, &couponProg); err != nil {
		t.Fatal(err)
	}
	job, err := r.st.CouponIssues().CreateCouponIssue(ctx, r.merchant.ID, couponProg.ID, store.CouponSegment{SourceProgramID: r.program.ID})
	if err != nil {
		t.Fatal(err)
	}
	extra := "extra@coffee.example"
	r.newUser(r.merchant.ID, extra, Cashier)
	extraUser, err := r.st.Users().ByEmail(ctx, extra)
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("/automations/:id/:action", "/automations/"+auto.ID+"/pause", "/automations/:id", "/automations/"+auto.ID,
		"/coupons/:id", "/coupons/"+job.ID, "/users/:id", "/users/"+extraUser.ID,
		"/campaigns/:id/:action", "/campaigns/"+camp.ID+"/pause", "/campaigns/:id", "/campaigns/"+camp.ID,
		"/customers/:id", "/customers/"+card.CustomerID, "/programs/:id/image/:name", "/programs/"+r.program.ID+"/image/logo@2x.png",
		"/programs/:id/poster/:format", "/programs/"+r.program.ID+"/poster/png",
		"/programs/:id", "/programs/"+r.program.ID,
		"/keys/:id", "/keys/"+k.ID, "/webhooks/:id", "/webhooks/"+ep.ID)

	listed := map[string]bool{}
	for _, m := range matrix {
		listed[m.method+" "+m.path] = true
	}
	for _, rt := range r.con.routes {
		if !listed[rt.method+" "+rt.path] {
			t.Errorf("%s %s is not in the role matrix", rt.method, rt.path)
		}
	}

	clients := map[Role]*client{}
	for _, role := range Roles {
		clients[role] = r.as(role)
	}
	anon := r.client()
	for _, m := range matrix {
		path := fill.Replace(m.path)
		allowed := map[Role]bool{Owner: m.owner, Manager: m.manager, Cashier: m.cashier}
		// The denied first, so an allowed action (a revoke, a delete)
		// has not yet changed what the denied ones are refused.
		for _, pass := range []bool{false, true} {
			for _, role := range Roles {
				if allowed[role] != pass {
					continue
				}
				t.Run(string(role)+" "+m.method+" "+m.path, func(t *testing.T) {
					c := clients[role]
					var p page
					if m.method == "GET" {
						p = c.get(path)
					} else {
						c.get("/console/cashier") // every role may open it: a page with the session's token
						p = c.postForm(path, url.Values{})
					}
					if pass && (p.status == http.StatusForbidden || strings.HasPrefix(p.location, "/console/login")) {
						t.Errorf("%s %s as %s: %d %s, want it allowed", m.method, path, role, p.status, p.location)
					}
					if !pass && p.status != http.StatusForbidden {
						t.Errorf("%s %s as %s: %d, want 403", m.method, path, role, p.status)
					}
					if !pass && !strings.Contains(p.body, `id="message-heading"`) {
						t.Errorf("%s %s as %s: the 403 is not the console's page", m.method, path, role)
					}
				})
			}
		}
		if m.method == "GET" {
			if p := anon.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/login?next=") {
				t.Errorf("anonymous GET %s: %d → %q, want the sign-in", path, p.status, p.location)
			}
		} else if p := anon.post(path, url.Values{}); p.status != http.StatusSeeOther || p.location != "/console/login" {
			t.Errorf("anonymous POST %s: %d → %q, want the sign-in", path, p.status, p.location)
		}
	}
	// Nothing a denied role sent changed anything: the key is revoked and
	// the webhook gone only once the owner did it, as the audit log says.
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 100)
	for _, e := range log {
		denied := e.UserEmail == r.emails[Cashier] && e.Action != "user.password" ||
			e.UserEmail == r.emails[Manager] && (strings.HasPrefix(e.Action, "apikey") || strings.HasPrefix(e.Action, "user.") ||
				strings.HasPrefix(e.Action, "settings."))
		if denied {
			t.Errorf("a denied role left an audit entry: %+v", e)
		}
	}
}

// TestNavigationShowsWhatTheRoleMayUse: each role's navigation lists the
// screens it may open and no other, and /console opens the first.
func TestNavigationShowsWhatTheRoleMayUse(t *testing.T) {
	r := newRig(t)
	want := map[Role][]string{
		Owner: {"/console/dashboard", "/console/customers", "/console/programs", "/console/campaigns", "/console/automations",
			"/console/coupons", "/console/cashier", "/console/reports", "/console/keys", "/console/webhooks", "/console/users",
			"/console/settings", "/console/password"},
		Manager: {"/console/dashboard", "/console/customers", "/console/programs", "/console/campaigns", "/console/automations",
			"/console/coupons", "/console/cashier", "/console/reports", "/console/password"},
		Cashier: {"/console/cashier", "/console/password"},
	}
	all := want[Owner]
	for _, role := range Roles {
		c := r.as(role)
		p := c.get("/console/cashier")
		nav := p.body[strings.Index(p.body, "<nav"):strings.Index(p.body, "</nav>")]
		for _, path := range all {
			shown := strings.Contains(nav, `href="`+path+`"`)
			if shown != contains(want[role], path) {
				t.Errorf("%s: link to %s shown = %v", role, path, shown)
			}
		}
		if p := c.get("/console"); p.location != want[role][0] {
			t.Errorf("%s: /console goes to %q, want %q", role, p.location, want[role][0])
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
