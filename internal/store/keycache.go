package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Every API request looks its key up; on SQLite that read costs a reader
// transaction whose page cache the constant commits of the writer have
// just invalidated (about 30 µs, 8 % of a posting's CPU). Keys change
// only when one is revoked, so the store keeps the keys it has read.
//
// A revocation empties the cache of the instance that made it when it
// commits, and every other instance's through a notification on
// PostgreSQL (keysChanged, listen.go); a listener that reconnects empties
// it too, since it may have missed one. An entry also expires after
// keyCacheTTL, so that even a lost notification cannot keep a revoked key
// working for longer.

const (
	keyCacheTTL = time.Minute
	// keyCacheMax bounds the entries; a full cache starts over. Only keys
	// that exist are kept, so made-up key ids cannot fill it.
	keyCacheMax = 10_000
	// keysChanged is the name notifications of a revocation carry.
	keysChanged = "apikeys"
)

type keyCache struct {
	mu sync.Mutex
	// gen counts the times the cache was emptied: a lookup that read the
	// database while a revocation emptied it must not put back what it
	// read before the revocation committed.
	gen  uint64
	keys map[string]cachedKey
}

type cachedKey struct {
	key   APIKey
	until time.Time
}

// get returns the key id if it is cached and fresh, and the generation a
// lookup of the database must hand to put.
func (c *keyCache) get(id string, now time.Time) (APIKey, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[id]
	if ok && now.Before(e.until) {
		return e.key, true, c.gen
	}
	return APIKey{}, false, c.gen
}

// put keeps k, read from the database at generation gen.
func (c *keyCache) put(gen uint64, k APIKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.keys == nil || len(c.keys) >= keyCacheMax {
		c.keys = make(map[string]cachedKey)
	}
	c.keys[k.ID] = cachedKey{key: k, until: now.Add(keyCacheTTL)}
}

// clear empties the cache.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.keys = nil
}

// notifyKeysChanged tells, within tx, the other instances to empty their
// key caches when tx commits (PostgreSQL; a no-op on SQLite, where one
// process holds the database).
func (s *Store) notifyKeysChanged(ctx context.Context, tx *writeTx) error {
	if s.dialect.notifyWork == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.dialect.notifyWork, workChannel, keysChanged, s.instance); err != nil {
		return fmt.Errorf("notify %s: %w", keysChanged, err)
	}
	return nil
}
