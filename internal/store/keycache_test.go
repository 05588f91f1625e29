package store

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/store/storetest"
)

// TestKeyCacheKeepsNothingReadBeforeARevocation: a lookup that read the
// database before a revocation emptied the cache does not put its stale
// key back.
func TestKeyCacheKeepsNothingReadBeforeARevocation(t *testing.T) {
	var c keyCache
	now := time.Now()
	_, ok, gen := c.get("k1", now)
	if ok {
		t.Fatal("an empty cache holds k1")
	}
	c.clear() // a revocation commits while the lookup reads
	c.put(gen, APIKey{ID: "k1"}, now)
	if _, ok, _ := c.get("k1", now); ok {
		t.Fatal("the key read before the revocation is cached")
	}
	_, _, gen = c.get("k1", now)
	c.put(gen, APIKey{ID: "k1"}, now)
	if _, ok, _ := c.get("k1", now); !ok {
		t.Fatal("a key read after the revocation is not cached")
	}
	if _, ok, _ := c.get("k1", now.Add(keyCacheTTL)); ok {
		t.Fatal("the key is still cached after keyCacheTTL")
	}
}

// TestRevocationReachesOtherInstances: on PostgreSQL an instance that
// cached a key learns of its revocation on another instance by
// notification, without waiting for the entry to expire.
func TestRevocationReachesOtherInstances(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	inst := twoInstances(t, url, time.Now)
	a, b := inst[0], inst[1]
	m, _ := newTestProgram(t, a, "shop")
	if err := a.Merchants().CreateAPIKey(ctx, APIKey{ID: "k1", MerchantID: m.ID, SecretHash: []byte("h")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); b.Listen(ctx, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	select { // connected: it wakes the outbox worker once
	case <-b.Queue().OutboxQueued():
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not connect")
	}
	if k, err := b.Merchants().APIKey(ctx, "k1"); err != nil || k.Revoked {
		t.Fatalf("B's key = %+v, %v", k, err)
	}
	// B answers from its cache: a change behind the store's back does not
	// reach it.
	if _, err := a.write.ExecContext(ctx, rebind(`UPDATE api_keys SET secret_hash = ? WHERE id = ?`), []byte("x"), "k1"); err != nil {
		t.Fatal(err)
	}
	if k, _ := b.Merchants().APIKey(ctx, "k1"); string(k.SecretHash) != "h" {
		t.Fatalf("B read the key again (hash %q) instead of using its cache", k.SecretHash)
	}
	if err := a.APIKeys().Revoke(ctx, m.ID, "k1", AuditEntry{UserID: "usr_1", Action: "apikey.revoke"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		k, err := b.Merchants().APIKey(ctx, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if k.Revoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instance B still accepts the key revoked on A")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
