package outreach

import "github.com/loyalpass/loyalpass/internal/sms"

// sendStatus is the metrics label of a provider's answer to one text;
// canRetry says whether a transient failure will be tried again.
func sendStatus(err error, canRetry bool) string {
	if err == nil {
		return "sent"
	}
	switch sms.KindOf(err) {
	case sms.InvalidNumber, sms.NotMobile:
		return "invalid_number"
	case sms.OptedOut:
		return "opted_out"
	case sms.Transient:
		if canRetry {
			return "retry"
		}
	}
	return "failed"
}
