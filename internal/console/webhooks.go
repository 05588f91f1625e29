package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// The Webhooks screen (owners): endpoints, their recent deliveries, a new
// endpoint (its signing secret shown once) and removing one, all through
// the API's webhook routes and their URL rules.

type webhooksView struct {
	layout
	Hooks []hookRow
	// Deliveries are those of the endpoint named by ?deliveries=.
	Showing    string
	Deliveries []deliveryRow
	Events     []eventBox
	URL        string
	Errors     formErrors
	// Secret is the new endpoint's signing secret, shown this once.
	Secret string
}

type hookRow struct{ ID, URL, Events, Created string }

type deliveryRow struct{ When, Event, Status, Attempts, Last string }

type eventBox struct {
	Name    string
	Checked bool
}

func (con *Console) webhooksShow(c *gin.Context, v *viewer) {
	con.renderWebhooks(c, v, http.StatusOK, "", nil, formErrors{}, "")
}

func (con *Console) renderWebhooks(c *gin.Context, v *viewer, status int, u string, events []string, errs formErrors, secret string) {
	ctx, mid := c.Request.Context(), v.user.MerchantID
	var list struct {
		Webhooks []apiWebhook `json:"webhooks"`
	}
	if err := con.api.call(ctx, mid, http.MethodGet, "/api/v1/webhooks", nil, "", &list); err != nil {
		con.fail(c, err)
		return
	}
	wv := &webhooksView{layout: con.newLayout(c, v, v.lang.Text("con_nav_webhooks")), URL: u, Errors: errs, Secret: secret}
	for _, e := range store.WebhookEvents {
		wv.Events = append(wv.Events, eventBox{Name: e, Checked: len(events) == 0 || slices.Contains(events, e)})
	}
	for _, h := range list.Webhooks {
		wv.Hooks = append(wv.Hooks, hookRow{ID: h.ID, URL: h.URL, Events: strings.Join(h.Events, ", "),
			Created: when(v.lang, h.CreatedAt)})
	}
	if id := c.Query("deliveries"); id != "" {
		var ds struct {
			Deliveries []apiDelivery `json:"deliveries"`
		}
		err := con.api.call(ctx, mid, http.MethodGet, "/api/v1/webhooks/"+url.PathEscape(id)+"/deliveries?limit=20", nil, "", &ds)
		if _, ok := asAPIError(err); ok {
			con.notFound(c)
			return
		}
		if err != nil {
			con.fail(c, err)
			return
		}
		wv.Showing = id
		for _, d := range ds.Deliveries {
			last := d.LastError
			if d.LastStatus != 0 {
				last = strings.TrimSpace("HTTP " + strconv.Itoa(d.LastStatus) + " " + last)
			}
			wv.Deliveries = append(wv.Deliveries, deliveryRow{When: when(v.lang, d.CreatedAt), Event: d.Event,
				Status: d.Status, Attempts: strconv.Itoa(d.Attempts), Last: last})
		}
	}
	con.render(c, status, "webhooks", wv)
}

func (con *Console) webhooksCreate(c *gin.Context, v *viewer) {
	u, events := postForm(c, "url"), c.Request.PostForm["events"]
	token := formToken(c)
	if token == "" {
		con.renderWebhooks(c, v, http.StatusUnprocessableEntity, u, events, formErrors{"": v.lang.Text("con_err_reload")}, "")
		return
	}
	var h apiWebhook
	ctx := con.audited(c, v, store.AuditEntry{Action: "webhook.create", Ref: "form:" + token})
	err := con.api.call(ctx, v.user.MerchantID, http.MethodPost, "/api/v1/webhooks",
		map[string]any{"url": u, "events": append([]string{}, events...)}, "", &h)
	if formUsed(err) { // the secret was shown once, to the first answer
		con.renderWebhooks(c, v, http.StatusConflict, "", nil, formErrors{"": v.lang.Text("con_api_form_used")}, "")
		return
	}
	if ae, ok := asAPIError(err); ok {
		errs := formErrors{}
		errs.fromAPI(ae, v.lang, nil)
		con.renderWebhooks(c, v, http.StatusUnprocessableEntity, u, events, errs, "")
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	con.renderWebhooks(c, v, http.StatusCreated, "", nil, formErrors{}, h.Secret)
}

func (con *Console) webhooksDelete(c *gin.Context, v *viewer) {
	id := c.Param("id")
	err := con.api.call(con.audited(c, v, store.AuditEntry{Action: "webhook.delete"}), v.user.MerchantID,
		http.MethodDelete, "/api/v1/webhooks/"+url.PathEscape(id), nil, "", nil)
	if _, ok := asAPIError(err); ok {
		con.notFound(c)
		return
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/webhooks")
}
