package memstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	invoice "github.com/cryptoinvoice/invoice"
)

// typicalDeliveries is the room an invoice's lists of deliveries start
// with: an invoice paid in one transaction has three callbacks (pending,
// processing, confirmed), so they grow once instead of three times.
const typicalDeliveries = 4

// queue holds the pending deliveries of one invoice and channel in
// ascending Seq order; only its head may be claimed. Empty queues are
// dropped.
type queue struct {
	items []*invoice.Delivery
	pos   int // index in Store.ready; -1 when not in the heap
	// buf holds the first items: an invoice's queue rarely holds more
	// than its few callbacks, so it needs no allocation of its own.
	buf [typicalDeliveries]*invoice.Delivery
}

// readyAt is when the head may next be claimed (unix µs): its
// NextAttemptAt, or the end of its lease while one is held.
func (q *queue) readyAt() int64 {
	h := q.items[0]
	if h.LeaseUntil.After(h.NextAttemptAt) {
		return h.LeaseUntil.UnixMicro()
	}
	return h.NextAttemptAt.UnixMicro()
}

// readyEntry is one queue in the ready heap with its keys copied in, so
// that heap work compares entries without dereferencing queues and their
// deliveries (three cache misses per comparison in a large outbox).
type readyEntry struct {
	at  int64 // the queue's readyAt
	seq int64 // its head's Seq
	q   *queue
}

// readyHeap is a min-heap of the non-empty queues by readyAt, then Seq,
// maintaining queue.pos. Whoever changes a queue's head or its head's
// times calls Store.fixReady.
type readyHeap []readyEntry

func (h readyHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].q.pos = i
	h[j].q.pos = j
}

// fix restores the heap order after the entry at i changed: heap.Fix,
// written out so that the comparisons and swaps inline instead of going
// through heap.Interface.
func (h readyHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h readyHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2 // parent
		if !h.Less(j, i) {
			break
		}
		h.Swap(i, j)
		j = i
	}
}

// down sifts the entry at i0 down and reports whether it moved.
func (h readyHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		j := 2*i + 1 // left child
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.Less(r, j) {
			j = r
		}
		if !h.Less(j, i) {
			break
		}
		h.Swap(i, j)
		i = j
	}
	return i > i0
}

// fixReady puts q in the ready heap, or moves it there after its head or
// its head's times changed.
func (s *Store) fixReady(q *queue) {
	e := readyEntry{at: q.readyAt(), seq: q.items[0].Seq, q: q}
	if q.pos < 0 {
		q.pos = len(s.ready)
		s.ready = append(s.ready, e)
	} else {
		s.ready[q.pos] = e
	}
	s.ready.fix(q.pos)
}

// removeReady takes q out of the ready heap.
func (s *Store) removeReady(q *queue) {
	i, last := q.pos, len(s.ready)-1
	if i != last {
		s.ready.Swap(i, last)
	}
	s.ready[last] = readyEntry{}
	s.ready = s.ready[:last]
	q.pos = -1
	if i != last {
		s.ready.fix(i)
	}
}

// checkOutbox validates the deliveries of an update before anything is
// changed.
func (s *Store) checkOutbox(invoiceID uuid.UUID, outbox []*invoice.Delivery) error {
	for i, d := range outbox {
		switch {
		case d == nil:
			return fmt.Errorf("memstore: update invoice %s: outbox record %d is nil", invoiceID, i)
		case d.InvoiceID != invoiceID:
			return fmt.Errorf("memstore: update invoice %s: delivery %s belongs to invoice %s", invoiceID, d.ID, d.InvoiceID)
		case d.Channel < invoice.ChannelMerchant || d.Channel > invoice.ChannelPayout:
			return fmt.Errorf("memstore: update invoice %s: delivery %s has unknown channel %d", invoiceID, d.ID, d.Channel)
		}
		if _, stored := s.deliveries.get(d.ID); stored {
			return fmt.Errorf("memstore: update invoice %s: delivery %s is already stored", invoiceID, d.ID)
		}
		for _, e := range outbox[:i] {
			if e.ID == d.ID {
				return fmt.Errorf("memstore: update invoice %s: delivery %s appears twice", invoiceID, d.ID)
			}
		}
	}
	return nil
}

// addDelivery stores d (the store's own) for r's invoice and queues it
// when pending.
func (s *Store) addDelivery(r *record, d *invoice.Delivery) {
	s.deliveries.add(d.ID, d)
	if r.deliveries == nil {
		r.deliveries = r.deliveryBuf[:0]
	}
	r.deliveries = append(r.deliveries, d)
	if d.State == invoice.DeliveryPending {
		s.enqueue(r, d)
	}
}

// queueOf returns the slot of d's queue on its invoice's record.
func (s *Store) queueOf(d *invoice.Delivery) **queue {
	r, _ := s.invoices.get(d.InvoiceID)
	if r == nil || d.Channel < invoice.ChannelMerchant || d.Channel > invoice.ChannelPayout {
		return nil
	}
	return &r.queues[d.Channel-1]
}

