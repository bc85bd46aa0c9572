package invoice

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

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
	// Group what is to be refunded by currency and reason, in order.
	type key struct{ currency, reason string }
	var order []key
	amounts := map[key]decimal.Decimal{}
	txids := map[key][]string{}
	for i := range inv.Transactions {
		t := &inv.Transactions[i]
		if t.Settled || t.Status != TxConfirmed {
			continue
		}
		var reason string
		switch {
		case !t.Accounted && t.Currency != inv.SenderCurrency:
			reason = RefundReasonWrongCurrency
		case !t.Accounted:
			reason = RefundReasonLate
		case inv.Status == StatusFailed:
			reason = inv.Error
		default:
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

// addRefundClaim records a claim and the customer notice carrying its token.
func (ch *change) addRefundClaim(amount decimal.Decimal, currency, reason string, txids []string) {
	id, err := ch.e.newID()
	if err != nil {
		ch.err = err
		return
	}
	token := newClaimToken(ch.inv.ID, id)
	ch.inv.RefundClaims = append(ch.inv.RefundClaims, RefundClaim{
		ID:        id,
		Amount:    amount,
		Currency:  currency,
		Reason:    reason,
		TxIDs:     txids,
		TokenHash: hashToken(token),
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
		Token:     token,
	}})
}

// A claim token is "rc_" + base64url(invoice ID ‖ claim ID) + "_" + 130
// random bits from crypto/rand. The IDs only locate the claim; the random
// part is what makes the token unguessable, and only its SHA-256 is stored.
const tokenPrefix = "rc_"

func newClaimToken(invoiceID, claimID uuid.UUID) string {
	var ids [32]byte
	copy(ids[:16], invoiceID[:])
	copy(ids[16:], claimID[:])
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(ids[:]) + "_" + rand.Text()
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func parseClaimToken(token string) (invoiceID, claimID uuid.UUID, ok bool) {
	rest, found := strings.CutPrefix(token, tokenPrefix)
	if !found {
		return uuid.Nil, uuid.Nil, false
	}
	enc, secret, found := strings.Cut(rest, "_")
	if !found || len(secret) < 26 {
		return uuid.Nil, uuid.Nil, false
	}
	ids, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(ids) != 32 {
		return uuid.Nil, uuid.Nil, false
	}
	copy(invoiceID[:], ids[:16])
	copy(claimID[:], ids[16:])
	return invoiceID, claimID, true
}

// RedeemRefundClaim lets the customer claim a refund once, giving the
// address to pay it to. Any token that does not match an open claim
// yields an error matching ErrRefundClaim (the same for unknown, bad and
// already redeemed tokens, so tokens cannot be probed).
func (e *Engine) RedeemRefundClaim(ctx context.Context, token, destination string) (*RefundClaim, error) {
	destination = strings.TrimSpace(destination)
	if err := checkDestination(destination); err != nil {
		return nil, err
	}
	invoiceID, claimID, ok := parseClaimToken(token)
	if !ok {
		return nil, fmt.Errorf("%w: malformed token", ErrRefundClaim)
	}
	var claim RefundClaim
	_, err := e.mutate(ctx, e.byID(invoiceID), func(ch *change) error {
		rc := ch.inv.RefundClaim(claimID)
		if rc == nil || subtle.ConstantTimeCompare([]byte(rc.TokenHash), []byte(hashToken(token))) != 1 ||
			rc.Status != RefundOpen {
			return ErrRefundClaim
		}
		rc.Status = RefundRedeemed
		rc.Destination = destination
		rc.RedeemedAt = ch.now
		ch.touch()
		claim = *rc
		return nil
	})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: unknown token", ErrRefundClaim)
		}
		return nil, err
	}
	return &claim, nil
}

// MarkRefundClaimPaid records that the merchant's payout system paid a
// redeemed claim, with its payout reference (e.g. the payout txid). It
// fails with ErrRefundClaim unless the claim is redeemed, and with
// ErrNotFound for an unknown invoice or claim.
func (e *Engine) MarkRefundClaimPaid(ctx context.Context, foreignID string, claimID uuid.UUID, payoutRef string) (*RefundClaim, error) {
	if err := checkPayoutRef(payoutRef); err != nil {
		return nil, err
	}
	var claim RefundClaim
	_, err := e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		rc := ch.inv.RefundClaim(claimID)
		switch {
		case rc == nil:
			return fmt.Errorf("invoice %q: refund claim %s: %w", foreignID, claimID, ErrNotFound)
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
