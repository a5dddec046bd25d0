package state

import (
	"container/heap"
	"slices"

	"golm/lmutil/protocol/lmerr"
)

// MaxQueuedPerSession is how many queued requests one session (one
// client connection) may have waiting at once, over all features; a
// session may have one request queued per feature (manual B.2.2: a job
// queues once for a feature). A queue request beyond either bound is
// refused, so that one connection cannot make the queue grow without
// end.
const MaxQueuedPerSession = 64

// enqueue queues c, which was denied with denial, unless its session
// already has a request queued for the feature (-24) or has
// MaxQueuedPerSession requests queued (denial, as if it had not asked to
// queue).
func (s *State) enqueue(c Checkout, denial *lmerr.Error) (*Waiter, *lmerr.Error) {
	if s.queuedFor(c.Session, c.Feature) {
		return nil, lmerr.New(lmerr.UsersQueued, lmerr.MinorInQueue)
	}
	if len(s.queuedBySession[c.Session]) >= MaxQueuedPerSession {
		return nil, lmerr.New(denial.Code, lmerr.MinorQueueFull)
	}
	w := &Waiter{Handle: s.handleFor(0), Session: c.Session, Client: c.Client, Feature: c.Feature,
		Version: c.Version, VendorData: c.VendorData, Count: c.Count, Linger: c.Linger, Since: s.now}
	s.enqueueWaiter(w)
	cp := *w
	return &cp, nil
}

// serveQueue grants queued requests in arrival order; a request that
// still finds no seat holds back the later requests for its feature. It
// tries the front of each feature's list, earliest arrival first, so it
// costs what the features with requests waiting cost, not what the
// requests cost.
func (s *State) serveQueue(r *Result) {
	if len(s.queues) == 0 {
		return
	}
	heads := make(queueHeads, 0, len(s.queues))
	for _, q := range s.queues {
		heads = append(heads, q)
	}
	heap.Init(&heads)
	for len(heads) > 0 {
		q := heads[0]
		w := q.front().w
		want, _ := parseVersion(w.Version)
		seat, err := s.grant(request{session: w.Session, client: w.Client, feature: w.Feature, version: want,
			verText: w.Version, vendorData: w.VendorData, count: w.Count, linger: w.Linger}, func() uint32 {
			s.dequeueWaiter(w.Handle) // the seat takes the request's handle
			return w.Handle
		}, false)
		if err != nil || q.live == 0 {
			heap.Pop(&heads) // blocked, or done
		} else {
			heap.Fix(&heads, 0)
		}
		if err == nil {
			r.Granted = append(r.Granted, *seat)
		}
	}
}

// The queue. Queued requests are kept per feature in arrival order, with
// a Fenwick tree over that order so that a request's position is found
// in O(log n); a request that leaves is blanked out and the feature's
// list compacted once most of it is blank, so that leaving costs O(1)
// amortised. Every request also carries a global arrival number: serving
// the queue merges the features' heads by it, which grants in the same
// order as one global list would, at a cost that grows with the number
// of features that have requests waiting, not with the requests.

// queuedItem is one queued request in its feature's list.
type queuedItem struct {
	w   *Waiter
	seq uint64        // global arrival order
	fq  *featureQueue // the feature's list
	pos int           // index in fq.items
}

// featureQueue is one feature's queued requests in arrival order.
type featureQueue struct {
	feature string
	items   []*queuedItem // nil where a request left
	head    int           // items[:head] are all nil
	live    int
	fen     []int // Fenwick tree, 1-based: 1 for every live item
}

// push appends it to the list.
func (q *featureQueue) push(it *queuedItem) {
	it.fq, it.pos = q, len(q.items)
	q.items = append(q.items, it)
	q.live++
	if len(q.items) >= len(q.fen) {
		q.rebuild(max(2*len(q.items), 16))
		return
	}
	q.fenAdd(it.pos, 1)
}

