package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// koshelekKindProgram makes a program from body with the «Кошелёк»
// channel on, and issues a card into Кошелёк for phone; it returns the
// platform, the card's number and serial.
func (ts *testServer) koshelekKindProgram(key string, body map[string]any, phone string) (*koshelektest.Client, string, string) {
	ts.t.Helper()
	prog := ts.mustDo(201, "POST", "/api/v1/programs", key, body)["id"].(string)
	p := ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"koshelek": map[string]any{
		"login": koshelekLogin, "password": koshelekPassword}})
	k := &koshelektest.Client{T: ts.t, BaseURL: p["koshelek_base_url"].(string), Login: koshelekLogin,
		Pass: koshelekPassword, Handler: ts.http}
	card, e := k.Issue(map[string]string{"phone": phone})
	if e != nil {
		ts.t.Fatalf("issue = %+v", e)
	}
	var serial string
	ts.db.QueryRow(`SELECT serial_number FROM cards WHERE number = ?`, card.CardNumber).Scan(&serial)
	return k, card.CardNumber, serial
}

// cardBytes is the card info's body as it went on the wire, with the
// card's number written N.
func cardBytes(t *testing.T, k *koshelektest.Client, number string) string {
	t.Helper()
	a := k.Do("GET", "/v1/card/"+number, nil, nil, "")
	if a.Status != 200 {
		t.Fatalf("card info = %d %s", a.Status, a.Body)
	}
	return strings.ReplaceAll(string(a.Body), number, "N")
}

const cardHead = `{"card":{"cardNumber":"N","cardState":"active","barcode":{"barcodeNumber":"N","barcodeType":"QR_CODE"},`

