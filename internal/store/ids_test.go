package store

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestSortableIDsSortByTimeAndLookLikeNewIDs(t *testing.T) {
	shape := regexp.MustCompile(`^txn_[a-z2-7]{26}$`)
	if id := newID("txn"); !shape.MatchString(id) {
		t.Fatalf("newID = %q, not %v", id, shape)
	}
	start := time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 2000 {
		// A millisecond apart, and across carries of every base-32 digit.
		id := newSortableID("txn", start.Add(time.Duration(i*i)*time.Millisecond))
		if !shape.MatchString(id) {
			t.Fatalf("newSortableID = %q, not %v", id, shape)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Fatal("IDs made later do not sort later")
	}
	if a, b := newSortableID("txn", start), newSortableID("txn", start); a == b {
		t.Fatalf("two IDs of one millisecond are equal: %s", a)
	}
}
