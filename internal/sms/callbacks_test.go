package sms_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/sms"
)

// The vectors are Twilio's: the webhook-security example of its docs and
// the request-validator tests of twilio-go (auth token "12345").
func TestVerifyTwilioSignature(t *testing.T) {
	params := func(caller string) url.Values {
		return url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {caller}, "Digits": {"1234"},
			"From": {caller}, "To": {"+18005551212"}}
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	tests := []struct {
		name, url, caller, sig string
		want                   bool
	}{
		{"docs example", u, "+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc=", true},
		{"twilio-go example", u, "+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		{"signed with :443, called without", u, "+14158675309", "kvajT1Ptam85bY51eRf/AJRuM3w=", true},
		{"signed without port, called with one", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", "+14158675309",
			"RSOYDt4T1cUTdK1PDd93/VVr8B8=", true},
		{"http signed with :80", "http://mycompany.com/myapp.php?foo=1&bar=2", "+14158675309", "0ZXoZLH/DfblKGATFgpif+LLRf4=", true},
		{"http with its own port", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "+14158675309",
			"Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true},
		{"other parameters", u, "+14158675311", "GvWf1cFY/Q7PnoempGyD5oXAezc=", false},
		{"other query string", "https://mycompany.com/myapp.php?foo=1&bar=3", "+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc=", false},
		{"other scheme", "http://mycompany.com/myapp.php?foo=1&bar=2", "+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc=", false},
		{"garbage", u, "+14158675310", "WRONG SIGNATURE", false},
		{"empty", u, "+14158675310", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sms.VerifyTwilioSignature("12345", tt.url, params(tt.caller), tt.sig); got != tt.want {
				t.Errorf("VerifyTwilioSignature = %v, want %v", got, tt.want)
			}
		})
	}
	if sms.VerifyTwilioSignature("", u, params("+14158675310"), "GvWf1cFY/Q7PnoempGyD5oXAezc=") {
		t.Error("an empty auth token verified a signature")
	}
	if sms.VerifyTwilioSignature("54321", u, params("+14158675310"), "GvWf1cFY/Q7PnoempGyD5oXAezc=") {
		t.Error("another auth token verified the signature")
	}
}

func TestParseTwilioStatus(t *testing.T) {
	tests := []struct {
		status, code string
		want         sms.Status
		kind         sms.ErrorKind // "" when no error is expected
	}{
		{"queued", "", sms.Queued, ""},
		{"sending", "", sms.Queued, ""},
		{"sent", "", sms.Sent, ""},
		{"delivered", "", sms.Delivered, ""},
		{"undelivered", "30003", sms.Undelivered, sms.Transient},
		{"undelivered", "30006", sms.Undelivered, sms.NotMobile},
		{"undelivered", "30007", sms.Undelivered, sms.Permanent},
		{"failed", "21610", sms.Failed, sms.OptedOut},
		{"failed", "30005", sms.Failed, sms.InvalidNumber},
		{"failed", "30002", sms.Failed, sms.Config},
		{"failed", "", sms.Failed, sms.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.status+"/"+tt.code, func(t *testing.T) {
			form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {tt.status}, "To": {ruPhone}}
			if tt.code != "" {
				form.Set("ErrorCode", tt.code)
			}
			d, err := sms.ParseTwilioStatus(form)
			if err != nil {
				t.Fatalf("ParseTwilioStatus: %v", err)
			}
			if d.Provider != "twilio" || d.ProviderID != "SM1" || d.To != ruPhone || d.Status != tt.want {
				t.Errorf("delivery = %+v, want status %s", d, tt.want)
			}
			switch {
			case tt.kind == "" && d.Err != nil:
				t.Errorf("Err = %v, want none", d.Err)
			case tt.kind != "" && (d.Err == nil || d.Err.Kind != tt.kind || d.Err.Code != tt.code):
				t.Errorf("Err = %v, want kind %s code %q", d.Err, tt.kind, tt.code)
			}
		})
	}
	if _, err := sms.ParseTwilioStatus(url.Values{"MessageStatus": {"sent"}}); err == nil {
		t.Error("a callback without MessageSid parsed")
	}
}

func TestParseSMSRuCallback(t *testing.T) {
	form := url.Values{
		"data[0]": {"sms_status\n000000-10000001\n103"},
		"data[1]": {"sms_status\r\n000000-10000002\r\n104\r\n1700000000"}, // CRLF and a trailing line
		"data[2]": {"callcheck_status\n201937-1000048\n401"},              // another record type
		"data[3]": {"sms_status\n000000-10000003"},                        // malformed
		"data[4]": {"sms_status\n000000-10000004\n999"},                   // unknown status
		"data[5]": {"sms_status\n000000-10000005\n108"},
		"other":   {"ignored"},
	}
	got, err := sms.ParseSMSRuCallback(form)
	if err == nil || !strings.Contains(err.Error(), "data[3]") || !strings.Contains(err.Error(), "999") {
		t.Errorf("err = %v, want it to name data[3] and status 999", err)
	}
	want := []sms.Delivery{
		{Provider: "smsru", ProviderID: "000000-10000001", Status: sms.Delivered},
		{Provider: "smsru", ProviderID: "000000-10000002", Status: sms.Undelivered},
		{Provider: "smsru", ProviderID: "000000-10000005", Status: sms.Undelivered},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d deliveries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].ProviderID != want[i].ProviderID || got[i].Status != want[i].Status || got[i].Provider != "smsru" {
			t.Errorf("delivery %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if e := got[1].Err; e == nil || e.Kind != sms.Transient || e.Code != "104" {
		t.Errorf("expired: Err = %v, want transient 104", e)
	}
	if e := got[2].Err; e == nil || e.Kind != sms.Permanent || e.Code != "108" {
		t.Errorf("rejected: Err = %v, want permanent 108", e)
	}
	if _, err := sms.ParseSMSRuCallback(url.Values{}); err == nil {
		t.Error("an empty callback parsed without error")
	}
}

func TestParseSMSCStatus(t *testing.T) {
	tests := []struct {
		status string
		want   sms.Status
		kind   sms.ErrorKind
	}{
		{"-1", sms.Queued, ""},
		{"0", sms.Sent, ""},
		{"1", sms.Delivered, ""},
		{"2", sms.Delivered, ""},
		{"3", sms.Undelivered, sms.Transient},
		{"20", sms.Undelivered, sms.Permanent},
		{"22", sms.Failed, sms.InvalidNumber},
		{"23", sms.Failed, sms.Permanent},
		{"24", sms.Failed, sms.Config},
		{"25", sms.Failed, sms.NotMobile},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			d, err := sms.ParseSMSCStatus(url.Values{"id": {"out-1"}, "phone": {"79123456789"}, "status": {tt.status}, "err": {"0"}})
			if err != nil {
				t.Fatalf("ParseSMSCStatus: %v", err)
			}
			if d.Provider != "smsc" || d.ProviderID != "out-1" || d.To != ruPhone || d.Status != tt.want {
				t.Errorf("delivery = %+v, want status %s", d, tt.want)
			}
			if (tt.kind == "") != (d.Err == nil) || (d.Err != nil && d.Err.Kind != tt.kind) {
				t.Errorf("Err = %v, want kind %q", d.Err, tt.kind)
			}
		})
	}
	for _, form := range []url.Values{{"status": {"1"}}, {"id": {"x"}}, {"id": {"x"}, "status": {"77"}}} {
		if _, err := sms.ParseSMSCStatus(form); err == nil {
			t.Errorf("ParseSMSCStatus(%v) succeeded", form)
		}
	}
}
