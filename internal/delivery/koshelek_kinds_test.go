package delivery_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// koshelekTexts are the texts of the messages the fake Push API took
// since it had seen, each as "TYPE text"; it returns them and the new count.
func koshelekTexts(w *koshelekWorld, seen int) ([]string, int) {
	got := w.push.Received()
	var out []string
	for _, m := range got[seen:] {
		out = append(out, m.PushType+" "+m.Text)
	}
	return out, len(got)
}

func wantTexts(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: the Push API took %q, want %q", what, got, want)
	}
}

// TestKoshelekMessagesSpeakEachKind: each kind's changes reach the fake
// Push API in its own words, never as points: a stamp card its stamps
// and the reward waiting (a redeemed reward changes only the rewards), a
// gift card money, a coupon its use, a discount card a new percent.
func TestKoshelekMessagesSpeakEachKind(t *testing.T) {
	w := newKoshelekWorld(t)
	const nb = "\u00a0"
	tx := func(serial, idem, body string) {
		t.Helper()
		w.merchant("POST", "/api/v1/cards/"+serial+"/transactions", body, idem)
		w.drain()
	}
	seen := 0
	var got []string

	stamps, _ := w.issueKindIntoKoshelek(`{"name":"Кофе","kind":"stamps","stamps_required":6,"reward":"Булочка"}`,
		"+79161230001", "push-secret")
	tx(stamps, "s-1", `{"kind":"stamp","count":4}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "4 stamps", got, koshelek.Transaction+" Штампы: 4 из 6")
	tx(stamps, "s-2", `{"kind":"stamp","count":3}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "a full card", got, koshelek.Transaction+" Штампы: 1 из 6. Вас ждёт награда: Булочка")
	tx(stamps, "s-3", `{"kind":"redeem_reward"}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "the reward used", got, koshelek.Transaction+" Штампы: 1 из 6")

	gift, _ := w.issueKindIntoKoshelek(`{"name":"Сертификат","kind":"gift","currency":"RUB"}`, "+79161230002", "push-secret")
	tx(gift, "g-1", `{"kind":"load","amount":300000}`)
	tx(gift, "g-2", `{"kind":"spend","amount":50050}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "gift", got, koshelek.Transaction+" Зачислено 3"+nb+"000,00"+nb+"₽. Остаток: 3"+nb+"000,00"+nb+"₽",
		koshelek.Transaction+" Списано 500,50"+nb+"₽. Остаток: 2"+nb+"499,50"+nb+"₽")

	coupon, _ := w.issueKindIntoKoshelek(`{"name":"Купон","kind":"coupon","offer":"−20% на всё","valid_days":30}`,
		"+79161230003", "push-secret")
	w.drain()
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "a coupon issued", got)
	tx(coupon, "c-1", `{"kind":"redeem_coupon"}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "a coupon used", got, koshelek.Transaction+" −20% на всё — купон использован")

	discount, _ := w.issueKindIntoKoshelek(`{"name":"Скидки","kind":"discount","discount_percent":5,"tier_basis":"spend",
		"tiers":[{"code":"base","name":"Базовый"},{"code":"gold","name":"Золотой","threshold":1000000,"discount_percent":10}]}`,
		"+79161230004", "push-secret")
	tx(discount, "d-1", `{"kind":"purchase","purchase_amount":500000}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "a purchase that keeps the discount", got)
	tx(discount, "d-2", `{"kind":"purchase","purchase_amount":600000}`)
	got, seen = koshelekTexts(w, seen)
	wantTexts(t, "a purchase that raises the discount", got, koshelek.Transaction+" Ваша скидка теперь 10%")

	var states []string
	rows, err := w.db.Query(`SELECT sent_state FROM koshelek_cards ORDER BY msisdn`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		states = append(states, s)
	}
	rows.Close()
	wantTexts(t, "the states told", states, "stamps 1/6 rewards 0", "", "coupon redeemed", "discount 10")
}

// TestKoshelekStateRetrySendsOnlyWhatDidNotGo: a full stamp card and a
// lock-screen message in one send; the Push API takes the stamps and
// fails the message; the retry sends only the message.
func TestKoshelekStateRetrySendsOnlyWhatDidNotGo(t *testing.T) {
	w := newKoshelekWorld(t)
	serial, _ := w.issueKindIntoKoshelek(`{"name":"Кофе","kind":"stamps","stamps_required":3,"reward":"Кофе"}`,
		"+79161230005", "push-secret")
	w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"Скоро третий кофе"}`, "")
	w.drain()
	w.push.FailNext(koshelektest.Fault{}, koshelektest.Fault{Status: 503})
	w.merchant("POST", "/api/v1/cards/"+serial+"/transactions", `{"kind":"stamp","count":3}`, "s-1")
	w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"Кофе ждёт вас"}`, "")
	w.drain()
	got, seen := koshelekTexts(w, 0)
	wantTexts(t, "before the retry", got, koshelek.Promo+" Скоро третий кофе",
		koshelek.Transaction+" Штампы: 0 из 3. Вас ждёт награда: Кофе")
	w.clock.Advance(2 * time.Minute)
	w.drain()
	got, _ = koshelekTexts(w, seen)
	wantTexts(t, "the retry", got, koshelek.Promo+" Кофе ждёт вас")
}
