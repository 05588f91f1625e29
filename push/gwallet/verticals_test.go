package gwallet

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
)

func TestOfferVertical(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := context.Background()
	p := program()
	p.Kind, p.Offer = passes.KindCoupon, "−20% на всё"
	until := time.Date(2026, 4, 30, 21, 0, 0, 0, time.UTC)
	coupon := card(1)
	coupon.ValidUntil = &until
	cls := class(t, p)
	if r := c.EnsureClass(ctx, cls); r.Outcome != push.Delivered || r.Reason != "inserted" {
		t.Fatalf("EnsureClass = %+v", r)
	}
	if r := c.EnsureClass(ctx, cls); r.Reason != "unchanged" {
		t.Fatalf("second EnsureClass = %+v", r)
	}
	obj, err := issuer.Object(p, coupon)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.EnsureObject(ctx, obj); r.Outcome != push.Delivered || r.Reason != "inserted" {
		t.Fatalf("EnsureObject = %+v", r)
	}
	coupon.Balance, coupon.Redeemed = 0, true
	used, _ := issuer.Object(p, coupon)
	if r := c.PatchObject(ctx, used, Visible); r.Outcome != push.Delivered {
		t.Fatalf("PatchObject = %+v", r)
	}
	id := obj.Ref().ID
	want := []call{{"GET", "/walletobjects/v1/offerClass/" + cls.ID()}, {"POST", "/walletobjects/v1/offerClass"},
		{"GET", "/walletobjects/v1/offerClass/" + cls.ID()}, {"POST", "/walletobjects/v1/offerObject"},
		{"PATCH", "/walletobjects/v1/offerObject/" + id}}
	if got := calls(srv.Requests()); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	stored, ok := srv.Resource("offerObject", id)
	if !ok || stored["state"] != "COMPLETED" || stored["kind"] != "walletobjects#offerObject" {
		t.Errorf("stored offer %v", stored)
	}
	if last := srv.Requests()[4].JSON(); last["notifyPreference"] != "NOTIFY_ON_UPDATE" {
		t.Errorf("patch sent %v", last["notifyPreference"])
	}
	if _, ok := srv.Object(id); ok {
		t.Error("the offer landed among loyalty objects")
	}
}

func TestGiftCardVertical(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := context.Background()
	p := program()
	p.Kind, p.Currency, p.CurrencyDigits = passes.KindGift, "RUB", 2
	if r := c.EnsureClass(ctx, class(t, p)); r.Outcome != push.Delivered {
		t.Fatalf("EnsureClass = %+v", r)
	}
	obj, _ := issuer.Object(p, card(300000))
	if r := c.EnsureObject(ctx, obj); r.Outcome != push.Delivered {
		t.Fatalf("EnsureObject = %+v", r)
	}
	spent, _ := issuer.Object(p, card(0))
	if r := c.PatchObject(ctx, spent, Silent); r.Outcome != push.Delivered {
		t.Fatalf("PatchObject = %+v", r)
	}
	id := obj.Ref().ID
	stored, _ := srv.Resource("giftCardObject", id)
	if bal := stored["balance"].(map[string]any); bal["micros"] != "0" || bal["currencyCode"] != "RUB" {
		t.Errorf("stored balance %v, want 0 RUB sent explicitly", bal)
	}
	if r := c.AddMessage(ctx, obj.Ref(), "Зерно", "Спасибо!", Silent); r.Outcome != push.Delivered {
		t.Fatalf("AddMessage = %+v", r)
	}
	if got := srv.Requests(); got[len(got)-1].Path != "/walletobjects/v1/giftCardObject/"+id+"/addMessage" {
		t.Errorf("message went to %s", got[len(got)-1].Path)
	}

	// The fake refuses what Google would: the zero trap and a missing
	// card number.
	trap := *spent.GiftCard
	trap.Balance = &walletobjects.Money{CurrencyCode: "RUB"}
	if r := c.PatchObject(ctx, google.Object{GiftCard: &trap}, Silent); r.Outcome != push.Failed || !strings.Contains(r.Reason, "micros") {
		t.Errorf("a balance without micros: %+v", r)
	}
	bare := *spent.GiftCard
	bare.Id, bare.CardNumber = issuerID+".other", ""
	if r := c.EnsureObject(ctx, google.Object{GiftCard: &bare}); r.Outcome != push.Failed || !strings.Contains(r.Reason, "cardNumber") {
		t.Errorf("a gift card without its number: %+v", r)
	}
}

func TestObjectNeedsAClassOfItsVertical(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := context.Background()
	c.EnsureClass(ctx, class(t, program())) // a loyalty class of the same ID
	p := program()
	p.Kind, p.Currency, p.CurrencyDigits = passes.KindGift, "RUB", 2
	obj, _ := issuer.Object(p, card(5))
	if r := c.EnsureObject(ctx, obj); r.Outcome != push.Failed || !strings.Contains(r.Reason, "404") {
		t.Errorf("a gift card object under a loyalty class: %+v", r)
	}
}
