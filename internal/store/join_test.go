package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time           { return c.t }
func (c *clock) advance(d time.Duration)  { c.t = c.t.Add(d) }
func newClock() *clock                    { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }
func withClock(c *clock) func(o *Options) { return func(o *Options) { o.Now = c.now } }
func joinForm(name string) JoinForm {
	return JoinForm{Name: name, PersonalDataText: "Согласие v1", IP: "203.0.113.7", UserAgent: "Test/1"}
}
func startJoin(in JoinStart) JoinStart    { in.Limits = loyalty.DefaultJoinLimits; return in }
func verifyJoin(in JoinVerify) JoinVerify { in.Limits = loyalty.DefaultJoinLimits; return in }

// joinProgram is a program with a welcome bonus and referral terms.
func joinProgram(t *testing.T, s *Store, merchant string) (Merchant, loyalty.Program) {
	t.Helper()
	ctx := context.Background()
	m, _, err := s.Merchants().EnsureMerchant(ctx, merchant, "RU")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr",
		Locale: "ru", WelcomeBonus: 100,
		Referral: loyalty.ReferralTerms{ReferrerPoints: 100, FriendPoints: 50, MinPurchaseAmount: 500_00, MonthlyLimit: 2}}
	if err := s.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.JoinCode) != 10 || p.Join != loyalty.DefaultJoinSettings() {
		t.Fatalf("new program: join code %q, settings %+v", p.JoinCode, p.Join)
	}
	return m, p
}

// joinPhone runs the whole join of phone: a code, then the right code.
func joinPhone(t *testing.T, s *Store, programID, phone string, form JoinForm) Joined {
	t.Helper()
	ctx := context.Background()
	sent, err := s.Joins().Start(ctx, startJoin(JoinStart{ProgramID: programID, Phone: phone, IP: form.IP, Form: form}))
	if err != nil {
		t.Fatalf("start join of %s: %v", phone, err)
	}
	j, err := s.Joins().Verify(ctx, verifyJoin(JoinVerify{ProgramID: programID, Phone: phone, Code: sent.Code}))
	if err != nil {
		t.Fatalf("verify join of %s: %v", phone, err)
	}
	return j
}

