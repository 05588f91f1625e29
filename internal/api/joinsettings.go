package api

import (
	"strconv"
	"strings"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

func itoa(n int) string { return strconv.Itoa(n) }

// joinLink is a program's join page, <public URL>/j/{code}: it goes on
// posters, which outlive any short-link domain change less easily.
func (u cardURLs) joinLink(code string) string {
	if code == "" {
		return ""
	}
	return u.public + "/j/" + code
}

// referralLink is a card's referral link, /r/{code} on the short domain.
func (u cardURLs) referralLink(code string) string {
	if code == "" {
		return ""
	}
	return u.short + "/r/" + code
}

// joinInput changes a program's join page settings.
type joinInput struct {
	AskName          *bool   `json:"ask_name"`
	AskBirthday      *bool   `json:"ask_birthday"`
	PersonalDataText *string `json:"personal_data_text"`
	AdsText          *string `json:"ads_text"`
	SMSDailyBudget   *int    `json:"sms_daily_budget"`
}

func (in joinInput) apply(s *loyalty.JoinSettings) {
	if in.AskName != nil {
		s.AskName = *in.AskName
	}
	if in.AskBirthday != nil {
		s.AskBirthday = *in.AskBirthday
	}
	if in.PersonalDataText != nil {
		s.PersonalDataText = strings.TrimSpace(*in.PersonalDataText)
	}
	if in.AdsText != nil {
		s.AdsText = strings.TrimSpace(*in.AdsText)
	}
	if in.SMSDailyBudget != nil {
		s.SMSDailyBudget = *in.SMSDailyBudget
	}
}

// referralInput changes a program's referral terms.
type referralInput struct {
	ReferrerPoints    *int64 `json:"referrer_points"`
	FriendPoints      *int64 `json:"friend_points"`
	MinPurchaseAmount *int64 `json:"min_purchase_amount"`
	MonthlyLimit      *int   `json:"monthly_limit"`
}

func (in referralInput) apply(t *loyalty.ReferralTerms) {
	for dst, src := range map[*int64]*int64{&t.ReferrerPoints: in.ReferrerPoints, &t.FriendPoints: in.FriendPoints,
		&t.MinPurchaseAmount: in.MinPurchaseAmount} {
		if src != nil {
			*dst = *src
		}
	}
	if in.MonthlyLimit != nil {
		t.MonthlyLimit = *in.MonthlyLimit
	}
}
