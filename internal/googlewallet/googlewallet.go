// Package googlewallet keeps each card's Google Wallet object in step with
// the store, in the vertical its program's kind maps to: a loyalty object
// for points, stamps and discount cards, an offer for a coupon, a gift
// card for a gift certificate. A customer's first save link inserts the program's class and
// the card's object (so the link's JWT names the object only and stays
// short); from then on every change of the card is PATCHed onto the
// object, visibly while the pass has notifications left of Google's 3 a
// day and silently beyond, and the card's lock-screen message becomes a
// Wallet message.
//
// What Google shows of a card is recorded in the store (google_objects),
// so a sync sends only what changed and a restart forgets nothing. The
// delivery worker calls SyncCard for each changed card; the API calls
// SaveURL when a customer asks for the card.
package googlewallet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/api/walletobjects/v1"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/gwallet"
)

// CallbackPath is where Google posts the signed save and delete callbacks
// of our classes (the class's callbackOptions.url is PublicURL + it).
const CallbackPath = "/hooks/google"

// Errors of SaveURL, for the API to answer with.
var (
	// ErrUnavailable: Google did not answer or asked us to back off.
	ErrUnavailable = errors.New("google wallet is unavailable")
	// ErrRefused: Google refused the class or the object for good.
	ErrRefused = errors.New("google wallet refused the card")
)

// Store is what the service needs of the database.
type Store interface {
	Merchant(ctx context.Context, id string) (store.Merchant, error)
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	CardBySerial(ctx context.Context, serial string) (loyalty.Card, error)
	GoogleObject(ctx context.Context, serial string) (store.GoogleObject, error)
	SaveGoogleObject(ctx context.Context, o store.GoogleObject, notified time.Time) error
	GoogleNotifications(ctx context.Context, serial string, since time.Time) ([]time.Time, error)
	GoogleClassVersion(ctx context.Context, classID string) (int64, error)
	SaveGoogleClass(ctx context.Context, classID, programID string, programVersion int64) error
}

// aggregates joins the store aggregates the Google Wallet service reads and writes.
type aggregates struct {
	*store.MerchantStore
	*store.ProgramStore
	*store.CardStore
	*store.DeviceStore
}

// StoreOf returns the Store of the Google Wallet service on the database st.
func StoreOf(st *store.Store) Store {
	return aggregates{st.Merchants(), st.Programs(), st.Cards(), st.Devices()}
}

// Client is the Wallet REST API (push/gwallet.Client), for classes and
// objects of every vertical.
type Client interface {
	EnsureClass(ctx context.Context, class google.Class) push.Result
	EnsureObject(ctx context.Context, obj google.Object) push.Result
	PatchObject(ctx context.Context, obj google.Object, notify gwallet.Notification) push.Result
	AddMessage(ctx context.Context, object google.ObjectRef, header, body string, notify gwallet.Notification) push.Result
}

// Options configures a Service.
type Options struct {
	Store  Store
	Client Client
	// Key signs save links; its IssuerID prefixes every class and object.
	Key *google.ServiceAccount
	// PublicURL is this server's public base URL: Google fetches program
	// logos from it and posts callbacks to PublicURL + CallbackPath.
	PublicURL string
	// Origins are the web origins allowed to show a save button (the
	// JWT's origins); none is fine for plain links.
	Origins []string
	// NotifyLimit and NotifyWindow override Google's 3 per 24 hours.
	NotifyLimit  int
	NotifyWindow time.Duration
	// Referrals, when set, puts the card's referral link in its object,
	// as on the Apple pass's back.
	Referrals *cardpass.Referrals
	Now       func() time.Time
	Log       *slog.Logger
}