// remove blanks it out, compacting the list when most of it is blank.
func (q *featureQueue) remove(it *queuedItem) {
	if it.fq != q || it.pos >= len(q.items) || q.items[it.pos] != it {
		return
	}
	q.items[it.pos] = nil
	q.live--
	q.fenAdd(it.pos, -1)
	for q.head < len(q.items) && q.items[q.head] == nil {
		q.head++
	}
	if blank := len(q.items) - q.live; blank > q.live+32 {
		q.compact()
	}
}

// front is the first live request, nil when none is left.
func (q *featureQueue) front() *queuedItem {
	if q.head < len(q.items) {
		return q.items[q.head]
	}
	return nil
}

// position is it's place among the live requests, 1 for the front.
func (q *featureQueue) position(it *queuedItem) int {
	n := 0
	for i := it.pos + 1; i > 0; i -= i & -i {
		n += q.fen[i]
	}
	return n
}

// each calls f for the live requests in arrival order.
func (q *featureQueue) each(f func(*queuedItem)) {
	for _, it := range q.items[q.head:] {
		if it != nil {
			f(it)
		}
	}
}

func (q *featureQueue) fenAdd(pos, d int) {
	for i := pos + 1; i < len(q.fen); i += i & -i {
		q.fen[i] += d
	}
}

// compact drops the blanks and renumbers the live requests.
func (q *featureQueue) compact() {
	live := make([]*queuedItem, 0, q.live)
	for _, it := range q.items[q.head:] {
		if it != nil {
			it.pos = len(live)
			live = append(live, it)
		}
	}
	q.items, q.head = live, 0
	q.rebuild(max(2*len(live), 16))
}

// rebuild makes a Fenwick tree of capacity n for the list in O(n).
func (q *featureQueue) rebuild(n int) {
	q.fen = make([]int, n+1)
	for i, it := range q.items {
		if it != nil {
			q.fen[i+1]++
		}
	}
	for i := 1; i <= n; i++ {
		if j := i + i&-i; j <= n {
			q.fen[j] += q.fen[i]
		}
	}
}

// queueHeads is a heap of feature lists ordered by their front's arrival.
type queueHeads []*featureQueue

func (h queueHeads) Len() int           { return len(h) }
func (h queueHeads) Less(i, j int) bool { return h[i].front().seq < h[j].front().seq }
func (h queueHeads) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *queueHeads) Push(x any)        { *h = append(*h, x.(*featureQueue)) }
func (h *queueHeads) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return q
}

// enqueueWaiter files w at the end of its feature's list and under its
// session.
func (s *State) enqueueWaiter(w *Waiter) {
	q := s.queues[w.Feature]
	if q == nil {
		q = &featureQueue{feature: w.Feature}
		s.queues[w.Feature] = q
	}
	s.queueSeq++
	it := &queuedItem{w: w, seq: s.queueSeq}
	q.push(it)
	s.waiting[w.Handle] = it
	s.queuedBySession[w.Session] = append(s.queuedBySession[w.Session], it)
}

// dequeueWaiter takes the queued request with handle h out of the queue.
func (s *State) dequeueWaiter(h uint32) *Waiter {
	it := s.waiting[h]
	if it == nil {
		return nil
	}
	delete(s.waiting, h)
	q := it.fq
	q.remove(it)
	if q.live == 0 {
		delete(s.queues, q.feature)
	}
	sess := it.w.Session
	if l := slices.DeleteFunc(s.queuedBySession[sess], func(x *queuedItem) bool { return x == it }); len(l) > 0 {
		s.queuedBySession[sess] = l
	} else {
		delete(s.queuedBySession, sess)
	}
	return it.w
}

// queuedFor reports whether session has a request queued for feature:
// O(MaxQueuedPerSession).
func (s *State) queuedFor(session uint64, feature string) bool {
	return slices.ContainsFunc(s.queuedBySession[session], func(it *queuedItem) bool { return it.w.Feature == feature })
}
