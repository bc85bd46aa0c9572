package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	invoice "github.com/cryptoinvoice/invoice"
)

// ListAwaitingPayout returns up to limit invoices with a refund claim in
// status redeemed, in ascending ID order after the cursor. It reads the
// partial index invoices_awaiting_payout_idx (migration 0003), which holds
// only such invoices, so its cost does not grow with the invoices stored.
// A row that cannot be decoded is set aside (see SetAside) and the page
// filled with the rows after it.
func (s *Store) ListAwaitingPayout(ctx context.Context, after uuid.UUID, limit int) ([]*invoice.Invoice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	// An undecodable row is set aside, as in ListInvoices.
	return listPage(ctx, s, "list invoices awaiting payout", s.sql.listAwaitingPayout, []any{after, limit},
		after, limit, scanInvoice, func(inv *invoice.Invoice) uuid.UUID { return inv.ID })
}

// jPayout is the payout column's document: an invoice.RefundPayout with
// an exact amount.
type jPayout struct {
	ClaimID     uuid.UUID `json:"claim_id"`
	InvoiceID   uuid.UUID `json:"invoice_id"`
	ForeignID   string    `json:"foreign_id"`
	Amount      jdec      `json:"amount"`
	Currency    string    `json:"currency"`
	Destination string    `json:"destination"`
	Reason      string    `json:"reason"`
	RedeemedAt  time.Time `json:"redeemed_at,omitzero"`
}

// encodePayout returns the jsonb document of p, or nil for no payout.
func encodePayout(p *invoice.RefundPayout) ([]byte, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(jPayout{
		ClaimID: p.ClaimID, InvoiceID: p.InvoiceID, ForeignID: p.ForeignID, Amount: jdec(p.Amount),
		Currency: p.Currency, Destination: p.Destination, Reason: p.Reason, RedeemedAt: utc(p.RedeemedAt),
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode payout: %w", err)
	}
	return b, nil
}

// decodePayout reverses encodePayout.
func decodePayout(b []byte) (*invoice.RefundPayout, error) {
	if b == nil {
		return nil, nil
	}
	var j jPayout
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("pgstore: decode payout: %w", err)
	}
	return &invoice.RefundPayout{
		ClaimID: j.ClaimID, InvoiceID: j.InvoiceID, ForeignID: j.ForeignID, Amount: decimal.Decimal(j.Amount),
		Currency: j.Currency, Destination: j.Destination, Reason: j.Reason, RedeemedAt: utc(j.RedeemedAt),
	}, nil
}
