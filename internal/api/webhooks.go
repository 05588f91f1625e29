package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/store"
)

// webhookStore is what the webhook routes need of the database.
type webhookStore interface {
	CreateWebhookEndpoint(ctx context.Context, ep *store.WebhookEndpoint) error
	WebhookEndpoints(ctx context.Context, merchantID string) ([]store.WebhookEndpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, merchantID, id string) error
	WebhookDeliveries(ctx context.Context, merchantID, endpointID string, beforeID int64, limit int) ([]store.WebhookDelivery, error)
}

// webhookHandlers manage a merchant's webhook endpoints and show their
// deliveries.
type webhookHandlers struct {
	base
	store webhookStore
	// outbound checks an endpoint's URL; development lets it use http.
	outbound    *netguard.Guard
	development bool
}

func (h *webhookHandlers) routes(v1 gin.IRouter) {
	v1.POST("/webhooks", h.wrap(h.create))
	v1.GET("/webhooks", h.wrap(h.list))
	v1.DELETE("/webhooks/:id", h.wrap(h.delete))
	v1.GET("/webhooks/:id/deliveries", h.wrap(h.deliveries))
}

type webhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

type webhookJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret,omitempty"` // only in the answer to the create
	CreatedAt time.Time `json:"created_at"`
}

type webhookDeliveryJSON struct {
	ID          int64      `json:"id"`
	Event       string     `json:"event"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_status"`
	LastError   string     `json:"last_error"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

func (h *webhookHandlers) create(c *gin.Context) error {
	var in webhookInput
	if err := h.decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := url.Parse(in.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || len(in.URL) > 2000 {
		return invalid("url", "url must be an absolute https URL")
	}
	if u.Scheme != "https" && !h.development {
		return invalid("url", "url must use https (plain http is accepted only in development mode)")
	}
	if err := h.outbound.CheckURL(in.URL); err != nil {
		return invalid("url", "url %v", err)
	}
	if len(in.Events) == 0 {
		return invalid("events", "events lists what to deliver: %s", strings.Join(store.WebhookEvents, ", "))
	}
	for i, e := range in.Events {
		if !slices.Contains(store.WebhookEvents, e) {
			return invalid("events", "unknown event %q; events are %s", e, strings.Join(store.WebhookEvents, ", "))
		}
		if slices.Contains(in.Events[:i], e) {
			return invalid("events", "events lists %q twice; name each event once", e)
		}
	}
	ep := store.WebhookEndpoint{MerchantID: merchantID(c), URL: in.URL, Events: in.Events}
	if err := h.store.CreateWebhookEndpoint(c.Request.Context(), &ep); err != nil {
		return internal(err)
	}
	c.JSON(http.StatusCreated, webhookJSON{ID: ep.ID, URL: ep.URL, Events: ep.Events, Secret: ep.Secret, CreatedAt: ep.CreatedAt})
	return nil
}

func (h *webhookHandlers) list(c *gin.Context) error {
	eps, err := h.store.WebhookEndpoints(c.Request.Context(), merchantID(c))
	if err != nil {
		return internal(err)
	}
	out := make([]webhookJSON, len(eps))
	for i, ep := range eps {
		out[i] = webhookJSON{ID: ep.ID, URL: ep.URL, Events: ep.Events, CreatedAt: ep.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": out})
	return nil
}

func (h *webhookHandlers) delete(c *gin.Context) error {
	if err := h.store.DeleteWebhookEndpoint(c.Request.Context(), merchantID(c), c.Param("id")); err != nil {
		return storeError(err, "webhook")
	}
	c.Status(http.StatusNoContent)
	return nil
}

// deliveries shows an endpoint's deliveries with their last
// status, newest first.
func (h *webhookHandlers) deliveries(c *gin.Context) error {
	limit, err := limitParam(c)
	if err != nil {
		return err
	}
	before, err := numberCursor(c, 1)
	if err != nil {
		return err
	}
	mid, id := merchantID(c), c.Param("id")
	eps, err := h.store.WebhookEndpoints(c.Request.Context(), mid)
	if err != nil {
		return internal(err)
	}
	if !slices.ContainsFunc(eps, func(ep store.WebhookEndpoint) bool { return ep.ID == id }) {
		return notFound("webhook")
	}
	ds, err := h.store.WebhookDeliveries(c.Request.Context(), mid, id, before, limit)
	if err != nil {
		return internal(err)
	}
	out := make([]webhookDeliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = webhookDeliveryJSON{ID: d.ID, Event: d.Event, Status: d.Status, Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt}
	}
	next := ""
	if len(ds) == limit {
		next = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out, "next_cursor": next})
	return nil
}
