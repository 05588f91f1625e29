package console

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestBrowserCashierKinds drives the cashier page in Chromium on a phone
// screen for a card of every kind: the action's field has the focus, the
// figure is typed on the keyboard, and a double tap on the action's button
// makes one ledger line. A stamp card asked for a reward it has not
// earned says so beside the button. Screenshots go to $LOYALPASS_ARTIFACTS
// as console-cashier-KIND.png.
func TestBrowserCashierKinds(t *testing.T) {
	r := newRig(t)
	b := newBrowser(t, r)
	c := b.session(t)
	b.do(t, c, chromedp.EmulateViewport(390, 844))
	b.signIn(t, c, Cashier)
	cases := []struct {
		kind, action, field, typed string
		lineKind                   string
		points                     int64
		after                      string // the headline figure after it
	}{
		{loyalty.KindPoints, loyalty.Earn, "amount", "1000", loyalty.Earn, 50, "50"},
		{loyalty.KindStamps, loyalty.Stamp, "stamp-count", "", loyalty.Stamp, 1, "1 из 3"},
		{loyalty.KindDiscount, loyalty.Purchase, "purchase-amount", "700", loyalty.Purchase, 0, "5"},
		{loyalty.KindCoupon, loyalty.RedeemCoupon, "", "", loyalty.RedeemCoupon, -1, "−20% на всё"},
		{loyalty.KindGift, loyalty.Spend, "spend-amount", "500", loyalty.Spend, -50000, "2"},
	}
	for i, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			_, card := r.kindCard(tc.kind, "+7912777000"+string(rune('0'+i)))
			before := len(r.ledger(r.merchant.ID, card.SerialNumber))
			b.open(t, c, "/console/cashier?number="+card.Number)
			// Keyboard: the action's figure has the focus (a coupon's
			// button has it), so the cashier types without a pointer.
			focus := tc.field
			if focus == "" {
				focus = tc.action
			}
			focusOn(t, c, focus)
			if tc.typed != "" {
				b.do(t, c, chromedp.KeyEvent(tc.typed))
			}
			b.submit(t, c, doubleTap(tc.action))
			waitFor(t, c, `document.getElementById("last") !== null`)
			lines := r.ledger(r.merchant.ID, card.SerialNumber)
			if len(lines) != before+1 || lines[0].Kind != tc.lineKind || lines[0].Points != tc.points {
				t.Fatalf("ledger after a double tap: %+v, want one %s line of %d", lines, tc.lineKind, tc.points)
			}
			r.balanceIsLedger(r.merchant.ID, card.SerialNumber)
			if got := b.eval(t, c, `document.getElementById("balance").textContent`); !startsWith(got, tc.after) {
				t.Errorf("the card shows %q, want %q…", got, tc.after)
			}
			b.shoot(t, c, "cashier-"+tc.kind)
			if tc.kind != loyalty.KindStamps {
				return
			}
			// One stamp of three: no reward yet, and the page says so.
			b.open(t, c, "/console/cashier?number="+card.Number)
			if st := b.submit(t, c, chromedp.Click(chromedp.ID(loyalty.RedeemReward))); st != 409 {
				t.Errorf("a reward not earned: %d, want 409", st)
			}
			waitFor(t, c, `document.getElementById("redeem_reward-error") !== null`)
			focusOn(t, c, loyalty.RedeemReward) // the form that came back has the focus
			if got := b.eval(t, c, `document.getElementById("redeem_reward-error").textContent`); got != "Награды пока нет: штампы ещё не собраны." {
				t.Errorf("the refusal reads %q", got)
			}
			b.shoot(t, c, "cashier-stamps-no-reward")
			if n := len(r.ledger(r.merchant.ID, card.SerialNumber)); n != before+1 {
				t.Errorf("%d ledger lines after a refused reward, want %d", n, before+1)
			}
		})
	}
}

