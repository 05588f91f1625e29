package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// smsHookStore is what the SMS providers' callbacks need of the database.
type smsHookStore interface {
	RecordDelivery(ctx context.Context, d store.DeliveryReport) error
	OptOutPhone(ctx context.Context, phone string) error
}

// smsHookHandlers take the SMS providers' callbacks: delivery statuses
// and inbound STOP replies.
type smsHookHandlers struct {
	base
	store smsHookStore
	sms   SMSOptions
	// publicURL is what Twilio signed the callback URL with.
	publicURL string
}

func (h *smsHookHandlers) routes(r gin.IRouter) {
	r.POST("/hooks/sms/twilio", h.wrap(h.twilio))
	r.POST("/hooks/sms/smsru/:secret", h.wrap(h.smsru))
	r.POST("/hooks/sms/smsc/:secret", h.wrap(h.smsc))
}

var errForged = &Error{Status: http.StatusUnauthorized, Code: "bad_signature", Message: "the callback's signature does not verify"}

func parseHookForm(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10)
	if err := c.Request.ParseForm(); err != nil {
		return badRequest("bad_form", "", "the callback body is not a form")
	}
	return nil
}

// twilio takes Twilio's StatusCallback and inbound messages, verified
// by X-Twilio-Signature over the public URL and the form.
func (h *smsHookHandlers) twilio(c *gin.Context) error {
	if err := parseHookForm(c); err != nil {
		return err
	}
	url := h.publicURL + c.Request.URL.RequestURI()
	if h.sms.TwilioAuthToken == "" || !sms.VerifyTwilioSignature(h.sms.TwilioAuthToken, url, c.Request.PostForm, c.GetHeader("X-Twilio-Signature")) {
		return errForged
	}
	form := c.Request.PostForm
	if body := form.Get("Body"); body != "" && form.Get("MessageStatus") == "" {
		if sms.IsStopKeyword(body) {
			if e164, err := phone.Normalize(form.Get("From"), "RU"); err == nil {
				if err := h.store.OptOutPhone(c.Request.Context(), e164); err != nil {
					return internal(err)
				}
				h.log.InfoContext(c.Request.Context(), "STOP reply: number opted out", "phone", phone.Mask(e164))
			}
		}
		c.Status(http.StatusNoContent)
		return nil
	}
	d, err := sms.ParseTwilioStatus(form)
	if err != nil {
		return badRequest("bad_callback", "", "%v", err)
	}
	if err := h.store.RecordDelivery(c.Request.Context(), deliveryReport("twilio", d)); err != nil {
		return internal(err)
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (h *smsHookHandlers) smsru(c *gin.Context) error {
	if h.sms.CallbackSecret == "" || !sms.VerifyCallbackToken(h.sms.CallbackSecret, c.Param("secret")) {
		return errForged
	}
	if err := parseHookForm(c); err != nil {
		return err
	}
	ds, err := sms.ParseSMSRuCallback(c.Request.PostForm)
	for _, d := range ds {
		if err := h.store.RecordDelivery(c.Request.Context(), deliveryReport("smsru", d)); err != nil {
			return internal(err)
		}
	}
	if err != nil && len(ds) == 0 {
		return badRequest("bad_callback", "", "%v", err)
	}
	c.String(http.StatusOK, sms.SMSRuCallbackAck) // SMS.ru resends until it reads "100"
	return nil
}

func (h *smsHookHandlers) smsc(c *gin.Context) error {
	if h.sms.CallbackSecret == "" || !sms.VerifyCallbackToken(h.sms.CallbackSecret, c.Param("secret")) {
		return errForged
	}
	if err := parseHookForm(c); err != nil {
		return err
	}
	d, err := sms.ParseSMSCStatus(c.Request.PostForm)
	if err != nil {
		return badRequest("bad_callback", "", "%v", err)
	}
	if err := h.store.RecordDelivery(c.Request.Context(), deliveryReport("smsc", d)); err != nil {
		return internal(err)
	}
	c.Status(http.StatusOK)
	return nil
}

func deliveryReport(provider string, d sms.Delivery) store.DeliveryReport {
	r := store.DeliveryReport{Provider: provider, ProviderID: d.ProviderID, Delivered: d.Status == sms.Delivered,
		Failed: d.Status == sms.Failed || d.Status == sms.Undelivered}
	if d.Err != nil {
		r.Reason = d.Err.Code + " " + d.Err.Message
		r.InvalidNumber = d.Err.Kind == sms.InvalidNumber || d.Err.Kind == sms.NotMobile
		r.OptedOut = d.Err.Kind == sms.OptedOut
	}
	return r
}
