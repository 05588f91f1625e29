package console

import "time"

// The shapes of the API answers the console reads, as openapi.json
// describes them: only the fields it shows.

type apiProgram struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	CurrencyLabel string `json:"currency_label"`
	EarnRateBP    int    `json:"earn_rate_bp"`
	WelcomeBonus  int64  `json:"welcome_bonus"`
	Terms         string `json:"terms"`
	BarcodeFormat string `json:"barcode_format"`
	Locale        string `json:"locale"`
	Design        struct {
		BackgroundColor string `json:"background_color"`
		ForegroundColor string `json:"foreground_color"`
		LabelColor      string `json:"label_color"`
		LogoText        string `json:"logo_text"`
		// Images maps an image kind to "default" or "custom".
		Images map[string]string `json:"images"`
	} `json:"design"`
	Tiers              []apiTier `json:"tiers"`
	TierBasis          string    `json:"tier_basis"`
	TierDowngrade      bool      `json:"tier_downgrade"`
	PointsLifetimeDays int       `json:"points_lifetime_days"`
	Version            int64     `json:"version"`
	// JoinURL is the program's join page; Join its settings and
	// Referral what a referral pays.
	JoinURL string `json:"join_url"`
	Join    struct {
		AskName          bool   `json:"ask_name"`
		AskBirthday      bool   `json:"ask_birthday"`
		PersonalDataText string `json:"personal_data_text"`
		AdsText          string `json:"ads_text"`
		SMSDailyBudget   int    `json:"sms_daily_budget"`
	} `json:"join"`
	Referral struct {
		ReferrerPoints    int64 `json:"referrer_points"`
		FriendPoints      int64 `json:"friend_points"`
		MinPurchaseAmount int64 `json:"min_purchase_amount"`
		MonthlyLimit      int   `json:"monthly_limit"`
	} `json:"referral"`
	// Each kind's own settings (a stamp card's goal and reward, a
	// discount, a coupon's offer and validity, a gift card's currency, a
	// point's value); absent for the other kinds.
	StampsRequired   int        `json:"stamps_required"`
	Reward           string     `json:"reward"`
	StampMinPurchase int64      `json:"stamp_min_purchase"`
	DiscountPercent  *int       `json:"discount_percent"`
	Offer            string     `json:"offer"`
	ValidDays        int        `json:"valid_days"`
	ValidUntil       *time.Time `json:"valid_until"`
	Currency         string     `json:"currency"`
	PointValue       int64      `json:"point_value"`
}

type apiTier struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Threshold  int64  `json:"threshold"`
	EarnRateBP int    `json:"earn_rate_bp"`
}

type apiCard struct {
	SerialNumber string `json:"serial_number"`
	Number       string `json:"number"`
	ProgramID    string `json:"program_id"`
	Balance      int64  `json:"balance"`
	Tier         string `json:"tier"`
	Status       string `json:"status"`
	Customer     struct {
		Phone string `json:"phone"`
		Name  string `json:"name"`
	} `json:"customer"`
	ShortURL         string     `json:"short_url"`
	LastPurchaseAt   *time.Time `json:"last_purchase_at"`
	FirstInstalledAt *time.Time `json:"first_installed_at"`
	Installs         []struct {
		Channel        string    `json:"channel"`
		Installed      int       `json:"installed"`
		Uninstalled    int       `json:"uninstalled"`
		FirstInstallAt time.Time `json:"first_install_at"`
	} `json:"installs"`
	NextExpiry *struct {
		Points int64     `json:"points"`
		At     time.Time `json:"at"`
	} `json:"next_expiry"`
	// What the card shows by its kind: a stamp card's stamps and
	// rewards, the discount it gives, a gift card's currency, a coupon's
	// date and state.
	Kind             string     `json:"kind"`
	Stamps           *int64     `json:"stamps"`
	StampsRequired   int64      `json:"stamps_required"`
	RewardsAvailable *int64     `json:"rewards_available"`
	DiscountPercent  int        `json:"discount_percent"`
	Currency         string     `json:"currency"`
	ValidUntil       *time.Time `json:"valid_until"`
	RedeemedAt       *time.Time `json:"redeemed_at"`
	CouponState      string     `json:"coupon_state"`
}

