package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/store"
)

const merchantKey = "merchant_id"

var errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
	Message: "send a valid API key as Authorization: Bearer <key>"}

// keyStore is what authentication needs of the database.
type keyStore interface {
	APIKey(ctx context.Context, id string) (store.APIKey, error)
}

// inProcessMerchant is the context key AsMerchant sets.
type inProcessMerchant struct{}

// AsMerchant returns a context under which a request handled in-process by
// the Server's Handler acts for merchantID without an API key. It is how the
// console, which signs its own users in, reaches the very handlers the API
// runs (the same validation, idempotency and ledger), with no second road.
// Only code in this process can set it: requests from the network carry a
// context the server made.
func AsMerchant(ctx context.Context, merchantID string) context.Context {
	return context.WithValue(ctx, inProcessMerchant{}, merchantID)
}

// authenticate resolves the bearer API key to its merchant. Every failure
// looks the same to the client, so a probe learns nothing.
func authenticate(keys keyStore) handler {
	return func(c *gin.Context) error {
		if mid, ok := c.Request.Context().Value(inProcessMerchant{}).(string); ok && mid != "" {
			c.Set(merchantKey, mid)
			c.Next()
			return nil
		}
		scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return errUnauthorized
		}
		key, err := apikey.Parse(strings.TrimSpace(token))
		if err != nil {
			return errUnauthorized
		}
		stored, err := keys.APIKey(c.Request.Context(), key.ID)
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthorized
		}
		if err != nil {
			return internal(err)
		}
		if !key.Matches(stored.SecretHash) || stored.Revoked {
			return errUnauthorized
		}
		c.Set(merchantKey, stored.MerchantID)
		c.Next()
		return nil
	}
}

func merchantID(c *gin.Context) string { return c.GetString(merchantKey) }
