package loyalty

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// shop is a discount program: 5 %, gold at 10,000.00 spent gives 10 %.
var shop = Program{ID: "shop", Kind: KindDiscount, DiscountPercent: 5, TierBasis: BasisSpend,
	Tiers: []Tier{{Code: "base", Name: "Базовый"}, {Code: "gold", Name: "Золотой", Threshold: 1_000_000, DiscountPercent: 10}}}

// sale is a coupon program valid 30 days from issue.
var sale = Program{ID: "sale", Kind: KindCoupon, Offer: "−20% на всё", ValidDays: 30, TierBasis: BasisPoints}

// cert is a gift program in roubles.
var cert = Program{ID: "cert", Kind: KindGift, Currency: "RUB", TierBasis: BasisPoints}

func TestPostDiscount(t *testing.T) {
	c := card(0, "base")
	c.LifetimeSpend = 990_000
	buy := &Transaction{ID: "p1", SerialNumber: "s1", Kind: Purchase, PurchaseAmount: 20_000}
	down := shop
	down.TierDowngrade = true
	tests := []struct {
		name              string
		program           Program
		st                Card
		req               Posting
		tier              string
		spend             int64
		discount, refunds int64
		wantE             error
	}{
		{name: "a purchase below the threshold", program: shop, st: c, req: Posting{Kind: Purchase, PurchaseAmount: 9_999},
			tier: "base", spend: 999_999},
		{name: "a purchase reaching the threshold moves the tier", program: shop, st: c,
			req: Posting{Kind: Purchase, PurchaseAmount: 10_000}, tier: "gold", spend: 1_000_000},
		{name: "a refund takes the spend back, the tier stays", program: shop, st: withTier(c, "gold", 1_010_000),
			req: Posting{Kind: Refund, RefundOf: "p1"}, tier: "gold", spend: 990_000, refunds: 20_000},
		{name: "a refund with downgrades lowers the tier", program: down, st: withTier(c, "gold", 1_010_000),
			req: Posting{Kind: Refund, RefundOf: "p1"}, tier: "base", spend: 990_000, refunds: 20_000},
		{name: "a purchase without an amount", program: shop, st: c, req: Posting{Kind: Purchase}, wantE: &FieldError{}},
		{name: "redeem on a discount card", program: shop, st: c, req: Posting{Kind: Redeem, Points: 1}, wantE: ErrKindMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Post(State{Card: tt.st, Program: tt.program, Earn: buy}, tt.req, now)
			if tt.wantE != nil {
				var fe *FieldError
				if !errors.Is(err, tt.wantE) && !(errors.As(tt.wantE, &fe) && errors.As(err, &fe)) {
					t.Fatalf("err = %v, want %T", err, tt.wantE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := got.Card
			if n.Tier != tt.tier || n.LifetimeSpend != tt.spend || n.Balance != 0 || got.Line.Points != 0 || got.Refunded != tt.refunds {
				t.Errorf("tier %s spend %d balance %d points %d refunded %d; want %s %d", n.Tier, n.LifetimeSpend,
					n.Balance, got.Line.Points, got.Refunded, tt.tier, tt.spend)
			}
			if tt.req.Kind == Purchase && (!got.Purchase || got.Line.PurchaseAmount != tt.req.PurchaseAmount) {
				t.Errorf("purchase line %+v", got.Line)
			}
		})
	}
}

func withTier(c Card, tier string, spend int64) Card {
	c.Tier, c.LifetimeSpend = tier, spend
	return c
}

func TestDiscountFor(t *testing.T) {
	pointsWithTierDiscount := club
	pointsWithTierDiscount.Tiers = append([]Tier(nil), club.Tiers...)
	pointsWithTierDiscount.Tiers[1].DiscountPercent = 3
	tests := []struct {
		p    Program
		tier string
		want int
	}{
		{shop, "base", 5},   // the tier sets none: the program's
		{shop, "gold", 10},  // the tier's own
		{shop, "nosuch", 5}, // an unknown tier: the program's
		{club, "gold", 0},   // points: no discount
		{pointsWithTierDiscount, "gold", 3},
		{coffee, BaseTier, 0},
	}
	for _, tt := range tests {
		if got := tt.p.DiscountFor(tt.tier); got != tt.want {
			t.Errorf("%s DiscountFor(%s) = %d, want %d", tt.p.ID, tt.tier, got, tt.want)
		}
	}
}

func TestCouponValidUntil(t *testing.T) {
	fixed := sale
	fixed.ValidDays, fixed.ValidUntil = 0, at(10)
	past := fixed
	past.ValidUntil = at(0)
	tests := []struct {
		name  string
		p     Program
		want  *time.Time
		wantE error
	}{
		{"days from the issue", sale, at(30), nil},
		{"a fixed date", fixed, at(10), nil},
		{"a fixed date that has come", past, nil, ErrCouponExpired},
		{"not a coupon", club, nil, nil},
	}
	for _, tt := range tests {
		got, err := CouponValidUntil(tt.p, now)
		if !errors.Is(err, tt.wantE) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: CouponValidUntil = %v, %v; want %v, %v", tt.name, got, err, tt.want, tt.wantE)
		}
	}
}

// couponCard is a coupon card just issued: its one coupon is a lot
// lapsing at its date.
func couponCard(t *testing.T) (State, Outcome) {
	t.Helper()
	c := card(0, BaseTier)
	c.LifetimePoints, c.ValidUntil = 0, at(30)
	req, ok, err := Opening(sale, false, 0)
	if err != nil || !ok {
		t.Fatalf("Opening = %+v, %v, %v", req, ok, err)
	}
	out, err := Post(State{Card: c, Program: sale}, req, now)
	if err != nil {
		t.Fatal(err)
	}
	if out.Line.Kind != Issue || out.Line.Points != 1 || out.Lot != 1 || !reflect.DeepEqual(out.Line.ExpiresAt, at(30)) {
		t.Fatalf("issue outcome %+v", out)
	}
	return State{Card: out.Card, Program: sale, Lots: []Lot{{ID: "issue", Remaining: 1, ExpiresAt: at(30)}}}, out
}

func TestPostCoupon(t *testing.T) {
	st, _ := couponCard(t)
	if got := CouponState(st.Card, now); got != CouponActive {
		t.Fatalf("new coupon is %s", got)
	}
	out, err := Post(st, Posting{Kind: RedeemCoupon}, now)
	if err != nil {
		t.Fatal(err)
	}
	if out.Card.Balance != 0 || out.Line.Points != -1 || out.Card.RedeemedAt == nil || !out.Card.RedeemedAt.Equal(now) ||
		!reflect.DeepEqual(out.Uses, []LotUse{{"issue", 1}}) {
		t.Fatalf("redeem outcome %+v", out)
	}
	redeemed := State{Card: out.Card, Program: sale}
	tests := []struct {
		name string
		st   State
		at   time.Time
		want error
		as   string
	}{
		{"a second redemption", redeemed, now, ErrCouponRedeemed, CouponRedeemed},
		{"a redeemed coupon stays redeemed past its date", redeemed, now.AddDate(0, 0, 31), ErrCouponRedeemed, CouponRedeemed},
		{"past its date", st, now.AddDate(0, 0, 30), ErrCouponExpired, CouponExpired},
	}
	for _, tt := range tests {
		if _, err := Post(tt.st, Posting{Kind: RedeemCoupon}, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if got := CouponState(tt.st.Card, tt.at); got != tt.as {
			t.Errorf("%s: CouponState = %s, want %s", tt.name, got, tt.as)
		}
	}

	// The expiry job lapses the coupon at its date like any lot.
	exp, ok, err := ExpireLapsed(st, now.AddDate(0, 0, 30))
	if err != nil || !ok || exp.Line.Kind != Expire || exp.Line.Points != -1 || exp.Line.Reason != "coupon expired" || exp.Card.Balance != 0 {
		t.Fatalf("ExpireLapsed = %+v, %v, %v", exp, ok, err)
	}
	if got := CouponState(exp.Card, now); got != CouponExpired {
		t.Errorf("a lapsed coupon is %s", got)
	}
	if _, err := Post(State{Card: exp.Card, Program: sale}, Posting{Kind: RedeemCoupon}, now); !errors.Is(err, ErrCouponExpired) {
		t.Errorf("redeeming a lapsed coupon: %v", err)
	}
	voided := st.Card
	voided.Status = CardVoided
	if got := CouponState(voided, now); got != CouponVoided {
		t.Errorf("a voided coupon is %s", got)
	}
}

func TestPostGift(t *testing.T) {
	c := card(0, BaseTier)
	c.LifetimePoints = 0
	req, ok, err := Opening(cert, false, 300_000)
	if err != nil || !ok || req.Kind != Load || req.Points != 300_000 {
		t.Fatalf("Opening = %+v, %v, %v", req, ok, err)
	}
	sim := &ledgerSim{t: t, st: State{Card: c, Program: cert}}
	if err := sim.post(req); err != nil {
		t.Fatal(err)
	}
	if err := sim.post(Posting{Kind: Spend, Points: 120_000}); err != nil {
		t.Fatal(err)
	}
	err = sim.post(Posting{Kind: Spend, Points: 180_001})
	if want := (&InsufficientFundsError{Balance: 180_000, Debit: 180_001}); !reflect.DeepEqual(err, want) || !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("overspend: %v", err)
	}
	if err := sim.post(Posting{Kind: Spend, Points: 180_000}); err != nil {
		t.Fatal(err)
	}
	if sim.st.Card.Balance != 0 || sim.lines[len(sim.lines)-1].ExpiresAt != nil {
		t.Fatalf("card after spending all: %+v", sim.st.Card)
	}
	if err := sim.post(Posting{Kind: Load, Points: 50_000, Reason: "top-up"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Posting{{Kind: Spend}, {Kind: Load, Points: -5}, {Kind: Earn, PurchaseAmount: 100}, {Kind: Stamp, Points: 1}} {
		if err := sim.post(bad); err == nil {
			t.Errorf("%+v was posted", bad)
		}
	}

	// Random loads and spends never take the balance below zero.
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 500; i++ {
		kind := Spend
		if r.IntN(3) == 0 {
			kind = Load
		}
		err := sim.post(Posting{Kind: kind, Points: 1 + r.Int64N(40_000)})
		if err != nil && !errors.Is(err, ErrInsufficientFunds) {
			t.Fatal(err)
		}
	}
}

func TestTransactionKinds(t *testing.T) {
	tests := []struct {
		program, tx string
		want        error
	}{
		{KindPoints, Earn, nil},
		{KindPoints, Welcome, nil},
		{KindPoints, Stamp, ErrKindMismatch},
		{KindStamps, Stamp, nil},
		{KindStamps, Refund, ErrKindMismatch},
		{KindDiscount, Purchase, nil},
		{KindDiscount, Refund, nil},
		{KindCoupon, RedeemCoupon, nil},
		{KindCoupon, Issue, nil},
		{KindCoupon, Spend, ErrKindMismatch},
		{KindGift, Load, nil},
		{KindGift, Issue, ErrUnknownKind}, // loyalpass's own, and only for coupons
		{KindGift, "gift", ErrUnknownKind},
		{"lottery", Earn, ErrUnknownKind},
	}
	for _, tt := range tests {
		if err := checkTransactionKind(tt.program, tt.tx); !errors.Is(err, tt.want) {
			t.Errorf("%s program, %s: %v, want %v", tt.program, tt.tx, err, tt.want)
		}
	}
	var mm *KindMismatchError
	if err := checkTransactionKind(KindGift, Stamp); !errors.As(err, &mm) || !reflect.DeepEqual(mm.Allowed, []string{Load, Spend}) {
		t.Errorf("mismatch error %v", err)
	}
}

func TestNeedsLots(t *testing.T) {
	tests := []struct {
		name string
		st   State
		p    Posting
		want bool
	}{
		{"earn", State{Card: card(0, ""), Program: club}, Posting{Kind: Earn}, false},
		{"redeem", State{Card: card(0, ""), Program: club}, Posting{Kind: Redeem, Points: 1}, true},
		{"a stamp short of the goal", State{Card: stampCard(4, 0), Program: coffee}, Posting{Kind: Stamp, Points: 1}, false},
		{"the stamp that completes it", State{Card: stampCard(5, 0), Program: coffee}, Posting{Kind: Stamp, Points: 1}, true},
		{"redeem_reward", State{Card: stampCard(5, 1), Program: coffee}, Posting{Kind: RedeemReward}, false},
		{"a purchase", State{Card: card(0, ""), Program: shop}, Posting{Kind: Purchase, PurchaseAmount: 5}, false},
		{"redeem_coupon", State{Card: card(1, ""), Program: sale}, Posting{Kind: RedeemCoupon}, true},
		{"load", State{Card: card(0, ""), Program: cert}, Posting{Kind: Load, Points: 5}, false},
		{"spend", State{Card: card(9, ""), Program: cert}, Posting{Kind: Spend, Points: 5}, true},
	}
	for _, tt := range tests {
		if got := tt.st.NeedsLots(tt.p); got != tt.want {
			t.Errorf("%s: NeedsLots = %v", tt.name, got)
		}
	}
}

func TestValidateProgram(t *testing.T) {
	with := func(p Program, change func(*Program)) Program {
		p.Tiers = append([]Tier(nil), p.Tiers...)
		change(&p)
		return p
	}
	tests := []struct {
		name  string
		p     Program
		field string // "" means valid
	}{
		{"points", club, ""},
		{"points with a point value and currency", with(club, func(p *Program) { p.PointValue, p.Currency = 50, "EUR" }), ""},
		{"points value out of range", with(club, func(p *Program) { p.PointValue = MaxPointValue + 1 }), "point_value"},
		{"an unknown kind", with(club, func(p *Program) { p.Kind = "lottery" }), "kind"},
		{"stamps", coffee, ""},
		{"one stamp", with(coffee, func(p *Program) { p.StampsRequired = 1 }), "stamps_required"},
		{"21 stamps", with(coffee, func(p *Program) { p.StampsRequired = 21 }), "stamps_required"},
		{"20 stamps", with(coffee, func(p *Program) { p.StampsRequired = 20 }), ""},
		{"stamps without a reward", with(coffee, func(p *Program) { p.Reward = "" }), "reward"},
		{"a negative minimum purchase", with(coffee, func(p *Program) { p.StampMinPurchase = -1 }), "stamp_min_purchase"},
		{"stamps with an earn rate", with(coffee, func(p *Program) { p.EarnRateBP = 500 }), "earn_rate_bp"},
		{"stamps with tiers", with(coffee, func(p *Program) { p.Tiers = club.Tiers }), "tiers"},
		{"stamps that expire", with(coffee, func(p *Program) { p.PointsLifetimeDays = 90 }), ""},
		{"points with a stamp goal", with(club, func(p *Program) { p.StampsRequired = 6 }), "stamps_required"},
		{"discount", shop, ""},
		{"discount over 100", with(shop, func(p *Program) { p.DiscountPercent = 101 }), "discount_percent"},
		{"a tier's discount over 100", with(shop, func(p *Program) { p.Tiers[1].DiscountPercent = 150 }), "tiers"},
		{"discount tiers by points", with(shop, func(p *Program) { p.TierBasis = BasisPoints }), "tier_basis"},
		{"discount on a gift card", with(cert, func(p *Program) { p.DiscountPercent = 5 }), "discount_percent"},
		{"coupon", sale, ""},
		{"coupon with a fixed date", with(sale, func(p *Program) { p.ValidDays, p.ValidUntil = 0, at(5) }), ""},
		{"coupon with both", with(sale, func(p *Program) { p.ValidUntil = at(5) }), "valid_until"},
		{"coupon with neither", with(sale, func(p *Program) { p.ValidDays = 0 }), "valid_days"},
		{"coupon valid too long", with(sale, func(p *Program) { p.ValidDays = MaxValidDays + 1 }), "valid_days"},
		{"coupon without an offer", with(sale, func(p *Program) { p.Offer = "" }), "offer"},
		{"coupon offer too long", with(sale, func(p *Program) { p.Offer = string(make([]rune, 61)) }), "offer"},
		{"coupon with a currency", with(sale, func(p *Program) { p.Currency = "RUB" }), "currency"},
		{"gift", cert, ""},
		{"gift without a currency", with(cert, func(p *Program) { p.Currency = "" }), "currency"},
		{"gift in an unknown currency", with(cert, func(p *Program) { p.Currency = "XXX" }), "currency"},
		{"gift whose money expires", with(cert, func(p *Program) { p.PointsLifetimeDays = 30 }), "points_lifetime_days"},
		{"gift with a welcome bonus", with(cert, func(p *Program) { p.WelcomeBonus = 10 }), "welcome_bonus"},
	}
	for _, tt := range tests {
		err := ValidateProgram(tt.p)
		var fe *FieldError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
			t.Errorf("%s: err = %v, want a field error on %s", tt.name, err, tt.field)
		}
	}
	if err := CheckValidUntil(with(sale, func(p *Program) { p.ValidUntil = at(0) }), now); err == nil {
		t.Error("a valid_until of now was accepted")
	}
}

func TestOpening(t *testing.T) {
	welcome := club
	welcome.WelcomeBonus = 100
	tests := []struct {
		name    string
		p       Program
		had     bool
		initial int64
		want    Posting
		ok      bool
		field   string
	}{
		{"points with a welcome bonus", welcome, false, 0, Posting{Kind: Welcome, Points: 100, Reason: "welcome bonus"}, true, ""},
		{"points, the bonus had before", welcome, true, 0, Posting{}, false, ""},
		{"stamps start empty", coffee, false, 0, Posting{}, false, ""},
		{"a coupon starts with its coupon", sale, false, 0, Posting{Kind: Issue, Points: 1, Reason: "coupon issued"}, true, ""},
		{"a gift card with money", cert, false, 300_000, Posting{Kind: Load, Points: 300_000, Reason: "initial amount"}, true, ""},
		{"a gift card without", cert, false, 0, Posting{}, false, ""},
		{"money on a points card", club, false, 5, Posting{}, false, "initial_amount"},
		{"negative money", cert, false, -5, Posting{}, false, "initial_amount"},
	}
	for _, tt := range tests {
		got, ok, err := Opening(tt.p, tt.had, tt.initial)
		var fe *FieldError
		if tt.field != "" {
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("%s: err = %v", tt.name, err)
			}
			continue
		}
		if err != nil || ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Opening = %+v, %v, %v", tt.name, got, ok, err)
		}
	}
}

func TestProgramLiability(t *testing.T) {
	valued := club
	valued.PointValue, valued.Currency = 50, "EUR"
	tests := []struct {
		name        string
		p           Program
		outstanding int64
		want        Liability
		wantE       error
	}{
		{"gift balances are money", cert, 450_000, Liability{Outstanding: 450_000, Amount: 450_000, Currency: "RUB"}, nil},
		{"points at one rouble each", club, 1234, Liability{Outstanding: 1234, Amount: 123_400, Currency: "RUB"}, nil},
		{"points at a set value", valued, 1234, Liability{Outstanding: 1234, Amount: 61_700, Currency: "EUR"}, nil},
		{"stamps owe no money", coffee, 5, Liability{}, ErrNoLiability},
		{"coupons owe no money", sale, 5, Liability{}, ErrNoLiability},
	}
	for _, tt := range tests {
		got, err := ProgramLiability(tt.p, tt.outstanding)
		if !errors.Is(err, tt.wantE) || got != tt.want {
			t.Errorf("%s: ProgramLiability = %+v, %v", tt.name, got, err)
		}
	}
	if d, ok := CurrencyDigits("JPY"); !ok || d != 0 {
		t.Errorf("JPY digits %d %v", d, ok)
	}
}
