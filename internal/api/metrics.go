package api

import (
	"time"

	"github.com/gin-gonic/gin"
)

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
