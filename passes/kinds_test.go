package passes

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/passes/passcheck"
)

// kindProgram is testProgram as a program of kind.
func kindProgram(kind string) Program {
	p := testProgram()
	p.Kind = kind
	p.EarnRateBP = 0
	switch kind {
	case KindStamps:
		p.ID, p.StampsRequired, p.Reward = "prog-stamps", 6, "Булочка в подарок"
	case KindDiscount:
		p.ID = "prog-discount"
	case KindCoupon:
		p.ID, p.Offer = "prog-coupon", "−20% на всё"
	case KindGift:
		p.ID, p.Currency, p.CurrencyDigits = "prog-gift", "RUB", 2
	}
	return p
}

// styleFields returns the fields of one group of the pass's style by key.
func styleFields(t *testing.T, pass map[string]any, style, group string) map[string]map[string]any {
	t.Helper()
	sc, ok := pass[style].(map[string]any)
	if !ok {
		t.Fatalf("pass.json has no %s", style)
	}
	out := map[string]map[string]any{}
	list, _ := sc[group].([]any)
	for _, f := range list {
		m := f.(map[string]any)
		out[m["key"].(string)] = m
	}
	return out
}

func renderKind(t *testing.T, r *Renderer, p Program, c Card) (map[string]any, map[string][]byte) {
	t.Helper()
	pkpass := mustRender(t, r, p, c)
	if rep := passcheck.Check(pkpass, passcheck.Options{Roots: testChain.root, PassTypeID: testPassTypeID, TeamID: testTeamID}); !rep.OK() {
		t.Fatalf("passcheck: %v", rep.Problems)
	}
	files := unpack(t, pkpass)
	checkManifest(t, files)
	return decodePass(t, files), files
}

func TestRenderStampCard(t *testing.T) {
	r := newTestRenderer(t)
	c := testCard()
	c.Balance, c.Rewards, c.Tier = 3, 1, ""
	pass, files := renderKind(t, r, kindProgram(KindStamps), c)
	if _, ok := pass["coupon"]; ok {
		t.Error("a stamp card is a coupon")
	}
	if got := styleFields(t, pass, "storeCard", "primaryFields"); len(got) != 0 {
		t.Errorf("primary fields %v would cover the stamps", got)
	}
	sec := styleFields(t, pass, "storeCard", "secondaryFields")
	if v := sec["stamps"]; v["value"] != "3 из 6" || v["changeMessage"] != "Штампов: %@" || v["label"] != "Штампы" {
		t.Errorf("stamps field %v", v)
	}
	if v := sec["rewards"]; v["value"] != json.Number("1") || v["changeMessage"] != "Подарков: %@" {
		t.Errorf("rewards field %v", v)
	}
	if v := styleFields(t, pass, "storeCard", "backFields")["reward"]; v["value"] != "Булочка в подарок" {
		t.Errorf("reward back field %v", v)
	}
	strs := parseStrings(t, files["en.lproj/pass.strings"])
	if strs["3 из 6"] != "3 of 6" || strs["Штампов: %@"] != "Stamps: %@" {
		t.Errorf("en.lproj: %v", strs)
	}
}

// The test program's colours.
var (
	stripBG    = color.NRGBA{0x1f, 0x29, 0x37, 0xff}
	stripFG    = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	stripLabel = color.NRGBA{0xa5, 0xb4, 0xfc, 0xff}
)

// nearColour reports whether pixel colour c is colour want, or within a fifth
// of the way from it to the background: a stamp's own pixels are, while
// the smoothed edge between a filled stamp and the background never comes
// that near the label colour.
func nearColour(c color.Color, want color.NRGBA) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return dist2(n, want)*25 <= dist2(want, stripBG)
}

func dist2(a, b color.NRGBA) int {
	sq := func(x int) int { return x * x }
	return sq(int(a.R)-int(b.R)) + sq(int(a.G)-int(b.G)) + sq(int(a.B)-int(b.B))
}

// countBlobs counts the 4-connected regions of pixels of colour c: each
// stamp drawn is one region.
func countBlobs(img image.Image, c color.NRGBA) int {
	b := img.Bounds()
	seen := make([]bool, b.Dx()*b.Dy())
	is := func(x, y int) bool { return nearColour(img.At(x, y), c) }
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := (y-b.Min.Y)*b.Dx() + x - b.Min.X
			if seen[i] || !is(x, y) {
				continue
			}
			n++
			stack := []image.Point{{x, y}}
			seen[i] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for _, d := range []image.Point{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					q := p.Add(d)
					j := (q.Y-b.Min.Y)*b.Dx() + q.X - b.Min.X
					if q.In(b) && !seen[j] && is(q.X, q.Y) {
						seen[j] = true
						stack = append(stack, q)
					}
				}
			}
		}
	}
	return n
}

