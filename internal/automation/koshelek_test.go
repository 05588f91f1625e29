package automation_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

// TestKoshelekIsACheapChannel: a welcome message to two customers who
// agreed to texts and whose cards live in «Кошелёк». The one who takes
// Кошелёк's messages gets it as a PROMO message at the fake Push API,
// with the bonus, and no text; the one who denied "push" in Кошелёк is
// texted. The report counts the first on channel koshelek, at no cost.
func TestKoshelekIsACheapChannel(t *testing.T) {
	w := newWorld(t, storetest.SQLiteURL(t))
	ctx := context.Background()
	fake := koshelektest.NewServer(t)
	fake.AddAccount(koshelektest.Account{Login: "shop-push", Password: "push-secret"})
	box, err := credential.NewBox(bytes.Repeat([]byte{5}, credential.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	client, err := koshelek.New(koshelek.Options{BaseURL: fake.URL, Outbound: netguardtest.Loopback(), PerMinute: 60000})
	if err != nil {
		t.Fatal(err)
	}
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.st), Now: w.clock.Now,
		Channels: []delivery.Channel{delivery.NewKoshelek(delivery.KoshelekOptions{Store: w.st.Koshelek(),
			Sender: client, Box: box, Now: w.clock.Now})}})
	_, _, err = w.st.Koshelek().UpdateProgram(ctx, w.merchant.ID, w.program.ID, nil, func(ks *store.KoshelekSettings) error {
		hash, err := password.Hash("partner-password", password.DefaultParams())
		ks.Enabled, ks.Login, ks.PasswordHash = true, "shop", hash
		ks.PushLogin, ks.PushPassword = "shop-push", box.Seal("push-secret", w.program.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	e := w.engine(w.st)
	a := w.automation(store.Automation{Trigger: loyalty.Trigger{Type: loyalty.TriggerEnrolled}, FrequencyCapDays: 14})
	w.clock.Advance(time.Minute)
	inKoshelek := w.customer(phone(1), true)
	denied := w.customer(phone(2), true)
	for _, c := range []customer{inKoshelek, denied} {
		card, _, _, err := w.st.Koshelek().Issue(ctx, w.program.ID, store.KoshelekProfile{Phone: c.phone})
		if err != nil || card.SerialNumber != c.serial {
			t.Fatalf("issue into Кошелёк: %v (card %s, want %s)", err, card.SerialNumber, c.serial)
		}
	}
	var number string
	if card, err := w.st.Cards().Card(ctx, w.merchant.ID, denied.serial); err != nil {
		t.Fatal(err)
	} else {
		number = card.Number
	}
	if _, _, err := w.st.Koshelek().Communication(ctx, w.program.ID, number,
		[]store.KoshelekConsent{{Channel: "push", Granted: false}}, `{"deny":["push"]}`); err != nil {
		t.Fatal(err)
	}
	w.drain()
	before := len(fake.Received())

	ev, sent := e.round(t)
	if ev.Messages != 2 || sent["koshelek"] != 1 || sent["sms"] != 1 {
		t.Fatalf("evaluation %+v, sent %v; want one by koshelek, one by sms", ev, sent)
	}
	w.drain()

	got := fake.Received()[before:]
	var promo []koshelektest.Received
	for _, m := range got {
		if m.PushType == koshelek.Promo {
			promo = append(promo, m)
		}
	}
	if len(promo) != 1 || promo[0].MSISDN != strings.TrimPrefix(inKoshelek.phone, "+") || promo[0].Title != "Кофейня" ||
		!strings.HasPrefix(promo[0].Text, "Анна, дарим 50 баллов: https://k.ru/c/") {
		t.Fatalf("the Push API took %+v; want one PROMO message to %s", got, inKoshelek.phone)
	}
	// The bonus went with it, told as points to the holder.
	if len(got) != 3 || got[0].PushType != koshelek.Transaction || got[0].Text != "Начислено 50\u00a0баллов. Баланс: 50\u00a0баллов" {
		t.Errorf("messages %+v; want the bonus to both holders and the PROMO one", got)
	}
	if texts := w.texts(); texts[inKoshelek.phone] != 0 || texts[denied.phone] != 1 {
		t.Fatalf("texts %v: only %s should be texted", texts, denied.phone)
	}
	if n := w.count(`SELECT COUNT(*) FROM automation_messages WHERE serial_number = ? AND channel = 'koshelek'
		AND status = 'sent' AND cost = 0`, inKoshelek.serial); n != 1 {
		t.Error("the Кошелёк message is not recorded on channel koshelek at no cost")
	}
	_, channels, err := w.st.Automations().AutomationReport(ctx, a.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int64{}
	for _, c := range channels {
		by[c.Channel] = c.Sent
	}
	if by["koshelek"] != 1 || by["sms"] != 1 || len(by) != 2 {
		t.Fatalf("report by channel %v", by)
	}
}