type apiTransaction struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Points         int64     `json:"points"`
	Rewards        int64     `json:"rewards"`
	PurchaseAmount int64     `json:"purchase_amount"`
	RefundedAmount int64     `json:"refunded_amount"`
	Reason         string    `json:"reason"`
	BalanceAfter   int64     `json:"balance_after"`
	CreatedAt      time.Time `json:"created_at"`
}

// apiPosted is the answer to a posted transaction.
type apiPosted struct {
	Transaction apiTransaction `json:"transaction"`
	Card        apiCard        `json:"card"`
}

type apiWebhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
}

type apiDelivery struct {
	ID         int64     `json:"id"`
	Event      string    `json:"event"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status"`
	LastError  string    `json:"last_error"`
	CreatedAt  time.Time `json:"created_at"`
}

type apiCampaign struct {
	ID                 string     `json:"id"`
	ProgramID          string     `json:"program_id"`
	Name               string     `json:"name"`
	Status             string     `json:"status"`
	LapsedDays         int        `json:"lapsed_days"`
	Tier               string     `json:"tier"`
	Installed          string     `json:"installed"`
	BonusPoints        int64      `json:"bonus_points"`
	BonusOn            string     `json:"bonus_on"`
	Template           string     `json:"template"`
	HoldoutPercent     float64    `json:"holdout_percent"`
	QuietStart         int        `json:"quiet_start"`
	QuietEnd           int        `json:"quiet_end"`
	Timezone           string     `json:"timezone"`
	SendRate           int        `json:"send_rate"`
	FrequencyCapDays   int        `json:"frequency_cap_days"`
	PurchaseWindowDays int        `json:"purchase_window_days"`
	Provider           string     `json:"provider"`
	Audience           int        `json:"audience"`
	Holdout            int        `json:"holdout"`
	Preview            apiPreview `json:"preview"`
	CreatedAt          time.Time  `json:"created_at"`
	StartedAt          *time.Time `json:"started_at"`
	FinishedAt         *time.Time `json:"finished_at"`
}

type apiPreview struct {
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
	Segments int    `json:"segments"`
	Units    int    `json:"units"`
}

// apiReport is a campaign's report: the texted group's funnel and the
// holdout's.
type apiReport struct {
	Status  string    `json:"status"`
	Texted  apiFunnel `json:"texted"`
	Holdout apiFunnel `json:"holdout"`
	Lift    struct {
		AbsolutePoints float64  `json:"absolute_points"`
		Relative       *float64 `json:"relative"`
		CI95Low        *float64 `json:"ci95_low_points"`
		CI95High       *float64 `json:"ci95_high_points"`
		PValue         float64  `json:"p_value"`
	} `json:"lift"`
}

// funnel is the report as the dashboard draws it.
func (r apiReport) funnel(name string) funnelReport {
	f := funnelReport{Name: name, Recipients: r.Texted.Recipients, Sent: r.Texted.Sent, Delivered: r.Texted.Delivered,
		Clicked: r.Texted.Clicked, Installed: r.Texted.Installed, Purchasers: r.Texted.Purchasers,
		HoldoutRecipients: r.Holdout.Recipients, HoldoutPurchasers: r.Holdout.Purchasers}
	if r.Lift.CI95Low != nil && r.Lift.CI95High != nil {
		f.CI, f.P = &[2]float64{*r.Lift.CI95Low, *r.Lift.CI95High}, r.Lift.PValue
	}
	return f
}