// TestStampStripCountsStamps decodes the strip of two versions of a card
// and counts the stamps drawn: filled ones in the foreground colour,
// empty rings in the label colour.
func TestStampStripCountsStamps(t *testing.T) {
	r := newTestRenderer(t)
	fg, label := stripFG, stripLabel
	for _, goal := range []int{6, 10, 20} {
		p := kindProgram(KindStamps)
		p.StampsRequired = goal
		var before []byte
		for version, stamps := range []int64{2, int64(goal) - 1} {
			c := testCard()
			c.Balance, c.Version = stamps, int64(7+version)
			_, files := renderKind(t, r, p, c)
			for name, scale := range map[string]int{"strip.png": 1, "strip@2x.png": 2, "strip@3x.png": 3} {
				img, err := png.Decode(bytes.NewReader(files[name]))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if b := img.Bounds(); b.Dx() != 375*scale || b.Dy() != 144*scale {
					t.Errorf("%s is %v", name, b)
				}
				if got := countBlobs(img, fg); got != int(stamps) {
					t.Errorf("goal %d, %d stamps: %s shows %d filled", goal, stamps, name, got)
				}
				if got := countBlobs(img, label); got != goal-int(stamps) {
					t.Errorf("goal %d, %d stamps: %s shows %d empty", goal, stamps, name, got)
				}
			}
			if dir := os.Getenv("LOYALPASS_ARTIFACTS"); dir != "" {
				name := filepath.Join(dir, fmt.Sprintf("stamp-strip-%d-of-%d@3x.png", stamps, goal))
				if err := os.WriteFile(name, files["strip@3x.png"], 0o644); err != nil {
					t.Error(err)
				}
			}
			if bytes.Equal(before, files["strip.png"]) {
				t.Errorf("goal %d: the strip did not change with the stamps", goal)
			}
			before = files["strip.png"]
		}
	}
	// More stamps than the goal (a goal lowered later) fill every cell.
	c := testCard()
	c.Balance = 9
	_, files := renderKind(t, r, kindProgram(KindStamps), c)
	img, _ := png.Decode(bytes.NewReader(files["strip.png"]))
	if got := countBlobs(img, stripFG); got != 6 {
		t.Errorf("9 stamps of 6 show %d", got)
	}
}

