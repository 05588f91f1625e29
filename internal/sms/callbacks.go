package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Delivery is one delivery report from a provider's callback.
type Delivery struct {
	Provider   string
	ProviderID string
	// To is the recipient in E.164 when the callback names it (Twilio,
	// SMSC); SMS.ru's callback does not.
	To     string
	Status Status
	// Err says why, for Failed and Undelivered.
	Err *Error
}

// VerifyTwilioSignature reports whether signature (the X-Twilio-Signature
// header) was made by Twilio for a form-encoded POST to fullURL: the public
// URL Twilio called, scheme, host and query string included, as Twilio saw
// it (rebuild it behind a proxy). Twilio signs HMAC-SHA1(authToken, URL +
// each parameter name followed by its value, names sorted), Base64. Like
// Twilio's own libraries, the URL is tried with and without its default
// port, since Twilio is not consistent about it. Status callbacks are
// form-encoded; JSON webhooks (bodySHA256) are not handled here.
func VerifyTwilioSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	got := []byte(signature)
	ok := false
	for _, u := range portVariants(fullURL) {
		// Compare every variant, so timing does not tell which one matched.
		if hmac.Equal([]byte(twilioSignature(authToken, u, form)), got) {
			ok = true
		}
	}
	return ok
}

// twilioSignature computes the signature Twilio sends. A repeated name
// contributes each distinct value, sorted, as Twilio's helper libraries do.
func twilioSignature(authToken, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range slices.Sorted(maps.Keys(form)) {
		vals := slices.Clone(form[k])
		slices.Sort(vals)
		for _, v := range slices.Compact(vals) {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// portVariants returns rawURL as given and with its port toggled: added
// (443 or 80) when absent, removed when present. The rest of the URL is
// kept byte for byte, since re-encoding it would change the signature.
func portVariants(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return []string{rawURL}
	}
	start := strings.Index(rawURL, "://")
	if start < 0 {
		return []string{rawURL}
	}
	start += 3
	end := start + strings.IndexAny(rawURL[start:]+"/", "/?#")
	host := rawURL[start:end]
	if at := strings.LastIndex(host, "@"); at >= 0 {
		start += at + 1
		host = host[at+1:]
	}
	toggled := host + ":443"
	switch {
	case u.Port() != "":
		toggled = u.Hostname()
		if strings.Contains(toggled, ":") {
			toggled = "[" + toggled + "]"
		}
	case u.Scheme == "http":
		toggled = host + ":80"
	}
	return []string{rawURL, rawURL[:start] + toggled + rawURL[end:]}
}

// ParseTwilioStatus reads a Twilio StatusCallback form (MessageSid,
// MessageStatus, ErrorCode). Verify the signature first.
func ParseTwilioStatus(form url.Values) (Delivery, error) {
	d := Delivery{Provider: "twilio", ProviderID: form.Get("MessageSid"), To: form.Get("To")}
	raw := form.Get("MessageStatus")
	if d.ProviderID == "" || raw == "" {
		return Delivery{}, errors.New("twilio status callback: MessageSid and MessageStatus are required")
	}
	d.Status = twilioStatus(raw)
	if d.Status == Failed || d.Status == Undelivered {
		d.Err = twilioError(0, form.Get("ErrorCode"), form.Get("ErrorMessage"))
	}
	return d, nil
}

// SMSRuCallbackAck is the body SMS.ru expects from a callback handler;
// without it SMS.ru treats the handler as broken and sends again.
const SMSRuCallbackAck = "100"

// ParseSMSRuCallback reads an SMS.ru callback: a POST whose data[] fields
// each hold one record, lines separated by "\n": the record type, then for
// "sms_status" the sms_id and the status code. Records of other types are
// skipped. The deliveries it understood are returned even when others were
// malformed, with an error naming those; answer SMSRuCallbackAck either way
// so SMS.ru does not resend the batch.
func ParseSMSRuCallback(form url.Values) ([]Delivery, error) {
	var out []Delivery
	var errs []error
	seen := false
	for _, k := range slices.Sorted(maps.Keys(form)) {
		if k != "data" && !strings.HasPrefix(k, "data[") {
			continue
		}
		for _, rec := range form[k] {
			seen = true
			lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(rec), "\r\n", "\n"), "\n")
			if lines[0] != "sms_status" {
				continue
			}
			if len(lines) < 3 || lines[1] == "" {
				errs = append(errs, fmt.Errorf("smsru callback %s: want type, sms_id and status lines, got %q", k, rec))
				continue
			}
			id, code := strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
			st, e, ok := smsruDelivery(code)
			if !ok {
				errs = append(errs, fmt.Errorf("smsru callback %s: sms %s: unknown status %q", k, id, code))
				continue
			}
			out = append(out, Delivery{Provider: "smsru", ProviderID: id, Status: st, Err: e})
		}
	}
	if !seen {
		errs = append(errs, errors.New("smsru callback: no data[] records"))
	}
	return out, errors.Join(errs...)
}

// ParseSMSCStatus reads an SMSC status callback (fields id, phone, status
// and err). SMSC identifies a message by id and phone together.
func ParseSMSCStatus(form url.Values) (Delivery, error) {
	id, ph, code := form.Get("id"), form.Get("phone"), strings.TrimSpace(form.Get("status"))
	if id == "" || code == "" {
		return Delivery{}, errors.New("smsc status callback: id and status are required")
	}
	st, e, ok := smscDelivery(code)
	if !ok {
		return Delivery{}, fmt.Errorf("smsc status callback: message %s: unknown status %q", id, code)
	}
	if e != nil && form.Get("err") != "" {
		e.Message += " (err " + form.Get("err") + ")"
	}
	d := Delivery{Provider: "smsc", ProviderID: id, Status: st, Err: e}
	if ph = strings.TrimPrefix(ph, "+"); ph != "" {
		d.To = "+" + ph
	}
	return d, nil
}

// VerifyCallbackToken compares the secret we put in the callback URL we
// registered with SMS.ru or SMSC against the one a callback arrived with.
// Neither provider's callback carries a signature the reference confirms,
// so a long random token in the URL (served over https only) is what proves
// the caller knows our configuration. Empty tokens never match.
func VerifyCallbackToken(want, got string) bool {
	if want == "" || got == "" {
		return false
	}
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return hmac.Equal(w[:], g[:])
}

// stopWords are the opt-out keywords: Twilio's (STOP, STOPALL,
// UNSUBSCRIBE, CANCEL, END, QUIT) and their Russian counterparts.
var stopWords = map[string]bool{
	"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true,
	"СТОП": true, "ОТПИСКА": true, "ОТПИСАТЬСЯ": true,
}

// IsStopKeyword reports whether an inbound text is an opt-out: one keyword,
// any case, surrounded by spaces or followed by "." or "!" at most. Like
// Twilio, a keyword inside a sentence ("please stop") does not count.
func IsStopKeyword(text string) bool {
	t := strings.TrimRight(strings.TrimSpace(text), ".! ")
	return stopWords[strings.ToUpper(t)]
}
