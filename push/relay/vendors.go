package relay

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// spec is what differs between relays on the wire.
type spec struct {
	// defaultBase is the documented production base URL; "" means it must
	// be configured (WalletUnion) or comes with the registration
	// (PassWallet).
	defaultBase string
	keyRequired bool
	// limit is the most tokens per call: documented for Pass2U and
	// WalletUnion, a guess elsewhere (a 413 makes Push split further).
	limit int
	// path returns the path below the base URL.
	path func(passTypeID string) string
	// body returns the JSON request body for one batch.
	body func(passTypeID string, tokens []string) any
	// auth sets the credential header, if there is a key.
	auth func(h http.Header, key string)
}

// The request bodies, field names as each vendor documents them.
type (
	walletPassesBody struct {
		PassTypeIdentifier string   `json:"passTypeIdentifier"`
		PushTokens         []string `json:"pushTokens"`
	}
	passWalletBatchBody struct {
		PassTypeID string   `json:"passTypeID"`
		PushTokens []string `json:"pushTokens"`
	}
	passWalletSingleBody struct {
		PassTypeID string `json:"passTypeID"`
		PushToken  string `json:"pushToken"`
	}
	pass2uBody struct {
		RegistrationIDs []string `json:"registrationIds"`
	}
	walletUnionBody struct {
		PassTypeIdentifier string   `json:"passTypeIdentifier"`
		PushTokens         []string `json:"pushTokens"`
		HMS                bool     `json:"hms"`
	}
	passHubBody struct {
		PassTypeID string   `json:"pass_type_id"`
		PushTokens []string `json:"push_tokens"`
	}
)

// unstatedLimit is our batch size where the vendor documents none.
const unstatedLimit = 500

var specs = map[Vendor]spec{
	WalletPasses: {
		defaultBase: "https://walletpasses.appspot.com",
		limit:       unstatedLimit,
		path:        fixedPath("/api/v1/push"),
		body:        passTypeAndTokens,
		auth:        rawAuthorization,
	},
	PassWallet: {
		limit: unstatedLimit,
		path:  fixedPath("/v1/pushUpdates"),
		body: func(passTypeID string, tokens []string) any {
			return passWalletBatchBody{PassTypeID: passTypeID, PushTokens: tokens}
		},
		auth: func(http.Header, string) {},
	},
	Pass2U: {
		defaultBase: "https://api.passesalliance.com",
		keyRequired: true,
		limit:       1000,
		path: func(passTypeID string) string {
			return "/v2/registrations/" + url.PathEscape(passTypeID) + "/push"
		},
		body: func(_ string, tokens []string) any { return pass2uBody{RegistrationIDs: tokens} },
		auth: func(h http.Header, key string) { h.Set("x-api-key", key) },
	},
	WalletUnion: {
		keyRequired: true,
		limit:       50,
		path:        fixedPath(""),
		body:        walletUnionBodyFor(false),
		// The vendor page does not show the header; Authorization
		// carrying the bare key, as WalletPasses and Passworks use, is
		// our assumption until the key arrives with instructions.
		auth: rawAuthorization,
	},
	WalletUnionHMS: {
		keyRequired: true,
		limit:       1000,
		path:        fixedPath(""),
		body:        walletUnionBodyFor(true),
		auth:        rawAuthorization,
	},
	Passworks: {
		defaultBase: "https://wallet.passworks.io",
		keyRequired: true,
		limit:       unstatedLimit,
		path:        fixedPath("/v1/pushUpdate"),
		body:        passTypeAndTokens,
		auth:        rawAuthorization,
	},
	PassHub: {
		defaultBase: "https://api.passhub.io",
		keyRequired: true,
		limit:       unstatedLimit,
		path:        fixedPath("/v1/push"),
		body: func(passTypeID string, tokens []string) any {
			return passHubBody{PassTypeID: passTypeID, PushTokens: tokens}
		},
		auth: func(h http.Header, key string) { h.Set("Authorization", "Bearer "+key) },
	},
}

func fixedPath(p string) func(string) string { return func(string) string { return p } }

func passTypeAndTokens(passTypeID string, tokens []string) any {
	return walletPassesBody{PassTypeIdentifier: passTypeID, PushTokens: tokens}
}

func walletUnionBodyFor(hms bool) func(string, []string) any {
	return func(passTypeID string, tokens []string) any {
		return walletUnionBody{PassTypeIdentifier: passTypeID, PushTokens: tokens, HMS: hms}
	}
}

func rawAuthorization(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", key)
	}
}

// endpoint is a relay resolved against its configuration.
type endpoint struct {
	vendor Vendor
	spec
	base string
	key  string
}

// endpoint resolves vendor's base URL and key, or says why it cannot push.
func (r *Relays) endpoint(vendor Vendor, serviceURL string) (endpoint, error) {
	s, ok := specs[vendor]
	if !ok {
		return endpoint{}, fmt.Errorf("relay: %q is not a relay vendor", vendor)
	}
	cfg, ok := r.vendors[vendor]
	if !ok && vendor == WalletUnionHMS {
		cfg = r.vendors[WalletUnion]
	}
	ep := endpoint{vendor: vendor, spec: s, base: cfg.BaseURL, key: cfg.APIKey}
	switch {
	case vendor == PassWallet:
		if err := checkURL(serviceURL); err != nil {
			return endpoint{}, fmt.Errorf("relay: passwallet pushServiceUrl: %w", err)
		}
		// The dial-time check decides; this one spares a doomed call.
		if err := r.guard.CheckURL(serviceURL); err != nil {
			return endpoint{}, err
		}
		ep.base = serviceURL
	case ep.base == "" && s.defaultBase == "":
		return endpoint{}, fmt.Errorf("relay: %s is not configured (no endpoint URL)", vendor)
	case ep.base == "":
		ep.base = s.defaultBase
	}
	if s.keyRequired && ep.key == "" {
		return endpoint{}, fmt.Errorf("relay: %s is not configured (no API key)", vendor)
	}
	ep.base = strings.TrimRight(ep.base, "/")
	return ep, nil
}

// checkURL accepts an absolute http(s) URL without credentials, query or
// fragment. PassWallet's pushServiceUrl comes from a device, so this is
// also the first line against being steered somewhere odd.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme %q: want https or http", u.Scheme)
	case u.Host == "":
		return errors.New("no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not carry credentials, a query or a fragment")
	}
	return nil
}
