package sms_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/sms/smstest"
)

// callbackApp is a stand-in for our HTTP API: handlers that check a
// callback's credentials the way production must, parse it and hand the
// deliveries over.
type callbackApp struct {
	srv        *httptest.Server
	deliveries chan sms.Delivery
}

const callbackToken = "9b1f0c6e2d7a4f5c8e3b"

func newCallbackApp(t *testing.T, twilioToken string) *callbackApp {
	t.Helper()
	app := &callbackApp{deliveries: make(chan sms.Delivery, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms/twilio/status", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		// Behind a proxy this is the public scheme and host, rebuilt.
		public := app.srv.URL + r.URL.RequestURI()
		if !sms.VerifyTwilioSignature(twilioToken, public, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		d, err := sms.ParseTwilioStatus(r.PostForm)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		app.deliveries <- d
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sms/smsru/callback", func(w http.ResponseWriter, r *http.Request) {
		if !sms.VerifyCallbackToken(callbackToken, r.URL.Query().Get("token")) {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		_ = r.ParseForm()
		ds, err := sms.ParseSMSRuCallback(r.PostForm)
		if err != nil {
			t.Logf("smsru callback: %v", err) // logged, and still acknowledged
		}
		for _, d := range ds {
			app.deliveries <- d
		}
		_, _ = w.Write([]byte(sms.SMSRuCallbackAck))
	})
	mux.HandleFunc("POST /sms/smsc/status", func(w http.ResponseWriter, r *http.Request) {
		if !sms.VerifyCallbackToken(callbackToken, r.URL.Query().Get("token")) {
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		_ = r.ParseForm()
		d, err := sms.ParseSMSCStatus(r.PostForm)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		app.deliveries <- d
		_, _ = w.Write([]byte("OK"))
	})
	app.srv = httptest.NewServer(mux)
	t.Cleanup(app.srv.Close)
	return app
}

func (a *callbackApp) next(t *testing.T) sms.Delivery {
	t.Helper()
	select {
	case d := <-a.deliveries:
		return d
	default:
		t.Fatal("no delivery reached the handler")
		return sms.Delivery{}
	}
}

func TestTwilioStatusCallback(t *testing.T) {
	app := newCallbackApp(t, token)
	p, fake := newTwilio(t, nil)
	callback := app.srv.URL + "/sms/twilio/status?merchant=7&msg=out-1"
	res, err := p.Send(context.Background(), sms.Message{ID: "out-1", To: ruPhone, Text: ruText, StatusCallback: callback})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ctx := context.Background()

	status, err := fake.SendStatus(ctx, res.ProviderID, "undelivered", "30003")
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("SendStatus = %d, %v; want 204", status, err)
	}
	d := app.next(t)
	if d.ProviderID != res.ProviderID || d.To != ruPhone || d.Status != sms.Undelivered || d.Err == nil || d.Err.Kind != sms.Transient {
		t.Errorf("delivery = %+v, err %v", d, d.Err)
	}
	if status, err := fake.SendStatus(ctx, res.ProviderID, "delivered", ""); err != nil || status != http.StatusNoContent {
		t.Fatalf("SendStatus = %d, %v; want 204", status, err)
	}
	if d := app.next(t); d.Status != sms.Delivered || d.Err != nil {
		t.Errorf("delivery = %+v", d)
	}
}

func TestTwilioForgedCallbackRefused(t *testing.T) {
	app := newCallbackApp(t, token)
	target := app.srv.URL + "/sms/twilio/status?merchant=7"
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "AccountSid": {sid}}
	tests := map[string]struct {
		form url.Values
		sig  string
	}{
		"no signature":        {form, ""},
		"another auth token":  {form, smstest.Sign("guessed-token", target, form)},
		"another URL":         {form, smstest.Sign(token, app.srv.URL+"/sms/twilio/status?merchant=8", form)},
		"tampered parameters": {url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "AccountSid": {sid}}, smstest.Sign(token, target, form)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.sig != "" {
				req.Header.Set("X-Twilio-Signature", tt.sig)
			}
			resp, err := app.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
		})
	}
	if len(app.deliveries) != 0 {
		t.Errorf("%d forged deliveries got through", len(app.deliveries))
	}
}

func TestSMSRuCallback(t *testing.T) {
	app := newCallbackApp(t, token)
	p, fake := newSMSRu(t, nil)
	res, err := p.Send(context.Background(), sms.Message{ID: "out-1", To: ruPhone, Text: ruText})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ctx := context.Background()
	target := app.srv.URL + "/sms/smsru/callback?token=" + callbackToken
	status, body, err := fake.SendCallback(ctx, target,
		smstest.SMSRuStatus{SMSID: res.ProviderID, Code: "102"}, smstest.SMSRuStatus{SMSID: res.ProviderID, Code: "103"})
	if err != nil || status != http.StatusOK || body != "100" {
		t.Fatalf("SendCallback = %d %q, %v; want 200 \"100\"", status, body, err)
	}
	if d := app.next(t); d.ProviderID != res.ProviderID || d.Status != sms.Sent {
		t.Errorf("first delivery = %+v, want sent", d)
	}
	if d := app.next(t); d.ProviderID != res.ProviderID || d.Status != sms.Delivered {
		t.Errorf("second delivery = %+v, want delivered", d)
	}
	status, _, err = fake.SendCallback(ctx, app.srv.URL+"/sms/smsru/callback?token=guess", smstest.SMSRuStatus{SMSID: "x", Code: "103"})
	if err != nil || status != http.StatusForbidden {
		t.Errorf("callback with a wrong token: %d, %v; want 403", status, err)
	}
}

func TestSMSCStatusCallback(t *testing.T) {
	app := newCallbackApp(t, token)
	p, fake := newSMSC(t, nil)
	res, err := p.Send(context.Background(), sms.Message{ID: "out-7", To: ruPhone, Text: ruText})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ctx := context.Background()
	target := app.srv.URL + "/sms/smsc/status?token=" + callbackToken
	status, _, err := fake.SendStatus(ctx, target, smstest.SMSCStatus{ID: res.ProviderID, Phone: "79123456789", Status: 22, Err: 1})
	if err != nil || status != http.StatusOK {
		t.Fatalf("SendStatus = %d, %v; want 200", status, err)
	}
	d := app.next(t)
	if d.ProviderID != "out-7" || d.To != ruPhone || d.Status != sms.Failed || d.Err == nil || d.Err.Kind != sms.InvalidNumber {
		t.Errorf("delivery = %+v, err %v", d, d.Err)
	}
	status, _, err = fake.SendStatus(ctx, app.srv.URL+"/sms/smsc/status", smstest.SMSCStatus{ID: "out-7", Phone: "79123456789", Status: 1})
	if err != nil || status != http.StatusForbidden {
		t.Errorf("callback without the token: %d, %v; want 403", status, err)
	}
}
