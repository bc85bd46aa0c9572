// Package memstore is the embedded default invoice.Store: every invoice and
// outbox record lives in the memory of one process and is lost when the
// process exits. It needs no configuration (see New), is safe for
// concurrent use by any number of engines in the same process, and passes
// storetest.Run.
//
// All state is guarded by one mutex. Values are deep-copied on the way in
// and out, so callers may modify what they pass and what they get; the one
// exception is the outbox records given to UpdateInvoice, which the store
// takes over as the Store contract allows.
//
// Costs, with N stored invoices, D stored deliveries and Q non-empty
// (invoice, channel) queues of pending deliveries:
//
//   - GetInvoice, GetInvoiceByForeignID: O(1) map look-ups (plus the
//     copy). GetDelivery and RedeliverDelivery: O(log D), a binary search
//     of the sorted delivery index (or a map look-up for an ID that
//     arrived out of order and was not merged in yet).
//   - CreateInvoice and UpdateInvoice: O(log N) to place the invoice in
//     the deadline heap; each outbox record adds O(log Q) plus an insertion
//     into its queue (an append when Seq rises, as the engine's does) and
//     into the delivery index (an append when IDs rise, as UUIDv7s do).
//   - AckDelivery, RescheduleDelivery: a look-up of the lease ID among the
//     held deliveries, then O(log Q) plus a removal from or insertion into
//     one (short) queue.
//   - ClaimDueInvoices and ClaimDeliveries: O(k log N) and O(k log Q) for k
//     claimed items; they never look at what is not due.
//   - ListAwaitingPayout: O(a log a) for the a invoices with a refund
//     claim awaiting payout, kept in a map of their own.
//   - ListInvoices and ListDeliveries without InvoiceID: O(log N + s),
//     where s is the number of records examined after the cursor until
//     Limit match the filter (with a filter that rarely matches, such as
//     State: DeliveryDead, s can approach N or D). IDs that arrived out of
//     ID order since the previous listing are first merged into the sorted
//     index: O(N + m log m) for m such IDs; UUIDv7 IDs (the engine's
//     default) arrive in order and cost nothing here.
//   - ListDeliveries with InvoiceID: sorts that invoice's d deliveries on
//     demand, O(d log d).
//
// Memory: per invoice, one allocation holding the stored invoice.Invoice
// with its deadline-heap bookkeeping (plus the invoice's own strings,
// decimals and slices), and its entries in the ID index, the foreign_id
// map and (while it has a deadline) the deadline heap: about 875 bytes for
// a typical invoice, all included. Deliveries are kept forever, as the
// Store contract requires, each with a 24-byte entry in the delivery
// index.
package memstore

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	invoice "github.com/cryptoinvoice/invoice"
)

// Store is an in-memory invoice.Store. Create one with New; the zero value
// is not ready for use.
type Store struct {
	mu sync.RWMutex

	lastNumber int64
	invoices   idIndex[*record] // every invoice by ID (see idIndex)
	byForeign  map[string]*record
	byToken    map[string]*record // by CheckoutToken (invoices that have one)
	byAddress  map[string]*record // by Deposit.Address: the newest invoice with it
	sequences  map[string]int64   // NextSequence: the next value of each counter
	due        dueHeap            // invoices by deadline, and stale entries
	claimed    dueHeap            // invoices under a sweep claim, by its end, and stale entries
	dueLive    int                // live entries in due and held
	// swept remembers the records ClaimDueInvoices handed out, so that the
	// sweep's update of each finds its record without searching the large
	// ID index (cache misses in a store of millions). Records are never
	// replaced, so an entry is never wrong; it is dropped by the update,
	// and the map is emptied should it outgrow maxSwept.
	swept map[uuid.UUID]*record
	// awaiting holds the invoices with a refund claim awaiting payout
	// (see ListAwaitingPayout); updated by every create and update.
	awaiting map[uuid.UUID]*record

	deliveries idIndex[*invoice.Delivery] // every delivery, by ID
	// leased holds the deliveries under a ClaimDeliveries lease by lease
	// ID: acknowledging finds its delivery in this small map.
	leased      map[uuid.UUID]*invoice.Delivery
	ready       readyHeap // non-empty queues by when their head is claimable
	leasePrefix uuid.UUID // see nextLeaseID
	leaseCount  uint64
}

