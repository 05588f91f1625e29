package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

func TestOutboxStatsAndSchemaVersion(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "stats.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	depth, oldest, err := st.Queue().OutboxStats(ctx)
	if err != nil || depth != 0 || !oldest.IsZero() {
		t.Fatalf("empty outbox: depth %d oldest %v err %v", depth, oldest, err)
	}
	have, err := st.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := st.LatestSchemaVersion()
	if err != nil || want == 0 || have != want {
		t.Fatalf("schema version %d, latest %d (err %v)", have, want, err)
	}
	m, _, err := st.Merchants().EnsureMerchant(ctx, "Stats", "RU")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	p := loyalty.Program{MerchantID: m.ID, Name: "P", CurrencyLabel: "pts", BarcodeFormat: "qr", Locale: "en"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Programs().UpdateProgram(ctx, m.ID, p.ID, func(p *loyalty.Program) error { p.Name = "Q"; return nil }); err != nil {
		t.Fatal(err)
	}
	depth, oldest, err = st.Queue().OutboxStats(ctx)
	if err != nil || depth == 0 || oldest.Before(before) {
		t.Fatalf("after a change: depth %d oldest %v err %v", depth, oldest, err)
	}
}
