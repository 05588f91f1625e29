package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/store"
)

// ledgerStore is what the transaction routes need of the database: the
// ledger and, to tell an unknown card from an empty history, the card.
type ledgerStore interface {
	Card(ctx context.Context, merchantID, serial string) (loyalty.Card, error)
	Post(ctx context.Context, p loyalty.Posting, respond store.Respond) (store.Answer, bool, error)
	Transactions(ctx context.Context, merchantID, serial string, beforeSeq int64, limit int) ([]loyalty.Transaction, error)
}

// transactionHandlers post to a card's ledger and list its history.
type transactionHandlers struct {
	base
	store   ledgerStore
	urls    cardURLs
	metrics *metrics.Metrics // nil: no metrics
}

func (h *transactionHandlers) routes(v1 gin.IRouter) {
	v1.POST("/cards/:serial/transactions", h.wrap(h.post))
	v1.GET("/cards/:serial/transactions", h.wrap(h.list))
}

// transactionInput is the body of POST /cards/{serial}/transactions.
// Which fields a kind takes: earn purchase_amount; redeem points; adjust
// signed points and a reason; refund transaction_id and optionally
// purchase_amount; stamp count (default 1) and, when the program asks
// for a minimum, purchase_amount; redeem_reward and redeem_coupon
// nothing; purchase purchase_amount; load and spend amount.
type transactionInput struct {
	Kind           string `json:"kind"`
	PurchaseAmount *int64 `json:"purchase_amount,omitempty"`
	Points         *int64 `json:"points,omitempty"`
	Count          *int64 `json:"count,omitempty"`
	Amount         *int64 `json:"amount,omitempty"`
	Reason         string `json:"reason,omitempty"`
	TransactionID  string `json:"transaction_id,omitempty"`
}

// maxStampsAtOnce bounds one stamp transaction's count.
const maxStampsAtOnce = 100

// transactionKinds are the kinds a merchant may post, every program kind's.
var transactionKinds = []string{loyalty.Earn, loyalty.Redeem, loyalty.Adjust, loyalty.Refund, loyalty.Stamp,
	loyalty.RedeemReward, loyalty.Purchase, loyalty.RedeemCoupon, loyalty.Load, loyalty.Spend}

