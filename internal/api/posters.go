package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/poster"
	"github.com/loyalpass/loyalpass/internal/store"
)

// posterStore is what the poster needs of the database.
type posterStore interface {
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	Merchant(ctx context.Context, id string) (store.Merchant, error)
}

// posterHandlers draw a program's printable join poster (A5, PDF or PNG)
// with a QR code of its join URL.
type posterHandlers struct {
	base
	store posterStore
	urls  cardURLs
}

func (h *posterHandlers) routes(v1 gin.IRouter) {
	v1.GET("/programs/:id/poster.pdf", h.wrap(h.pdf))
	v1.GET("/programs/:id/poster.png", h.wrap(h.png))
}

func (h *posterHandlers) pdf(c *gin.Context) error {
	return h.serve(c, "application/pdf", "pdf", poster.PDF)
}

func (h *posterHandlers) png(c *gin.Context) error {
	return h.serve(c, "image/png", "png", poster.PNG)
}

func (h *posterHandlers) serve(c *gin.Context, contentType, ext string, draw func(poster.Poster) ([]byte, error)) error {
	lang := c.Query("lang")
	if lang != "" && !locale.Shipped().Has(lang) {
		return badRequest("invalid_query", "lang", "lang must be one of %s", strings.Join(locale.Shipped().Tags(), ", "))
	}
	p, err := h.store.Program(c.Request.Context(), merchantID(c), c.Param("id"))
	if err != nil {
		return storeError(err, "program")
	}
	m, err := h.store.Merchant(c.Request.Context(), p.MerchantID)
	if err != nil {
		return internal(err)
	}
	if lang == "" {
		lang = p.Locale
	}
	data, err := draw(posterOf(p, m, locale.Shipped().Lang(lang), h.urls.joinLink(p.JoinCode)))
	if err != nil {
		return internal(err)
	}
	c.Header("Content-Disposition", `inline; filename="poster-`+p.ID+"-"+lang+"."+ext+`"`)
	c.Header("Cache-Control", "private, no-cache")
	c.Data(http.StatusOK, contentType, data)
	return nil
}

// posterOf words a program's poster in lang.
func posterOf(p loyalty.Program, m store.Merchant, lang *locale.Lang, joinURL string) poster.Poster {
	out := poster.Poster{OrganizationName: m.Name, ProgramName: p.Name, JoinURL: joinURL,
		BackgroundColor: p.BackgroundColor, ForegroundColor: p.ForegroundColor, Headline: lang.Text("poster_headline")}
	if p.WelcomeBonus > 0 {
		out.Offer = lang.Text("join_welcome", "points", lang.Points(p.WelcomeBonus))
	}
	out.Terms, _, _ = strings.Cut(strings.TrimSpace(p.Terms), "\n")
	if out.Terms == "" && p.EarnRateBP > 0 {
		out.Terms = lang.Text("earn_rate", "rate", percent(p.EarnRateBP))
	}
	return out
}

// percent writes basis points as a percentage: 500 → "5", 250 → "2.5".
func percent(bp int) string {
	s := itoa(bp / 100)
	if r := bp % 100; r != 0 {
		s += "." + strings.TrimRight(itoa(100 + r)[1:], "0")
	}
	return s
}
