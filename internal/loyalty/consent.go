package loyalty

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Consent channels: what a customer agrees to, each granted and withdrawn
// on its own.
const (
	// ConsentPersonalData is the processing of personal data (152-ФЗ).
	ConsentPersonalData = "personal_data"
	// ConsentSMS is texts over SMS at all (a STOP reply withdraws it).
	ConsentSMS = "sms"
	// ConsentAds is advertising messages (38-ФЗ art. 18).
	ConsentAds = "ads"
)

// ConsentChannels lists the channels in documentation order.
var ConsentChannels = []string{ConsentPersonalData, ConsentSMS, ConsentAds}

// Consent sources: where a grant or withdrawal came from.
const (
	SourceJoinPage   = "join_page"   // the customer ticked the box on the join page
	SourceAPI        = "api"         // the merchant's system, through the API
	SourceConsole    = "console"     // a merchant user, in the console
	SourcePOS        = "pos"         // at the till
	SourcePaper      = "paper"       // a signed paper form the merchant keeps
	SourceSMSStop    = "sms_stop"    // a STOP reply to a text
	SourceOptOutPage = "optout_page" // the opt-out link of a text
	SourceOperator   = "operator"    // the SMS provider or operator reported the subscriber refuses
	SourceImport     = "import"      // carried over from before consent records existed
	SourceKoshelek   = "koshelek"    // the customer's answer in the «Кошелёк» app, which Cardsmobile passed on
)

// ConsentSources lists every source; APIConsentSources those a merchant
// may name when it records a consent through the API (the others are
// recorded by loyalpass itself, where they happen).
var (
	ConsentSources    = []string{SourceJoinPage, SourceAPI, SourceConsole, SourcePOS, SourcePaper, SourceSMSStop, SourceOptOutPage, SourceOperator, SourceImport, SourceKoshelek}
	APIConsentSources = []string{SourceAPI, SourceConsole, SourcePOS, SourcePaper}
)

// ConsentRecord is one grant or withdrawal of one channel. Records are
// only ever appended: the latest of a channel decides.
type ConsentRecord struct {
	ID         int64
	CustomerID string
	Channel    string
	Granted    bool
	Source     string
	// IP and UserAgent are the customer's, where the record comes from a
	// request of theirs (the join page, the opt-out page).
	IP, UserAgent string
	// TextVersion names the consent text shown (TextVersion).
	TextVersion string
	// Evidence is what the merchant holds to prove a record made through
	// the API ("paper form 2024-118", "POS 3, receipt 55120").
	Evidence  string
	CreatedAt time.Time
}

// MaySendAds reports whether a customer may be sent advertising texts
// (campaigns, automations): the latest of their SMS and ads records must
// be a grant. A STOP after an ads grant withdraws; a new grant after a
// STOP restores. No record means no.
func MaySendAds(records []ConsentRecord) bool {
	return latestGrant(records, ConsentSMS, ConsentAds)
}

// Latest returns the latest record of channel, and false when there is none.
func Latest(records []ConsentRecord, channel string) (ConsentRecord, bool) {
	var best ConsentRecord
	found := false
	for _, r := range records {
		if r.Channel == channel && (!found || later(r, best)) {
			best, found = r, true
		}
	}
	return best, found
}

func latestGrant(records []ConsentRecord, channels ...string) bool {
	var best ConsentRecord
	found := false
	for _, r := range records {
		if slices.Contains(channels, r.Channel) && (!found || later(r, best)) {
			best, found = r, true
		}
	}
	return found && best.Granted
}

// later orders records by time, then by the order they were written.
func later(a, b ConsentRecord) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.ID > b.ID
}

// TextVersion names a consent text by its content, so a record proves
// which words were shown: the store keeps every text by this name.
func TextVersion(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:8])
}
