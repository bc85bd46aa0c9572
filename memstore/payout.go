package memstore

import (
	"bytes"
	"context"
	"slices"

	"github.com/google/uuid"

	invoice "github.com/cryptoinvoice/invoice"
)

// indexPayout keeps r in Store.awaiting exactly while its invoice has a
// refund claim awaiting payout. Invoices without refund claims (nearly
// all) cost one nil check.
func (s *Store) indexPayout(r *record) {
	if awaitingPayout(&r.inv) {
		s.awaiting[r.inv.ID] = r
	} else if r.inv.RefundClaims != nil {
		delete(s.awaiting, r.inv.ID)
	}
}

func awaitingPayout(inv *invoice.Invoice) bool {
	for i := range inv.RefundClaims {
		if inv.RefundClaims[i].Status == invoice.RefundRedeemed {
			return true
		}
	}
	return false
}

// ListAwaitingPayout returns copies of up to limit invoices with a refund
// claim in status RefundRedeemed, in ascending ID order after the cursor.
// It costs O(a log a) for the a invoices awaiting payout (they are few:
// each waits only until the merchant's payout), whatever the number of
// invoices stored.
func (s *Store) ListAwaitingPayout(ctx context.Context, after uuid.UUID, limit int) ([]*invoice.Invoice, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]uuid.UUID, 0, len(s.awaiting))
	for id := range s.awaiting {
		if bytes.Compare(id[:], after[:]) > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	out := make([]*invoice.Invoice, 0, min(limit, len(ids)))
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, s.awaiting[id].inv.Clone())
	}
	return out, nil
}
