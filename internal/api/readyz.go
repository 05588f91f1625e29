package api

import (
	"context"
	"crypto/x509"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// SchemaStore is what /readyz needs of the database.
type SchemaStore interface {
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int, error)
	LatestSchemaVersion() (int, error)
}

// Readiness is what /readyz checks.
type Readiness struct {
	// Store is pinged and its schema compared with the embedded
	// migrations; nil means Options.Stores.Schema. With neither, /readyz
	// fails its database check: an unwired database is not a ready one.
	Store SchemaStore
	// Certificate returns the pass signing certificate; nil skips the check.
	Certificate func() *x509.Certificate
	// CertMargin is how long the certificate must stay valid (default 7 days).
	CertMargin time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// readyTimeout bounds the database checks of one probe.
const readyTimeout = 3 * time.Second

// readyz answers 200 when this instance can serve: start-up has finished,
// the database answers with every migration applied, and the signing
// certificate is valid for at least CertMargin. Otherwise 503 names each
// failed check; causes are logged, not shown.
func (h *opsHandlers) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{}
	var failed []string
	check := func(name, problem string) {
		if problem == "" {
			checks[name] = "ok"
			return
		}
		checks[name] = problem
		failed = append(failed, name)
	}
	if !h.ready() {
		check("startup", "start-up has not finished")
	} else {
		check("startup", "")
	}
	r := h.readiness
	if r.Store == nil {
		h.log.ErrorContext(ctx, "readiness: no database is wired to the check")
		check("database", "no database is wired to the readiness check")
	} else {
		check("database", h.databaseProblem(ctx, r.Store))
	}
	if r.Certificate != nil {
		check("certificate", certProblem(r))
	}
	if len(failed) > 0 {
		h.log.WarnContext(ctx, "not ready", "failed", failed, "checks", checks)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not_ready", "failed": failed, "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}

func (h *opsHandlers) databaseProblem(ctx context.Context, st SchemaStore) string {
	if err := st.Ping(ctx); err != nil {
		h.log.WarnContext(ctx, "readiness: database ping failed", "err", err)
		return "the database does not answer"
	}
	have, err := st.SchemaVersion(ctx)
	if err != nil {
		h.log.WarnContext(ctx, "readiness: schema version unreadable", "err", err)
		return "the schema version cannot be read"
	}
	want, err := st.LatestSchemaVersion()
	if err != nil {
		h.log.ErrorContext(ctx, "readiness: embedded migrations unreadable", "err", err)
		return "the embedded migrations cannot be read"
	}
	if have != want {
		return "the schema is at version " + strconv.Itoa(have) + ", this binary expects " + strconv.Itoa(want)
	}
	return ""
}

func certProblem(r Readiness) string {
	cert := r.Certificate()
	if cert == nil {
		return "no signing certificate is loaded"
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	margin := r.CertMargin
	if margin <= 0 {
		margin = 7 * 24 * time.Hour
	}
	switch {
	case now.Before(cert.NotBefore):
		return "the signing certificate is not valid before " + cert.NotBefore.UTC().Format(time.RFC3339)
	case now.After(cert.NotAfter):
		return "the signing certificate expired on " + cert.NotAfter.UTC().Format(time.RFC3339)
	case now.Add(margin).After(cert.NotAfter):
		return "the signing certificate expires on " + cert.NotAfter.UTC().Format(time.RFC3339)
	}
	return ""
}
