package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// enableKoshelek turns the integration of p on, with a Push API account.
func enableKoshelek(t *testing.T, s *Store, m Merchant, p loyalty.Program) {
	t.Helper()
	_, _, err := s.Koshelek().UpdateProgram(context.Background(), m.ID, p.ID, nil, func(ks *KoshelekSettings) error {
		ks.Enabled, ks.Login, ks.PasswordHash, ks.PushLogin, ks.PushPassword = true, "shop", "hash", "push", "sealed"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKoshelekSettingsChangeWithTheProgramOrNotAtAll(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := s.Koshelek()
		m, p := newTestProgram(t, s, "Settings")
		other, _ := newTestProgram(t, s, "Other")
		if got, err := k.Settings(ctx, m.ID, p.ID); err != nil || len(got) != 0 {
			t.Fatalf("settings before = %v, %v", got, err)
		}
		// A refusal of the settings leaves the program unchanged too.
		refuse := errors.New("refused")
		_, _, err := k.UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error { p.Name = "Новое"; return nil },
			func(*KoshelekSettings) error { return refuse })
		if !errors.Is(err, refuse) {
			t.Fatalf("UpdateProgram = %v, want the refusal", err)
		}
		if got, _ := s.Programs().Program(ctx, m.ID, p.ID); got.Name != p.Name || got.Version != p.Version {
			t.Fatalf("program after a refused change: %q v%d", got.Name, got.Version)
		}
		prog, ks, err := k.UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error { p.Name = "Новое"; return nil },
			func(ks *KoshelekSettings) error {
				if ks.Exists || ks.ProgramID != p.ID || ks.MerchantID != m.ID {
					t.Errorf("fresh settings = %+v", ks)
				}
				ks.Enabled, ks.Login, ks.PasswordHash = true, "shop", "hash"
				return nil
			})
		if err != nil || prog.Name != "Новое" || !ks.Exists || ks.PushConfigured() {
			t.Fatalf("UpdateProgram = %q %+v %v", prog.Name, ks, err)
		}
		// Settings alone leave the program's version alone.
		_, ks, err = k.UpdateProgram(ctx, m.ID, p.ID, nil, func(ks *KoshelekSettings) error {
			ks.PushLogin, ks.PushPassword = "push", "sealed"
			return nil
		})
		if err != nil || !ks.PushConfigured() || ks.Login != "shop" {
			t.Fatalf("second update = %+v %v", ks, err)
		}
		if got, _ := s.Programs().Program(ctx, m.ID, p.ID); got.Version != prog.Version {
			t.Errorf("program version moved from %d to %d on a settings change", prog.Version, got.Version)
		}
		got, err := k.Settings(ctx, m.ID, p.ID, "prg_none")
		if err != nil || len(got) != 1 || got[p.ID].PushLogin != "push" {
			t.Fatalf("Settings = %+v %v", got, err)
		}
		if got, _ := k.Settings(ctx, other.ID, p.ID); len(got) != 0 {
			t.Errorf("another merchant sees the settings: %+v", got)
		}
		if _, _, err := k.UpdateProgram(ctx, other.ID, p.ID, nil, func(*KoshelekSettings) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's update = %v, want ErrNotFound", err)
		}
		kp, err := k.Program(ctx, p.ID)
		if err != nil || kp.Country != "RU" || kp.Program.MerchantID != m.ID || kp.Settings.Login != "shop" {
			t.Fatalf("Program = %+v %v", kp, err)
		}
	})
}