// ledgerOf is a card's ledger: the number of lines and their sum.
func ledgerOf(t *testing.T, s *Store, serial string) (lines, sum int64) {
	t.Helper()
	err := s.read.QueryRowContext(context.Background(), `SELECT COUNT(*), COALESCE(SUM(points), 0) FROM transactions
		WHERE serial_number = ?`, serial).Scan(&lines, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return lines, sum
}

func TestJoinRestoresTheSameCardWithoutASecondWelcomeBonus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock()
		s := openTestStore(t, url, withClock(clk))
		m, p := joinProgram(t, s, "shop")
		first := joinPhone(t, s, p.ID, "+79161234567", joinForm("Анна"))
		if !first.Created || first.Card.Balance != 100 {
			t.Fatalf("first join: created %v, balance %d; want a new card with the 100-point welcome bonus",
				first.Created, first.Card.Balance)
		}
		earn(t, s, m, first.Card.SerialNumber, "buy-1", 200_00) // +10
		// The customer joins again from a new phone (the same number).
		clk.advance(time.Hour)
		again := joinPhone(t, s, p.ID, "+79161234567", joinForm("Аня"))
		if again.Created || again.Card.SerialNumber != first.Card.SerialNumber {
			t.Fatalf("second join: created %v, serial %s; want the card %s back", again.Created, again.Card.SerialNumber,
				first.Card.SerialNumber)
		}
		lines, sum := ledgerOf(t, s, again.Card.SerialNumber)
		if again.Card.Balance != 110 || lines != 2 || sum != 110 {
			t.Errorf("restored card: balance %d, %d lines summing to %d; want 110 from the welcome bonus and one purchase",
				again.Card.Balance, lines, sum)
		}
		if again.Card.LinkToken != first.Card.LinkToken || again.Card.Customer.Name != "Анна" {
			t.Errorf("restored card: link %q (want %q), name %q (a join fills blanks, never overwrites)",
				again.Card.LinkToken, first.Card.LinkToken, again.Card.Customer.Name)
		}
		var welcomes int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE kind = 'welcome'`).Scan(&welcomes); err != nil || welcomes != 1 {
			t.Errorf("welcome bonuses: %d, %v; want 1", welcomes, err)
		}
	})
}

func TestJoinCodeRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock()
		s := openTestStore(t, url, withClock(clk))
		_, p := joinProgram(t, s, "shop")
		j := s.Joins()
		phone := "+79161234567"
		start := func(phone, ip string) (JoinCodeSent, error) {
			return j.Start(ctx, startJoin(JoinStart{ProgramID: p.ID, Phone: phone, IP: ip, Form: joinForm("")}))
		}
		sent, err := start(phone, "203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		// The code is stored hashed: its digits are nowhere in the row.
		var stored []byte
		var form string
		if err := s.read.QueryRowContext(ctx, `SELECT code_hash, form FROM join_codes WHERE id = ?`, sent.ID).Scan(&stored, &form); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, []byte(sent.Code)) || strings.Contains(form, sent.Code) || len(stored) != 32 {
			t.Errorf("the code is stored as %x", stored)
		}

		// A resend within 60 s is refused until the minute is up.
		_, err = start(phone, "203.0.113.7")
		var limited *loyalty.RateLimitError
		if !errors.As(err, &limited) || limited.Reason != loyalty.LimitResend || !limited.RetryAt.Equal(clk.t.Add(time.Minute)) {
			t.Fatalf("resend after 0 s: %v; want a resend limit until %s", err, clk.t.Add(time.Minute))
		}

		// Three wrong tries kill the code; the right one is refused after.
		verify := func(code string) error {
			_, err := j.Verify(ctx, verifyJoin(JoinVerify{ProgramID: p.ID, Phone: phone, Code: code}))
			return err
		}
		wrong := fmt.Sprintf("%06d", (atoi(sent.Code)+1)%1_000_000)
		var w *loyalty.WrongCodeError
		if err := verify(wrong); !errors.As(err, &w) || w.Left != 2 {
			t.Fatalf("first wrong try: %v, want 2 tries left", err)
		}
		if err := verify(wrong); !errors.As(err, &w) || w.Left != 1 {
			t.Fatalf("second wrong try: %v, want 1 try left", err)
		}
		if err := verify(wrong); !errors.Is(err, loyalty.ErrCodeGone) {
			t.Fatalf("third wrong try: %v, want the code killed", err)
		}
		if err := verify(sent.Code); !errors.Is(err, loyalty.ErrCodeGone) {
			t.Fatalf("the right code after three wrong tries: %v, want it refused", err)
		}

		// A new code after the wait; it expires after 5 minutes.
		clk.advance(time.Minute)
		sent, err = start(phone, "203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(5 * time.Minute)
		if err := verify(sent.Code); !errors.Is(err, loyalty.ErrCodeGone) {
			t.Fatalf("a code after 5 minutes: %v, want it expired", err)
		}

		// Five codes per phone a day: the sixth waits for the oldest to age out.
		for range 3 {
			clk.advance(time.Minute)
			if _, err := start(phone, "198.51.100."+fmt.Sprint(clk.t.Minute())); err != nil {
				t.Fatal(err)
			}
		}
		clk.advance(time.Minute)
		_, err = start(phone, "198.51.100.200")
		if !errors.As(err, &limited) || limited.Reason != loyalty.LimitPhone {
			t.Fatalf("sixth code to a phone in a day: %v; want the per-phone limit", err)
		}

		// A code unused stays single: Cancel forgets it for the limits.
		other := "+79161234500"
		c2, err := start(other, "198.51.100.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Cancel(ctx, c2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := start(other, "198.51.100.1"); err != nil {
			t.Fatalf("a cancelled code still counted: %v", err)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestJoinLimitsPerIPAndTheDailyBudget(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clk := newClock()
		s := openTestStore(t, url, withClock(clk))
		m, p := joinProgram(t, s, "shop")
		if _, err := s.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error {
			p.Join.SMSDailyBudget = 3
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		lim := loyalty.DefaultJoinLimits
		lim.PerIPDay = 2
		start := func(i int, ip string) error {
			_, err := s.Joins().Start(ctx, JoinStart{ProgramID: p.ID, Phone: fmt.Sprintf("+7916123450%d", i), IP: ip,
				Form: joinForm(""), Limits: lim})
			return err
		}
		var limited *loyalty.RateLimitError
		for i := range 2 {
			if err := start(i, "203.0.113.7"); err != nil {
				t.Fatal(err)
			}
		}
		if err := start(2, "203.0.113.7"); !errors.As(err, &limited) || limited.Reason != loyalty.LimitIP {
			t.Fatalf("third code from one address: %v; want the per-address limit", err)
		}
		if err := start(3, "203.0.113.8"); err != nil {
			t.Fatal(err)
		}
		// The budget of 3 texts is spent: nobody gets a code until the
		// first of them is a day old.
		err := start(4, "203.0.113.9")
		if !errors.As(err, &limited) || limited.Reason != loyalty.LimitBudget || !limited.RetryAt.Equal(clk.t.Add(24*time.Hour)) {
			t.Fatalf("fourth code of the day: %v; want the budget until %s", err, clk.t.Add(24*time.Hour))
		}
		clk.advance(24*time.Hour + time.Second)
		if err := start(4, "203.0.113.9"); err != nil {
			t.Fatalf("a day later: %v", err)
		}
	})
}

func TestJoinRecordsConsentsWithTheirEvidence(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := joinProgram(t, s, "shop")
		form := joinForm("Анна")
		form.AdsText = "Реклама v1"
		j := joinPhone(t, s, p.ID, "+79161234567", form)
		recs, err := s.Consents().List(ctx, m.ID, j.Card.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("records after join: %+v", recs)
		}
		for i, ch := range []string{loyalty.ConsentPersonalData, loyalty.ConsentAds} {
			r := recs[i]
			text := map[string]string{loyalty.ConsentPersonalData: "Согласие v1", loyalty.ConsentAds: "Реклама v1"}[ch]
			if r.Channel != ch || !r.Granted || r.Source != loyalty.SourceJoinPage || r.IP != "203.0.113.7" ||
				r.UserAgent != "Test/1" || r.TextVersion != loyalty.TextVersion(text) {
				t.Errorf("record %d = %+v", i, r)
			}
			if got, err := s.Consents().Text(ctx, r.TextVersion); err != nil || got != text {
				t.Errorf("text of %s = %q, %v", r.TextVersion, got, err)
			}
		}
		// A STOP reply, then the opt-out page: each a withdrawal with its source.
		if err := s.Campaigns().OptOutPhone(ctx, "+79161234567"); err != nil {
			t.Fatal(err)
		}
		if err := s.Campaigns().OptOutCustomer(ctx, j.Card.CustomerID, loyalty.SourceOptOutPage); err != nil {
			t.Fatal(err)
		}
		recs, _ = s.Consents().List(ctx, m.ID, j.Card.CustomerID)
		if len(recs) != 4 || recs[2].Source != loyalty.SourceSMSStop || recs[3].Source != loyalty.SourceOptOutPage ||
			recs[2].Granted || recs[3].Granted || loyalty.MaySendAds(recs) {
			t.Errorf("records after STOP and opt-out: %+v", recs)
		}
		// Another merchant sees none of them.
		other, _, _ := s.Merchants().EnsureMerchant(ctx, "other", "RU")
		if recs, _ := s.Consents().List(ctx, other.ID, j.Card.CustomerID); len(recs) != 0 {
			t.Errorf("another merchant sees %d records", len(recs))
		}
	})
}

func TestCampaignsTextOnlyCustomersWhoseLatestRecordIsAGrant(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := joinProgram(t, s, "shop")
		ads := joinForm("")
		ads.AdsText = "Реклама v1"
		granted := joinPhone(t, s, p.ID, "+79161234501", ads)         // ads grant
		silent := joinPhone(t, s, p.ID, "+79161234502", joinForm("")) // no ads answer
		stopped := joinPhone(t, s, p.ID, "+79161234503", ads)         // grant, then STOP
		regranted := joinPhone(t, s, p.ID, "+79161234504", ads)       // grant, STOP, grant again
		for _, phone := range []string{"+79161234503", "+79161234504"} {
			if err := s.Campaigns().OptOutPhone(ctx, phone); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Customers().Update(ctx, m.ID, regranted.Card.CustomerID, CustomerChange{Consents: []loyalty.ConsentRecord{
			{Channel: loyalty.ConsentSMS, Granted: true, Source: loyalty.SourcePaper, Evidence: "form 7"}}}); err != nil {
			t.Fatal(err)
		}
		c := Campaign{MerchantID: m.ID, ProgramID: p.ID, Name: "back", LapsedDays: 0, Installed: "any", BonusOn: "open",
			Template: "{link}", Timezone: "UTC", SendRate: 60, Provider: "log"}
		if err := s.Campaigns().CreateCampaign(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Campaigns().StartCampaign(ctx, m.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		rows, err := s.read.QueryContext(ctx, `SELECT customer_id FROM campaign_recipients WHERE campaign_id = ?`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			got[id] = true
		}
		rows.Close()
		want := map[string]bool{granted.Card.CustomerID: true, regranted.Card.CustomerID: true}
		if len(got) != len(want) || !got[granted.Card.CustomerID] || !got[regranted.Card.CustomerID] {
			t.Errorf("planned %v, want %v (not %s, %s)", got, want, silent.Card.CustomerID, stopped.Card.CustomerID)
		}
		// A claimed recipient whose consent is withdrawn after planning is not texted.
		if err := s.Campaigns().OptOutCustomer(ctx, granted.Card.CustomerID, loyalty.SourceOperator); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Campaigns().ClaimRecipients(ctx, c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if want := r.CustomerID == regranted.Card.CustomerID; r.Consent != want {
				t.Errorf("recipient %s: consent %v, want %v", r.CustomerID, r.Consent, want)
			}
		}
	})
}

// seedCardsAtV6 writes n cards of one program in a database at schema
// version 6, with the columns it had then.
func seedCardsAtV6(t *testing.T, s *Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	consentAt := now.Add(-time.Hour)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.write.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO merchants (id, name, country, created_at) VALUES ('mer_old', 'Old', 'RU', ?)`, now)
	exec(`INSERT INTO programs (id, merchant_id, name, currency_label, earn_rate_bp, welcome_bonus, terms, barcode_format,
		locale, background_color, foreground_color, label_color, logo_text, version, created_at, updated_at)
		VALUES ('prg_old', 'mer_old', 'Old', 'баллы', 500, 0, '', 'qr', 'ru', '#000000', '#ffffff', '#cccccc', 'Old', 1, ?, ?)`, now, now)
	serials := make([]string, n)
	for i := range serials {
		serials[i] = fmt.Sprintf("old%d", i)
		cus := fmt.Sprintf("cus_old%d", i)
		// Customer 0 consented, 1 consented then opted out, 2… never answered.
		var at any
		if i < 2 {
			at = consentAt
		}
		exec(`INSERT INTO customers (id, merchant_id, phone, name, email, sms_consent, sms_consent_at, sms_consent_source,
			created_at) VALUES (?, 'mer_old', ?, '', '', ?, ?, 'api', ?)`, cus, fmt.Sprintf("+7916000000%d", i), i == 0, at, now)
		if i == 1 {
			exec(`UPDATE customers SET opted_out_at = ? WHERE id = ?`, now, cus)
		}
		exec(`INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token, balance, tier,
			status, version, created_at, updated_at) VALUES (?, 'mer_old', 'prg_old', ?, ?, 'tok', 0, '', 'active', 1, ?, ?)`,
			serials[i], cus, fmt.Sprintf("100000000000%d", i), now, now)
	}
	return serials
}

