package console

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// refundFormOf is the refund form as the page shows it (the newest
// purchase chosen), with amount typed (blank: the rest).
func refundFormOf(t *testing.T, page, amount string) url.Values {
	t.Helper()
	f := cashierFormOf(t, page, loyalty.Refund, amount)
	m := selectedRE.FindStringSubmatch(page[strings.Index(page, `id="refund-form"`):])
	if m == nil {
		t.Fatal("the refund form chooses no purchase")
	}
	f.Set("transaction", m[1])
	return f
}

// postTwiceAndAgain sends form twice at once (a double tap), then once
// more (back and resend); every answer must go back to the card.
func postTwiceAndAgain(t *testing.T, c *client, form url.Values) {
	t.Helper()
	answers := make([]page, 3)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { answers[i] = c.post("/console/cashier", form) })
	}
	wg.Wait()
	answers[2] = c.post("/console/cashier", form)
	for _, p := range answers {
		if p.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", form.Get("action"), p.status, errorsOf(p.body))
		}
	}
}

// TestCashierGiftLoad: a gift card's load form adds its amount once: the
// form double-tapped and sent again (back and resend) changes nothing
// more, and the audit log has one entry. On SQLite and PostgreSQL.
func TestCashierGiftLoad(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			r := newRigAt(t, b.URL(t))
			c := r.as(Cashier)
			_, gift := r.kindCard(loyalty.KindGift, "+79125550001")
			shown := c.get("/console/cashier?number=" + gift.Number)
			if !strings.Contains(shown.body, `id="load-amount"`) || !strings.Contains(shown.body, "Пополнить карту") {
				t.Fatal("the gift card offers no load form")
			}
			if p := c.post("/console/cashier", cashierFormOf(t, shown.body, loyalty.Load, "0")); p.status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.body, `id="load-amount-error"`) {
				t.Errorf("a load of zero: %d\n%s", p.status, errorsOf(p.body))
			}
			form := cashierFormOf(t, shown.body, loyalty.Load, "1 500,25")
			postTwiceAndAgain(t, c, form)
			lines := r.ledger(r.merchant.ID, gift.SerialNumber)
			if len(lines) != 2 || lines[0].Kind != loyalty.Load || lines[0].Points != 150025 {
				t.Fatalf("ledger = %+v, want the issue's load and one load of 150025", lines)
			}
			if b := r.balanceIsLedger(r.merchant.ID, gift.SerialNumber); b != 450025 {
				t.Errorf("balance %d, want 450025", b)
			}
			if n := r.auditCount("ledger.load"); n != 1 {
				t.Errorf("%d audit entries of the load, want 1", n)
			}
			done := html.UnescapeString(c.get("/console/cashier?number=" + gift.Number + "&done=1").body)
			if !strings.Contains(done, `id="last">Пополнение +1`) || !strings.Contains(done, "4\u00a0500,25") {
				t.Errorf("the page after the load: %s", done[strings.Index(done, `id="card-title"`):][:600])
			}
		})
	}
}

