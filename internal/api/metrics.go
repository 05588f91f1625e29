package api

import (
	"time"

	"github.com/gin-gonic/gin"
)

// opsRoutes adds the operator endpoints: /readyz always, /metrics when
// metrics are on, and the API's OpenAPI description. None takes an API
// key: keep /metrics off the public listener at the proxy if it must not
// be seen.
func (s *Server) opsRoutes(r *gin.Engine) {
	r.GET("/readyz", s.readyz)
	r.GET("/api/openapi.json", s.openAPIDoc)
	if s.metrics != nil {
		h := s.metrics.Handler()
		r.GET("/metrics", gin.WrapH(h))
	}
}

// observeRequests counts every request by route template (never the raw
// path: serials and tokens would make the label set unbounded), method
// and status, and times it.
func (s *Server) observeRequests() gin.HandlerFunc {
	if s.metrics == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.Request(route, c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}

// countTransaction counts a ledger transaction that was posted now, not
// replayed from its idempotency key.
func (s *Server) countTransaction(kind string) {
	if s.metrics != nil {
		s.metrics.Transaction(kind)
	}
}
