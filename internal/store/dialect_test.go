package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c IN (?,?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2,$3)`},
		{`SELECT '?', "a?b", ? -- why?
			/* or? */ FROM t WHERE x = ?`, `SELECT '?', "a?b", $1 -- why?
			/* or? */ FROM t WHERE x = $2`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT ? FROM t WHERE a = 'open?`, `SELECT $1 FROM t WHERE a = 'open?`},
		{`SELECT ? -- trailing?`, `SELECT $1 -- trailing?`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			for range 2 { // the second answer comes from the cache
				if got := rebind(tt.in); got != tt.want {
					t.Fatalf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}
