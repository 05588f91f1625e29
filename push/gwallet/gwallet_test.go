package gwallet

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
)

const (
	classPath  = "/walletobjects/v1/loyaltyClass"
	objectPath = "/walletobjects/v1/loyaltyObject"
)

func TestFirstUseInsertsClassAndObject(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := context.Background()
	cls := class(t, program())
	if r := c.EnsureClass(ctx, cls); r.Outcome != push.Delivered || r.Reason != "inserted" || r.Token != cls.ID() {
		t.Fatalf("EnsureClass = %+v", r)
	}
	obj := object(t, 120)
	if r := c.EnsureObject(ctx, obj); r.Outcome != push.Delivered || r.Reason != "inserted" {
		t.Fatalf("EnsureObject = %+v", r)
	}

	reqs := srv.Requests()
	want := []call{{"GET", classPath + "/" + cls.ID()}, {"POST", classPath}, {"POST", objectPath}}
	if got := calls(reqs); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if q := reqs[1].Query; q.Get("alt") != "json" || q.Get("prettyPrint") != "false" {
		t.Errorf("query = %v", q)
	}
	if rs := reqs[1].JSON()["reviewStatus"]; rs != "UNDER_REVIEW" {
		t.Errorf("class inserted with reviewStatus %v", rs)
	}
	stored, ok := srv.Object(obj.Ref().ID)
	if !ok {
		t.Fatal("object not stored")
	}
	if b := stored["loyaltyPoints"].(map[string]any)["balance"]; b.(map[string]any)["int"] != float64(120) {
		t.Errorf("stored balance = %v", b)
	}
}

func TestEnsureClassPatchesOnlyChanges(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := context.Background()
	p := program()
	c.EnsureClass(ctx, class(t, p))
	if st, _ := srv.Class(issuerID + "." + p.ID); st["reviewStatus"] != "APPROVED" {
		t.Fatalf("fake did not approve: %v", st["reviewStatus"])
	}
	before := len(srv.Requests())

	// The GET answers APPROVED and kind fields we never sent: still unchanged.
	if r := c.EnsureClass(ctx, class(t, p)); r.Outcome != push.Delivered || r.Reason != "unchanged" {
		t.Fatalf("second EnsureClass = %+v", r)
	}
	p.Name = "Зерно Плюс"
	if r := c.EnsureClass(ctx, class(t, p)); r.Outcome != push.Delivered || r.Reason != "patched" {
		t.Fatalf("EnsureClass after rename = %+v", r)
	}
	reqs := srv.Requests()[before:]
	want := []call{{"GET", classPath + "/" + issuerID + "." + p.ID}, {"GET", classPath + "/" + issuerID + "." + p.ID},
		{"PATCH", classPath + "/" + issuerID + "." + p.ID}}
	if got := calls(reqs); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if body := reqs[2].JSON(); body["reviewStatus"] != "UNDER_REVIEW" || body["programName"] != "Зерно Плюс" {
		t.Errorf("patch body reviewStatus=%v programName=%v", body["reviewStatus"], body["programName"])
	}
}

func TestEnsureObjectPatchesOnConflict(t *testing.T) {
	c, srv := newTestClient(t)
	objectID, seen := insertBoth(t, c, srv)
	if r := c.EnsureObject(context.Background(), object(t, 7)); r.Outcome != push.Delivered || r.Reason != "patched" {
		t.Fatalf("EnsureObject = %+v", r)
	}
	want := []call{{"POST", objectPath}, {"PATCH", objectPath + "/" + objectID}}
	if got := calls(srv.Requests()[seen:]); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

func TestPatchObjectCarriesBalance(t *testing.T) {
	for _, tt := range []struct {
		name    string
		balance int64
		notify  Notification
	}{
		{"new balance, notified", 250, Visible},
		{"zero balance, silent", 0, Silent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newTestClient(t)
			objectID, seen := insertBoth(t, c, srv)
			r := c.PatchObject(context.Background(), object(t, tt.balance), tt.notify)
			if r.Outcome != push.Delivered || r.Token != objectID {
				t.Fatalf("PatchObject = %+v", r)
			}
			reqs := srv.Requests()[seen:]
			if got := calls(reqs); len(got) != 1 || got[0] != (call{"PATCH", objectPath + "/" + objectID}) {
				t.Fatalf("calls = %v", got)
			}
			raw := string(reqs[0].Body)
			if want := `"balance":{"int":` + strconv.FormatInt(tt.balance, 10) + `}`; !strings.Contains(raw, want) {
				t.Errorf("PATCH body lacks %s: %s", want, raw)
			}
			np, has := reqs[0].JSON()["notifyPreference"]
			if (tt.notify == Visible) != (has && np == "NOTIFY_ON_UPDATE") {
				t.Errorf("notifyPreference = %v (present %v) for %v", np, has, tt.notify)
			}
			stored, _ := srv.Object(objectID)
			if b := stored["loyaltyPoints"].(map[string]any)["balance"].(map[string]any); b["int"] != float64(tt.balance) {
				t.Errorf("stored balance = %v", b)
			}
		})
	}
}

