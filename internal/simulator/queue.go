package simulator

import (
	"container/heap"
	"slices"
	"time"
)

// purchase is one customer's purchase at a time.
type purchase struct {
	at       time.Time
	customer int
}

// purchases are the purchases still to come, in time order, and each
// customer's own for looking ahead.
type purchases struct {
	h     purchaseHeap
	per   map[int][]time.Time
	index int
}

func (q *purchases) add(at time.Time, customer int) {
	if q.per == nil {
		q.per = map[int][]time.Time{}
	}
	heap.Push(&q.h, purchase{at, customer})
	own := q.per[customer]
	i, _ := slices.BinarySearchFunc(own, at, func(a, b time.Time) int { return a.Compare(b) })
	q.per[customer] = slices.Insert(own, i, at)
}

// upTo takes the purchases due by now, in time order.
func (q *purchases) upTo(now time.Time) []purchase {
	var out []purchase
	for q.h.Len() > 0 && !q.h[0].at.After(now) {
		p := heap.Pop(&q.h).(purchase)
		own := q.per[p.customer]
		if i := slices.IndexFunc(own, func(t time.Time) bool { return t.Equal(p.at) }); i >= 0 {
			q.per[p.customer] = slices.Delete(own, i, i+1)
		}
		out = append(out, p)
	}
	return out
}

// of returns the customer's purchases still to come, in order.
func (q *purchases) of(customer int) []time.Time { return q.per[customer] }

type purchaseHeap []purchase

func (h purchaseHeap) Len() int { return len(h) }
func (h purchaseHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].customer < h[j].customer
}
func (h purchaseHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *purchaseHeap) Push(x any)   { *h = append(*h, x.(purchase)) }
func (h *purchaseHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
