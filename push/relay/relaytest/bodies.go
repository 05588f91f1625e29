package relaytest

import (
	"net/http"

	"github.com/loyalpass/loyalpass/push/relay"
)

// The request bodies as each vendor documents them. Decoding is strict:
// an unknown or misspelt field is a 400, as a shape check should be.

// decodeTypeAndTokens reads WalletPasses' and Passworks' body:
// {"passTypeIdentifier","pushTokens":[…]}.
func decodeTypeAndTokens(r *http.Request, body []byte) (parsed, error) {
	var b struct {
		PassTypeIdentifier string   `json:"passTypeIdentifier"`
		PushTokens         []string `json:"pushTokens"`
	}
	err := decodeStrict(body, &b)
	return parsed{vendorOf(r), b.PassTypeIdentifier, b.PushTokens}, err
}

// decodePassWalletBatch reads {"passTypeID","pushTokens":[…]}.
func decodePassWalletBatch(_ *http.Request, body []byte) (parsed, error) {
	var b struct {
		PassTypeID string   `json:"passTypeID"`
		PushTokens []string `json:"pushTokens"`
	}
	err := decodeStrict(body, &b)
	return parsed{relay.PassWallet, b.PassTypeID, b.PushTokens}, err
}

// decodePassWalletSingle reads {"passTypeID","pushToken"}.
func decodePassWalletSingle(_ *http.Request, body []byte) (parsed, error) {
	var b struct {
		PassTypeID string `json:"passTypeID"`
		PushToken  string `json:"pushToken"`
	}
	if err := decodeStrict(body, &b); err != nil || b.PushToken == "" {
		return parsed{relay.PassWallet, b.PassTypeID, nil}, err
	}
	return parsed{relay.PassWallet, b.PassTypeID, []string{b.PushToken}}, nil
}

// decodePass2U reads {"registrationIds":[…]}; the pass type is in the path.
func decodePass2U(r *http.Request, body []byte) (parsed, error) {
	var b struct {
		RegistrationIDs []string `json:"registrationIds"`
	}
	err := decodeStrict(body, &b)
	return parsed{relay.Pass2U, r.PathValue("passTypeID"), b.RegistrationIDs}, err
}

// decodeWalletUnion reads {"passTypeIdentifier","pushTokens":[…],"hms":bool};
// hms may be left out for FCM tokens.
func decodeWalletUnion(_ *http.Request, body []byte) (parsed, error) {
	var b struct {
		PassTypeIdentifier string   `json:"passTypeIdentifier"`
		PushTokens         []string `json:"pushTokens"`
		HMS                *bool    `json:"hms"`
	}
	err := decodeStrict(body, &b)
	v := relay.WalletUnion
	if b.HMS != nil && *b.HMS {
		v = relay.WalletUnionHMS
	}
	return parsed{v, b.PassTypeIdentifier, b.PushTokens}, err
}

// decodePassHub reads {"pass_type_id","push_tokens":[…]}.
func decodePassHub(_ *http.Request, body []byte) (parsed, error) {
	var b struct {
		PassTypeID string   `json:"pass_type_id"`
		PushTokens []string `json:"push_tokens"`
	}
	err := decodeStrict(body, &b)
	return parsed{relay.PassHub, b.PassTypeID, b.PushTokens}, err
}

// vendorOf tells WalletPasses from Passworks, which share a body shape.
func vendorOf(r *http.Request) relay.Vendor {
	if r.URL.Path == "/api/v1/push" {
		return relay.WalletPasses
	}
	return relay.Passworks
}
