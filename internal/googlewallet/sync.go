package googlewallet

import (
	"context"
	"errors"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/gwallet"
)

// SyncCard brings the card's Google object up to date with the card: it
// PATCHes the object when the card or its program changed (and the class
// first, when the program did), and turns a new lock-screen message into
// a Wallet message. A card without an object needs nothing.
//
// A balance or tier change notifies while the pass has notifications left
// (gwallet.NotifyQuota over the times stored), and goes out silently
// beyond; so does a message. The Result says whether to retry; err is a
// failure of the store.
func (s *Service) SyncCard(ctx context.Context, serial string) (push.Result, error) {
	done := push.Result{Token: serial, Outcome: push.Delivered}
	have, err := s.store.GoogleObject(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		done.Reason = "no google object"
		return done, nil
	}
	if err != nil {
		return push.Result{}, err
	}
	card, err := s.store.CardBySerial(ctx, serial)
	if err != nil {
		return push.Result{}, err
	}
	v, err := s.view(ctx, card)
	if err != nil {
		return push.Result{}, err
	}
	needPatch := have.CardVersion < card.Version || have.ProgramVersion < v.prog.Version
	needMessage := have.Message != card.Message
	if !needPatch && !needMessage {
		done.Reason = "current"
		return done, nil
	}
	if r, err := s.ensureClass(ctx, v); err != nil || r.Outcome != push.Delivered {
		return r, err
	}
	obj, err := s.issuer.Object(v.program, v.card)
	if err != nil {
		return push.Result{Token: serial, Outcome: push.Failed, Reason: err.Error()}, nil
	}
	if needMessage {
		// The object shows the current message only, as the Apple pass
		// does: the old ones go, and Wallet's 10 never fill up.
		obj.AddNullFields("Messages")
	}
	sent, err := s.store.GoogleNotifications(ctx, serial, s.now().Add(-s.window()))
	if err != nil {
		return push.Result{}, err
	}
	notify := gwallet.Silent
	if have.Balance != v.card.Balance || have.Tier != v.card.Tier {
		notify = s.quota.Decide(sent)
	}
	r := s.client.PatchObject(ctx, obj, notify)
	if r.Outcome != push.Delivered {
		return r, nil
	}
	var notified time.Time
	if notify == gwallet.Visible && r.Reason == "" { // not a silent fallback
		notified = s.now()
		sent = append(sent, notified)
	}
	// Until the message is added, Google shows the card without one.
	message := have.Message
	if needMessage {
		message = ""
	}
	if err := s.store.SaveGoogleObject(ctx, v.state(have.ObjectID, message), notified); err != nil {
		return push.Result{}, err
	}
	s.log.DebugContext(ctx, "google object patched", "serial", serial, "version", card.Version,
		"notify", notify == gwallet.Visible, "how", r.Reason)
	if !needMessage || card.Message == "" {
		return r, nil
	}
	notify = s.quota.Decide(sent)
	ref := google.ObjectRef{Vertical: google.Vertical(v.program), ID: have.ObjectID}
	r = s.client.AddMessage(ctx, ref, v.messageHeader(), card.Message, notify)
	if r.Outcome != push.Delivered {
		return r, nil
	}
	notified = time.Time{}
	if notify == gwallet.Visible && r.Reason == "" {
		notified = s.now()
	}
	return r, s.store.SaveGoogleObject(ctx, v.state(have.ObjectID, card.Message), notified)
}

func (s *Service) window() time.Duration {
	if s.quota.Window > 0 {
		return s.quota.Window
	}
	return gwallet.DefaultNotifyWindow
}
