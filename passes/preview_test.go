package passes

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestPassLayoutShowsWhatPassJSONCarries(t *testing.T) {
	p := Program{ID: "prg_1", OrganizationName: "Кофейня", Name: "Баллы", CurrencyLabel: "баллы", EarnRateBP: 500,
		Terms: "1 балл = 1 ₽", BarcodeFormat: BarcodeCode128, Locale: LocaleRU,
		Design: Design{BackgroundColor: "#3b2416", ForegroundColor: "#ffffff", LabelColor: "#f5d7b5", LogoText: "Кофе"}}
	c := Card{SerialNumber: "s1", Number: "2718281828459", HolderName: "Анна", Balance: 1250, Tier: "Золото"}
	l, err := PassLayout(p, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%v|%v|%v|%v", l.Style, l.OrganizationName, l.LogoText, l.BackgroundColor,
		l.LabelColor, l.Primary, l.Secondary, l.Auxiliary, l.Barcode)
	want := "storeCard|Кофейня|Кофе|rgb(59, 36, 22)|rgb(245, 215, 181)|[{balance Баланс 1250  }]|" +
		"[{holder Владелец Анна  } {tier Уровень Золото  }]|[{number Номер карты 2718281828459  }]|" +
		"{PKBarcodeFormatCode128 2718281828459 2718281828459}"
	if got != want {
		t.Errorf("layout\n got %s\nwant %s", got, want)
	}
	if len(l.Back) != 3 || l.Back[0].Label != "Условия программы" || l.Back[0].Value != p.Terms {
		t.Errorf("back fields %v", l.Back)
	}
}

func TestPreviewImageIsTheProgramsOrTheDefault(t *testing.T) {
	own := []byte("\x89PNG own logo")
	p := Program{Design: Design{Images: map[string][]byte{"logo@2x.png": own}}}
	if got, ok := PreviewImage(p, "logo@2x.png"); !ok || !bytes.Equal(got, own) {
		t.Error("the program's own logo is not used")
	}
	if got, ok := PreviewImage(p, "strip@2x.png"); !ok || !bytes.HasPrefix(got, pngSignature) {
		t.Error("no default strip")
	}
	if _, ok := PreviewImage(p, "../secret"); ok {
		t.Error("a name no pass carries was served")
	}
}

func TestPreviewStripOfAStampCardIsDrawnForItsStamps(t *testing.T) {
	p := Program{ID: "prg_s", Kind: KindStamps, StampsRequired: 6, Design: Design{BackgroundColor: "#112233",
		ForegroundColor: "#ffffff", LabelColor: "#cccccc"}}
	three, err := PreviewStrip(p, Card{Balance: 3})
	if err != nil {
		t.Fatal(err)
	}
	four, _ := PreviewStrip(p, Card{Balance: 4})
	files, _ := stampStripFiles(p, 3, 6)
	if bytes.Equal(three, four) || !bytes.Equal(three, files[1].data) {
		t.Error("the strip is not the one Render draws for the card's stamps")
	}
	p.Kind = KindPoints
	if got, _ := PreviewStrip(p, Card{}); !bytes.HasPrefix(got, pngSignature) {
		t.Error("a points card's strip is not the default")
	}
}

func TestPassLayoutKeepsDateAndMoneyStyles(t *testing.T) {
	until := time.Date(2027, 1, 2, 20, 59, 59, 0, time.UTC)
	p := Program{ID: "prg_c", OrganizationName: "Кофейня", Name: "Купон", Kind: KindCoupon, Offer: "−10%", Locale: LocaleRU}
	l, err := PassLayout(p, Card{SerialNumber: "s", Number: "1", Balance: 1, ValidUntil: &until}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var date LayoutField
	for _, f := range append(l.Secondary, l.Auxiliary...) {
		if f.DateStyle != "" {
			date = f
		}
	}
	if l.Style != "coupon" || date.Value != "2027-01-02T20:59:59Z" {
		t.Errorf("coupon layout %+v", l)
	}
	g := Program{ID: "prg_g", OrganizationName: "Кофейня", Name: "Подарок", Kind: KindGift, Currency: "RUB", CurrencyDigits: 2, Locale: LocaleRU}
	l, err = PassLayout(g, Card{SerialNumber: "s", Number: "1", Balance: 150000}, nil)
	if err != nil || len(l.Primary) != 1 || l.Primary[0].CurrencyCode != "RUB" || l.Primary[0].Value != "1500.00" {
		t.Errorf("gift layout %+v, %v", l.Primary, err)
	}
}
