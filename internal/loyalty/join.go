package loyalty

import (
	"errors"
	"fmt"
	"time"
)

// JoinSettings are what a program's join page asks and says.
type JoinSettings struct {
	// AskName and AskBirthday show the optional name and birthday fields.
	AskName     bool `json:"ask_name"`
	AskBirthday bool `json:"ask_birthday"`
	// PersonalDataText is the consent to the processing of personal data
	// the page shows; "" shows the catalogue's text in the page's language.
	PersonalDataText string `json:"personal_data_text"`
	// AdsText is the consent to advertising messages; "" as above.
	AdsText string `json:"ads_text"`
	// SMSDailyBudget caps the code texts the page sends in 24 hours.
	SMSDailyBudget int `json:"sms_daily_budget"`
}

// DefaultJoinSettings is what a program without settings of its own gets.
func DefaultJoinSettings() JoinSettings {
	return JoinSettings{AskName: true, SMSDailyBudget: DefaultSMSDailyBudget}
}

// DefaultSMSDailyBudget is a program's code texts per 24 hours unless it
// sets another.
const DefaultSMSDailyBudget = 200

// MaxSMSDailyBudget bounds what a program may set.
const MaxSMSDailyBudget = 100_000

// Validate checks the settings; the error names the field under "join.".
func (s JoinSettings) Validate() error {
	switch {
	case len([]rune(s.PersonalDataText)) > 4000:
		return fieldErrorf("join.personal_data_text", "join.personal_data_text must be at most 4000 characters")
	case len([]rune(s.AdsText)) > 1000:
		return fieldErrorf("join.ads_text", "join.ads_text must be at most 1000 characters")
	case s.SMSDailyBudget < 0 || s.SMSDailyBudget > MaxSMSDailyBudget:
		return fieldErrorf("join.sms_daily_budget", "join.sms_daily_budget must be 0 (the page sends no codes) to %d", MaxSMSDailyBudget)
	}
	return nil
}

// JoinLimits are the rules of the join page's codes.
type JoinLimits struct {
	// CodeTTL is how long a code is good for.
	CodeTTL time.Duration
	// MaxTries is how many wrong codes kill a code.
	MaxTries int
	// ResendWait is the least time between two codes to one phone.
	ResendWait time.Duration
	// PerPhoneDay and PerIPDay cap the codes sent in 24 hours to one phone
	// (in one program) and for one client address (in any program).
	PerPhoneDay, PerIPDay int
}

// DefaultJoinLimits are the code rules unless configured otherwise.
var DefaultJoinLimits = JoinLimits{CodeTTL: 5 * time.Minute, MaxTries: 3, ResendWait: time.Minute,
	PerPhoneDay: 5, PerIPDay: 20}

// Day is the window of the daily limits: the last 24 hours.
const Day = 24 * time.Hour

// JoinCounts is what the store counted before a code is sent.
type JoinCounts struct {
	// LastSentAt is when the phone's latest code in the program was sent.
	LastSentAt *time.Time
	// The codes of the last Day: to the phone in the program, from the
	// client address, and in the program.
	Phone, IP, Program int
	// OldestPhone, OldestIP and OldestProgram are when the oldest code
	// of each count was sent: the window frees up a Day after it.
	OldestPhone, OldestIP, OldestProgram time.Time
}

// Reasons a code is not sent.
const (
	LimitResend  = "resend"
	LimitPhone   = "phone"
	LimitIP      = "ip"
	LimitBudget  = "budget"
	LimitPending = "pending"
)

// ErrRateLimited matches every *RateLimitError.
var ErrRateLimited = errors.New("rate limited")

// RateLimitError refuses a code: Reason says which limit, RetryAt when
// it will let one through.
type RateLimitError struct {
	Reason  string
	RetryAt time.Time
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited (%s) until %s", e.Reason, e.RetryAt.Format(time.RFC3339))
}

// Is makes the error match ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// CheckSend decides whether a code may be sent now, with the program's
// daily SMS budget: a *RateLimitError says which limit stops it.
func CheckSend(l JoinLimits, budget int, c JoinCounts, now time.Time) error {
	if c.LastSentAt != nil && now.Sub(*c.LastSentAt) < l.ResendWait {
		return &RateLimitError{Reason: LimitResend, RetryAt: c.LastSentAt.Add(l.ResendWait)}
	}
	if c.Phone >= l.PerPhoneDay {
		return &RateLimitError{Reason: LimitPhone, RetryAt: c.OldestPhone.Add(Day)}
	}
	if c.IP >= l.PerIPDay {
		return &RateLimitError{Reason: LimitIP, RetryAt: c.OldestIP.Add(Day)}
	}
	if c.Program >= budget {
		retry := c.OldestProgram.Add(Day)
		if c.Program == 0 {
			retry = now.Add(Day)
		}
		return &RateLimitError{Reason: LimitBudget, RetryAt: retry}
	}
	return nil
}

// JoinCode is a sent code as the store holds it.
type JoinCode struct {
	Tries     int
	ExpiresAt time.Time
	Used      bool
	Dead      bool
}

// Errors of a code check.
var (
	// ErrCodeWrong is a wrong code; the code lives on.
	ErrCodeWrong = errors.New("wrong code")
	// ErrCodeGone is a code that is used, expired, killed by wrong tries,
	// or was never sent: a new one must be asked for.
	ErrCodeGone = errors.New("code expired")
)

// WrongCodeError is a wrong code that lives on for Left more tries.
type WrongCodeError struct{ Left int }

func (e *WrongCodeError) Error() string { return fmt.Sprintf("wrong code: %d tries left", e.Left) }

// Is makes the error match ErrCodeWrong.
func (e *WrongCodeError) Is(target error) bool { return target == ErrCodeWrong }

// CodeCheck is the decision on one try of a code.
type CodeCheck struct {
	// Err is nil (accepted), a *WrongCodeError or ErrCodeGone.
	Err error
	// Tries is the code's count of wrong tries after this one; Dead
	// tells that this try killed it.
	Tries int
	Dead  bool
}

// CheckCode decides a try of code c: match tells whether the code given
// hashes to the stored one.
func CheckCode(l JoinLimits, c JoinCode, match bool, now time.Time) CodeCheck {
	if c.Used || c.Dead || c.Tries >= l.MaxTries || !now.Before(c.ExpiresAt) {
		return CodeCheck{Err: ErrCodeGone, Tries: c.Tries}
	}
	if match {
		return CodeCheck{Tries: c.Tries}
	}
	tries := c.Tries + 1
	if tries >= l.MaxTries {
		return CodeCheck{Err: ErrCodeGone, Tries: tries, Dead: true}
	}
	return CodeCheck{Err: &WrongCodeError{Left: l.MaxTries - tries}, Tries: tries}
}