// TestBrowserCashierLoadAndRefund loads a gift card and refunds part of a
// points card's purchase in Chromium on a phone screen, each with a
// double tap: one ledger line each, the balance its ledger's sum; a
// refund above what is left of the purchase is refused in words beside
// the amount. Screenshots: console-cashier-gift-load.png,
// console-cashier-refund.png, console-cashier-refund-too-much.png.
func TestBrowserCashierLoadAndRefund(t *testing.T) {
	r := newRig(t)
	b := newBrowser(t, r)
	c := b.session(t)
	b.do(t, c, chromedp.EmulateViewport(390, 844))
	b.signIn(t, c, Cashier)
	// typeIn types text into the field with id, as on the keyboard.
	typeIn := func(id, text string) {
		t.Helper()
		b.do(t, c, chromedp.Focus(chromedp.ID(id)), chromedp.KeyEvent(text))
	}

	_, gift := r.kindCard(loyalty.KindGift, "+79127770101")
	b.open(t, c, "/console/cashier?number="+gift.Number)
	typeIn("load-amount", "250")
	b.submit(t, c, doubleTap(loyalty.Load))
	waitFor(t, c, `document.getElementById("last") !== null`)
	lines := r.ledger(r.merchant.ID, gift.SerialNumber)
	if len(lines) != 2 || lines[0].Kind != loyalty.Load || lines[0].Points != 25000 {
		t.Fatalf("gift ledger after a double tap on load: %+v, want one load of 25000", lines)
	}
	if bal := r.balanceIsLedger(r.merchant.ID, gift.SerialNumber); bal != 325000 {
		t.Errorf("gift balance %d, want 325000", bal)
	}
	if got := b.eval(t, c, `document.getElementById("last").textContent`); got != "Пополнение +250,00 ₽" {
		t.Errorf("the page says %q after the load", got)
	}
	b.shoot(t, c, "cashier-gift-load")

	_, points := r.kindCard(loyalty.KindPoints, "+79127770102")
	b.open(t, c, "/console/cashier?number="+points.Number)
	typeIn("amount", "1000")
	b.submit(t, c, chromedp.Click(chromedp.ID(loyalty.Earn)))
	waitFor(t, c, `document.getElementById("refund-purchase") !== null`)
	typeIn("refund-amount", "400")
	b.submit(t, c, doubleTap(loyalty.Refund))
	waitFor(t, c, `document.getElementById("last") !== null && document.getElementById("last").textContent.startsWith("Возврат")`)
	lines = r.ledger(r.merchant.ID, points.SerialNumber)
	if len(lines) != 2 || lines[0].Kind != loyalty.Refund || lines[0].Points != -20 || lines[0].PurchaseAmount != -40000 {
		t.Fatalf("ledger after a double tap on refund: %+v, want one refund of 400.00 taking 20 points", lines)
	}
	if bal := r.balanceIsLedger(r.merchant.ID, points.SerialNumber); bal != 30 {
		t.Errorf("balance %d after the refund, want 30", bal)
	}
	if got := b.eval(t, c, `String(document.documentElement.scrollWidth)`); got != "390" { // the purchases' labels are long
		t.Errorf("the page is %s px wide on a 390 px screen", got)
	}
	b.shoot(t, c, "cashier-refund")

	typeIn("refund-amount", "700")
	if st := b.submit(t, c, chromedp.Click(chromedp.ID(loyalty.Refund))); st != 422 {
		t.Errorf("a refund above what is left: %d, want 422", st)
	}
	waitFor(t, c, `document.getElementById("refund-amount-error") !== null`)
	focusOn(t, c, "refund-amount") // the field in error has the focus
	if got := b.eval(t, c, `document.getElementById("refund-amount-error").textContent`); got != "Из этой покупки можно вернуть не больше 600,00." {
		t.Errorf("the refusal reads %q", got)
	}
	b.shoot(t, c, "cashier-refund-too-much")
	if n := len(r.ledger(r.merchant.ID, points.SerialNumber)); n != 2 {
		t.Errorf("%d ledger lines after a refused refund, want 2", n)
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
