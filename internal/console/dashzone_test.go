package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// TestDashboardWeeksInTheMerchantsZone: two adjustments a minute either
// side of Monday midnight in Moscow (Sunday 20:59 and 21:01 UTC) land in
// two weeks of the dashboard by default (Europe/Moscow), and in one week
// once the owner sets the zone to UTC on the Settings screen, which the
// audit log records.
func TestDashboardWeeksInTheMerchantsZone(t *testing.T) {
	if _, err := time.LoadLocation("Europe/Moscow"); err != nil {
		t.Skip("no zone data:", err)
	}
	r := newRig(t)
	ctx := context.Background()
	at := func(day time.Time) { r.clock.mu.Lock(); r.clock.now = day; r.clock.mu.Unlock() }
	at(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	card := r.issue(r.merchant.ID, r.program.ID, "+79120000021", "Анна")
	adjust := func(when time.Time, points int64) {
		t.Helper()
		at(when)
		key := fmt.Sprint("zone", when.Unix())
		if _, _, err := r.st.Cards().Post(ctx, loyalty.Posting{MerchantID: r.merchant.ID, Serial: card.SerialNumber,
			Kind: loyalty.Adjust, Points: points, Reason: "test", IdempotencyKey: key, RequestHash: []byte(key)},
			func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	adjust(time.Date(2026, 3, 8, 20, 59, 0, 0, time.UTC), 7) // Sunday 23:59 in Moscow
	adjust(time.Date(2026, 3, 8, 21, 1, 0, 0, time.UTC), 11) // Monday 00:01 in Moscow
	at(time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC))        // Wednesday of the week after
	issuedByWeek := func(c *client) map[string]string {
		t.Helper()
		p := c.get("/console/dashboard")
		if p.status != http.StatusOK {
			t.Fatalf("dashboard: %d", p.status)
		}
		out := map[string]string{}
		for _, row := range tableRows(t, p.body, "fig-points") {
			out[row[0]] = row[1]
		}
		return out
	}
	owner := r.as(Owner)
	got := issuedByWeek(owner)
	// Weeks labelled by their Monday; the welcome points (100) fell on 2 March.
	if got["02.03"] != "107" || got["09.03"] != "11" {
		t.Errorf("in Moscow the week of 2 March issued %q and of 9 March %q, want 107 and 11 (%v)", got["02.03"], got["09.03"], got)
	}
	owner.get("/console/settings")
	if p := owner.postForm("/console/settings", url.Values{"timezone": {"Mars/Olympus"}}); p.status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.body, "IANA") {
		t.Fatalf("a made-up zone: %d", p.status)
	}
	if p := owner.postForm("/console/settings", url.Values{"timezone": {"UTC"}}); p.status != http.StatusSeeOther {
		t.Fatalf("saving UTC: %d\n%s", p.status, p.body)
	}
	got = issuedByWeek(owner)
	if got["02.03"] != "118" || got["09.03"] != "0" {
		t.Errorf("in UTC the week of 2 March issued %q and of 9 March %q, want 118 and 0 (%v)", got["02.03"], got["09.03"], got)
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 10)
	if len(log) == 0 || log[0].Action != "settings.timezone" || log[0].Detail != "UTC" || log[0].UserEmail != r.emails[Owner] {
		t.Errorf("audit: %+v", log)
	}
}

// tableRows returns the cells of the rows of the table inside the
// element with id, header cells included.
func tableRows(t *testing.T, page, id string) [][]string {
	t.Helper()
	start := strings.Index(page, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no #%s on the page", id)
	}
	body := page[start:]
	body = body[strings.Index(body, "<tbody>"):strings.Index(body, "</tbody>")]
	var out [][]string
	for _, tr := range strings.Split(body, "<tr>")[1:] {
		var row []string
		for _, cell := range strings.Split(tr, "</t")[:] {
			i := strings.LastIndex(cell, ">")
			if i < 0 || !strings.Contains(cell, "<t") {
				continue
			}
			row = append(row, strings.TrimSpace(cell[i+1:]))
		}
		out = append(out, row)
	}
	return out
}