func TestMigrationCarriesConsentOverAndGivesCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old := openAtVersion(t, url, 9)
		serials := seedCardsAtV6(t, old, 3)
		old.Close()
		s := openTestStore(t, url)
		p, err := s.Programs().Program(ctx, "mer_old", "prg_old")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.JoinCode) != 10 || p.Join != loyalty.DefaultJoinSettings() {
			t.Errorf("old program: join code %q, settings %+v", p.JoinCode, p.Join)
		}
		for _, serial := range serials {
			if code, err := s.Referrals().Code(ctx, serial); err != nil || len(code) != 12 {
				t.Errorf("card %s: referral code %q, %v", serial, code, err)
			}
		}
		want := map[string]string{"cus_old0": "sms:true:import", "cus_old1": "sms:true:import sms:false:import", "cus_old2": ""}
		for cus, w := range want {
			recs, err := s.Consents().List(ctx, "mer_old", cus)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, fmt.Sprintf("%s:%v:%s", r.Channel, r.Granted, r.Source))
			}
			if strings.Join(got, " ") != w {
				t.Errorf("%s: records %v, want %s", cus, got, w)
			}
		}
	})
}

func TestDialectOnlyQueriesPrepare(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		if s.dialect.name != postgresDialect.name {
			t.Skip("PostgreSQL-only queries")
		}
		for _, q := range []string{lockJoinProgram, selectAnswersPostgres} {
			stmt, err := s.write.PrepareContext(context.Background(), q)
			if err != nil {
				t.Errorf("%v\n%s", err, q)
				continue
			}
			stmt.Close()
		}
	})
}