// TestCashierRefund: a points card's purchase is refunded in part, then
// in full, from the page: each refund takes back the points its part
// earned (balance = ledger sum), a double-tapped or resent form changes
// nothing more, more
// than is left is refused in words beside the amount, a purchase the
// page does not offer is refused, and a purchase refunded in full is no
// longer offered. A discount card refunds too. On SQLite and PostgreSQL.
func TestCashierRefund(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			r := newRigAt(t, b.URL(t))
			c := r.as(Cashier)
			_, card := r.kindCard(loyalty.KindPoints, "+79125550002")
			shown := c.get("/console/cashier?number=" + card.Number)
			if strings.Contains(shown.body, `id="refund-form"`) {
				t.Error("a card without purchases offers a refund")
			}
			if p := c.post("/console/cashier", cashierFormOf(t, shown.body, loyalty.Earn, "1000")); p.status != http.StatusSeeOther {
				t.Fatalf("earn: %d", p.status)
			}
			earn := r.ledger(r.merchant.ID, card.SerialNumber)[0]

			shown = c.get("/console/cashier?number=" + card.Number)
			if !strings.Contains(html.UnescapeString(shown.body), "· 1\u00a0000,00</option>") {
				t.Errorf("the purchase is not offered: %s", shown.body[strings.Index(shown.body, `id="refund-form"`):])
			}
			p := c.post("/console/cashier", refundFormOf(t, shown.body, "1000,01"))
			if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="refund-amount-error"`) ||
				!strings.Contains(html.UnescapeString(p.body), "Из этой покупки можно вернуть не больше 1\u00a0000,00.") {
				t.Errorf("a refund above the purchase: %d\n%s", p.status, errorsOf(p.body))
			}
			crafted := refundFormOf(t, shown.body, "")
			crafted.Set("transaction", "txn_of_another_card")
			if p := c.post("/console/cashier", crafted); p.status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.body, `id="refund-purchase-error"`) {
				t.Errorf("a refund of a purchase not offered: %d\n%s", p.status, errorsOf(p.body))
			}

			part := refundFormOf(t, shown.body, "400")
			postTwiceAndAgain(t, c, part)
			lines := r.ledger(r.merchant.ID, card.SerialNumber)
			if len(lines) != 2 || lines[0].Kind != loyalty.Refund || lines[0].RefundOf != earn.ID || lines[0].Points != -20 ||
				lines[0].PurchaseAmount != -40000 {
				t.Fatalf("ledger = %+v, want one refund of 400.00 taking 20 points", lines)
			}
			if b := r.balanceIsLedger(r.merchant.ID, card.SerialNumber); b != 30 {
				t.Errorf("balance %d, want 30", b)
			}
			done := html.UnescapeString(c.get("/console/cashier?number=" + card.Number + "&done=1").body)
			if !strings.Contains(done, `id="last">Возврат 400,00 · -20`) || !strings.Contains(done, "осталось 600,00") {
				t.Errorf("after the refund: %s", done[strings.Index(done, `id="card-title"`):])
			}

			rest := refundFormOf(t, done, "") // blank: all that is left
			if p := c.post("/console/cashier", rest); p.status != http.StatusSeeOther {
				t.Fatalf("refund of the rest: %d\n%s", p.status, errorsOf(p.body))
			}
			lines = r.ledger(r.merchant.ID, card.SerialNumber)
			if len(lines) != 3 || lines[0].Points != -30 || lines[0].PurchaseAmount != -60000 {
				t.Fatalf("ledger = %+v, want the rest refunded, 30 points back", lines)
			}
			if b := r.balanceIsLedger(r.merchant.ID, card.SerialNumber); b != 0 {
				t.Errorf("balance %d, want 0", b)
			}
			if strings.Contains(c.get("/console/cashier?number="+card.Number).body, `id="refund-form"`) {
				t.Error("a purchase refunded in full is still offered")
			}
			if p := c.post("/console/cashier", part); p.status != http.StatusSeeOther || len(r.ledger(r.merchant.ID, card.SerialNumber)) != 3 {
				t.Errorf("the first refund's form sent once more: %d", p.status)
			}
			changed := url.Values{}
			maps.Copy(changed, part)
			changed.Set("value", "100") // back, another amount typed, sent: not what the form did
			if p := c.post("/console/cashier", changed); p.status != http.StatusUnprocessableEntity ||
				!strings.Contains(p.body, "Форма уже отправлялась с другими значениями") {
				t.Errorf("the first refund's form sent with another amount: %d\n%s", p.status, errorsOf(p.body))
			}
			if n := len(r.ledger(r.merchant.ID, card.SerialNumber)); n != 3 {
				t.Errorf("%d ledger lines after resent forms, want 3", n)
			}
			if n := r.auditCount("ledger.refund"); n != 2 {
				t.Errorf("%d audit entries of refunds, want 2", n)
			}

			_, discount := r.kindCard(loyalty.KindDiscount, "+79125550003")
			shown = c.get("/console/cashier?number=" + discount.Number)
			if p := c.post("/console/cashier", cashierFormOf(t, shown.body, loyalty.Purchase, "700")); p.status != http.StatusSeeOther {
				t.Fatalf("purchase: %d", p.status)
			}
			shown = c.get("/console/cashier?number=" + discount.Number)
			if p := c.post("/console/cashier", refundFormOf(t, shown.body, "")); p.status != http.StatusSeeOther {
				t.Fatalf("discount refund: %d\n%s", p.status, errorsOf(p.body))
			}
			if lines := r.ledger(r.merchant.ID, discount.SerialNumber); lines[0].Kind != loyalty.Refund || lines[0].PurchaseAmount != -70000 {
				t.Errorf("discount ledger = %+v, want the purchase refunded", lines)
			}
		})
	}
}