func TestKoshelekIssueIsOneCardPerPhoneAndAnInstall(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		stores := [2]*Store{openTestStore(t, url), openTestStore(t, url)}
		s := stores[0]
		ctx := context.Background()
		m, p := newTestProgram(t, s, "Issue")
		if _, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error { p.WelcomeBonus = 100; return nil }); err != nil {
			t.Fatal(err)
		}
		enableKoshelek(t, s, m, p)
		// Two instances issue the same phone at once: one card, one bonus.
		var wg sync.WaitGroup
		cards := make([]loyalty.Card, 6)
		errs := make([]error, 6)
		news, installs := make([]bool, 6), make([]bool, 6)
		for i := range cards {
			wg.Go(func() {
				cards[i], news[i], installs[i], errs[i] = stores[i%2].Koshelek().Issue(ctx, p.ID, KoshelekProfile{
					Phone: "+79161234567", Name: "Анна", BirthDate: "1990-01-02", Profile: `{"firstname":"Анна"}`})
			})
		}
		wg.Wait()
		created, installed := 0, 0
		for i, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
			if cards[i].SerialNumber != cards[0].SerialNumber {
				t.Fatalf("two cards for one phone: %s, %s", cards[0].SerialNumber, cards[i].SerialNumber)
			}
			if news[i] {
				created++
			}
			if installs[i] {
				installed++
			}
		}
		if created != 1 || installed != 1 || cards[0].Balance != 100 {
			t.Fatalf("%d created, %d installed, balance %d; want 1, 1, 100", created, installed, cards[0].Balance)
		}
		serial := cards[0].SerialNumber
		var welcome, rows int
		s.read.QueryRow(`SELECT COUNT(*) FROM transactions WHERE serial_number = ? AND kind = 'welcome'`, serial).Scan(&welcome)
		s.read.QueryRow(`SELECT COUNT(*) FROM koshelek_cards WHERE serial_number = ? AND msisdn = '79161234567'
			AND birth_date = '1990-01-02'`, serial).Scan(&rows)
		if welcome != 1 || rows != 1 {
			t.Fatalf("%d welcome lines, %d koshelek rows", welcome, rows)
		}
		inst, err := s.Devices().CardInstalls(ctx, serial)
		if err != nil || len(inst) != 1 || inst[0].Channel != ChannelKoshelek || inst[0].Installed != 1 {
			t.Fatalf("installs = %+v %v", inst, err)
		}
		// Not a device: the relay and APNs channels never see it.
		for _, ch := range []string{ChannelApple, ChannelRelay} {
			if ts, _ := s.Devices().DeviceTargets(ctx, ch, []string{serial}); len(ts) != 0 {
				t.Errorf("%s targets the Кошелёк install: %+v", ch, ts)
			}
		}
	})
}

func TestKoshelekFindMatchesPhoneOrEmailInTheProgramOnly(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := s.Koshelek()
		m, p := newTestProgram(t, s, "Find")
		p2 := loyalty.Program{MerchantID: m.ID, Name: "Второй", CurrencyLabel: "баллы", BarcodeFormat: "qr", Locale: "ru"}
		if err := s.Programs().CreateProgram(ctx, &p2); err != nil {
			t.Fatal(err)
		}
		byPhone, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79161110000"})
		if err != nil {
			t.Fatal(err)
		}
		byMail, _, _ := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79161110001", Email: "Anna@Example.com"})
		blocked, _, _ := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79161110002", Email: "b@example.com"})
		if _, err := s.Cards().VoidCard(ctx, m.ID, blocked.SerialNumber); err != nil {
			t.Fatal(err)
		}
		elsewhere, _, _ := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p2.ID, Phone: "+79161110003"})
		tests := []struct {
			name, phone, email string
			want               string
			err                error
		}{
			{"phone", "+79161110000", "", byPhone.SerialNumber, nil},
			{"e-mail, any case", "", "anna@example.COM", byMail.SerialNumber, nil},
			{"the phone decides before the e-mail", "+79161110000", "anna@example.com", byPhone.SerialNumber, nil},
			{"an unknown phone, a known e-mail (OR)", "+79990000000", "anna@example.com", byMail.SerialNumber, nil},
			{"a voided card is blocked", "+79161110002", "", "", ErrKoshelekBlocked},
			{"blocked by e-mail", "", "b@example.com", "", ErrKoshelekBlocked},
			{"nothing", "+79990000000", "none@example.com", "", ErrNotFound},
			{"no parameters", "", "", "", ErrNotFound},
			{"another program's card", "+79161110003", "", "", ErrNotFound},
		}
		for _, tt := range tests {
			card, err := k.Find(ctx, p.ID, tt.phone, tt.email)
			if !errors.Is(err, tt.err) || card.SerialNumber != tt.want {
				t.Errorf("%s: Find = %s, %v; want %s, %v", tt.name, card.SerialNumber, err, tt.want, tt.err)
			}
		}
		if _, _, _, err := k.Issue(ctx, p.ID, KoshelekProfile{Phone: "+79161110002"}); !errors.Is(err, ErrKoshelekBlocked) {
			t.Errorf("issue for a blocked phone = %v", err)
		}
		if _, _, err := k.Card(ctx, p.ID, elsewhere.Number); !errors.Is(err, ErrNotFound) {
			t.Errorf("Card of another program's number = %v", err)
		}
		card, _, err := k.Card(ctx, p.ID, byPhone.Number)
		if err != nil || card.SerialNumber != byPhone.SerialNumber {
			t.Errorf("Card = %s %v", card.SerialNumber, err)
		}
	})
}