type transactionJSON struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Points is the line's change of the card's balance in the card's own
	// unit (points, stamps, minor units); Rewards its change of a stamp
	// card's rewards.
	Points         int64      `json:"points"`
	Rewards        int64      `json:"rewards,omitempty"`
	PurchaseAmount int64      `json:"purchase_amount"`
	Reason         string     `json:"reason,omitempty"`
	RefundOf       string     `json:"refund_of,omitempty"`
	RefundedAmount int64      `json:"refunded_amount,omitempty"`
	BalanceAfter   int64      `json:"balance_after"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

func toTransactionJSON(t loyalty.Transaction) transactionJSON {
	return transactionJSON{ID: t.ID, Kind: t.Kind, Points: t.Points, Rewards: t.Rewards, PurchaseAmount: t.PurchaseAmount,
		Reason: t.Reason, RefundOf: t.RefundOf, RefundedAmount: t.RefundedAmount, BalanceAfter: t.BalanceAfter,
		ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
}

// maxAmount bounds purchase amounts and points: ten billion major units.
const maxAmount = 1_000_000_000_000

// validate checks that the body carries exactly what its kind needs.
func (in transactionInput) validate() error {
	absent := func(field string, present bool) error {
		if present {
			return invalid(field, "%s is not used by %s transactions", field, in.Kind)
		}
		return nil
	}
	amountOK := in.PurchaseAmount != nil && *in.PurchaseAmount > 0 && *in.PurchaseAmount <= maxAmount
	pointsOK := in.Points != nil && *in.Points > 0 && *in.Points <= maxAmount
	purchaseRule := invalid("purchase_amount", "purchase_amount (minor units, e.g. 125000 for 1,250.00) must be 1 to %d", int64(maxAmount))
	// Fields of other kinds are refused, not ignored.
	others := func(fields ...string) error {
		present := map[string]bool{"purchase_amount": in.PurchaseAmount != nil, "points": in.Points != nil,
			"count": in.Count != nil, "amount": in.Amount != nil, "transaction_id": in.TransactionID != ""}
		var errs []error
		for _, f := range []string{"purchase_amount", "points", "count", "amount", "transaction_id"} {
			if !slices.Contains(fields, f) {
				errs = append(errs, absent(f, present[f]))
			}
		}
		return errors.Join(errs...)
	}
	var err error
	switch in.Kind {
	case loyalty.Earn, loyalty.Purchase:
		if !amountOK {
			return purchaseRule
		}
		err = others("purchase_amount")
	case loyalty.Redeem:
		if !pointsOK {
			return invalid("points", "points must be a whole number from 1 to %d", int64(maxAmount))
		}
		err = others("points")
	case loyalty.Adjust:
		if in.Points == nil || *in.Points == 0 || *in.Points > maxAmount || *in.Points < -maxAmount {
			return invalid("points", "points must be a non-zero whole number, negative to take points away")
		}
		if strings.TrimSpace(in.Reason) == "" {
			return invalid("reason", "an adjustment needs a reason")
		}
		err = others("points")
	case loyalty.Refund:
		if in.TransactionID == "" {
			return invalid("transaction_id", "a refund names the earn or purchase transaction it reverses")
		}
		if in.PurchaseAmount != nil && !amountOK {
			return invalid("purchase_amount", "purchase_amount must be 1 to %d, or left out to refund the rest", int64(maxAmount))
		}
		err = others("purchase_amount", "transaction_id")
	case loyalty.Stamp:
		if in.Count != nil && (*in.Count < 1 || *in.Count > maxStampsAtOnce) {
			return invalid("count", "count (stamps to add) must be 1 to %d", maxStampsAtOnce)
		}
		if in.PurchaseAmount != nil && !amountOK {
			return purchaseRule
		}
		err = others("count", "purchase_amount")
	case loyalty.RedeemReward, loyalty.RedeemCoupon:
		err = others()
	case loyalty.Load, loyalty.Spend:
		if in.Amount == nil || *in.Amount < 1 || *in.Amount > maxAmount {
			return invalid("amount", "amount (minor units, e.g. 50000 for 500.00) must be 1 to %d", int64(maxAmount))
		}
		err = others("amount")
	case "":
		return invalid("kind", "kind is required: one of %s", strings.Join(transactionKinds, ", "))
	default:
		return invalid("kind", "kind must be one of %s", strings.Join(transactionKinds, ", "))
	}
	if err != nil {
		var apiErr *Error
		errors.As(err, &apiErr)
		return apiErr
	}
	return textRule{field: "reason", max: 200}.check(in.Reason)
}

func (h *transactionHandlers) post(c *gin.Context) error {
	key := c.GetHeader("Idempotency-Key")
	if key == "" {
		return badRequest("idempotency_key_required", "Idempotency-Key",
			"send an Idempotency-Key header (e.g. a UUID) so a retried request is applied once")
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return badRequest("invalid_idempotency_key", "Idempotency-Key", "Idempotency-Key must be 1 to 255 printable ASCII characters")
	}
	var in transactionInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := in.validate(); err != nil {
		return err
	}
	serial := c.Param("serial")
	// The hash covers the card and the parsed body, so spacing and key
	// order do not matter but any change of meaning does.
	canonical, _ := json.Marshal(in)
	hash := sha256.Sum256(append([]byte(serial+"\n"), canonical...))
	p := loyalty.Posting{MerchantID: merchantID(c), Serial: serial, Kind: in.Kind, Reason: in.Reason,
		RefundOf: in.TransactionID, IdempotencyKey: key, RequestHash: hash[:]}
	if in.PurchaseAmount != nil {
		p.PurchaseAmount = *in.PurchaseAmount
	}
	switch {
	case in.Points != nil:
		p.Points = *in.Points
	case in.Amount != nil:
		p.Points = *in.Amount
	case in.Count != nil:
		p.Points = *in.Count
	case in.Kind == loyalty.Stamp:
		p.Points = 1
	}
	ans, replayed, err := h.store.Post(c.Request.Context(), p, func(r store.Posted) (store.Answer, error) {
		body, err := json.Marshal(gin.H{"transaction": toTransactionJSON(r.Transaction), "card": h.urls.cardJSON(r.Card, r.Program)})
		return store.Answer{Status: http.StatusCreated, Body: body}, err
	})
	if err != nil {
		return ledgerError(err)
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	} else {
		h.count(p.Kind)
	}
	c.Data(ans.Status, "application/json; charset=utf-8", ans.Body)
	return nil
}

// ledgerError maps the domain's and the ledger's refusals to answers.
func ledgerError(err error) error {
	var tooLarge *loyalty.RefundTooLargeError
	var mismatch *loyalty.KindMismatchError
	var small *loyalty.PurchaseTooSmallError
	var fieldErr *loyalty.FieldError
	switch {
	case errors.As(err, &mismatch):
		return invalid("kind", "a %s card takes %s transactions, not %s", mismatch.Program,
			strings.Join(mismatch.Allowed, ", "), mismatch.Transaction)
	case errors.Is(err, loyalty.ErrNoReward):
		return &Error{Status: http.StatusConflict, Code: "no_reward", Field: "kind",
			Message: "the card has no reward to redeem yet"}
	case errors.Is(err, loyalty.ErrCouponRedeemed):
		return &Error{Status: http.StatusConflict, Code: "coupon_redeemed", Message: "the coupon was redeemed already"}
	case errors.Is(err, loyalty.ErrCouponExpired):
		return &Error{Status: http.StatusConflict, Code: "coupon_expired", Message: "the coupon is past its date"}
	case errors.Is(err, loyalty.ErrInsufficientFunds):
		return &Error{Status: http.StatusConflict, Code: "insufficient_funds", Field: "amount",
			Message: "the gift card does not hold that much; the balance cannot go below zero"}
	case errors.As(err, &small):
		return invalid("purchase_amount", "the program asks for a purchase of at least %d for these stamps", small.Need)
	case errors.As(err, &fieldErr):
		return invalid(fieldErr.Field, "%s", fieldErr.Message)
	case errors.Is(err, loyalty.ErrInsufficientPoints):
		return &Error{Status: http.StatusConflict, Code: "insufficient_points", Field: "points",
			Message: "the card does not have enough points; the balance cannot go below zero"}
	case errors.Is(err, store.ErrIdempotencyReuse):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Field: "Idempotency-Key",
			Message: "this Idempotency-Key was used for a different request; use a new key for a new transaction"}
	case errors.Is(err, loyalty.ErrCardVoided):
		return &Error{Status: http.StatusConflict, Code: "card_voided", Message: "the card is voided; points cannot move"}
	case errors.Is(err, loyalty.ErrRefundTarget):
		return invalid("transaction_id", "transaction_id must name an earn (or, on a discount card, purchase) transaction of this card")
	case errors.As(err, &tooLarge):
		return invalid("purchase_amount", "%d of the purchase's %d is left to refund", tooLarge.Left, tooLarge.Purchase)
	}
	return storeError(err, "card")
}

func (h *transactionHandlers) list(c *gin.Context) error {
	mid, serial := merchantID(c), c.Param("serial")
	if _, err := h.store.Card(c.Request.Context(), mid, serial); err != nil {
		return storeError(err, "card")
	}
	limit, err := limitParam(c)
	if err != nil {
		return err
	}
	before, err := numberCursor(c, 1)
	if err != nil {
		return err
	}
	ts, err := h.store.Transactions(c.Request.Context(), mid, serial, before, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]transactionJSON, len(ts))
	for i, t := range ts {
		out[i] = toTransactionJSON(t)
	}
	next := ""
	if len(ts) == limit {
		next = strconv.FormatInt(ts[len(ts)-1].Seq, 10)
	}
	c.JSON(http.StatusOK, gin.H{"transactions": out, "next_cursor": next})
	return nil
}

// count counts a ledger transaction that was posted now, not replayed
// from its idempotency key.
func (h *transactionHandlers) count(kind string) {
	if h.metrics != nil {
		h.metrics.Transaction(kind)
	}
}
