package cardpass

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// The wording of the expiring points ("3 балла сгорят 31.12.2026") is
// the catalogue's: internal/locale TestExpiring.

func TestCardForShowsTheTiersRate(t *testing.T) {
	prog := loyalty.Program{EarnRateBP: 300, Tiers: []loyalty.Tier{
		{Code: "base", Name: "Base", Threshold: 0},
		{Code: "silver", Name: "Silver", Threshold: 1000, EarnRateBP: 0}, // inherits the program's
		{Code: "gold", Name: "Gold", Threshold: 5000, EarnRateBP: 700},
	}}
	for tier, want := range map[string]int{"base": 300, "silver": 300, "gold": 700, "gone": 300} {
		if got := CardFor(loyalty.Card{Tier: tier}, prog).EarnRateBP; got != want {
			t.Errorf("tier %s: EarnRateBP = %d, want %d", tier, got, want)
		}
	}
}

func TestPassCarriesTheExpiringPoints(t *testing.T) {
	at := time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC)
	for _, points := range []int64{0, 120} {
		st := &fakeStore{expiring: points, at: at}
		r := &fakeRenderer{}
		if _, err := New(st, r, nil).Pass(context.Background(), loyalty.Card{SerialNumber: "s1", Version: 2}); err != nil {
			t.Fatal(err)
		}
		if want := (passes.Expiry{Points: points, At: at}); r.card.Expiring != want {
			t.Errorf("Expiring = %+v, want %+v", r.card.Expiring, want)
		}
		if len(r.card.BackFields) != 0 {
			t.Errorf("BackFields = %+v, want none: the pass words the expiry itself", r.card.BackFields)
		}
	}
}

func TestPassCarriesTheReferralLink(t *testing.T) {
	st := &fakeStore{program: loyalty.Program{Locale: "ru", Referral: loyalty.ReferralTerms{ReferrerPoints: 100, FriendPoints: 50}}}
	r := &fakeRenderer{}
	svc := New(st, r, nil).WithReferralLinks(codes{"s1": "Fr1end"}, "https://k.example.ru/")
	if _, err := svc.Pass(context.Background(), loyalty.Card{SerialNumber: "s1", Version: 2, Status: loyalty.CardActive}); err != nil {
		t.Fatal(err)
	}
	want := passes.Field{Key: "referral", Label: "Пригласите друга",
		Value: "Поделитесь ссылкой: друг получит 50\u00a0баллов, а вы — 100\u00a0баллов после его первой покупки.\nhttps://k.example.ru/r/Fr1end",
		URL:   "https://k.example.ru/r/Fr1end"}
	if len(r.card.BackFields) != 1 || r.card.BackFields[0] != want {
		t.Errorf("BackFields = %+v, want %+v", r.card.BackFields, want)
	}
	// A program that pays nothing for referrals shows no link.
	st.program.Referral = loyalty.ReferralTerms{}
	if _, err := svc.Pass(context.Background(), loyalty.Card{SerialNumber: "s1", Version: 3, Status: loyalty.CardActive}); err != nil {
		t.Fatal(err)
	}
	if len(r.card.BackFields) != 0 {
		t.Errorf("BackFields = %+v, want none", r.card.BackFields)
	}
}

type codes map[string]string

func (c codes) Code(_ context.Context, serial string) (string, error) {
	if code, ok := c[serial]; ok {
		return code, nil
	}
	return "", store.ErrNotFound
}

type fakeStore struct {
	expiring int64
	at       time.Time
	program  loyalty.Program
}

func (f *fakeStore) Merchant(context.Context, string) (store.Merchant, error) {
	return store.Merchant{Name: "Shop"}, nil
}
func (f *fakeStore) Program(context.Context, string, string) (loyalty.Program, error) {
	if f.program.Locale == "" {
		return loyalty.Program{Locale: "ru"}, nil
	}
	return f.program, nil
}
func (f *fakeStore) ProgramImages(context.Context, string) (map[string][]byte, error) {
	return nil, nil
}
func (f *fakeStore) PassFile(context.Context, string) (store.PassFile, error) {
	return store.PassFile{}, errors.New("none")
}
func (f *fakeStore) PutPassFile(context.Context, string, store.PassFile) error { return nil }
func (f *fakeStore) NextExpiry(context.Context, string) (int64, time.Time, error) {
	return f.expiring, f.at, nil
}

type fakeRenderer struct{ card passes.Card }

func (r *fakeRenderer) Render(_ passes.Program, c passes.Card) ([]byte, error) {
	r.card = c
	return []byte("pkpass"), nil
}
