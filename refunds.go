package invoice

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Reasons of refund claims that do not come from an invoice failure.
const (
	RefundReasonOverpaid      = "Overpayment."
	RefundReasonLate          = "Payment received after the invoice was closed."
	RefundReasonWrongCurrency = "Payment received in a currency other than the invoice's."
)

// settleRefunds creates the refund claims the invoice's state calls for,
// in the same change as what caused them:
//
//   - a confirmed transaction that does not count toward the invoice (late,
//     or in another currency) is refunded in full;
//   - on a failed invoice every confirmed accounted transaction is refunded,
//     with the failure reason; transactions still confirming are refunded
//     when they confirm;
//   - on confirmation, the accounted transactions are settled as paid and
//     any overpayment is refunded.
//
// Each transaction is settled once, so nothing is refunded twice.
func (ch *change) settleRefunds() {
	inv := ch.inv
	if inv.Status == StatusConfirmed {
		// The merchant is paid with what is confirmed and accounted; any
		// excess is the customer's. (Amounts are summed and compared
		// without allocating when nothing is overpaid, the usual case.)
		paying := func(t *Transaction) bool { return t.Accounted && !t.Settled && t.Status == TxConfirmed }
		paid := sumAmounts(inv.Transactions, paying)
		overpaid := paid.GreaterThan(inv.SenderAmount)
		var txids []string
		for i := range inv.Transactions {
			if t := &inv.Transactions[i]; paying(t) {
				t.Settled = true
				if overpaid {
					txids = append(txids, t.TxID)
				}
			}
		}
		if overpaid {
			ch.addRefundClaim(paid.Sub(inv.SenderAmount), inv.SenderCurrency, RefundReasonOverpaid, txids)
		}
	}
	// Group what is to be refunded by currency and reason, in order (the
	// maps only when there is something: usually there is not).
	first := -1
	for i := range inv.Transactions {
		if _, ok := refundReason(inv, &inv.Transactions[i]); ok {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	type key struct{ currency, reason string }
	var order []key
	amounts := map[key]decimal.Decimal{}
	txids := map[key][]string{}
	for i := first; i < len(inv.Transactions); i++ {
		t := &inv.Transactions[i]
		reason, ok := refundReason(inv, t)
		if !ok {
			continue
		}
		t.Settled = true
		k := key{t.Currency, reason}
		if _, ok := amounts[k]; !ok {
			order = append(order, k)
		}
		amounts[k] = amounts[k].Add(t.Amount)
		txids[k] = append(txids[k], t.TxID)
	}
	for _, k := range order {
		ch.addRefundClaim(amounts[k], k.currency, k.reason, txids[k])
	}
}

// refundReason returns why t is to be refunded now, or false when it is
// not: it is settled already, not confirmed, or (accounted to an invoice
// that has not failed) the merchant's.
func refundReason(inv *Invoice, t *Transaction) (string, bool) {
	if t.Settled || t.Status != TxConfirmed {
		return "", false
	}
	switch {
	case !t.Accounted && t.Currency != inv.SenderCurrency:
		return RefundReasonWrongCurrency, true
	case !t.Accounted:
		return RefundReasonLate, true
	case inv.Status == StatusFailed:
		return inv.Error, true
	}
	return "", false
}

// addRefundClaim records a claim and the customer notice for it. Neither
// holds the claim's token: the engine derives it when it hands the notice
// over (see RefundNotice).
func (ch *change) addRefundClaim(amount decimal.Decimal, currency, reason string, txids []string) {
	id, err := ch.e.newID()
	if err != nil {
		ch.err = err
		return
	}
	ch.inv.RefundClaims = append(ch.inv.RefundClaims, RefundClaim{
		ID:        id,
		Amount:    amount,
		Currency:  currency,
		Reason:    reason,
		TxIDs:     txids,
		Status:    RefundOpen,
		CreatedAt: ch.now,
	})
	ch.enqueue(&Delivery{Channel: ChannelCustomer, Notice: &RefundNotice{
		ClaimID:   id,
		InvoiceID: ch.inv.ID,
		ForeignID: ch.inv.ForeignID,
		Email:     ch.inv.Email,
		Amount:    amount,
		Currency:  currency,
		Reason:    reason,
	}})
}

// RefundClaimInfo is what a claim page shows to whoever holds a claim's
// token: the claim and the invoice it belongs to, without redeeming it.
type RefundClaimInfo struct {
	ClaimID   uuid.UUID         `json:"claim_id"`
	InvoiceID uuid.UUID         `json:"invoice_id"`
	ForeignID string            `json:"foreign_id"` // the invoice's foreign_id
	Title     string            `json:"title"`      // the invoice's title
	Amount    decimal.Decimal   `json:"amount"`
	Currency  string            `json:"currency"` // the payment currency received
	Reason    string            `json:"reason"`
	Status    RefundClaimStatus `json:"status"`
	// Destination is the address the claim was redeemed to; "" while open.
	Destination string    `json:"destination,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	RedeemedAt  time.Time `json:"redeemed_at,omitzero"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
}

// LookupRefundClaim returns the claim a token belongs to without redeeming
// it, for the page where the customer enters the destination address. Any
// token that does not belong to a claim (malformed, unknown, forged, or
// another invoice's) gets ErrRefundClaim itself: the same value and text
// whatever was wrong. A genuine token of a redeemed or paid claim is not
// an error here: Status says so.
func (e *Engine) LookupRefundClaim(ctx context.Context, token string) (*RefundClaimInfo, error) {
	ref, ok := e.locateClaim(token)
	if !ok {
		return nil, ErrRefundClaim
	}
	inv, err := e.cfg.Store.GetInvoice(ctx, ref.invoiceID)
	if isNotFound(err) {
		return nil, ErrRefundClaim
	}
	if err != nil {
		return nil, fmt.Errorf("invoice: look up refund claim: %w", err)
	}
	rc := inv.RefundClaim(ref.claimID)
	if !ref.matches(rc) {
		return nil, ErrRefundClaim
	}
	return &RefundClaimInfo{
		ClaimID: rc.ID, InvoiceID: inv.ID, ForeignID: inv.ForeignID, Title: inv.Title,
		Amount: rc.Amount, Currency: rc.Currency, Reason: rc.Reason, Status: rc.Status,
		Destination: rc.Destination, CreatedAt: rc.CreatedAt, RedeemedAt: rc.RedeemedAt, PaidAt: rc.PaidAt,
	}, nil
}

// RedeemRefundClaim lets the customer claim a refund once, giving the
// address to pay it to. In the same atomic store operation it marks the
// claim redeemed (so it is listed by RefundClaimsAwaitingPayout) and, when
// Config.PayoutNotifier is set, records a RefundPayout for it on the
// outbox.
//
// Errors: any token that does not belong to a claim gets ErrRefundClaim
// itself, the same value and text whatever was wrong (see
// LookupRefundClaim); a genuine token of a claim already redeemed or paid
// gets ErrRefundClaimRedeemed; an address refused by the default check or
// by the currency's Config.DestinationValidators entry gets a
// *ValidationError on field "address" (checked only for a genuine token of
// an open claim, since the currency is the claim's).
func (e *Engine) RedeemRefundClaim(ctx context.Context, token, destination string) (*RefundClaim, error) {
	ref, ok := e.locateClaim(token)
	if !ok {
		return nil, ErrRefundClaim
	}
	var claim RefundClaim
	_, err := e.mutate(ctx, e.byID(ref.invoiceID), func(ch *change) error {
		rc := ch.inv.RefundClaim(ref.claimID)
		switch {
		case !ref.matches(rc):
			return ErrRefundClaim
		case rc.Status != RefundOpen:
			return ErrRefundClaimRedeemed
		}
		dest, err := e.checkDestination(rc.Currency, destination)
		if err != nil {
			return err
		}
		rc.Status = RefundRedeemed
		rc.Destination = dest
		rc.RedeemedAt = ch.now
		ch.touch()
		if e.cfg.PayoutNotifier != nil {
			p := payoutOf(ch.inv, rc)
			ch.enqueue(&Delivery{Channel: ChannelPayout, Payout: &p})
		}
		claim = *rc
		return nil
	})
	switch {
	case isNotFound(err):
		return nil, ErrRefundClaim
	case err != nil:
		return nil, err
	}
	return &claim, nil
}

// MarkRefundClaimPaid records that the merchant's payout system paid a
// redeemed claim, with its payout reference (e.g. the payout txid;
// required, at most 255 printable characters). It is idempotent: marking
// a paid claim paid again with the same reference returns it unchanged,
// so a payout worker may retry after a crash. Errors: a *ValidationError
// on field "payout_ref" for a bad reference; ErrNotFound for an unknown
// invoice or claim; ErrRefundClaim when the claim is still open (not
// redeemed) or was paid with another reference.
func (e *Engine) MarkRefundClaimPaid(ctx context.Context, foreignID string, claimID uuid.UUID, payoutRef string) (*RefundClaim, error) {
	if msg := checkText(payoutRef); msg != "" {
		v := &ValidationError{}
		v.add("payout_ref", "The payout reference "+msg)
		return nil, v
	}
	var claim RefundClaim
	_, err := e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		rc := ch.inv.RefundClaim(claimID)
		switch {
		case rc == nil:
			return fmt.Errorf("invoice %q: refund claim %s: %w", foreignID, claimID, ErrNotFound)
		case rc.Status == RefundPaid && rc.PayoutRef == payoutRef:
			claim = *rc
			return nil // already done: nothing to store
		case rc.Status == RefundPaid:
			return fmt.Errorf("%w: claim %s was already paid with another payout reference", ErrRefundClaim, claimID)
		case rc.Status != RefundRedeemed:
			return fmt.Errorf("%w: claim %s is %s, not redeemed", ErrRefundClaim, claimID, rc.Status)
		}
		rc.Status = RefundPaid
		rc.PayoutRef = payoutRef
		rc.PaidAt = ch.now
		ch.touch()
		claim = *rc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &claim, nil
}
