package console

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// plotMarks returns the data-value of every mark of the SVG with the
// given id in page, by series, in order; nil when the page has no such
// SVG.
func plotMarks(t *testing.T, page, id string) map[string][]string {
	t.Helper()
	start := strings.Index(page, `<svg class="plot" id="`+id+`"`)
	if start < 0 {
		return nil
	}
	end := strings.Index(page[start:], "</svg>")
	dec := xml.NewDecoder(strings.NewReader(page[start : start+end+len("</svg>")]))
	out := map[string][]string{}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if el, ok := tok.(xml.StartElement); ok {
			attrs := map[string]string{}
			for _, a := range el.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if strings.HasPrefix(attrs["class"], "mark ") {
				out[attrs["data-series"]] = append(out[attrs["data-series"]], attrs["data-value"])
			}
		}
	}
	return out
}

func joined(vs []string) string { return strings.Join(vs, ",") }

type fakeJoins store.JoinFunnelCounts

func (f fakeJoins) Funnel(context.Context, string, string, time.Time) (store.JoinFunnelCounts, error) {
	return store.JoinFunnelCounts(f), nil
}

// seedHistory gives the rig's program a history over the twelve weeks
// from Monday 5 January 2026 and returns "now": Wednesday 25 March, in
// the twelfth week. The rig's program gives 100 welcome points and earns
// 5 %.
//
//	week 1 (5 Jan): A and B join; A buys for 1 000,00 (50 points); A adds
//	  the card to Apple Wallet, B to Google Wallet.
//	week 3 (19 Jan): A buys for 200,00 (10 points); B redeems 30 points.
//	week 6 (9 Feb): C joins and buys for 400,00 (20 points); B's Google
//	  save is removed.
//	week 12 (25 Mar): D joins.
func seedHistory(t *testing.T, r *rig) (now time.Time, serials map[string]string) {
	t.Helper()
	ctx := context.Background()
	serials = map[string]string{}
	at := func(day time.Time) { r.clock.mu.Lock(); r.clock.now = day; r.clock.mu.Unlock() }
	join := func(name, phone string) {
		serials[name] = r.issue(r.merchant.ID, r.program.ID, phone, name).SerialNumber
	}
	post := func(name, kind string, amount, points int64) {
		t.Helper()
		key := fmt.Sprint(name, kind, amount, points, r.clock.Now().Unix())
		if _, _, err := r.st.Cards().Post(ctx, loyalty.Posting{MerchantID: r.merchant.ID, Serial: serials[name], Kind: kind,
			PurchaseAmount: amount, Points: points, IdempotencyKey: key, RequestHash: []byte(key)},
			func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	register := func(device, name, channel string) {
		if _, err := r.st.Devices().Register(ctx, store.Registration{DeviceID: device, PassTypeID: "pass.test",
			SerialNumber: serials[name], PushToken: "t-" + device, Channel: channel}); err != nil {
			t.Fatal(err)
		}
	}
	at(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	join("A", "+79120000001")
	join("B", "+79120000002")
	post("A", loyalty.Earn, 100000, 0)
	register("dev-a", "A", "apple")
	register("dev-b", "B", "google")
	at(time.Date(2026, 1, 19, 10, 0, 0, 0, time.UTC))
	post("A", loyalty.Earn, 20000, 0)
	post("B", loyalty.Redeem, 0, 30)
	at(time.Date(2026, 2, 9, 10, 0, 0, 0, time.UTC))
	join("C", "+79120000003")
	post("C", loyalty.Earn, 40000, 0)
	if _, err := r.st.Devices().Unregister(ctx, "dev-b", serials["B"]); err != nil {
		t.Fatal(err)
	}
	now = time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	at(now)
	join("D", "+79120000004")
	return now, serials
}

// TestDashboardPlotsTheSeededFigures counts the marks of every plot
// against the history seeded, week by week.
func TestDashboardPlotsTheSeededFigures(t *testing.T) {
	r := newRig(t, func(o *Options) { o.Joins = fakeJoins{Views: 120, CodesSent: 40, Verified: 31, Installed: 17} })
	seedHistory(t, r)
	p := r.as(Manager).get("/console/dashboard")
	if p.status != http.StatusOK {
		t.Fatalf("dashboard: %d\n%s", p.status, p.body)
	}
	weeks := func(values ...string) string { // the first weeks given, the rest as the last
		for len(values) < 12 {
			values = append(values, values[len(values)-1])
		}
		return joined(values)
	}
	zeros := func(at map[int]string) string {
		out := make([]string, 12)
		for i := range out {
			out[i] = "0"
			if v, ok := at[i]; ok {
				out[i] = v
			}
		}
		return joined(out)
	}
	cards := plotMarks(t, p.body, "plot-cards")
	for series, want := range map[string]string{
		"Действующие карты": weeks("2", "2", "2", "2", "2", "3", "3", "3", "3", "3", "3", "4"),
		"Apple Wallet":      weeks("1"),
		"Google Wallet":     weeks("1", "1", "1", "1", "1", "0"),
	} {
		if got := joined(cards[series]); got != want {
			t.Errorf("cards plot, %s: %s, want %s", series, got, want)
		}
	}
	points := plotMarks(t, p.body, "plot-points")
	for series, want := range map[string]string{
		"Начислено": zeros(map[int]string{0: "250", 2: "10", 5: "120", 11: "100"}),
		"Списано":   zeros(map[int]string{2: "30"}),
		"Сгорело":   zeros(nil),
	} {
		if got := joined(points[series]); got != want {
			t.Errorf("points plot, %s: %s, want %s", series, got, want)
		}
	}
	if got, want := joined(plotMarks(t, p.body, "plot-outstanding")["На картах"]),
		weeks("250", "250", "230", "230", "230", "350", "350", "350", "350", "350", "350", "450"); got != want {
		t.Errorf("outstanding: %s, want %s", got, want)
	}
	// Cohorts: January (A, B) bought 1 200,00 in January; February (C)
	// 400,00; March (D) nothing. Revenue per customer, in kopecks, by
	// months since joining, up to March.
	ltv := plotMarks(t, p.body, "plot-ltv")
	for series, want := range map[string]string{"01.2026": "60000,60000,60000", "02.2026": "40000,40000", "03.2026": "0"} {
		if got := joined(ltv[series]); got != want {
			t.Errorf("LTV of %s: %s, want %s", series, got, want)
		}
	}
	if got := joined(plotMarks(t, p.body, "plot-repeat")["Доля повторных покупок"]); got != "50,0,0" {
		t.Errorf("repeat rates %s, want 50,0,0 (A of A and B; nobody of C; nobody of D)", got)
	}
	if got := joined(plotMarks(t, p.body, "plot-join")["Люди"]); got != "120,40,31,17" {
		t.Errorf("join funnel %s", got)
	}
	for _, want := range []string{`id="tile-active"`, ">4<", "Неделя с", "05.01", "Цифры таблицей", `id="no-funnels"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// The tables hold the same numbers the plots draw.
	if !strings.Contains(p.body, `<th scope="row">02.2026</th><td class="num">1</td><td class="num">0</td><td class="num">0%</td><td class="num">1</td><td class="num">400,00</td>`) {
		t.Error("the repeat table lacks February's row")
	}
}

// TestDashboardWithoutJoinPageOrCampaigns says so instead of drawing.
func TestDashboardWithoutJoinPageOrCampaigns(t *testing.T) {
	r := newRig(t)
	p := r.as(Owner).get("/console/dashboard")
	if p.status != http.StatusOK {
		t.Fatalf("dashboard: %d", p.status)
	}
	for _, want := range []string{`<p class="plot-empty" id="plot-join">Данных страницы вступления пока нет.</p>`,
		`id="no-funnels"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if p := r.as(Owner).get("/console/dashboard?program=prg_nope"); p.status != http.StatusNotFound {
		t.Errorf("an unknown program: %d, want 404", p.status)
	}
}

// TestDashboardShowsAutomations: an automation of the program shows its
// funnel (messaged, sent, bought beside the holdout) from the API's
// report, next to the campaigns.
func TestDashboardShowsAutomations(t *testing.T) {
	r := newRig(t)
	var a struct {
		ID string `json:"id"`
	}
	err := r.con.api.call(context.Background(), r.merchant.ID, http.MethodPost, "/api/v1/automations", map[string]any{
		"program_id": r.program.ID, "name": "День рождения", "trigger": map[string]any{"type": "birthday", "days_before": 7},
		"variants": []any{map[string]any{"text": "{name}, с днём рождения! Дарим {points}: {link}", "bonus_points": 100}}},
		"", &a)
	if err != nil {
		t.Fatal(err)
	}
	p := r.as(Manager).get("/console/dashboard")
	if !strings.Contains(p.body, `id="fig-funnel-1-h">День рождения<`) {
		t.Fatalf("no automation funnel:\n%s", p.body[strings.Index(p.body, `id="funnels-heading"`):])
	}
	marks := plotMarks(t, p.body, "plot-funnel-1")
	if len(marks["Получили SMS"]) != 3 || len(marks["Контрольная группа"]) != 2 {
		t.Errorf("automation funnel marks %v", marks)
	}
}
