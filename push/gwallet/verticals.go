package gwallet

import (
	"context"
	"fmt"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/passes/google"
)

// classCalls are the REST calls on one class, bound to a copy of it that
// always says UNDER_REVIEW.
type classCalls struct {
	id     string
	want   any
	get    func(ctx context.Context) (any, error)
	insert func(ctx context.Context) error
	patch  func(ctx context.Context) error
}

// objectCalls are the REST calls on one object, bound to a copy of it;
// notify sets the copy's ephemeral notifyPreference.
type objectCalls struct {
	id, classID string
	notify      func(pref string)
	insert      func(ctx context.Context) error
	patch       func(ctx context.Context) error
}

// classAPI binds the calls of the class's vertical.
func (c *Client) classAPI(cl google.Class) (classCalls, error) {
	switch {
	case cl.Loyalty != nil:
		w := *cl.Loyalty
		w.ReviewStatus = google.ReviewStatusUnderReview
		api := c.svc.Loyaltyclass
		return classCalls{id: w.Id, want: &w,
			get:    func(ctx context.Context) (any, error) { return api.Get(w.Id).Context(ctx).Do() },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	case cl.Offer != nil:
		w := *cl.Offer
		w.ReviewStatus = google.ReviewStatusUnderReview
		api := c.svc.Offerclass
		return classCalls{id: w.Id, want: &w,
			get:    func(ctx context.Context) (any, error) { return api.Get(w.Id).Context(ctx).Do() },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	case cl.GiftCard != nil:
		w := *cl.GiftCard
		w.ReviewStatus = google.ReviewStatusUnderReview
		api := c.svc.Giftcardclass
		return classCalls{id: w.Id, want: &w,
			get:    func(ctx context.Context) (any, error) { return api.Get(w.Id).Context(ctx).Do() },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	}
	return classCalls{}, fmt.Errorf("google wallet: empty class")
}

// objectAPI binds the calls of the object's vertical.
func (c *Client) objectAPI(o google.Object) (objectCalls, error) {
	switch {
	case o.Loyalty != nil:
		w := *o.Loyalty
		api := c.svc.Loyaltyobject
		return objectCalls{id: w.Id, classID: w.ClassId, notify: func(p string) { w.NotifyPreference = p },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	case o.Offer != nil:
		w := *o.Offer
		api := c.svc.Offerobject
		return objectCalls{id: w.Id, classID: w.ClassId, notify: func(p string) { w.NotifyPreference = p },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	case o.GiftCard != nil:
		w := *o.GiftCard
		api := c.svc.Giftcardobject
		return objectCalls{id: w.Id, classID: w.ClassId, notify: func(p string) { w.NotifyPreference = p },
			insert: func(ctx context.Context) error { _, err := api.Insert(&w).Context(ctx).Do(); return err },
			patch:  func(ctx context.Context) error { _, err := api.Patch(w.Id, &w).Context(ctx).Do(); return err },
		}, nil
	}
	return objectCalls{}, fmt.Errorf("google wallet: empty object")
}

// addMessage adds msg to the object ref names, in its vertical.
func (c *Client) addMessage(ctx context.Context, ref google.ObjectRef, msg *walletobjects.Message) error {
	req := &walletobjects.AddMessageRequest{Message: msg}
	var err error
	switch ref.Vertical {
	case google.VerticalOffer:
		_, err = c.svc.Offerobject.Addmessage(ref.ID, req).Context(ctx).Do()
	case google.VerticalGiftCard:
		_, err = c.svc.Giftcardobject.Addmessage(ref.ID, req).Context(ctx).Do()
	case google.VerticalLoyalty, "":
		_, err = c.svc.Loyaltyobject.Addmessage(ref.ID, req).Context(ctx).Do()
	default:
		err = fmt.Errorf("google wallet: unknown vertical %q", ref.Vertical)
	}
	return err
}