// enqueue inserts d into its queue at its Seq position (after records with
// an equal Seq).
func (s *Store) enqueue(r *record, d *invoice.Delivery) {
	slot := &r.queues[d.Channel-1]
	q := *slot
	if q == nil {
		q = &queue{pos: -1}
		q.items = q.buf[:0]
		*slot = q
	}
	if n := len(q.items); n == 0 || q.items[n-1].Seq <= d.Seq {
		q.items = append(q.items, d) // the usual case: Seq rises
	} else {
		i := sort.Search(n, func(i int) bool { return q.items[i].Seq > d.Seq })
		q.items = slices.Insert(q.items, i, d)
	}
	if q.items[0] == d || q.pos < 0 {
		s.fixReady(q) // a new head: otherwise the queue's heap entry still holds
	}
}

// dequeue removes the pending d from its queue, dropping the queue when it
// becomes empty.
func (s *Store) dequeue(d *invoice.Delivery) {
	slot := s.queueOf(d)
	if slot == nil || *slot == nil {
		return
	}
	q := *slot
	i := sort.Search(len(q.items), func(i int) bool { return q.items[i].Seq >= d.Seq })
	for ; i < len(q.items) && q.items[i] != d; i++ {
	}
	if i == len(q.items) {
		return
	}
	q.items = slices.Delete(q.items, i, i+1)
	if len(q.items) == 0 {
		s.removeReady(q)
		*slot = nil
		return
	}
	s.fixReady(q)
}

// requeue restores the heap order after the head of d's queue changed.
func (s *Store) requeue(d *invoice.Delivery) {
	if slot := s.queueOf(d); slot != nil && *slot != nil {
		s.fixReady(*slot)
	}
}

// ClaimDeliveries returns copies of up to limit pending deliveries that
// head their invoice-and-channel queue, are due at now and are not held by
// an unexpired lease, earliest due first. Each gets a new random LeaseID
// and LeaseUntil = now+lease.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		out     []*invoice.Delivery
		claimed []*queue
	)
	nowKey := now.UnixMicro()
	for len(out) < limit && len(s.ready) > 0 {
		q := s.ready[0].q
		if s.ready[0].at > nowKey {
			break
		}
		s.removeReady(q)
		d := q.items[0]
		if d.LeaseID != uuid.Nil {
			delete(s.leased, d.LeaseID) // an expired lease
		}
		d.LeaseID = s.nextLeaseID()
		d.LeaseUntil = now.Add(lease)
		s.leased[d.LeaseID] = d
		out = append(out, d.Clone())
		claimed = append(claimed, q)
	}
	// Re-insert after the loop: with a lease of zero or less a claimed
	// queue would otherwise come straight back to the top.
	for _, q := range claimed {
		s.fixReady(q)
	}
	return out, nil
}

// held returns the stored delivery id if leaseID holds it, and releases
// the lease: the caller settles the delivery.
func (s *Store) held(id, leaseID uuid.UUID) (*invoice.Delivery, error) {
	if d, ok := s.leased[leaseID]; ok && d.ID == id {
		delete(s.leased, leaseID)
		d.LeaseID, d.LeaseUntil = uuid.Nil, time.Time{}
		return d, nil
	}
	d, ok := s.deliveries.get(id)
	if !ok {
		return nil, fmt.Errorf("memstore: delivery %s: %w", id, invoice.ErrNotFound)
	}
	return nil, fmt.Errorf("memstore: delivery %s (%s): %w", id, d.State, invoice.ErrLeaseLost)
}

