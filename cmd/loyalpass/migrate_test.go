package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// fillStore writes a little of everything through the store's API and
// returns the merchant, the cards and the first earn's id.
func fillStore(t *testing.T, st *store.Store) (store.Merchant, []loyalty.Card) {
	t.Helper()
	ctx := context.Background()
	m, _, err := st.Merchants().EnsureMerchant(ctx, "Кофейня", "RU")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Merchants().CreateAPIKey(ctx, store.APIKey{ID: "key1", MerchantID: m.ID, SecretHash: []byte{0, 1, 0xfe, 0xff}}); err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофе", CurrencyLabel: "баллы", EarnRateBP: 500, WelcomeBonus: 50,
		BarcodeFormat: "qr", Locale: "ru", TierDowngrade: true, PointsLifetimeDays: 365,
		Tiers: []loyalty.Tier{{Code: "base", Name: "Base", EarnRateBP: 500}, {Code: "gold", Name: "Gold", Threshold: 100, EarnRateBP: 1000}}}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := st.Programs().SetProgramImages(ctx, m.ID, p.ID, "logo", map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G', 0}}); err != nil {
		t.Fatal(err)
	}
	yes := true
	var cards []loyalty.Card
	for i := range 5 {
		c, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID,
			Phone: fmt.Sprintf("+7912000000%d", i), Name: "Анна", SMSConsent: &yes})
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, c)
	}
	respond := func(p store.Posted) (store.Answer, error) {
		return store.Answer{Status: 201, Body: []byte(p.Transaction.ID)}, nil
	}
	post := func(p loyalty.Posting) string {
		t.Helper()
		p.MerchantID = m.ID
		p.IdempotencyKey = fmt.Sprintf("k%d-%s-%s", p.PurchaseAmount+p.Points, p.Kind, p.Serial)
		p.RequestHash = []byte(p.IdempotencyKey)
		ans, _, err := st.Cards().Post(ctx, p, respond)
		if err != nil {
			t.Fatal(err)
		}
		return string(ans.Body)
	}
	for i, c := range cards {
		first := post(loyalty.Posting{Serial: c.SerialNumber, Kind: loyalty.Earn, PurchaseAmount: int64(1000_00 * (i + 1))})
		post(loyalty.Posting{Serial: c.SerialNumber, Kind: loyalty.Redeem, Points: 10})
		post(loyalty.Posting{Serial: c.SerialNumber, Kind: loyalty.Refund, RefundOf: first, PurchaseAmount: 100_00})
		post(loyalty.Posting{Serial: c.SerialNumber, Kind: loyalty.Adjust, Points: 7, Reason: "goodwill"})
	}
	if _, err := st.Cards().VoidCard(ctx, m.ID, cards[4].SerialNumber); err != nil {
		t.Fatal(err)
	}
	for i, c := range cards[:3] {
		_, err := st.Devices().Register(ctx, store.Registration{DeviceID: fmt.Sprint("dev", i), PassTypeID: "pass.test",
			SerialNumber: c.SerialNumber, PushToken: "tok", Channel: "apple"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Devices().Unregister(ctx, "dev2", cards[2].SerialNumber); err != nil {
		t.Fatal(err)
	}
	if err := st.Devices().AddDeviceLogs(ctx, "iOS", []string{"one", "two"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Cards().PutPassFile(ctx, cards[0].SerialNumber, store.PassFile{CardVersion: 1, ProgramVersion: 1, Data: []byte("PK\x03\x04\x00")}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Merchants().ClaimSetting(ctx, "demo", "yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Queue().ClaimOutbox(ctx, 3, 0); err != nil { // some rows claimed, some not
		t.Fatal(err)
	}
	for i, c := range cards {
		if cards[i], err = st.Cards().Card(ctx, m.ID, c.SerialNumber); err != nil {
			t.Fatal(err)
		}
	}
	return m, cards
}

func TestMigrateCopiesSQLiteIntoPostgres(t *testing.T) {
	target := storetest.PostgresURL(t) // skips without LOYALPASS_TEST_POSTGRES
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "src.db")
	src, err := store.Open(ctx, store.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	m, cards := fillStore(t, src)
	wantTxns, err := src.Cards().Transactions(ctx, m.ID, cards[0].SerialNumber, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()

	code, out, errOut := runCLI(t, "migrate", "--from", "sqlite:"+path, "--to", target)
	if code != 0 {
		t.Fatalf("migrate exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("loyalpass migrate printed:\n%s", out)
	for _, want := range []string{`(?m)^cards\s+5\s+5\s*$`, `(?m)^transactions\s+25\s+25\s*$`,
		`(?m)^registrations\s+3\s+3\s*$`, `ledger: 5 cards, 0 whose`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", want, out)
		}
	}

	dst, err := store.Open(ctx, store.Options{URL: target})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for _, want := range cards {
		got, err := dst.Cards().Card(ctx, m.ID, want.SerialNumber)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != want.Balance || got.Version != want.Version || got.Status != want.Status ||
			got.ChangeSeq != want.ChangeSeq || !got.CreatedAt.Equal(want.CreatedAt.Truncate(1000)) ||
			!got.Customer.SMSConsent || got.Customer.Name != "Анна" {
			t.Errorf("card in PostgreSQL:\n%+v\nin SQLite:\n%+v", got, want)
		}
	}
	gotTxns, err := dst.Cards().Transactions(ctx, m.ID, cards[0].SerialNumber, 0, 100)
	if err != nil || len(gotTxns) != len(wantTxns) {
		t.Fatalf("transactions = %d, %v; want %d", len(gotTxns), err, len(wantTxns))
	}
	for i := range gotTxns {
		g, w := gotTxns[i], wantTxns[i]
		if g.ID != w.ID || g.Points != w.Points || g.RefundOf != w.RefundOf || g.RefundedAmount != w.RefundedAmount ||
			(g.ExpiresAt == nil) != (w.ExpiresAt == nil) {
			t.Errorf("transaction %d: %+v, want %+v", i, g, w)
		}
	}
	if k, err := dst.Merchants().APIKey(ctx, "key1"); err != nil || !bytes.Equal(k.SecretHash, []byte{0, 1, 0xfe, 0xff}) || k.Revoked {
		t.Errorf("api key = %+v, %v", k, err)
	}
	if imgs, err := dst.Programs().ProgramImages(ctx, cards[0].ProgramID); err != nil || !bytes.Equal(imgs["logo.png"], []byte{0x89, 'P', 'N', 'G', 0}) {
		t.Errorf("images = %v, %v", imgs, err)
	}
	if f, err := dst.Cards().PassFile(ctx, cards[0].SerialNumber); err != nil || string(f.Data) != "PK\x03\x04\x00" {
		t.Errorf("pass file = %q, %v", f.Data, err)
	}
	if p, err := dst.Programs().Program(ctx, m.ID, cards[0].ProgramID); err != nil || !p.TierDowngrade || len(p.Tiers) != 2 {
		t.Errorf("program = %+v, %v", p, err)
	}

	// New rows get fresh ids (the sequences moved past the copied ones)
	// and update tags carry on from the copied counter.
	_, _, err = dst.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: cards[0].SerialNumber, Kind: loyalty.Earn,
		PurchaseAmount: 500_00, IdempotencyKey: "after", RequestHash: []byte("after")},
		func(store.Posted) (store.Answer, error) { return store.Answer{Status: 201, Body: []byte("{}")}, nil })
	if err != nil {
		t.Fatalf("post after migrating: %v", err)
	}
	if c, _ := dst.Cards().Card(ctx, m.ID, cards[0].SerialNumber); c.ChangeSeq <= cards[3].ChangeSeq {
		t.Errorf("update tag after migrating = %d, not above %d", c.ChangeSeq, cards[3].ChangeSeq)
	}
	if err := dst.Devices().AddDeviceLogs(ctx, "iOS", []string{"three"}); err != nil {
		t.Fatalf("device log after migrating: %v", err)
	}

	// The target is no longer empty: a second run refuses and changes nothing.
	code, out, errOut = runCLI(t, "migrate", "--from", "sqlite:"+path, "--to", target)
	if code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("second migrate: exit %d\n%s%s", code, out, errOut)
	}
}

func TestMigrateRefusesALedgerThatDoesNotAddUp(t *testing.T) {
	target := storetest.PostgresURL(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "src.db")
	src, err := store.Open(ctx, store.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	_, cards := fillStore(t, src)
	src.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE cards SET balance = balance + 1 WHERE serial_number = ?`, cards[1].SerialNumber)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "migrate", "--from", "sqlite:"+path, "--to", target)
	if code != 1 || !strings.Contains(out, "card "+cards[1].SerialNumber) || !strings.Contains(errOut, "nothing was committed") {
		t.Fatalf("migrate of a broken ledger: exit %d\n%s%s", code, out, errOut)
	}
	// Nothing was committed: the target is still empty, and takes a good copy.
	dst, err := store.Open(ctx, store.Options{URL: target})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.Cards().Card(ctx, cards[0].MerchantID, cards[0].SerialNumber); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("card in the target after a refused copy: %v", err)
	}
}

func TestMigrateRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"migrate"},
		{"migrate", "--from", filepath.Join(dir, "x.db"), "--to", "postgres://localhost/x"},
		{"migrate", "--from", "sqlite:" + filepath.Join(dir, "x.db"), "--to", "sqlite:" + filepath.Join(dir, "y.db")},
	} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	code, _, errOut := runCLI(t, "migrate", "--from", "sqlite:"+filepath.Join(dir, "missing.db"), "--to", "postgres://localhost/x")
	if code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing source: exit %d, %s", code, errOut)
	}
}
