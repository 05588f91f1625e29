package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// kindCard makes a program of kind for the rig's merchant (the settings
// its kind needs) and issues a card of it; a gift card starts with
// 3,000.00.
func (r *rig) kindCard(kind, phone string) (loyalty.Program, loyalty.Card) {
	r.t.Helper()
	ctx := context.Background()
	p := loyalty.Program{MerchantID: r.merchant.ID, Name: "Карта " + kind, Kind: kind, BarcodeFormat: "qr", Locale: "ru",
		BackgroundColor: "#3b2416", ForegroundColor: "#ffffff", LabelColor: "#f5d7b5"}
	switch kind {
	case loyalty.KindPoints:
		p.EarnRateBP = 500
	case loyalty.KindStamps:
		p.StampsRequired, p.Reward = 3, "Булочка"
	case loyalty.KindDiscount:
		p.DiscountPercent = 5
	case loyalty.KindCoupon:
		p.Offer, p.ValidDays = "−20% на всё", 30
	case loyalty.KindGift:
		p.Currency = "RUB"
	}
	if err := r.st.Programs().CreateProgram(ctx, &p); err != nil {
		r.t.Fatal(err)
	}
	in := store.IssueCard{MerchantID: r.merchant.ID, ProgramID: p.ID, Phone: phone, Name: "Анна"}
	if kind == loyalty.KindGift {
		in.InitialAmount = 300000
	}
	c, _, err := r.st.Cards().IssueCard(ctx, in)
	if err != nil {
		r.t.Fatal(err)
	}
	return p, c
}

// cashierForm is the posted form of action as the page shows it, with
// value in its first field.
func cashierFormOf(t *testing.T, page, action, value string) url.Values {
	t.Helper()
	marker := `id="` + action + `-form"`
	if !strings.Contains(page, marker) {
		t.Fatalf("the page has no %s form", action)
	}
	f := url.Values{"csrf": {csrfOf(page)}, "action": {action}, "serial": {fieldOf(page, marker, "serial")},
		"number": {fieldOf(page, marker, "number")}, "key": {fieldOf(page, marker, "key")}}
	if value != "" {
		f.Set("value", value)
	}
	return f
}

// auditCount counts the merchant's entries of action.
func (r *rig) auditCount(action string) int {
	r.t.Helper()
	log, err := r.st.Audit().List(context.Background(), r.merchant.ID, 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestCashierEveryKind: for each card kind the cashier page shows what
// the card holds and offers its actions; each action sent twice at once
// with one form makes one ledger line and one audit entry, through the
// API's ledger (balance = ledger sum); the kind's refusals read clearly.
func TestCashierEveryKind(t *testing.T) {
	r := newRig(t)
	c := r.as(Cashier)
	cases := []struct {
		kind, action, value string
		shows               []string // on the page before, after the action
		after               []string
		points              int64 // the line's change
	}{
		{loyalty.KindPoints, loyalty.Earn, "1 000", []string{"id=\"balance\">0\u00a0баллов"}, []string{"id=\"balance\">50\u00a0баллов"}, 50},
		{loyalty.KindStamps, loyalty.Stamp, "2", []string{`id="balance">0 из 3`, `id="rewards">0 · Булочка`},
			[]string{`id="balance">2 из 3`}, 2},
		{loyalty.KindDiscount, loyalty.Purchase, "500", []string{`id="balance">5`}, []string{`Покупка 500`}, 0},
		{loyalty.KindCoupon, loyalty.RedeemCoupon, "", []string{"−20% на всё", `id="coupon-state">действует`},
			[]string{`id="coupon-state">погашен`, `id="redeemed-at"`}, -1},
		{loyalty.KindGift, loyalty.Spend, "1 250,50", []string{`id="balance">3`}, []string{`id="balance">1`}, -125050},
	}
	for i, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			_, card := r.kindCard(tc.kind, "+7912345670"+string(rune('0'+i)))
			before := len(r.ledger(r.merchant.ID, card.SerialNumber))
			shown := c.get("/console/cashier?number=" + card.Number)
			for _, want := range tc.shows {
				if !strings.Contains(html.UnescapeString(shown.body), want) {
					t.Errorf("the page does not show %q", want)
				}
			}
			form := cashierFormOf(t, shown.body, tc.action, tc.value)
			var wg sync.WaitGroup
			answers := make([]page, 2)
			for i := range answers {
				wg.Go(func() { answers[i] = c.post("/console/cashier", form) })
			}
			wg.Wait()
			for _, p := range answers {
				if p.status != http.StatusSeeOther {
					t.Fatalf("%s: %d\n%s", tc.action, p.status, errorsOf(p.body))
				}
			}
			lines := r.ledger(r.merchant.ID, card.SerialNumber)
			if len(lines) != before+1 || lines[0].Kind != tc.action || lines[0].Points != tc.points {
				t.Fatalf("ledger = %+v, want one %s line of %d", lines, tc.action, tc.points)
			}
			r.balanceIsLedger(r.merchant.ID, card.SerialNumber)
			if n := r.auditCount("ledger." + tc.action); n != 1 {
				t.Errorf("%d audit entries of %s, want 1", n, tc.action)
			}
			done := c.get(answers[0].location)
			for _, want := range append(tc.after, `id="last"`) {
				if !strings.Contains(html.UnescapeString(done.body), want) {
					t.Errorf("after %s the page does not show %q", tc.action, want)
				}
			}
		})
	}
}

