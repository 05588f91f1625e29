package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// newKindProgram makes a program of kind through the console's create
// form and returns its settings page path.
func newKindProgram(t *testing.T, c *client, name, kind string) string {
	t.Helper()
	c.get("/console/programs")
	p := c.postForm("/console/programs", url.Values{"name": {name}, "kind": {kind}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/programs/prg_") {
		t.Fatalf("create a %s program: %d %s\n%s", kind, p.status, p.location, p.body)
	}
	return p.location
}

// TestEveryKindIsDesigned: a program of each kind is made from the
// console, its page shows its kind's settings and a preview of both cards
// as its passes carry them, and its settings are saved.
func TestEveryKindIsDesigned(t *testing.T) {
	r := newRig(t)
	c := r.as(Owner)
	ctx := context.Background()
	for _, tc := range []struct {
		kind      string
		fields    []string          // inputs the page has
		absent    []string          // inputs it has not
		preview   []string          // what the cards show
		save      map[string]string // settings changed
		check     func(p loyalty.Program) bool
		wantSaved string
	}{
		{kind: "stamps", fields: []string{`name="stamps_required"`, `name="reward"`, `name="stamp_min_purchase"`},
			absent:  []string{`name="earn_rate"`, `name="tier_code"`, `name="discount_percent"`},
			preview: []string{`data:image/png;base64,`, ">Кофе в подарок<", ">4/6<"}, // 6 stamps, the sample card has 4
			save:    map[string]string{"stamps_required": "8", "reward": "Пирожное", "stamp_min_purchase": "300"},
			check: func(p loyalty.Program) bool {
				return p.StampsRequired == 8 && p.Reward == "Пирожное" && p.StampMinPurchase == 30000
			}},
		{kind: "discount", fields: []string{`name="discount_percent"`, `name="tier_code"`},
			absent: []string{`name="earn_rate"`, `name="stamps_required"`},
			save:   map[string]string{"discount_percent": "7"},
			check:  func(p loyalty.Program) bool { return p.DiscountPercent == 7 }},
		{kind: "coupon", fields: []string{`name="offer"`, `name="valid_days"`, `name="valid_until"`},
			absent:  []string{`name="earn_rate"`, `name="tier_code"`},
			preview: []string{">Скидка 10% на следующую покупку<", ">Действует до<"},
			save:    map[string]string{"offer": "Капучино за 1 ₽", "valid_days": "0", "valid_until": "2099-12-31"},
			check: func(p loyalty.Program) bool {
				return p.Offer == "Капучино за 1 ₽" && p.ValidDays == 0 && p.ValidUntil != nil &&
					p.ValidUntil.UTC().Format("2006-01-02 15:04") == "2099-12-31 23:59"
			}},
		{kind: "gift", fields: []string{`name="currency"`}, absent: []string{`name="earn_rate"`, `name="tier_code"`},
			preview: []string{"1\u00a0500,00\u00a0₽", ">Остаток<"},
			save:    map[string]string{"currency": "usd"},
			check:   func(p loyalty.Program) bool { return p.Currency == "USD" }},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			path := newKindProgram(t, c, "Программа "+tc.kind, tc.kind)
			page := c.get(path)
			if page.status != http.StatusOK || strings.Contains(page.body, `id="design-error"`) {
				t.Fatalf("%s page: %d", tc.kind, page.status)
			}
			for _, want := range append(append(tc.fields, tc.preview...), `id="apple-card"`, `id="google-card"`) {
				if !strings.Contains(page.body, want) {
					t.Errorf("%s page lacks %s", tc.kind, want)
				}
			}
			for _, not := range tc.absent {
				if strings.Contains(page.body, not) {
					t.Errorf("%s page has %s", tc.kind, not)
				}
			}
			// Save what the page's form holds, with the kind's changes.
			form := formFields(page.body)
			for k, v := range tc.save {
				form.Set(k, v)
			}
			if p := c.postForm(path, form); p.status != http.StatusSeeOther {
				t.Fatalf("save %s: %d\n%s\n%s", tc.kind, p.status, errorsOf(p.body), form.Encode())
			}
			got, err := r.st.Programs().Program(ctx, r.merchant.ID, strings.TrimPrefix(path, "/console/programs/"))
			if err != nil || got.KindOf() != tc.kind || !tc.check(got) {
				t.Errorf("%s saved as %+v (%v)", tc.kind, got, err)
			}
		})
	}
}

// formFields reads the inputs, selects and text areas of the settings
// form of page as a browser would send them.
func formFields(page string) url.Values {
	start := strings.Index(page, `id="program-form"`)
	end := strings.Index(page[start:], "</form>") + start
	form := page[start:end]
	out := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(form, -1) {
		tag := m[0]
		name, value := attrOf(tag, "name"), attrOf(tag, "value")
		if strings.Contains(tag, `type="checkbox"`) && !strings.Contains(tag, " checked") {
			continue
		}
		out.Add(name, htmlUnescape(value))
	}
	for _, m := range selectRE.FindAllStringSubmatch(form, -1) {
		if sel := selectedRE.FindStringSubmatch(m[2]); sel != nil {
			out.Set(m[1], sel[1])
		}
	}
	for _, m := range textareaRE.FindAllStringSubmatch(form, -1) {
		out.Set(m[1], htmlUnescape(m[2]))
	}
	out.Del("")
	return out
}

func errorsOf(page string) string {
	var out []string
	for _, m := range fieldErrorRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, "; ")
}

var (
	inputRE      = regexp.MustCompile(`<input [^>]*>`)
	selectRE     = regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]+)">(.*?)</select>`)
	selectedRE   = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	textareaRE   = regexp.MustCompile(`(?s)<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>`)
	fieldErrorRE = regexp.MustCompile(`class="(?:field-)?error"[^>]*>([^<]*)<`)
)

func attrOf(tag, name string) string {
	m := regexp.MustCompile(` ` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

// TestDashboardCountsInTheKindsUnit: a gift card's ledger is money, a
// stamp card's stamps, a coupon's coupons; points keep their own name.
func TestDashboardCountsInTheKindsUnit(t *testing.T) {
	ru := locale.Shipped().Lang("ru")
	for _, tc := range []struct {
		p            apiProgram
		unit, amount string
	}{
		{apiProgram{Kind: "gift", Currency: "RUB"}, "RUB", "1\u00a0500,00\u00a0₽"},
		{apiProgram{Kind: "stamps", CurrencyLabel: "баллы"}, "штампы", "150\u00a0000"},
		{apiProgram{Kind: "coupon"}, "купоны", "150\u00a0000"},
		{apiProgram{CurrencyLabel: "бонусы"}, "бонусы", "150\u00a0000"},
	} {
		d := dashDraw{l: ru, p: tc.p}
		if d.unit() != tc.unit || d.amount(150000) != tc.amount {
			t.Errorf("%s: %q %q", tc.p.Kind, d.unit(), d.amount(150000))
		}
	}
}