func TestStampStripWithIcon(t *testing.T) {
	r := newTestRenderer(t)
	p := kindProgram(KindStamps)
	red := color.NRGBA{0xe1, 0x1d, 0x48, 0xff}
	solid := image.NewNRGBA(image.Rect(0, 0, 200, 200))
	draw.Draw(solid, solid.Bounds(), image.NewUniform(red), image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, solid); err != nil {
		t.Fatal(err)
	}
	icon, err := ScaleImage(ImageStamp, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	p.Design.StampIcon = icon["stamp@3x.png"]
	c := testCard()
	c.Balance = 4
	_, own := renderKind(t, r, p, c)
	p.Version++ // the strips are cached by program version
	p.Design.StampIcon = nil
	_, def := renderKind(t, r, p, c)
	if bytes.Equal(own["strip@2x.png"], def["strip@2x.png"]) {
		t.Error("the merchant's icon left the strip as the default")
	}
	img, _ := png.Decode(bytes.NewReader(own["strip.png"]))
	if got := countBlobs(img, stripLabel); got != 2 {
		t.Errorf("%d empty stamps, want 2", got)
	}
	if got := countBlobs(img, red); got != 4 {
		t.Errorf("%d stamps carry the icon, want 4", got)
	}
	p.Version++
	p.Design.StampIcon = []byte("not a png")
	if _, err := r.Render(p, c); !errors.Is(err, ErrBadImage) {
		t.Errorf("a broken icon: %v", err)
	}
}

func TestRenderDiscountCard(t *testing.T) {
	c := testCard()
	c.DiscountPercent, c.Tier = 10, "Золотой"
	pass, _ := renderKind(t, newTestRenderer(t), kindProgram(KindDiscount), c)
	if v := styleFields(t, pass, "storeCard", "primaryFields")["discount"]; v["value"] != "10%" || v["changeMessage"] != "Скидка: %@" {
		t.Errorf("discount field %v", v)
	}
	if v := styleFields(t, pass, "storeCard", "headerFields")["tier"]; v["value"] != "Золотой" || v["changeMessage"] != "Уровень: %@" {
		t.Errorf("tier header %v", v)
	}
	if _, ok := styleFields(t, pass, "storeCard", "backFields")["earn"]; ok {
		t.Error("a discount card shows an earn rate")
	}
}

func TestRenderCoupon(t *testing.T) {
	r := newTestRenderer(t)
	c := testCard()
	until := time.Date(2026, 4, 30, 21, 0, 0, 0, time.UTC)
	c.ValidUntil = &until
	pass, _ := renderKind(t, r, kindProgram(KindCoupon), c)
	if _, ok := pass["storeCard"]; ok {
		t.Fatal("a coupon is a store card")
	}
	if pass["expirationDate"] != "2026-04-30T21:00:00Z" || pass["voided"] != nil {
		t.Errorf("expirationDate %v, voided %v", pass["expirationDate"], pass["voided"])
	}
	if v := styleFields(t, pass, "coupon", "primaryFields")["offer"]; v["value"] != "−20% на всё" {
		t.Errorf("offer field %v", v)
	}
	if v := styleFields(t, pass, "coupon", "secondaryFields")["valid_until"]; v["value"] != "2026-04-30T21:00:00Z" || v["dateStyle"] != "PKDateStyleMedium" {
		t.Errorf("valid_until field %v", v)
	}
	c.Redeemed, c.Version = true, 8
	pass, _ = renderKind(t, r, kindProgram(KindCoupon), c)
	if pass["voided"] != true {
		t.Errorf("a redeemed coupon is not voided: %v", pass["voided"])
	}
}

func TestRenderGiftCard(t *testing.T) {
	r := newTestRenderer(t)
	for _, tt := range []struct {
		balance int64
		want    json.Number
	}{{300050, "3000.50"}, {0, "0.00"}, {7, "0.07"}} {
		c := testCard()
		c.Balance = tt.balance
		pass, _ := renderKind(t, r, kindProgram(KindGift), c)
		v := styleFields(t, pass, "storeCard", "primaryFields")["balance"]
		if v["value"] != tt.want || v["currencyCode"] != "RUB" || v["changeMessage"] != "Остаток: %@" || v["numberStyle"] != nil {
			t.Errorf("balance %d: field %v", tt.balance, v)
		}
	}
	p := kindProgram(KindGift)
	p.Currency = "rub"
	if _, err := r.Render(p, testCard()); err == nil {
		t.Error("a lower-case currency was rendered")
	}
}

func TestMajorUnits(t *testing.T) {
	tests := []struct {
		minor  int64
		digits int
		want   json.Number
	}{{300000, 2, "3000.00"}, {5, 2, "0.05"}, {-150, 2, "-1.50"}, {1500, 0, "1500"}, {1234, 3, "1.234"}}
	for _, tt := range tests {
		if got := majorUnits(tt.minor, tt.digits); got != tt.want {
			t.Errorf("majorUnits(%d, %d) = %s, want %s", tt.minor, tt.digits, got, tt.want)
		}
	}
}

func TestStampLayoutKeepsClearOfTheEdges(t *testing.T) {
	for _, a := range []stampArea{appleStrip, googleHero} {
		for total := 2; total <= 20; total++ {
			rows, cols, cell := a.stampLayout(total)
			if rows*cols < total || float64(cols)*cell > float64(a.w-2*a.sideGap)+0.01 || float64(rows)*cell > float64(a.band-2*a.bandGap)+0.01 {
				t.Errorf("%v, %d stamps: %d×%d cells of %.1f pt", a, total, rows, cols, cell)
			}
			if cell < 30 {
				t.Errorf("%v, %d stamps: cells of %.1f pt are too small to read", a, total, cell)
			}
		}
	}
}

func TestStampHero(t *testing.T) {
	p := kindProgram(KindStamps)
	for _, filled := range []int{0, 4, 6, 9} {
		data, err := StampHero(p, filled)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 1032 || b.Dy() != 336 {
			t.Errorf("hero is %v, want 1032×336", b)
		}
		want := min(filled, 6)
		if got := countBlobs(img, stripFG); got != want {
			t.Errorf("%d stamps: hero shows %d filled", filled, got)
		}
		if got := countBlobs(img, stripLabel); got != 6-want {
			t.Errorf("%d stamps: hero shows %d empty", filled, got)
		}
	}
	if _, err := StampHero(kindProgram(KindPoints), 1); err == nil {
		t.Error("a points program has a stamp hero")
	}
}

// TestEveryKindsTextIsTranslated: each kind's labels, change messages
// and the values loyalpass words itself are keys of every language's
// pass.strings.
func TestEveryKindsTextIsTranslated(t *testing.T) {
	r := newTestRenderer(t)
	until := time.Date(2026, 4, 30, 21, 0, 0, 0, time.UTC)
	for _, kind := range []string{KindStamps, KindDiscount, KindCoupon, KindGift} {
		t.Run(kind, func(t *testing.T) {
			c := testCard()
			c.BackFields, c.Balance, c.Rewards, c.DiscountPercent, c.ValidUntil = nil, 2, 1, 5, &until
			pass, files := renderKind(t, r, kindProgram(kind), c)
			style := "storeCard"
			if kind == KindCoupon {
				style = "coupon"
			}
			var keys []string
			for _, group := range []string{"headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields"} {
				for key, f := range styleFields(t, pass, style, group) {
					for _, attr := range []string{"label", "changeMessage"} {
						if s, ok := f[attr].(string); ok && s != "%@" {
							keys = append(keys, s)
						}
					}
					if key == "stamps" {
						keys = append(keys, f["value"].(string))
					}
				}
			}
			for _, lang := range []string{"en", "ru"} {
				strs := parseStrings(t, files[lang+".lproj/pass.strings"])
				for _, k := range keys {
					if _, ok := strs[k]; !ok {
						t.Errorf("%s.lproj has no %q", lang, k)
					}
				}
			}
		})
	}
}
