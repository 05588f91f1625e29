package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/metrics"
)

// opsHandlers are the operator endpoints: /healthz and /readyz always,
// /metrics when metrics are on, and the API's OpenAPI description. None
// takes an API key: keep /metrics off the public listener at the proxy if
// it must not be seen.
type opsHandlers struct {
	log   *slog.Logger
	ready func() bool // start-up has finished
	// readiness is what /readyz checks; its Store is nil when there is no
	// database to check.
	readiness Readiness
	metrics   *metrics.Metrics // nil: no /metrics
}

func (h *opsHandlers) routes(r gin.IRouter) {
	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	r.GET("/api/openapi.json", serveOpenAPI)
	if h.metrics != nil {
		r.GET("/metrics", gin.WrapH(h.metrics.Handler()))
	}
}

func (h *opsHandlers) healthz(c *gin.Context) {
	if !h.ready() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "starting"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