var _ invoice.Store = (*Store)(nil)

// New returns an empty Store, ready to use: there is nothing to configure.
// Invoice numbers start at 1.
func New() *Store {
	return &Store{
		byForeign: make(map[string]*record),
		awaiting:  make(map[uuid.UUID]*record),
		byToken:   make(map[string]*record),
		byAddress: make(map[string]*record),
		sequences: make(map[string]int64),
		leased:    make(map[uuid.UUID]*invoice.Delivery),
	}
}

// record is one stored invoice with its place in the deadline heap: one
// allocation per invoice (the Invoice is held by value; with the lease,
// heap position and outbox lists the record fills the 640-byte size
// class, TestRecordSize).
type record struct {
	inv invoice.Invoice
	// leaseUntil is the end of the ClaimDueInvoices hold; zero when none
	// was taken since the last write.
	leaseUntil time.Time
	// dueKey is the sweep key (unix µs) of the record's live entry in
	// Store.due, 0 when it has none; gen tells the live entry from the
	// stale ones left behind when the key changed.
	dueKey int64
	gen    uint32
	// deliveries are the invoice's outbox records in insertion order;
	// queues[ch-1] holds the pending ones of channel ch (nil when none).
	deliveries []*invoice.Delivery
	queues     [3]*queue
	// deliveryBuf holds the first deliveries: an invoice rarely has more
	// than its few callbacks, and the buffer fills the record's size
	// class, so they cost no allocation of their own.
	deliveryBuf [typicalDeliveries]*invoice.Delivery
}

// sweepAt is the record's key in the deadline heap: when it may next be
// claimed by ClaimDueInvoices.
func (r *record) sweepAt() time.Time {
	if r.leaseUntil.After(r.inv.Deadline) {
		return r.leaseUntil
	}
	return r.inv.Deadline
}

var errNoForeignID = fmt.Errorf("memstore: no invoice with this foreign_id: %w", invoice.ErrNotFound)

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	return nil
}

// CreateInvoice stores a copy of inv with Version 1 and the next Number,
// and sets inv.Version and inv.Number. A taken ForeignID yields an error
// matching invoice.ErrDuplicate; an ID already stored yields an error too.
// Neither stores anything.
func (s *Store) CreateInvoice(ctx context.Context, inv *invoice.Invoice) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if inv == nil {
		return errors.New("memstore: create invoice: nil invoice")
	}
	if err := inv.CheckStorable(); err != nil {
		return fmt.Errorf("memstore: create invoice: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byForeign[inv.ForeignID]; ok {
		return fmt.Errorf("memstore: create invoice %q: %w", inv.ForeignID, invoice.ErrDuplicate)
	}
	if _, taken := s.invoices.get(inv.ID); taken {
		return fmt.Errorf("memstore: create invoice %q: id %s is already stored", inv.ForeignID, inv.ID)
	}
	if _, taken := s.byToken[inv.CheckoutToken]; taken && inv.CheckoutToken != "" {
		return fmt.Errorf("memstore: create invoice %q: checkout token is already stored", inv.ForeignID)
	}
	s.lastNumber++
	r := &record{}
	inv.CopyInto(&r.inv)
	stored := &r.inv
	stored.Number = s.lastNumber
	stored.Version = 1
	s.invoices.add(stored.ID, r)
	s.byForeign[stored.ForeignID] = r
	if stored.CheckoutToken != "" {
		s.byToken[stored.CheckoutToken] = r
	}
	s.indexAddress(r, "")
	s.resetSweep(r)
	s.indexPayout(r)
	inv.Number = stored.Number
	inv.Version = stored.Version
	return nil
}

// GetInvoice returns a copy of the invoice with the given ID, or an error
// matching invoice.ErrNotFound.
func (s *Store) GetInvoice(ctx context.Context, id uuid.UUID) (*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.invoices.get(id)
	if !ok {
		return nil, fmt.Errorf("memstore: invoice %s: %w", id, invoice.ErrNotFound)
	}
	return r.inv.Clone(), nil
}

