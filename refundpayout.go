package invoice

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// RefundPayout is the merchant-facing record of a redeemed refund claim:
// what the payout system must send, and where. Once sent, the payout
// system calls Engine.MarkRefundClaimPaid with ClaimID and its payout
// reference.
type RefundPayout struct {
	ClaimID     uuid.UUID       `json:"claim_id"` // receivers dedupe on it: one payout per claim
	InvoiceID   uuid.UUID       `json:"invoice_id"`
	ForeignID   string          `json:"foreign_id"`
	Amount      decimal.Decimal `json:"amount"`
	Currency    string          `json:"currency"`
	Destination string          `json:"destination"` // the address the customer gave
	Reason      string          `json:"reason"`
	RedeemedAt  time.Time       `json:"redeemed_at"`
}

func payoutOf(inv *Invoice, rc *RefundClaim) RefundPayout {
	return RefundPayout{
		ClaimID: rc.ID, InvoiceID: inv.ID, ForeignID: inv.ForeignID, Amount: rc.Amount, Currency: rc.Currency,
		Destination: rc.Destination, Reason: rc.Reason, RedeemedAt: rc.RedeemedAt,
	}
}

// PayoutNotifier tells the merchant's payout system about redeemed refund
// claims (Config.PayoutNotifier). Same contract as Notifier: nil means
// acknowledged, any error schedules a retry; a record may arrive more than
// once, so dedupe on ClaimID.
type PayoutNotifier interface {
	NotifyPayout(ctx context.Context, p *RefundPayout) error
}

// PayoutNotifierFunc adapts a function to PayoutNotifier.
type PayoutNotifierFunc func(ctx context.Context, p *RefundPayout) error

// NotifyPayout calls f.
func (f PayoutNotifierFunc) NotifyPayout(ctx context.Context, p *RefundPayout) error {
	return f(ctx, p)
}

// PayoutListOptions selects a page of RefundClaimsAwaitingPayout.
type PayoutListOptions struct {
	// Cursor is the NextCursor of the previous page; "" for the first page.
	Cursor string
	Limit  int // default 100, at most 1000
}

// PayoutPage is one page of RefundClaimsAwaitingPayout.
type PayoutPage struct {
	Payouts []RefundPayout
	// NextCursor continues the listing; "" when this is the last page.
	NextCursor string
}

// RefundClaimsAwaitingPayout lists the refund claims that are redeemed and
// not yet paid, in invoice ID order (creation order with UUIDv7 IDs) and,
// within an invoice, in claim order, one page at a time. It reads only
// invoices with such claims (Store.ListAwaitingPayout), however many
// invoices there are. A payout system that polls it, pays each entry and
// marks it paid needs no PayoutNotifier; a claim stays listed until
// MarkRefundClaimPaid.
func (e *Engine) RefundClaimsAwaitingPayout(ctx context.Context, opts PayoutListOptions) (PayoutPage, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var (
		afterInv, afterClaim uuid.UUID
		out                  []RefundPayout
	)
	// Collect limit+1 entries, to know whether a next page exists.
	add := func(inv *Invoice, skipThrough uuid.UUID) {
		skipping := skipThrough != uuid.Nil
		for i := range inv.RefundClaims {
			rc := &inv.RefundClaims[i]
			if skipping {
				skipping = rc.ID != skipThrough
				continue
			}
			if rc.Status == RefundRedeemed && len(out) <= limit {
				out = append(out, payoutOf(inv, rc))
			}
		}
	}
	if opts.Cursor != "" {
		var err error
		if afterInv, afterClaim, err = parsePayoutCursor(opts.Cursor); err != nil {
			return PayoutPage{}, err
		}
		// The rest of the invoice the previous page ended in.
		inv, err := e.cfg.Store.GetInvoice(ctx, afterInv)
		switch {
		case err == nil:
			add(inv, afterClaim)
		case !isNotFound(err):
			return PayoutPage{}, fmt.Errorf("invoice: refund claims awaiting payout: %w", err)
		}
	}
	for len(out) <= limit {
		// Each listed invoice has at least one such claim.
		want := limit + 1 - len(out)
		invs, err := e.cfg.Store.ListAwaitingPayout(ctx, afterInv, want)
		if err != nil {
			return PayoutPage{}, fmt.Errorf("invoice: refund claims awaiting payout: %w", err)
		}
		for _, inv := range invs {
			add(inv, uuid.Nil)
			afterInv = inv.ID
		}
		if len(invs) < want {
			break
		}
	}
	page := PayoutPage{Payouts: out}
	if len(out) > limit {
		page.Payouts = out[:limit]
		last := page.Payouts[limit-1]
		page.NextCursor = last.InvoiceID.String() + "." + last.ClaimID.String()
	}
	return page, nil
}

func parsePayoutCursor(s string) (invoiceID, claimID uuid.UUID, err error) {
	a, b, ok := strings.Cut(s, ".")
	if ok {
		if invoiceID, err = uuid.Parse(a); err == nil {
			if claimID, err = uuid.Parse(b); err == nil {
				return invoiceID, claimID, nil
			}
		}
	}
	return uuid.Nil, uuid.Nil, fmt.Errorf("invoice: bad cursor %q: %w", s, ErrValidation)
}

func (e *Engine) notifyPayout(ctx context.Context, d *Delivery) error {
	switch {
	case d.Payout == nil:
		return fmt.Errorf("invoice: delivery %s has no payout", d.ID)
	case e.cfg.PayoutNotifier == nil:
		return fmt.Errorf("invoice: delivery %s is a payout, and Config.PayoutNotifier is not set", d.ID)
	}
	return e.cfg.PayoutNotifier.NotifyPayout(ctx, d.Payout)
}