// TestKoshelekCardInfoSpeaksEachKind reads the card info and history of
// a card of every kind as Кошелёк gets them: stamps as "3 из 6" and the
// reward waiting, a gift card's money in roubles (never points), a
// discount card's percent, a coupon's offer and what became of it.
func TestKoshelekCardInfoSpeaksEachKind(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("kinds")
	const nb = "\u00a0"

	t.Run("stamps", func(t *testing.T) {
		k, number, serial := ts.koshelekKindProgram(key, map[string]any{"name": "Кофе", "kind": "stamps",
			"stamps_required": 6, "reward": "Булочка в подарок"}, "79160000001")
		cardOf(t, ts.txn(key, serial, `{"kind":"stamp","count":3}`))
		want := cardHead + `"bonus":{"total":"3","available":"3","bonuses":[{"description":"Штампы: 3 из 6","amount":"3"}]}}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("3 stamps:\n got %s\nwant %s", got, want)
		}
		cardOf(t, ts.txn(key, serial, `{"kind":"stamp","count":4}`))
		want = cardHead + `"bonus":{"total":"1","available":"1","bonuses":[{"description":"Штампы: 1 из 6","amount":"1"},` +
			`{"description":"Вас ждёт награда: Булочка в подарок","amount":"1"}]}}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("a reward:\n got %s\nwant %s", got, want)
		}
		lines, e := k.History(number, nil)
		if e != nil || len(lines) != 2 || lines[0].Item != "Штамп" || lines[0].Bonuses != "-2" || lines[0].Amount != "0" {
			t.Errorf("history = %+v %+v", lines, e)
		}
	})

	t.Run("gift", func(t *testing.T) {
		k, number, serial := ts.koshelekKindProgram(key, map[string]any{"name": "Сертификат", "kind": "gift",
			"currency": "RUB"}, "79160000002")
		cardOf(t, ts.txn(key, serial, `{"kind":"load","amount":300000}`))
		cardOf(t, ts.txn(key, serial, `{"kind":"spend","amount":50005}`))
		want := cardHead + `"bonus":{"total":"2499.95","available":"2499.95","bonuses":[{"description":"Остаток: 2` + nb +
			`499,95` + nb + `₽","amount":"2499.95"}]}}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("gift:\n got %s\nwant %s", got, want)
		}
		a := k.Do("GET", "/v1/card/"+number+"/purchases", nil, nil, "")
		if got, want := string(a.Body), `[{"date":"`+time.Now().UTC().Format(time.DateOnly)+`","item":"Оплата подарочной картой",`+
			`"amount":"50005","quantity":"1","location":"Сертификат","bonuses":"0"},{"date":"`+
			time.Now().UTC().Format(time.DateOnly)+`","item":"Пополнение карты","amount":"300000","quantity":"1",`+
			`"location":"Сертификат","bonuses":"0"}]`; got != want {
			t.Errorf("gift history:\n got %s\nwant %s", got, want)
		}
	})

	t.Run("gift in English", func(t *testing.T) {
		k, number, serial := ts.koshelekKindProgram(key, map[string]any{"name": "Gift", "kind": "gift",
			"currency": "EUR", "locale": "en"}, "79160000003")
		cardOf(t, ts.txn(key, serial, `{"kind":"load","amount":123456}`))
		if got := cardBytes(t, k, number); !strings.Contains(got, `"total":"1234.56"`) ||
			!strings.Contains(got, `"description":"Balance left: €`+nb+`1,234.56"`) || strings.Contains(got, "point") {
			t.Errorf("gift in English: %s", got)
		}
	})

	t.Run("discount", func(t *testing.T) {
		k, number, serial := ts.koshelekKindProgram(key, map[string]any{"name": "Скидки", "kind": "discount",
			"discount_percent": 5, "tier_basis": "spend", "tiers": []any{map[string]any{"code": "base", "name": "Базовый"},
				map[string]any{"code": "gold", "name": "Золотой", "threshold": 1000000, "discount_percent": 10}}}, "79160000004")
		want := cardHead + `"bonus":{"total":"0","available":"0","bonuses":[{"description":"Ваша скидка: 5%","amount":"5"}]},"discount":"5"}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("discount:\n got %s\nwant %s", got, want)
		}
		cardOf(t, ts.txn(key, serial, `{"kind":"purchase","purchase_amount":1200000}`))
		want = strings.ReplaceAll(strings.ReplaceAll(want, "5%", "10%"), `"5"`, `"10"`)
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("gold discount:\n got %s\nwant %s", got, want)
		}
		lines, e := k.History(number, nil)
		if e != nil || len(lines) != 1 || lines[0].Item != "Покупка" || lines[0].Amount != "1200000" || lines[0].Bonuses != "0" {
			t.Errorf("history = %+v %+v", lines, e)
		}
	})

	t.Run("coupon", func(t *testing.T) {
		k, number, serial := ts.koshelekKindProgram(key, map[string]any{"name": "Купон", "kind": "coupon",
			"offer": "−20% на всё", "valid_days": 30}, "79160000005")
		var until time.Time
		ts.db.QueryRow(`SELECT valid_until FROM cards WHERE serial_number = ?`, serial).Scan(&until)
		day := until.UTC()
		want := cardHead + `"bonus":{"total":"1","available":"1","bonuses":[{"description":"−20% на всё — действует до ` +
			day.Format("02.01.2006") + `","amount":"1","validUntil":"` + day.Format(time.DateOnly) + `"}]}}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("coupon:\n got %s\nwant %s", got, want)
		}
		cardOf(t, ts.txn(key, serial, `{"kind":"redeem_coupon"}`))
		want = cardHead + `"bonus":{"total":"0","available":"0","bonuses":[{"description":"−20% на всё — купон использован","amount":"0"}]}}}`
		if got := cardBytes(t, k, number); got != want {
			t.Errorf("redeemed coupon:\n got %s\nwant %s", got, want)
		}
		lines, e := k.History(number, url.Values{})
		if e != nil || len(lines) != 2 || lines[0].Item != "Купон использован" || lines[1].Item != "Купон выдан" ||
			lines[0].Bonuses != "0" {
			t.Errorf("history = %+v %+v", lines, e)
		}
	})
}