func TestKoshelekConsentsAreAppendedAndSMSFollowsTheLatest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := s.Koshelek()
		m, p := newTestProgram(t, s, "Consent")
		yes := true
		card, _, _ := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79161112233", SMSConsent: &yes})
		_, installed, err := k.Communication(ctx, p.ID, card.Number, []KoshelekConsent{{"sms", false}, {"email", true},
			{"pigeon", true}}, `{"allow":["email","pigeon"],"deny":["sms"]}`)
		if err != nil || !installed {
			t.Fatalf("Communication = %v, %v", installed, err)
		}
		got, _ := s.Cards().Card(ctx, m.ID, card.SerialNumber)
		if got.Customer.SMSConsent || got.Customer.SMSConsentSource != "koshelek" {
			t.Fatalf("sms consent after a deny = %v from %q", got.Customer.SMSConsent, got.Customer.SMSConsentSource)
		}
		if _, installed, err = k.Communication(ctx, p.ID, card.Number, []KoshelekConsent{{"sms", true}}, `{"allow":["sms"]}`); err != nil || installed {
			t.Fatalf("second Communication = %v, %v; want no second install", installed, err)
		}
		got, _ = s.Cards().Card(ctx, m.ID, card.SerialNumber)
		if !got.Customer.SMSConsent {
			t.Fatal("sms consent did not follow the latest grant")
		}
		// Each SMS answer is a consent record of the customer's, with
		// source koshelek; the other channels stay with Кошелёк's records.
		records, err := s.Consents().List(ctx, m.ID, card.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		var sms []string
		for _, r := range records {
			if r.Source == loyalty.SourceKoshelek {
				sms = append(sms, fmt.Sprintf("%s=%v", r.Channel, r.Granted))
			}
		}
		if fmt.Sprint(sms) != "[sms=false sms=true]" {
			t.Fatalf("koshelek consent records = %v (all: %+v)", sms, records)
		}
		v, err := k.CardView(ctx, m.ID, card.SerialNumber, 10)
		if err != nil || len(v.Consents) != 4 || v.Consents[0].Channel != "sms" || !v.Consents[0].Granted ||
			v.Consents[0].Source != "koshelek" || v.MSISDN != "79161112233" {
			t.Fatalf("CardView = %+v %v", v, err)
		}
		var evidence string
		s.read.QueryRow(`SELECT evidence FROM koshelek_consents WHERE channel = 'pigeon'`).Scan(&evidence)
		if evidence != `{"allow":["email","pigeon"],"deny":["sms"]}` {
			t.Errorf("evidence = %q", evidence)
		}
		other, _ := newTestProgram(t, s, "Other")
		if _, err := k.CardView(ctx, other.ID, card.SerialNumber, 10); !errors.Is(err, ErrNotFound) {
			t.Errorf("another merchant's CardView = %v", err)
		}
		if _, _, err := k.Communication(ctx, "prg_other", card.Number, nil, "{}"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Communication through another program = %v", err)
		}
	})
}

