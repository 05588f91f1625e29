package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/config"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/googlewallet"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push/fcm"
	"github.com/loyalpass/loyalpass/push/gwallet"
)

// googleChannels are Google Wallet and FCM, each nil when not configured.
type googleChannels struct {
	wallet    *googlewallet.Service
	callbacks *callbackKeys
	fcm       *fcm.Sender
}

// newGoogleChannels builds the Google Wallet service (REST client, save
// link signing, callback keys) and the FCM sender that cfg turns on.
func newGoogleChannels(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) (googleChannels, error) {
	var gc googleChannels
	if g := cfg.Google; g.On() {
		saJSON, err := os.ReadFile(g.ServiceAccountFile)
		if err != nil {
			return gc, fmt.Errorf("google service account: %w", err)
		}
		key, err := google.LoadServiceAccount(saJSON, g.IssuerID)
		if err != nil {
			return gc, err
		}
		var opts []option.ClientOption
		if g.Endpoint != "" {
			opts = append(opts, option.WithEndpoint(g.Endpoint))
		}
		client, err := gwallet.New(ctx, saJSON, opts...)
		if err != nil {
			return gc, err
		}
		gc.wallet, err = googlewallet.New(googlewallet.Options{Store: googlewallet.StoreOf(st), Client: client, Key: key,
			PublicURL: cfg.PublicURL, Origins: g.OriginList(), Log: log,
			Referrals: cardpass.NewReferrals(st.Referrals(), shortLinkBase(cfg))})
		if err != nil {
			return gc, err
		}
		log.Info("Google Wallet is on", "issuer", g.IssuerID, "service_account", key.Email)
		if g.CallbackKeysFile != "" {
			gc.callbacks = &callbackKeys{path: g.CallbackKeysFile, issuerID: g.IssuerID, log: log}
			if _, err := gc.callbacks.verifier(); err != nil {
				return gc, err
			}
		} else {
			log.Warn("Google Wallet save/delete callbacks are refused: set google.callback_keys_file " +
				"(fetch " + google.RootKeysURL + ") to count Google installs")
		}
	}
	if f := cfg.FCM; f.On() {
		credJSON, err := os.ReadFile(f.CredentialsFile)
		if err != nil {
			return gc, fmt.Errorf("fcm credentials: %w", err)
		}
		var opts []option.ClientOption
		if f.Endpoint != "" {
			opts = append(opts, option.WithEndpoint(f.Endpoint))
		}
		if gc.fcm, err = fcm.New(ctx, credJSON, f.ProjectID, opts...); err != nil {
			return gc, err
		}
		log.Info("FCM data messages are on", "project", f.ProjectID)
	}
	return gc, nil
}

// apiOptions fills the API's Google and FCM options; an interface holding a nil
// pointer would not read as "off".
func (gc googleChannels) apiOptions(o *api.Options) {
	if gc.wallet != nil {
		o.Google = gc.wallet
	}
	if gc.callbacks != nil {
		o.GoogleCallbacks = gc.callbacks
	}
	o.FCM = gc.fcm != nil
}

// deliveryOptions fills the worker's Google Wallet and FCM channels.
func (gc googleChannels) deliveryOptions(o *delivery.Options) {
	if gc.wallet != nil {
		o.Google = gc.wallet
	}
	if gc.fcm != nil {
		o.FCM = gc.fcm
	}
}

// callbackKeys verifies Google's callbacks with the root keys in a file
// that operators refresh from google.RootKeysURL (Google rotates them): a
// changed file is read again without a restart.
type callbackKeys struct {
	path, issuerID string
	log            *slog.Logger

	mu       sync.Mutex
	modified time.Time
	current  google.CallbackVerifier
}

func (k *callbackKeys) Verify(body []byte) (google.Callback, error) {
	v, err := k.verifier()
	if err != nil {
		return google.Callback{}, fmt.Errorf("%w: %v", google.ErrCallback, err)
	}
	return v.Verify(body)
}

// verifier returns the verifier of the file's current keys.
func (k *callbackKeys) verifier() (google.CallbackVerifier, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fi, err := os.Stat(k.path)
	if err != nil {
		return google.CallbackVerifier{}, fmt.Errorf("google callback keys: %w", err)
	}
	if k.current.Keys != nil && fi.ModTime().Equal(k.modified) {
		return k.current, nil
	}
	doc, err := os.ReadFile(k.path)
	if err != nil {
		return google.CallbackVerifier{}, fmt.Errorf("google callback keys: %w", err)
	}
	keys, err := google.ParseRootKeys(doc)
	if err != nil {
		return google.CallbackVerifier{}, fmt.Errorf("%s: %w", k.path, err)
	}
	if exp := keys.Expires(); time.Until(exp) < 7*24*time.Hour {
		k.log.Warn("Google's callback root keys expire soon: fetch them again", "file", k.path,
			"url", google.RootKeysURL, "expires", exp)
	}
	k.current, k.modified = google.CallbackVerifier{IssuerID: k.issuerID, Keys: keys}, fi.ModTime()
	return k.current, nil
}