// AckDelivery marks the delivery delivered, appends the attempt and
// releases the lease, if leaseID holds it; otherwise it returns an error
// matching invoice.ErrLeaseLost (invoice.ErrNotFound when absent).
func (s *Store) AckDelivery(ctx context.Context, id, leaseID uuid.UUID, a invoice.Attempt) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := a.CheckStorable(); err != nil {
		return fmt.Errorf("memstore: delivery %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.held(id, leaseID)
	if err != nil {
		return err
	}
	s.dequeue(d)
	d.State = invoice.DeliveryDelivered
	d.Attempts = append(d.Attempts, a)
	return nil
}

// RescheduleDelivery appends the failed attempt and releases the lease, if
// leaseID holds the delivery: it stays pending with NextAttemptAt = next,
// or with dead set becomes invoice.DeliveryDead and leaves its queue.
// Errors as AckDelivery.
func (s *Store) RescheduleDelivery(ctx context.Context, id, leaseID uuid.UUID, a invoice.Attempt, next time.Time, dead bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := a.CheckStorable(); err != nil {
		return fmt.Errorf("memstore: delivery %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.held(id, leaseID)
	if err != nil {
		return err
	}
	d.Attempts = append(d.Attempts, a)
	if dead {
		s.dequeue(d)
		d.State = invoice.DeliveryDead
		return nil
	}
	d.NextAttemptAt = next
	s.requeue(d)
	return nil
}

// SettleDeliveries records a batch of attempts under one lock hold, each
// as AckDelivery or RescheduleDelivery would (see
// invoice.Store.SettleDeliveries). The batch is checked first (no
// delivery twice, known states, storable attempts), so a whole-batch
// error applies nothing.
func (s *Store) SettleDeliveries(ctx context.Context, batch []invoice.Settlement) ([]error, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	if err := checkSettlements(batch); err != nil {
		return nil, fmt.Errorf("memstore: %w", err)
	}
	errs := make([]error, len(batch))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, st := range batch {
		d, err := s.held(st.ID, st.LeaseID)
		if err != nil {
			errs[i] = err
			continue
		}
		d.Attempts = append(d.Attempts, st.Attempt)
		switch st.State {
		case invoice.DeliveryDelivered, invoice.DeliveryDead:
			s.dequeue(d)
			d.State = st.State
		default:
			d.NextAttemptAt = st.NextAttemptAt
			s.requeue(d)
		}
	}
	return errs, nil
}

// checkSettlements refuses a batch with a delivery twice, an unknown
// state or an attempt that fails CheckStorable.
func checkSettlements(batch []invoice.Settlement) error {
	seen := make(map[uuid.UUID]struct{}, len(batch))
	for _, st := range batch {
		switch st.State {
		case invoice.DeliveryDelivered, invoice.DeliveryPending, invoice.DeliveryDead:
		default:
			return fmt.Errorf("settle deliveries: delivery %s: unknown state %d", st.ID, st.State)
		}
		if _, dup := seen[st.ID]; dup {
			return fmt.Errorf("settle deliveries: delivery %s appears twice", st.ID)
		}
		seen[st.ID] = struct{}{}
		if err := st.Attempt.CheckStorable(); err != nil {
			return fmt.Errorf("settle deliveries: delivery %s: %w", st.ID, err)
		}
	}
	return nil
}

// GetDelivery returns a copy of one delivery with its attempts, or an
// error matching invoice.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, id uuid.UUID) (*invoice.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.deliveries.get(id)
	if !ok {
		return nil, fmt.Errorf("memstore: delivery %s: %w", id, invoice.ErrNotFound)
	}
	return d.Clone(), nil
}

// ListDeliveries returns copies of up to q.Limit deliveries matching q in
// ascending ID order after q.After. A Limit of zero or less returns
// nothing. With InvoiceID set it sorts that invoice's deliveries on demand;
// otherwise it walks the sorted ID index from the cursor, examining
// deliveries until Limit match (see the package documentation).
func (s *Store) ListDeliveries(ctx context.Context, q invoice.DeliveryQuery) ([]*invoice.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	match := func(d *invoice.Delivery) bool {
		return (q.State == 0 || d.State == q.State) && compareIDs(d.ID, q.After) > 0
	}
	var out []*invoice.Delivery
	if q.InvoiceID != uuid.Nil {
		s.mu.RLock()
		defer s.mu.RUnlock()
		var ds []*invoice.Delivery
		if r, ok := s.invoices.get(q.InvoiceID); ok {
			ds = r.deliveries
		}
		for _, d := range ds {
			if match(d) {
				out = append(out, d)
			}
		}
		slices.SortFunc(out, func(a, b *invoice.Delivery) int { return compareIDs(a.ID, b.ID) })
		if len(out) > q.Limit {
			out = out[:q.Limit]
		}
		for i, d := range out {
			out[i] = d.Clone()
		}
		return out, nil
	}
	s.mu.Lock() // the index may need to merge late arrivals
	defer s.mu.Unlock()
	for _, d := range s.deliveries.after(q.After) {
		if !match(d) {
			continue
		}
		out = append(out, d.Clone())
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// RedeliverDelivery makes a dead or delivered delivery pending again with
// NextAttemptAt = now, keeping its ID and attempts, and puts it back in its
// queue at its Seq position. A delivery that is still pending is left as
// it is. An unknown ID yields an error matching invoice.ErrNotFound.
func (s *Store) RedeliverDelivery(ctx context.Context, id uuid.UUID, now time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries.get(id)
	if !ok {
		return fmt.Errorf("memstore: delivery %s: %w", id, invoice.ErrNotFound)
	}
	if d.State == invoice.DeliveryPending {
		return nil
	}
	d.State = invoice.DeliveryPending
	d.NextAttemptAt = now
	d.LeaseID, d.LeaseUntil = uuid.Nil, time.Time{}
	r, _ := s.invoices.get(d.InvoiceID)
	s.enqueue(r, d)
	return nil
}

// nextLeaseID returns a lease ID unique within this store: a random prefix
// chosen once (so IDs differ between stores too) and a counter, without
// asking crypto/rand on every claim.
func (s *Store) nextLeaseID() uuid.UUID {
	if s.leasePrefix == uuid.Nil {
		s.leasePrefix = uuid.New()
	}
	s.leaseCount++
	id := s.leasePrefix
	binary.BigEndian.PutUint64(id[8:], binary.BigEndian.Uint64(id[8:])^s.leaseCount)
	return id
}
