package gwallet

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
)

const notifyOnUpdate = "NOTIFY_ON_UPDATE"

// EnsureClass makes the class exist as given, in its vertical (loyalty,
// offer or gift card): it GETs it, inserts it on 404, and patches it when
// a field we set differs from what Google holds. ReviewStatus always goes
// out as UNDER_REVIEW, on insert and on patch: a patch saying APPROVED
// (what a GET returns once approved) is rejected. The Result's Reason is
// "unchanged", "inserted" or "patched" on success.
func (c *Client) EnsureClass(ctx context.Context, class google.Class) push.Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, err := c.classAPI(class)
	if err != nil {
		return push.Result{Outcome: push.Failed, Reason: err.Error()}
	}
	got, err := api.get(ctx)
	switch {
	case isStatus(err, http.StatusNotFound):
		return withReason(result(api.id, api.insert(ctx)), "inserted")
	case err != nil:
		return result(api.id, err)
	}
	same, err := sameFields(api.want, got, "reviewStatus")
	if err != nil {
		return push.Result{Token: api.id, Outcome: push.Failed, Reason: err.Error()}
	}
	if same {
		return push.Result{Token: api.id, Outcome: push.Delivered, Reason: "unchanged"}
	}
	return withReason(result(api.id, api.patch(ctx)), "patched")
}

// EnsureObject inserts the object, or patches it silently when it exists
// already (409). Use it when issuing a card and before a save link: the
// link's skinny JWT names the object, which must exist by then.
func (c *Client) EnsureObject(ctx context.Context, obj google.Object) push.Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, err := c.objectAPI(obj)
	if err != nil {
		return push.Result{Outcome: push.Failed, Reason: err.Error()}
	}
	api.notify("")
	err = api.insert(ctx)
	if isStatus(err, http.StatusConflict) {
		return withReason(result(api.id, api.patch(ctx)), "patched")
	}
	return withReason(result(api.id, err), "inserted")
}

// PatchObject sends obj (as passes/google builds it: complete) with patch
// semantics. notify decides the ephemeral notifyPreference, which must go
// with every request that is to notify: Visible sends NOTIFY_ON_UPDATE,
// Silent sends none. Google notifies only for allow-listed fields (the
// balance, the tier) and at most 3 times a day per pass; past that it
// answers 403 quotaExceeded, and the update is sent again silently.
//
// A 404 means the object was never inserted (Google never deletes one):
// the object is inserted instead, so the card is right either way. The
// outcome is never Gone: a Wallet object has no token to prune.
func (c *Client) PatchObject(ctx context.Context, obj google.Object, notify Notification) push.Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	api, err := c.objectAPI(obj)
	if err != nil {
		return push.Result{Outcome: push.Failed, Reason: err.Error()}
	}
	api.notify("")
	if notify == Visible {
		api.notify(notifyOnUpdate)
	}
	err = api.patch(ctx)
	switch {
	case isStatus(err, http.StatusNotFound) && api.classID != "":
		api.notify("")
		return withReason(result(api.id, api.insert(ctx)), "inserted after 404")
	case notify == Visible && isNotifyQuota(err):
		api.notify("")
		return withReason(result(api.id, api.patch(ctx)), "quotaExceeded: sent silently")
	}
	return result(api.id, err)
}

// AddMessage adds a message to the object's details screen. Visible sends
// it as TEXT_AND_NOTIFY, which also shows an Android notification and
// counts against the pass's 3 per 24 hours; a 403 quotaExceeded falls back
// to a silent TEXT message.
func (c *Client) AddMessage(ctx context.Context, object google.ObjectRef, header, body string, notify Notification) push.Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg := &walletobjects.Message{Id: newMessageID(), Header: header, Body: body, MessageType: "TEXT"}
	if notify == Visible {
		msg.MessageType = "TEXT_AND_NOTIFY"
	}
	err := c.addMessage(ctx, object, msg)
	if notify == Visible && isNotifyQuota(err) {
		msg.MessageType = "TEXT"
		return withReason(result(object.ID, c.addMessage(ctx, object, msg)), "quotaExceeded: sent silently")
	}
	return result(object.ID, err)
}

// withReason sets the Reason of a delivered result.
func withReason(r push.Result, reason string) push.Result {
	if r.Outcome == push.Delivered {
		r.Reason = reason
	}
	return r
}

// sameFields reports whether every field set in want has the same value
// in got, comparing the JSON both send. Fields only got has (kind, review
// comments, …) and the named top-level fields are ignored.
func sameFields(want, got any, ignore ...string) (bool, error) {
	w, err := generic(want)
	if err != nil {
		return false, err
	}
	g, err := generic(got)
	if err != nil {
		return false, err
	}
	for _, k := range ignore {
		delete(w.(map[string]any), k)
	}
	return subset(w, g), nil
}

func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// subset reports whether want is contained in got: maps key by key,
// slices element by element and of equal length, other values equal.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if !subset(wv, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}