// GetInvoiceByForeignID returns a copy of the invoice with the given
// foreign_id, or an error matching invoice.ErrNotFound.
func (s *Store) GetInvoiceByForeignID(ctx context.Context, foreignID string) (*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byForeign[foreignID]
	if !ok {
		return nil, errNoForeignID // a miss is the normal case of a create: no formatting
	}
	return r.inv.Clone(), nil
}

// ListInvoices returns copies of up to q.Limit invoices in ascending ID
// order after q.After, of status q.Status when it is non-zero. A Limit of
// zero or less returns nothing. See the package documentation for its cost.
func (s *Store) ListInvoices(ctx context.Context, q invoice.ListQuery) ([]*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	s.mu.Lock() // the index may need to merge late arrivals
	defer s.mu.Unlock()
	var out []*invoice.Invoice
	for _, r := range s.invoices.after(q.After) {
		inv := &r.inv
		if q.Status != 0 && inv.Status != q.Status ||
			!q.CreatedFrom.IsZero() && inv.CreatedAt.Before(q.CreatedFrom) ||
			!q.CreatedBefore.IsZero() && !inv.CreatedAt.Before(q.CreatedBefore) {
			continue
		}
		out = append(out, inv.Clone())
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// UpdateInvoice replaces the stored invoice with a copy of inv and appends
// copies of the deliveries to the outbox, if the stored Version equals
// inv.Version; it then sets inv.Version to the stored Version+1. Otherwise
// it changes nothing and returns an error matching invoice.ErrConflict, or
// invoice.ErrNotFound when no invoice has inv.ID.
//
// Beyond the Store contract it also refuses, changing nothing: a ForeignID
// changed to one another invoice has (invoice.ErrDuplicate), and
// deliveries that are nil, belong to another invoice or reuse a stored
// delivery ID.
func (s *Store) UpdateInvoice(ctx context.Context, inv *invoice.Invoice, outbox []*invoice.Delivery) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if inv == nil {
		return errors.New("memstore: update invoice: nil invoice")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Storable checks first, as every store answers them, against the
	// stored copy: what is unchanged was checked when it was stored.
	r := s.find(inv.ID)
	var stored *invoice.Invoice
	if r != nil {
		stored = &r.inv
	}
	if err := inv.CheckStorableSince(stored); err != nil {
		return fmt.Errorf("memstore: update invoice: %w", err)
	}
	for _, d := range outbox {
		if d != nil {
			if err := d.CheckStorableFor(inv); err != nil {
				return fmt.Errorf("memstore: update invoice: %w", err)
			}
		}
	}
	if r == nil {
		return fmt.Errorf("memstore: update invoice %s: %w", inv.ID, invoice.ErrNotFound)
	}
	if err := s.checkFound(r, inv, outbox, true); err != nil {
		return err
	}
	s.applyUpdate(r, inv, outbox)
	return nil
}

// find returns the record of the invoice with the given ID, or nil.
func (s *Store) find(id uuid.UUID) *record {
	if len(s.swept) > 0 {
		if r, ok := s.swept[id]; ok {
			return r
		}
	}
	r, _ := s.invoices.get(id)
	return r
}

// checkUpdate finds the record inv updates and checks the update, changing
// nothing. rekey allows a new ForeignID or CheckoutToken.
func (s *Store) checkUpdate(inv *invoice.Invoice, outbox []*invoice.Delivery, rekey bool) (*record, error) {
	r := s.find(inv.ID)
	if r == nil {
		return nil, fmt.Errorf("memstore: update invoice %s: %w", inv.ID, invoice.ErrNotFound)
	}
	return r, s.checkFound(r, inv, outbox, rekey)
}

// checkFound is checkUpdate for r, the record with inv's ID.
func (s *Store) checkFound(r *record, inv *invoice.Invoice, outbox []*invoice.Delivery, rekey bool) error {
	if r.inv.Version != inv.Version {
		return fmt.Errorf("memstore: update invoice %q: version %d, stored %d: %w",
			inv.ForeignID, inv.Version, r.inv.Version, invoice.ErrConflict)
	}
	renamed := inv.ForeignID != r.inv.ForeignID
	retoken := inv.CheckoutToken != r.inv.CheckoutToken
	if !rekey && (renamed || retoken) {
		return fmt.Errorf("memstore: update invoice %s: a batch update may not change foreign_id or checkout token", inv.ID)
	}
	if renamed {
		if _, taken := s.byForeign[inv.ForeignID]; taken {
			return fmt.Errorf("memstore: update invoice %s: foreign_id %q: %w", inv.ID, inv.ForeignID, invoice.ErrDuplicate)
		}
	}
	if retoken && inv.CheckoutToken != "" {
		if _, taken := s.byToken[inv.CheckoutToken]; taken {
			return fmt.Errorf("memstore: update invoice %s: checkout token is already stored", inv.ID)
		}
	}
	return s.checkOutbox(inv.ID, outbox)
}

// applyUpdate stores inv in r (checked by checkUpdate) with its outbox and
// sets inv.Version.
func (s *Store) applyUpdate(r *record, inv *invoice.Invoice, outbox []*invoice.Delivery) {
	if len(s.swept) > 0 {
		delete(s.swept, inv.ID)
	}
	if inv.ForeignID != r.inv.ForeignID {
		delete(s.byForeign, r.inv.ForeignID)
		s.byForeign[inv.ForeignID] = r
	}
	if inv.CheckoutToken != r.inv.CheckoutToken {
		delete(s.byToken, r.inv.CheckoutToken)
		if inv.CheckoutToken != "" {
			s.byToken[inv.CheckoutToken] = r
		}
	}
	oldAddress := r.inv.Deposit.Address
	copyReusing(&r.inv, inv)
	if r.inv.Deposit.Address != oldAddress {
		s.indexAddress(r, oldAddress)
	}
	r.inv.Version = inv.Version + 1
	r.leaseUntil = time.Time{}
	s.resetSweep(r)
	s.indexPayout(r)
	for _, d := range outbox {
		s.addDelivery(r, d) // the store owns it now (see invoice.Store.UpdateInvoice)
	}
	inv.Version = r.inv.Version
}

// UpdateInvoices applies a batch of versioned updates under one lock
// hold, each as UpdateInvoice would (see invoice.Store.UpdateInvoices);
// an update may not change ForeignID or CheckoutToken. The whole batch is
// checked first (no invoice twice, no nil invoice, storable invoices and
// valid outbox records, no delivery ID twice), so a whole-batch error
// applies nothing.
func (s *Store) UpdateInvoices(ctx context.Context, batch []invoice.InvoiceUpdate) ([]error, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return nil, nil
	}
	seen := make(map[uuid.UUID]struct{}, len(batch))
	for i, u := range batch {
		if u.Invoice == nil {
			return nil, fmt.Errorf("memstore: update invoices: update %d has a nil invoice", i)
		}
		if _, dup := seen[u.Invoice.ID]; dup {
			return nil, fmt.Errorf("memstore: update invoices: invoice %s appears twice", u.Invoice.ID)
		}
		seen[u.Invoice.ID] = struct{}{}
		if err := u.Invoice.CheckStorable(); err != nil {
			return nil, fmt.Errorf("memstore: update invoices: %w", err)
		}
		for _, d := range u.Outbox {
			if d == nil {
				continue // refused by checkOutbox
			}
			if err := d.CheckStorable(); err != nil {
				return nil, fmt.Errorf("memstore: update invoices: %w", err)
			}
			if _, dup := seen[d.ID]; dup {
				return nil, fmt.Errorf("memstore: update invoices: delivery %s appears twice", d.ID)
			}
			seen[d.ID] = struct{}{}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Check everything first: per-update refusals, then the outbox records
	// of the updates that apply (a whole-batch error), then apply.
	errs := make([]error, len(batch))
	recs := make([]*record, len(batch))
	for i, u := range batch {
		recs[i], errs[i] = s.checkUpdate(u.Invoice, nil, false)
		if errs[i] == nil {
			if err := s.checkOutbox(u.Invoice.ID, u.Outbox); err != nil {
				return nil, err
			}
		}
	}
	for i, u := range batch {
		if errs[i] == nil {
			s.applyUpdate(recs[i], u.Invoice, u.Outbox)
		}
	}
	return errs, nil
}

// indexAddress points byAddress at r for its deposit address when no newer
// invoice has that address, after r's address changed from old.
func (s *Store) indexAddress(r *record, old string) {
	if old != "" && s.byAddress[old] == r {
		delete(s.byAddress, old) // an older invoice with old is no longer found: addresses are set once
	}
	addr := r.inv.Deposit.Address
	if addr == "" {
		return
	}
	if cur, ok := s.byAddress[addr]; !ok || cur.inv.Number < r.inv.Number {
		s.byAddress[addr] = r
	}
}

// GetInvoiceByCheckoutToken returns a copy of the invoice whose
// CheckoutToken is token, or an error matching invoice.ErrNotFound.
func (s *Store) GetInvoiceByCheckoutToken(ctx context.Context, token string) (*invoice.Invoice, error) {
	return s.getBy(ctx, s.byToken, token, "checkout token")
}

// GetInvoiceByAddress returns a copy of the newest invoice whose deposit
// address is address, or an error matching invoice.ErrNotFound.
func (s *Store) GetInvoiceByAddress(ctx context.Context, address string) (*invoice.Invoice, error) {
	return s.getBy(ctx, s.byAddress, address, "deposit address")
}

func (s *Store) getBy(ctx context.Context, index map[string]*record, key, what string) (*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := index[key]
	if !ok || key == "" {
		return nil, fmt.Errorf("memstore: no invoice with this %s: %w", what, invoice.ErrNotFound)
	}
	return r.inv.Clone(), nil
}

// NextSequence returns the next value of the counter called name, from 0.
// Counters live as long as the Store.
func (s *Store) NextSequence(ctx context.Context, name string) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if !invoice.ValidStoredKey(name) {
		return 0, fmt.Errorf("memstore: sequence name %q is not valid UTF-8 without NUL: %w", name, invoice.ErrValidation)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.sequences[name]
	s.sequences[name] = v + 1
	return v, nil
}

// maxSwept bounds Store.swept: claimed invoices that are never updated
// (their claimer stopped) must not accumulate.
const maxSwept = 1 << 16

// copyReusing sets *dst, a stored invoice, to a deep copy of src. dst's
// Quotes and Transactions arrays belong to the store alone (every copy
// handed out is a Clone), so they are overwritten in place when they are
// large enough: an update that changes a transaction's status or keeps a
// quote table allocates nothing for them.
func copyReusing(dst, src *invoice.Invoice) {
	quotes, txs := dst.Quotes, dst.Transactions
	*dst = *src
	dst.Quotes = overwrite(quotes, src.Quotes)
	dst.Transactions = overwrite(txs, src.Transactions)
	if src.RefundClaims != nil { // rare: deep-copied as CopyInto does
		var claims invoice.Invoice
		(&invoice.Invoice{RefundClaims: src.RefundClaims}).CopyInto(&claims)
		dst.RefundClaims = claims.RefundClaims
	}
}

// overwrite returns a copy of src, in old's array when it has room (nil
// and empty kept apart).
func overwrite[T any](old, src []T) []T {
	if src == nil {
		return nil
	}
	if cap(old) < len(src) {
		old = make([]T, 0, len(src))
	}
	return append(old[:0], src...)
}

// ClaimDueInvoices returns copies of up to limit invoices whose deadline
// is at or before now and that are not held by an unexpired claim, in
// deadline order, and holds them until now+lease (or their next update).
func (s *Store) ClaimDueInvoices(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.swept == nil || len(s.swept) > maxSwept {
		s.swept = make(map[uuid.UUID]*record, min(limit, maxSwept))
	}
	var (
		invs    []*invoice.Invoice
		claimed []*record
	)
	nowKey := now.UnixMicro()
	for len(invs) < limit {
		h := s.nextDue()
		if h == nil || (*h)[0].at > nowKey {
			break
		}
		r := s.popDue(h).rec
		r.leaseUntil = now.Add(lease)
		invs = append(invs, r.inv.Clone())
		claimed = append(claimed, r)
		s.swept[r.inv.ID] = r
	}
	// Re-insert after the loop: with a lease of zero or less a claimed
	// invoice would otherwise come straight back to the top.
	for _, r := range claimed {
		s.resetSweep(r)
	}
	return invs, nil
}

// nextDue drops stale entries from the tops of both heaps and returns the
// heap whose top comes first, or nil when both are empty.
func (s *Store) nextDue() *dueHeap {
	for len(s.due) > 0 && !s.due[0].live() {
		s.popDue(&s.due)
	}
	for len(s.claimed) > 0 && !s.claimed[0].live() {
		s.popDue(&s.claimed)
	}
	switch {
	case len(s.due) == 0 && len(s.claimed) == 0:
		return nil
	case len(s.claimed) == 0:
		return &s.due
	case len(s.due) == 0:
		return &s.claimed
	}
	pair := dueHeap{s.due[0], s.claimed[0]}
	if pair.Less(1, 0) {
		return &s.claimed
	}
	return &s.due
}

// resetSweep gives r the entry its current invoice calls for: keyed by its
// deadline in the deadline heap, or by the end of its sweep claim in the
// small heap of claimed invoices (so claiming does not churn the large
// heap: the next update, usually moments later, ends the claim), and none
// when the deadline is zero or the status final. A changed key leaves the
// old entry behind as stale (skipped when it reaches the top), so no heap
// entry ever has to be found and moved: heap work never touches a record,
// only the contiguous entries, which keeps large heaps cache-friendly.
func (s *Store) resetSweep(r *record) {
	var key int64
	if !r.inv.Deadline.IsZero() && !r.inv.Status.IsFinal() {
		key = r.sweepAt().UnixMicro()
	}
	if key == r.dueKey && key != 0 {
		return // the live entry is still right
	}
	if r.dueKey != 0 {
		r.gen++ // the old entry goes stale
		s.dueLive--
	}
	r.dueKey = key
	if key == 0 {
		return
	}
	s.dueLive++
	h := &s.due
	if r.leaseUntil.After(r.inv.Deadline) {
		h = &s.claimed
	}
	h.push(dueEntry{at: key, deadline: r.inv.Deadline.UnixMicro(), number: r.inv.Number, gen: r.gen, rec: r})
	// Compact when stale entries outnumber live ones.
	if n := len(s.due) + len(s.claimed); n > 1024 && n > 2*s.dueLive {
		s.due.compact()
		s.claimed.compact()
	}
}

// popDue removes the top entry of h; if it was live, its record no longer
// has one.
func (s *Store) popDue(h *dueHeap) dueEntry {
	e := h.pop()
	if e.live() {
		e.rec.dueKey = 0
		e.rec.gen++
		s.dueLive--
	}
	return e
}

// compact drops the stale entries of h: O(n), rare.
func (h *dueHeap) compact() {
	live := (*h)[:0]
	for _, e := range *h {
		if e.live() {
			live = append(live, e)
		}
	}
	clear((*h)[len(live):])
	*h = live
	heap.Init(h)
}

// dueEntry is one entry of the deadline heap. The keys are copied in so
// that ordering never dereferences a record.
type dueEntry struct {
	at       int64 // sweep key: deadline, or end of a sweep lease (unix µs)
	deadline int64 // unix µs
	number   int64
	gen      uint32
	rec      *record
}

func (e dueEntry) live() bool { return e.gen == e.rec.gen && e.rec.dueKey != 0 }

// dueHeap is a min-heap of entries by sweep key, then deadline, then Number.
type dueHeap []dueEntry

func (h dueHeap) Len() int { return len(h) }

func (h dueHeap) Less(i, j int) bool {
	a, b := &h[i], &h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	if a.deadline != b.deadline {
		return a.deadline < b.deadline
	}
	return a.number < b.number
}

func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

func (h *dueHeap) Push(x any) { *h = append(*h, x.(dueEntry)) }

// push and pop are heap.Push and heap.Pop without boxing the entry in an
// interface (an allocation per call).
func (h *dueHeap) push(e dueEntry) {
	*h = append(*h, e)
	for i := len(*h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.Less(i, parent) {
			break
		}
		h.Swap(i, parent)
		i = parent
	}
}

func (h *dueHeap) pop() dueEntry {
	old := *h
	n := len(old) - 1
	top := old[0]
	old[0] = old[n]
	old[n] = dueEntry{}
	*h = old[:n]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && h.Less(l, least) {
			least = l
		}
		if r < n && h.Less(r, least) {
			least = r
		}
		if least == i {
			break
		}
		h.Swap(i, least)
		i = least
	}
	return top
}

func (h *dueHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = dueEntry{}
	*h = old[:n]
	return e
}
