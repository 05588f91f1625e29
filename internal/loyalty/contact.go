package loyalty

import (
	"strings"
	"time"
)

// Channels a message can take, cheapest first: the lock screen of a card
// installed in Apple Wallet or an Android pkpass app (a pass update with a
// changeMessage, free), a Google Wallet message (free, within Google's 3
// visible notifications per card and day), the merchant's own app through
// FCM (free), a PROMO message through «Кошелёк»'s Push API to a card
// that lives there (free to the merchant, as a wallet's), and SMS (paid).
const (
	ChannelWallet   = "wallet"
	ChannelGoogle   = "google"
	ChannelApp      = "app"
	ChannelKoshelek = "koshelek"
	ChannelSMS      = "sms"
)

// Channels lists every channel, cheapest first.
var Channels = []string{ChannelWallet, ChannelGoogle, ChannelApp, ChannelKoshelek, ChannelSMS}

// Reach is what is known of how a customer can be reached right now.
type Reach struct {
	// Wallet: the card is installed in Apple Wallet or a pkpass app.
	Wallet bool
	// Google: the card is saved in Google Wallet; GoogleNotified counts its
	// visible notifications in Google's window, GoogleQuota is the most it
	// allows (3 a day).
	Google         bool
	GoogleNotified int
	GoogleQuota    int
	// App: the merchant's app holds an FCM token of the card.
	App bool
	// Koshelek: the card lives in «Кошелёк», its program sends through the
	// Push API, and the holder takes the merchant's (PROMO) messages.
	Koshelek bool
	// SMS: Phone is a number that takes texts, AdsConsent the customer's
	// advertising consent, Budget that the program's SMS budget covers
	// one more text, Provider that an SMS provider is configured.
	Phone, AdsConsent, Budget, Provider bool
}

// Route picks the cheapest channel that reaches the customer. It returns
// "" and why not when none does. Quiet hours and the frequency cap are
// decided before, for every channel alike (see Contact).
func Route(r Reach) (channel, why string) {
	switch {
	case r.Wallet:
		return ChannelWallet, ""
	case r.Google && r.GoogleNotified < r.GoogleQuota:
		return ChannelGoogle, ""
	case r.App:
		return ChannelApp, ""
	case r.Koshelek:
		return ChannelKoshelek, ""
	}
	var no []string
	if r.Google {
		no = append(no, "Google Wallet's notifications for today are used up")
	} else {
		no = append(no, "no installed wallet card")
	}
	switch {
	case !r.Phone:
		no = append(no, "no number that takes SMS")
	case !r.AdsConsent:
		no = append(no, "no advertising consent for SMS")
	case !r.Provider:
		no = append(no, "no SMS provider")
	case !r.Budget:
		no = append(no, "the program's SMS budget is spent")
	default:
		return ChannelSMS, ""
	}
	return "", strings.Join(no, "; ")
}

// QuietHours are the local hours [Start, End) in Zone when no message goes
// out; Start == End means none. They may wrap midnight (21 to 9).
type QuietHours struct {
	Start, End int
	Zone       *time.Location
}

// Quiet reports whether now is within the quiet hours.
func (q QuietHours) Quiet(now time.Time) bool {
	if q.Start == q.End {
		return false
	}
	h := now.In(q.zone()).Hour()
	if q.Start < q.End {
		return h >= q.Start && h < q.End
	}
	return h >= q.Start || h < q.End
}

// Ends returns when the quiet hours that hold now end (the next End
// o'clock, local); now itself when it is not quiet.
func (q QuietHours) Ends(now time.Time) time.Time {
	if !q.Quiet(now) {
		return now
	}
	local := now.In(q.zone())
	end := time.Date(local.Year(), local.Month(), local.Day(), q.End, 0, 0, 0, q.zone())
	if !end.After(local) {
		end = time.Date(local.Year(), local.Month(), local.Day()+1, q.End, 0, 0, 0, q.zone())
	}
	return end
}

func (q QuietHours) zone() *time.Location {
	if q.Zone == nil {
		return time.UTC
	}
	return q.Zone
}

// Capped reports whether a customer last contacted at last may not be
// contacted again at now under a cap of days (0: no cap).
func Capped(last *time.Time, now time.Time, days int) bool {
	return days > 0 && last != nil && now.Sub(*last) < time.Duration(days)*24*time.Hour
}