func TestPatchClearsLostTier(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := context.Background()
	c.EnsureClass(ctx, class(t, program()))
	gold := card(10)
	gold.Tier = "Gold"
	lo, _ := issuer.LoyaltyObject(program(), gold)
	o := google.Object{Loyalty: lo}
	c.EnsureObject(ctx, o)
	if st, _ := srv.Object(lo.Id); st["secondaryLoyaltyPoints"] == nil {
		t.Fatal("tier not stored")
	}
	if r := c.PatchObject(ctx, object(t, 10), Silent); r.Outcome != push.Delivered {
		t.Fatalf("PatchObject = %+v", r)
	}
	if st, _ := srv.Object(lo.Id); st["secondaryLoyaltyPoints"] != nil {
		t.Errorf("tier still on the card: %v", st["secondaryLoyaltyPoints"])
	}
}

func TestPatchObjectInsertsMissingObject(t *testing.T) {
	c, srv := newTestClient(t)
	c.EnsureClass(context.Background(), class(t, program()))
	seen := len(srv.Requests())
	obj := object(t, 5)
	if r := c.PatchObject(context.Background(), obj, Visible); r.Outcome != push.Delivered || r.Reason != "inserted after 404" {
		t.Fatalf("PatchObject = %+v", r)
	}
	want := []call{{"PATCH", objectPath + "/" + obj.Ref().ID}, {"POST", objectPath}}
	if got := calls(srv.Requests()[seen:]); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

func TestFailureOutcomes(t *testing.T) {
	for _, tt := range []struct {
		code   int
		want   push.Outcome
		reason string
	}{
		{http.StatusServiceUnavailable, push.Retry, "HTTP 503 backendError"},
		{http.StatusTooManyRequests, push.Retry, "HTTP 429 rateLimitExceeded"},
		{http.StatusInternalServerError, push.Retry, "HTTP 500"},
		{http.StatusBadRequest, push.Failed, "HTTP 400"},
		{http.StatusForbidden, push.Failed, "HTTP 403"},
	} {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			c, srv := newTestClient(t)
			objectID, _ := insertBoth(t, c, srv)
			srv.FailNext(1, tt.code)
			r := c.PatchObject(context.Background(), object(t, 42), Silent)
			if r.Outcome != tt.want || !strings.HasPrefix(r.Reason, tt.reason) || r.Token != objectID {
				t.Fatalf("PatchObject = %+v, want %v %q", r, tt.want, tt.reason)
			}
			// The failure was one answer only: the retry goes through.
			if r := c.PatchObject(context.Background(), object(t, 42), Silent); r.Outcome != push.Delivered {
				t.Fatalf("retry = %+v", r)
			}
		})
	}
}

func TestAddMessageFallsBackToSilentPastQuota(t *testing.T) {
	c, srv := newTestClient(t)
	objectID, seen := insertBoth(t, c, srv)
	for i := range 4 {
		r := c.AddMessage(context.Background(), google.ObjectRef{Vertical: google.VerticalLoyalty, ID: objectID}, "Двойные баллы", "Только сегодня", Visible)
		if r.Outcome != push.Delivered {
			t.Fatalf("message %d: %+v", i+1, r)
		}
		if i == 3 && r.Reason != "quotaExceeded: sent silently" {
			t.Errorf("4th message reason = %q", r.Reason)
		}
	}
	var types []string
	for _, req := range srv.Requests()[seen:] {
		types = append(types, req.JSON()["message"].(map[string]any)["messageType"].(string))
	}
	want := []string{"TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT_AND_NOTIFY", "TEXT"}
	if !slices.Equal(types, want) {
		t.Errorf("message types = %v, want %v", types, want)
	}
	stored, _ := srv.Object(objectID)
	if n := len(stored["messages"].([]any)); n != 4 || srv.Notified(objectID) != 3 {
		t.Errorf("stored %d messages, %d notified", n, srv.Notified(objectID))
	}
}