// Service inserts, patches and links the Google objects of cards.
type Service struct {
	store     Store
	client    Client
	key       *google.ServiceAccount
	issuer    google.Issuer
	origins   []string
	quota     gwallet.NotifyQuota
	referrals *cardpass.Referrals
	now       func() time.Time
	log       *slog.Logger
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Client == nil {
		return nil, errors.New("google wallet: store and client are required")
	}
	if opts.Key == nil || opts.Key.Key == nil {
		return nil, errors.New("google wallet: a service account key is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	public := strings.TrimRight(opts.PublicURL, "/")
	return &Service{store: opts.Store, client: opts.Client, key: opts.Key, origins: opts.Origins, now: opts.Now,
		referrals: opts.Referrals,
		issuer:    google.Issuer{ID: opts.Key.IssuerID, PublicURL: public, CallbackURL: public + CallbackPath},
		quota:     gwallet.NotifyQuota{Limit: opts.NotifyLimit, Window: opts.NotifyWindow, Now: opts.Now},
		log:       opts.Log.With("component", "googlewallet")}, nil
}

// IssuerID is the issuer every class and object belongs to.
func (s *Service) IssuerID() string { return s.issuer.ID }

// SaveURL returns the "Add to Google Wallet" link of a card. On the card's
// first link it inserts the program's class and the card's object; the
// link's JWT then names the object only, which keeps the URL well under
// Google's 1800 characters. The link is signed now, so serve it by
// redirect rather than storing it.
func (s *Service) SaveURL(ctx context.Context, card loyalty.Card) (string, error) {
	objectID, err := s.issuer.ObjectID(card.SerialNumber)
	if err != nil {
		return "", err
	}
	o, err := s.store.GoogleObject(ctx, card.SerialNumber)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && o.ObjectID != objectID:
		// Never inserted (or under another issuer): insert it now.
		if err := s.insert(ctx, card, objectID); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	// An object that exists but lags behind the card is the delivery
	// worker's to patch; the link only needs it to exist.
	prog, err := s.store.Program(ctx, card.MerchantID, card.ProgramID)
	if err != nil {
		return "", fmt.Errorf("load program of card %s: %w", card.SerialNumber, err)
	}
	ref := google.ObjectRef{Vertical: verticalOf(prog), ID: objectID}
	return google.SaveURL(s.key, []google.ObjectRef{ref}, s.origins, s.now())
}

// verticalOf is the Google pass type of a program's cards.
func verticalOf(p loyalty.Program) string {
	return google.Vertical(passes.Program{Kind: p.KindOf()})
}

// insert makes sure Google holds the card's class and object, the object
// as the card is now, and records it.
func (s *Service) insert(ctx context.Context, card loyalty.Card, objectID string) error {
	v, err := s.view(ctx, card)
	if err != nil {
		return err
	}
	if err := failure(s.ensureClass(ctx, v)); err != nil {
		return err
	}
	obj, err := s.issuer.Object(v.program, v.card)
	if err != nil {
		return err
	}
	if card.Message != "" {
		obj.SetMessages([]*walletobjects.Message{{Id: messageID(), Header: v.messageHeader(),
			Body: card.Message, MessageType: "TEXT"}})
	}
	r := s.client.EnsureObject(ctx, obj)
	if err := failure(r, nil); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "google object inserted", "serial", card.SerialNumber, "how", r.Reason)
	if err := s.store.SaveGoogleObject(ctx, v.state(objectID, card.Message), time.Time{}); err != nil {
		return err
	}
	// A change committed while we inserted found no object to patch: catch
	// up now, or the object would wait for the card's next change.
	if r, err := s.SyncCard(ctx, card.SerialNumber); err != nil || r.Outcome != push.Delivered {
		s.log.WarnContext(ctx, "google object inserted but not caught up", "serial", card.SerialNumber,
			"reason", r.Reason, "err", err)
	}
	return nil
}

// view is a card and its program as the pass domain sees them.
type view struct {
	stored  loyalty.Card
	prog    loyalty.Program
	program passes.Program
	card    passes.Card
	classID string
}

func (s *Service) view(ctx context.Context, card loyalty.Card) (view, error) {
	prog, err := s.store.Program(ctx, card.MerchantID, card.ProgramID)
	if err != nil {
		return view{}, fmt.Errorf("load program of card %s: %w", card.SerialNumber, err)
	}
	m, err := s.store.Merchant(ctx, card.MerchantID)
	if err != nil {
		return view{}, fmt.Errorf("load merchant of card %s: %w", card.SerialNumber, err)
	}
	classID, err := s.issuer.ClassID(prog.ID)
	if err != nil {
		return view{}, err
	}
	v := view{stored: card, prog: prog, program: cardpass.ProgramFor(m, prog, nil),
		card: cardpass.CardFor(card, prog), classID: classID}
	if f, ok, err := s.referrals.Field(ctx, card, prog); err != nil {
		return view{}, err
	} else if ok {
		v.card.BackFields = append(v.card.BackFields, f)
	}
	return v, nil
}

// state is what Google shows once the object is as v's card is now and
// carries message.
func (v view) state(objectID, message string) store.GoogleObject {
	return store.GoogleObject{Serial: v.stored.SerialNumber, ObjectID: objectID, ClassID: v.classID,
		CardVersion: v.stored.Version, ProgramVersion: v.prog.Version, Balance: v.card.Balance,
		Tier: v.card.Tier, Message: message}
}

// messageHeader heads a Wallet message: the program's name, which is what
// the customer knows the card by.
func (v view) messageHeader() string {
	if v.program.Name != "" {
		return v.program.Name
	}
	return v.program.OrganizationName
}

// ensureClass sends the program's class unless Google already holds it
// at the program's current version.
func (s *Service) ensureClass(ctx context.Context, v view) (push.Result, error) {
	have, err := s.store.GoogleClassVersion(ctx, v.classID)
	if err != nil {
		return push.Result{}, err
	}
	if have >= v.prog.Version {
		return push.Result{Token: v.classID, Outcome: push.Delivered, Reason: "current"}, nil
	}
	class, err := s.issuer.Class(v.program)
	if err != nil {
		return push.Result{}, err
	}
	r := s.client.EnsureClass(ctx, class)
	if r.Outcome != push.Delivered {
		return r, nil
	}
	s.log.InfoContext(ctx, "google class sent", "class", v.classID, "program_version", v.prog.Version, "how", r.Reason)
	return r, s.store.SaveGoogleClass(ctx, v.classID, v.prog.ID, v.prog.Version)
}

// failure turns a failed call into SaveURL's error.
func failure(r push.Result, err error) error {
	switch {
	case err != nil:
		return err
	case r.Outcome == push.Delivered:
		return nil
	case r.Outcome == push.Retry:
		return fmt.Errorf("%w: %s", ErrUnavailable, r.Reason)
	}
	return fmt.Errorf("%w: %s %s", ErrRefused, r.Token, r.Reason)
}

// messageID is a new Wallet message ID.
func messageID() string { return "m" + rand.Text() }