type apiAutomation struct {
	ID           string `json:"id"`
	ProgramID    string `json:"program_id"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	PausedReason string `json:"paused_reason"`
	Trigger      struct {
		Type       string `json:"type"`
		DaysBefore *int   `json:"days_before"`
		Days       *int   `json:"days"`
		DaysAfter  *int   `json:"days_after"`
		DuePercent *int   `json:"due_percent"`
		Tier       string `json:"tier"`
	} `json:"trigger"`
	Variants []struct {
		Text        string `json:"text"`
		BonusPoints int64  `json:"bonus_points"`
	} `json:"variants"`
	HoldoutPercent     float64   `json:"holdout_percent"`
	FrequencyCapDays   int       `json:"frequency_cap_days"`
	QuietStart         int       `json:"quiet_start"`
	QuietEnd           int       `json:"quiet_end"`
	Timezone           string    `json:"timezone"`
	PurchaseWindowDays int       `json:"purchase_window_days"`
	Provider           string    `json:"provider"`
	Winner             *int      `json:"winner"`
	CreatedAt          time.Time `json:"created_at"`
}

// apiGroup is a group of an automation's report.
type apiGroup struct {
	Assigned   int64   `json:"assigned"`
	Sent       int64   `json:"sent"`
	Purchasers int64   `json:"purchasers"`
	Revenue    int64   `json:"revenue"`
	Conversion float64 `json:"conversion"`
}

// apiLift is a lift over the holdout in percentage points with its 95 %
// interval.
type apiLift struct {
	Points      float64 `json:"points"`
	CI95Low     float64 `json:"ci95_low_points"`
	CI95High    float64 `json:"ci95_high_points"`
	PValue      float64 `json:"p_value"`
	Significant bool    `json:"significant"`
}

// apiAutomationDetail is an automation's whole report, for its page.
type apiAutomationDetail struct {
	Eligible      int64            `json:"eligible"`
	HeldOut       int64            `json:"held_out"`
	Sent          int64            `json:"sent"`
	SentByChannel map[string]int64 `json:"sent_by_channel"`
	Skipped       int64            `json:"skipped"`
	Failed        int64            `json:"failed"`
	Waiting       int64            `json:"waiting"`
	Cost          int64            `json:"cost"`
	BonusPoints   int64            `json:"bonus_points"`
	Messaged      apiGroup         `json:"messaged"`
	Holdout       apiGroup         `json:"holdout"`
	Lift          *apiLift         `json:"lift"`
	Incremental   float64          `json:"incremental_revenue"`
	Variants      []struct {
		Variant int `json:"variant"`
		apiGroup
		Lift *apiLift `json:"lift"`
	} `json:"variants"`
	BestVariant *int `json:"best_variant"`
}

// apiAutomationReport is an automation's report: who was messaged (and
// sent to), who was held out, who bought, and the lift.
type apiAutomationReport struct {
	Messaged struct {
		Assigned, Sent, Purchasers int64
	} `json:"messaged"`
	Holdout struct {
		Assigned, Purchasers int64
	} `json:"holdout"`
	Lift *struct {
		Points   float64 `json:"points"`
		CI95Low  float64 `json:"ci95_low_points"`
		CI95High float64 `json:"ci95_high_points"`
		PValue   float64 `json:"p_value"`
	} `json:"lift"`
}

// asReport puts an automation's report in a campaign report's shape.
func (r apiAutomationReport) asReport() apiReport {
	var out apiReport
	out.Texted = apiFunnel{Recipients: r.Messaged.Assigned, Sent: r.Messaged.Sent, Purchasers: r.Messaged.Purchasers}
	out.Holdout = apiFunnel{Recipients: r.Holdout.Assigned, Purchasers: r.Holdout.Purchasers}
	if r.Lift != nil {
		out.Lift.CI95Low, out.Lift.CI95High, out.Lift.PValue = &r.Lift.CI95Low, &r.Lift.CI95High, r.Lift.PValue
	}
	return out
}

type apiFunnel struct {
	Recipients int64   `json:"recipients"`
	Sent       int64   `json:"sent"`
	Delivered  int64   `json:"delivered"`
	Failed     int64   `json:"failed"`
	Skipped    int64   `json:"skipped"`
	Clicked    int64   `json:"clicked"`
	Installed  int64   `json:"installed"`
	Bonus      int64   `json:"bonus_credited"`
	Purchasers int64   `json:"purchasers"`
	Conversion float64 `json:"conversion"`
}
