package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Webhook events a merchant can subscribe to.
const (
	EventCardIssued        = "card.issued"
	EventCardInstalled     = "card.installed"
	EventCardUninstalled   = "card.uninstalled"
	EventBalanceChanged    = "balance.changed"
	EventCampaignFinished  = "campaign.finished"
	EventSMSDeliveryFailed = "sms.delivery_failed"
)

// WebhookEvents lists every event, in documentation order.
var WebhookEvents = []string{EventCardIssued, EventCardInstalled, EventCardUninstalled, EventBalanceChanged,
	EventCampaignFinished, EventSMSDeliveryFailed, EventReferralJoined, EventReferralQualified,
	EventReferralReversed}

// WebhookEndpoint is where a merchant wants events delivered.
type WebhookEndpoint struct {
	ID, MerchantID, URL, Secret string
	Events                      []string
	CreatedAt                   time.Time
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID          int64
	EndpointID  string
	URL, Secret string // filled by ClaimWebhooks
	Event       string
	Payload     string
	Status      string // pending, delivered, failed
	Attempts    int
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

const (
	insertWebhookEndpoint  = `INSERT INTO webhook_endpoints (id, merchant_id, url, secret, events, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	selectWebhookEndpoints = `SELECT id, merchant_id, url, secret, events, created_at FROM webhook_endpoints
		WHERE merchant_id = ? ORDER BY created_at, id`
	deleteWebhookEndpoint   = `DELETE FROM webhook_endpoints WHERE merchant_id = ? AND id = ?`
	deleteWebhookDeliveries = `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`
	// queueEvent writes one delivery per subscribed endpoint of the merchant.
	queueEvent = `INSERT INTO webhook_deliveries (endpoint_id, merchant_id, event, payload, status, due_at, created_at)
		SELECT id, merchant_id, ?, ?, 'pending', ?, ? FROM webhook_endpoints
		WHERE merchant_id = ? AND (',' || events || ',') LIKE ?`
	hasWebhookEndpoint   = `SELECT COUNT(*) FROM (SELECT 1 FROM webhook_endpoints WHERE merchant_id = ? LIMIT 1) e`
	selectEndpointTarget = `SELECT url, secret FROM webhook_endpoints WHERE id = ?`
	finishWebhook        = `UPDATE webhook_deliveries SET status = ?, last_status = ?, last_error = ?, due_at = ?,
		claimed_until = NULL, delivered_at = ? WHERE id = ?`
	selectWebhookDeliveries = `SELECT d.id, d.endpoint_id, d.event, d.payload, d.status, d.attempts, d.last_status, d.last_error,
		d.created_at, d.delivered_at FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		WHERE e.merchant_id = ? AND e.id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`
)

// CreateWebhookEndpoint stores an endpoint with a new random signing
// secret, returned once in ep.Secret.
func (ws *WebhookStore) CreateWebhookEndpoint(ctx context.Context, ep *WebhookEndpoint) error {
	b := make([]byte, 24)
	rand.Read(b)
	ep.ID, ep.Secret, ep.CreatedAt = newID("whk"), "whsec_"+hex.EncodeToString(b), ws.s.nowUTC()
	return ws.s.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, insertWebhookEndpoint, ep.ID, ep.MerchantID, ep.URL, ep.Secret,
			strings.Join(ep.Events, ","), ep.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert webhook endpoint: %w", err)
		}
		return ws.s.auditIn(ctx, tx, ep.MerchantID, ep.ID, ep.URL)
	})
}

// WebhookEndpoints lists a merchant's endpoints.
func (ws *WebhookStore) WebhookEndpoints(ctx context.Context, merchantID string) ([]WebhookEndpoint, error) {
	rows, err := ws.s.read.QueryContext(ctx, selectWebhookEndpoints, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	var out []WebhookEndpoint
	for rows.Next() {
		var ep WebhookEndpoint
		var events string
		if err := rows.Scan(&ep.ID, &ep.MerchantID, &ep.URL, &ep.Secret, &events, &ep.CreatedAt); err != nil {
			return nil, err
		}
		ep.Events = strings.Split(events, ",")
		out = append(out, ep)
	}
	return out, rows.Err()
}

// DeleteWebhookEndpoint removes an endpoint and its deliveries.
func (ws *WebhookStore) DeleteWebhookEndpoint(ctx context.Context, merchantID, id string) error {
	return ws.s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, deleteWebhookEndpoint, merchantID, id)
		if err != nil {
			return fmt.Errorf("delete webhook endpoint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err = tx.ExecContext(ctx, deleteWebhookDeliveries, id); err != nil {
			return err
		}
		return ws.s.auditIn(ctx, tx, merchantID, id, "")
	})
}

// emitEvent queues an event for the merchant's subscribed endpoints, in
// the transaction of the change it reports (a no-op without endpoints).
func (s *Store) emitEvent(ctx context.Context, tx *writeTx, merchantID, event string, data map[string]any) error {
	// Most merchants have no endpoints: one index probe, and nothing to encode.
	var endpoints int
	if err := tx.QueryRowContext(ctx, hasWebhookEndpoint, merchantID).Scan(&endpoints); err != nil {
		return fmt.Errorf("webhook endpoints: %w", err)
	}
	if endpoints == 0 {
		return nil
	}
	w, err := s.eventWrite(merchantID, event, data)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, w.query, w.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", w.what, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		tx.enqueued(webhookQueue)
	}
	return nil
}

// eventWrite is the statement that queues an event for the merchant's
// endpoints that take it.
func (s *Store) eventWrite(merchantID, event string, data map[string]any) (write, error) {
	now := s.nowUTC()
	body, err := json.Marshal(map[string]any{"type": event, "created_at": now, "data": data})
	if err != nil {
		return write{}, err
	}
	return write{what: "queue webhook " + event, query: queueEvent, rows: -1,
		args: []any{event, string(body), now, now, merchantID, "%," + event + ",%"}}, nil
}

// emit is emitEvent in a transaction of its own, for changes made outside
// one (installs, delivery reports).
func (s *Store) emit(ctx context.Context, merchantID, event string, data map[string]any) error {
	return s.inTx(ctx, func(tx *writeTx) error { return s.emitEvent(ctx, tx, merchantID, event, data) })
}

// ClaimWebhooks leases up to limit due deliveries with their endpoint.
func (ws *WebhookStore) ClaimWebhooks(ctx context.Context, limit int, lease time.Duration) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := ws.s.claim(ctx, webhookTable, claimOpts{Limit: limit, Lease: lease,
		Scan: func(rows *sql.Rows) error {
			var d WebhookDelivery
			if err := rows.Scan(&d.ID, &d.EndpointID, &d.Event, &d.Payload, &d.Attempts, &d.CreatedAt); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		},
		Then: func(tx *writeTx) error {
			for i := range out {
				if err := tx.QueryRowContext(ctx, selectEndpointTarget, out[i].EndpointID).Scan(&out[i].URL, &out[i].Secret); err != nil {
					return fmt.Errorf("load webhook endpoint: %w", err)
				}
			}
			return nil
		}})
	return out, err
}

// FinishWebhook records an attempt: delivered, failed for good, or
// pending again at retryAt.
func (ws *WebhookStore) FinishWebhook(ctx context.Context, id int64, status string, httpStatus int, lastErr string, retryAt time.Time) error {
	var delivered any
	if status == "delivered" {
		delivered = ws.s.nowUTC()
	}
	_, err := ws.s.write.ExecContext(ctx, finishWebhook, status, httpStatus, lastErr, retryAt.UTC(), delivered, id)
	return err
}

// WebhookDeliveries lists an endpoint's deliveries, newest first, below id.
func (ws *WebhookStore) WebhookDeliveries(ctx context.Context, merchantID, endpointID string, beforeID int64, limit int) ([]WebhookDelivery, error) {
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	rows, err := ws.s.read.QueryContext(ctx, selectWebhookDeliveries, merchantID, endpointID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		var d WebhookDelivery
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.Event, &d.Payload, &d.Status, &d.Attempts, &d.LastStatus,
			&d.LastError, &d.CreatedAt, &d.DeliveredAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
