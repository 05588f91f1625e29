package simulator

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// FullEnv, set, runs the simulation at the size the issue names (10 000
// customers, 180 days) on the real engine: minutes, so not by default.
const FullEnv = "LOYALPASS_SIM_FULL"

func runEngine(t *testing.T, cfg Config) *Result {
	t.Helper()
	clock := NewClock()
	st, err := store.Open(context.Background(), store.Options{URL: storetest.SQLiteURL(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := Run(context.Background(), st, clock, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkProperties holds a run to what every run must show.
func checkProperties(t *testing.T, res *Result) {
	t.Helper()
	if v := res.FrequencyViolations(); len(v) > 0 {
		t.Errorf("%d messages inside the frequency window, e.g. %s", len(v), v[0])
	}
	if v := res.HoldoutMessaged(); len(v) > 0 {
		t.Errorf("%d holdout customers messaged, e.g. %s", len(v), v[0])
	}
	checked, problems := res.RepurchaseTiming()
	if len(problems) > 0 {
		t.Errorf("%d of %d reminders off the customer's own gap, e.g. %s", len(problems), checked, problems[0])
	}
	if checked < 10 {
		t.Errorf("only %d repurchase reminders checked", checked)
	}
	t.Logf("%d messages sent, %d made; %d reminders within a day of the customer's gap", len(res.Sent), len(res.Fired), checked)
}

// TestEngineProperties runs a small simulation on the real engine (store,
// scheduler, sender, on SQLite): nobody gets two messages in a frequency
// window, the holdout gets none, repurchase reminders fire within a day of
// each fixed-rhythm customer's own gap, every trigger fires, and texts go
// only to customers who agreed to them.
func TestEngineProperties(t *testing.T) {
	res := runEngine(t, Config{Customers: 200, Days: 90, Seed: 1, Step: 3 * time.Hour})
	checkProperties(t, res)
	fired := map[string]int{}
	for _, f := range res.Fired {
		fired[f.Trigger]++
	}
	for _, trig := range loyalty.Triggers {
		if fired[trig] == 0 {
			t.Errorf("%s never fired (fired: %v)", trig, fired)
		}
	}
	channels := map[string]int{}
	for _, s := range res.Sent {
		channels[s.Channel]++
		c := res.Customers[s.Customer]
		if s.Channel == loyalty.ChannelSMS && (!c.Consent || c.Apple || c.Google || c.App || c.Koshelek) {
			t.Errorf("customer %d texted: consent %v, installed %v/%v/%v", s.Customer, c.Consent, c.Apple, c.Google, c.App)
		}
		if s.Channel == loyalty.ChannelWallet && !c.Apple {
			t.Errorf("customer %d got a lock-screen message without an installed card", s.Customer)
		}
	}
	for _, ch := range loyalty.Channels {
		if channels[ch] == 0 {
			t.Errorf("no message went by %s (%v)", ch, channels)
		}
	}
	t.Logf("fired %v, sent by channel %v", fired, channels)
}

// TestEngineFullSize is the simulation on the real engine,
// behind LOYALPASS_SIM_FULL: the properties at 10 000 customers over 180
// days, and the planted +5 point variant detected.
func TestEngineFullSize(t *testing.T) {
	if os.Getenv(FullEnv) == "" {
		t.Skipf("set %s=1 to run 10 000 customers over 180 days on the real engine", FullEnv)
	}
	res := runEngine(t, Config{Customers: 10000, Days: 180, Seed: 1})
	checkProperties(t, res)
	rep := res.Automations[0]
	if !rep.VariantTests[1].Significant {
		t.Errorf("the planted +5 point variant is not detected: %+v", rep.VariantTests[1])
	}
	t.Logf("repurchase: %+v; variant B %+v", rep.Overall, rep.VariantTests[1])
}