func TestKoshelekTargetsFollowTheCardAndWhatWasSent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := s.Koshelek()
		m, p := newTestProgram(t, s, "Targets")
		card, _, _, err := k.Issue(ctx, p.ID, KoshelekProfile{Phone: "+79161234500"})
		if err != nil {
			t.Fatal(err)
		}
		serial := card.SerialNumber
		earn(t, s, m, serial, "k1", 100000) // 5% of 1,000.00: 50 points
		if ts, _ := k.Targets(ctx, []string{serial}); len(ts) != 0 {
			t.Fatalf("targets while the program sends nothing: %+v", ts)
		}
		enableKoshelek(t, s, m, p)
		ts, err := k.Targets(ctx, []string{serial})
		if err != nil || len(ts) != 1 || ts[0].Token != serial || ts[0].Balance != 50 || ts[0].Channel != ChannelKoshelek {
			t.Fatalf("Targets = %+v %v", ts, err)
		}
		if pts, _ := k.ProgramTargets(ctx, p.ID, Target{}, 10); len(pts) != 1 {
			t.Fatalf("ProgramTargets = %+v", pts)
		}
		info, err := k.PushInfo(ctx, []string{serial})
		pi := info[serial]
		if err != nil || pi.MSISDN != "79161234500" || pi.Balance != 50 || pi.SentBalance != 0 || pi.PushLogin != "push" ||
			pi.PushConsent != nil || pi.ProgramName != "Кофе" {
			t.Fatalf("PushInfo = %+v %v", pi, err)
		}
		bal := int64(50)
		if err := k.RecordSent(ctx, KoshelekSent{Serial: serial, MerchantID: m.ID, ProgramID: p.ID, Balance: &bal,
			Version: ts[0].Version, Message: &KoshelekMessage{MessageID: "m-1", PushType: "TRANSACTION", Title: "Кофе",
				Body: "+50", State: KoshelekEnqueued}}); err != nil {
			t.Fatal(err)
		}
		if ts, _ := k.Targets(ctx, []string{serial}); len(ts) != 0 {
			t.Fatalf("targets after the send: %+v", ts)
		}
		// States move forward only, and only for the program's own messages.
		for _, c := range []struct {
			program, state string
			err            error
		}{
			{"prg_other", KoshelekDelivered, ErrNotFound},
			{p.ID, KoshelekOpened, nil},
			{p.ID, KoshelekDelivered, ErrKoshelekStateBehind},
		} {
			if err := k.PushState(ctx, c.program, "m-1", c.state); !errors.Is(err, c.err) {
				t.Errorf("PushState(%s, %s) = %v, want %v", c.program, c.state, err, c.err)
			}
		}
		v, _ := k.CardView(ctx, m.ID, serial, 10)
		if len(v.Messages) != 1 || v.Messages[0].State != KoshelekOpened || v.Messages[0].OpenedAt == nil || v.Messages[0].DeliveredAt == nil {
			t.Fatalf("messages = %+v", v.Messages)
		}
		// The Push API no longer knows the phone: no more targets, an uninstall.
		earn(t, s, m, serial, "k2", 100000)
		if removed, err := k.Remove(ctx, serial, s.nowUTC()); err != nil || !removed {
			t.Fatalf("Remove = %v %v", removed, err)
		}
		if ts, _ := k.Targets(ctx, []string{serial}); len(ts) != 0 {
			t.Fatalf("targets after removal: %+v", ts)
		}
		inst, _ := s.Devices().CardInstalls(ctx, serial)
		if len(inst) != 1 || inst[0].Installed != 0 || inst[0].Uninstalled != 1 {
			t.Fatalf("installs after removal = %+v", inst)
		}
		// Issued into Кошелёк again: it counts again, from what it shows now.
		if _, _, installed, err := k.Issue(ctx, p.ID, KoshelekProfile{Phone: "+79161234500"}); err != nil || !installed {
			t.Fatalf("reissue = %v %v", installed, err)
		}
		if ts, _ := k.Targets(ctx, []string{serial}); len(ts) != 0 {
			t.Fatalf("a reissued card is behind: %+v", ts)
		}
		if removed, _ := k.Remove(ctx, serial, s.nowUTC().Add(-time.Hour)); removed {
			t.Error("a removal older than the reissue removed the card")
		}
	})
}

func TestKoshelekCardViewOfACardNotInKoshelek(t *testing.T) {
	s := newTestStore(t)
	m, p := newTestProgram(t, s, "View")
	card, _, _ := s.Cards().IssueCard(context.Background(), IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79160000001"})
	v, err := s.Koshelek().CardView(context.Background(), m.ID, card.SerialNumber, 10)
	if err != nil || v.Serial != card.SerialNumber || v.MSISDN != "" || len(v.Messages) != 0 {
		t.Fatalf("CardView = %+v %v", v, err)
	}
	if _, err := s.Koshelek().CardView(context.Background(), m.ID, "nope", 10); !errors.Is(err, ErrNotFound) {
		t.Fatal(fmt.Sprint("unknown card: ", err))
	}
}

// TestKoshelekDataGoesWithAnErasure: erasing a customer removes the phone
// and profile Кошелёк sent and the requests its answers came in.
func TestKoshelekDataGoesWithAnErasure(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "Erase")
		card, _, _, err := s.Koshelek().Issue(ctx, p.ID, KoshelekProfile{Phone: "+79165550101", Name: "Анна",
			BirthDate: "1990-01-02", Profile: `{"phone":"79165550101","firstname":"Анна"}`})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Koshelek().Communication(ctx, p.ID, card.Number, []KoshelekConsent{{"sms", true}},
			`{"allow":["sms"],"msisdn":"79165550101"}`); err != nil {
			t.Fatal(err)
		}
		if err := s.Customers().Erase(ctx, m.ID, card.CustomerID); err != nil {
			t.Fatal(err)
		}
		var cards, evidence int
		s.read.QueryRow(`SELECT COUNT(*) FROM koshelek_cards`).Scan(&cards)
		s.read.QueryRow(`SELECT COUNT(*) FROM koshelek_consents WHERE evidence <> ''`).Scan(&evidence)
		if cards != 0 || evidence != 0 {
			t.Fatalf("after the erasure: %d koshelek cards, %d consent rows with evidence", cards, evidence)
		}
	})
}