// TestJoinHashesAreKeyed: with a hash key, what the join codes table
// keeps of a phone and a code is an HMAC under it, not a hash anyone can
// recompute by trying every number; codes still verify, and erasing the
// customer still finds and deletes the codes of their phone.
func TestJoinHashesAreKeyed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		key := bytes.Repeat([]byte{7}, 32)
		s := openTestStore(t, url, func(o *Options) { o.HashKey = key })
		m, p := joinProgram(t, s, "shop")
		const phone = "+79161234567"
		sent, err := s.Joins().Start(ctx, startJoin(JoinStart{ProgramID: p.ID, Phone: phone, IP: "203.0.113.7",
			Form: joinForm("Анна")}))
		if err != nil {
			t.Fatal(err)
		}
		var phoneHash string
		var code []byte
		if err := s.read.QueryRowContext(ctx, `SELECT phone_hash, code_hash FROM join_codes WHERE id = ?`, sent.ID).
			Scan(&phoneHash, &code); err != nil {
			t.Fatal(err)
		}
		plainPhone := sha256.Sum256([]byte("loyalpass join phone:" + phone))
		plainCode := sha256.Sum256([]byte(sent.ID + ":" + sent.Code))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte("loyalpass join phone:" + phone))
		switch {
		case phoneHash == hex.EncodeToString(plainPhone[:]) || bytes.Equal(code, plainCode[:]):
			t.Fatal("the join codes table keeps unkeyed SHA-256 hashes")
		case phoneHash != hex.EncodeToString(mac.Sum(nil)):
			t.Fatalf("phone hash %s is not the HMAC under the key", phoneHash)
		}
		j, err := s.Joins().Verify(ctx, verifyJoin(JoinVerify{ProgramID: p.ID, Phone: phone, Code: sent.Code}))
		if err != nil {
			t.Fatalf("the right code under a keyed hash: %v", err)
		}
		if err := s.Customers().Erase(ctx, m.ID, j.Card.CustomerID); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM join_codes WHERE program_id = ?`, p.ID).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Fatalf("%d join codes of an erased customer's phone left", left)
		}
	})
}