// TestCashierRefusals: a reward that is not there yet, a coupon used
// already, more than a gift card holds: 409 with the reason beside the
// form, nothing on the ledger, nothing in the audit log; an action the
// page does not offer for the card (an adjustment, another kind's) is
// refused before the API.
func TestCashierRefusals(t *testing.T) {
	r := newRig(t)
	c := r.as(Cashier)
	try := func(card loyalty.Card, action, value string) page {
		t.Helper()
		shown := c.get("/console/cashier?number=" + card.Number)
		return c.post("/console/cashier", cashierFormOf(t, shown.body, action, value))
	}
	_, stamps := r.kindCard(loyalty.KindStamps, "+79120000001")
	p := try(stamps, loyalty.RedeemReward, "")
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="redeem_reward-error"`) ||
		!strings.Contains(p.body, "Награды пока нет") {
		t.Errorf("reward before the goal: %d\n%s", p.status, errorsOf(p.body))
	}
	// Three stamps make the reward; then it is given.
	if p := try(stamps, loyalty.Stamp, "3"); p.status != http.StatusSeeOther {
		t.Fatalf("stamp: %d", p.status)
	}
	if !strings.Contains(c.get("/console/cashier?number="+stamps.Number).body, `id="rewards">1 · Булочка`) {
		t.Error("the reward is not shown")
	}
	if p := try(stamps, loyalty.RedeemReward, ""); p.status != http.StatusSeeOther {
		t.Fatalf("reward: %d\n%s", p.status, errorsOf(p.body))
	}

	_, coupon := r.kindCard(loyalty.KindCoupon, "+79120000002")
	shown := c.get("/console/cashier?number=" + coupon.Number)
	first, second := cashierFormOf(t, shown.body, loyalty.RedeemCoupon, ""), cashierFormOf(t, shown.body, loyalty.RedeemCoupon, "")
	second.Set("key", newToken()) // another till with the page open
	if p := c.post("/console/cashier", first); p.status != http.StatusSeeOther {
		t.Fatalf("redeem coupon: %d", p.status)
	}
	if p := c.post("/console/cashier", second); p.status != http.StatusConflict || !strings.Contains(p.body, "Купон уже погашен") {
		t.Errorf("coupon redeemed twice: %d\n%s", p.status, errorsOf(p.body))
	}
	if strings.Contains(c.get("/console/cashier?number="+coupon.Number).body, `id="redeem_coupon"`) {
		t.Error("a redeemed coupon still offers redemption")
	}

	_, gift := r.kindCard(loyalty.KindGift, "+79120000003")
	p = try(gift, loyalty.Spend, "3000,01")
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="spend-amount-error"`) ||
		!strings.Contains(p.body, "нет такой суммы") || !strings.Contains(p.body, `value="3000,01"`) {
		t.Errorf("overdraw: %d\n%s", p.status, errorsOf(p.body))
	}

	card := r.issue(r.merchant.ID, r.program.ID, "+79120000004", "Борис")
	shown = c.get("/console/cashier?number=" + card.Number)
	for _, action := range []string{loyalty.Adjust, loyalty.Stamp, loyalty.Spend} {
		f := cashierFormOf(t, shown.body, loyalty.Earn, "5")
		f.Set("action", action)
		f.Set("reason", "x")
		if p := c.post("/console/cashier", f); p.status != http.StatusBadRequest {
			t.Errorf("%s on a points card from the cashier page: %d", action, p.status)
		}
	}

	for _, tc := range []struct {
		card  loyalty.Card
		lines int
	}{{stamps, 2}, {coupon, 2}, {gift, 1}, {card, 1}} {
		if n := len(r.ledger(r.merchant.ID, tc.card.SerialNumber)); n != tc.lines {
			t.Errorf("card %s: %d ledger lines, want %d", tc.card.Number, n, tc.lines)
		}
		r.balanceIsLedger(r.merchant.ID, tc.card.SerialNumber)
	}
	for action, want := range map[string]int{"ledger.redeem_reward": 1, "ledger.redeem_coupon": 1, "ledger.spend": 0,
		"ledger.stamp": 1, "ledger.adjust": 0} {
		if n := r.auditCount(action); n != want {
			t.Errorf("%d audit entries of %s, want %d", n, action, want)
		}
	}
}
