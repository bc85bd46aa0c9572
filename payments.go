package invoice

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"
)

// Confirmation is what the customer confirms on the payment page.
type Confirmation struct {
	// Currency is the chosen payment currency. Required for TypeNoTimer and
	// TypeTimer invoices; for TypeTimerCurrency it may be empty or must
	// equal the invoice's currency.
	Currency string
	// Email is the customer's e-mail. Required when the merchant gave none;
	// ignored when the merchant gave one.
	Email string
}

// ConfirmPayment records the customer's choice of payment currency and/or
// e-mail and moves the invoice created → pending (one callback): the
// currency, amount and deposit address are then fixed and the e-mail known.
// TypeNoTimer invoices fix their rate now and start their payment window;
// TypeTimer invoices take the quote fixed at creation. A choice that does
// would not complete the invoice (no currency, or no e-mail when none is
// known) is refused with a *ValidationError naming the missing field.
func (e *Engine) ConfirmPayment(ctx context.Context, foreignID string, c Confirmation) (*Invoice, error) {
	return e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		inv := ch.inv
		if inv.Status != StatusCreated {
			return &TransitionError{ForeignID: inv.ForeignID, Status: inv.Status, Event: EventConfirm}
		}
		if err := e.validateConfirmation(inv, c); err != nil {
			return err
		}
		if inv.SenderCurrency == "" {
			// The rate source and the address source are asked inside the
			// change: no store lock is held, and if another writer wins the
			// race the change is redone (and they are asked again).
			q, ok := inv.Quote(c.Currency)
			if inv.Type == TypeNoTimer {
				var err error
				if q, err = e.fixQuote(ctx, inv.Amount, inv.Currency, c.Currency); err != nil {
					return fmt.Errorf("invoice %q: confirm: %w", foreignID, err)
				}
			} else if !ok {
				return fmt.Errorf("invoice %q: confirm: no quote for %s: %w", foreignID, c.Currency, ErrRate)
			}
			if err := e.fixPayment(ctx, inv, q); err != nil {
				return err
			}
			if inv.Type == TypeNoTimer {
				e.startPaymentWindow(inv, ch.now)
			}
		}
		if inv.Email == "" {
			inv.Email = c.Email
		}
		return ch.apply(EventConfirm)
	})
}

func (e *Engine) validateConfirmation(inv *Invoice, c Confirmation) error {
	var v ValidationError
	switch {
	case !v.checkText("currency", "currency", c.Currency, false):
	case c.Currency == "" && inv.SenderCurrency == "":
		v.add("currency", "The currency field is required.")
	case c.Currency == "":
	case inv.Type == TypeTimerCurrency && c.Currency != inv.SenderCurrency:
		v.add("currency", "The selected currency is invalid.")
	case inv.Type == TypeTimer:
		if _, ok := inv.Quote(c.Currency); !ok {
			v.add("currency", "The selected currency is invalid.")
		}
	case !e.accepts(c.Currency):
		v.add("currency", "The selected currency is invalid.")
	}
	switch {
	case c.Email == "" && inv.Email == "":
		v.add("email_user", "The email user field is required.")
	case c.Email != "" && !validEmail(c.Email):
		v.add("email_user", "The email user must be a valid email address.")
	}
	return v.orNil()
}

// TransactionReport is what the host's chain watcher reports about one
// on-chain payment to an invoice's deposit address.
type TransactionReport struct {
	TxID          string          // required; reports are idempotent by TxID
	Currency      string          // required, in the currency table
	Amount        decimal.Decimal // > 0
	Confirmations int64           // ≥ 0
	Status        TxStatus        // not_confirmed, confirmed or cancelled
}

// ReportTransaction records a transaction seen, confirmed or cancelled on
// chain, and moves the invoice as the specification says: first funds →
// processing (fill_or_kill) or one callback per installment part
// (good_until_expired); all accounted funds confirmed → confirmed (with a
// refund claim for any overpayment) or failed as underpaid (refund claim
// for everything); a cancelled transaction reverts processing → pending,
// or fails the invoice if its payment window has passed.
//
// Every field is validated before anything is read or stored (a
// *ValidationError naming the field): a txid of valid UTF-8 without control
// characters, a crypto currency of the table, an amount within that
// currency's precision and below 10^MaxAmountDigits, and a consistent
// status (a confirmed transaction has at least one confirmation).
//
// Reports are idempotent by TxID: repeating one changes nothing. A
// transaction that reaches a failed or confirmed invoice, or arrives in
// another currency, is recorded (never dropped), produces a callback and is
// refunded once confirmed. A report that contradicts a final transaction
// status (confirmed → cancelled, say) or its amount or currency is refused
// with ErrTransaction.
func (e *Engine) ReportTransaction(ctx context.Context, foreignID string, r TransactionReport) (*Invoice, error) {
	r, err := e.validateReport(r)
	if err != nil {
		return nil, err
	}
	return e.mutate(ctx, e.byForeignID(foreignID), func(ch *change) error {
		inv := ch.inv
		t := inv.Transaction(r.TxID)
		if t == nil && len(inv.Transactions) >= maxTransactions {
			return fmt.Errorf("%w: invoice %q already has %d transactions", ErrTransaction, foreignID, maxTransactions)
		}
		if t == nil {
			inv.Transactions = append(inv.Transactions, Transaction{
				Number:        inv.Number*1_000_000 + int64(len(inv.Transactions)+1),
				TxID:          r.TxID,
				Currency:      r.Currency,
				Amount:        canonical(r.Amount),
				Confirmations: r.Confirmations,
				Status:        r.Status,
				Accounted:     ch.accountable(r.Currency),
				SeenAt:        ch.now,
				UpdatedAt:     ch.now,
			})
			t = &inv.Transactions[len(inv.Transactions)-1]
			ch.touch()
			if !t.Accounted {
				if err := ch.apply(EventUnaccounted); err != nil {
					return err
				}
				ch.settleRefunds()
				return nil
			}
			if t.Status != TxCancelled {
				ch.evaluate(true)
			}
			return nil
		}
		if t.Currency != r.Currency || !t.Amount.Equal(r.Amount) {
			return fmt.Errorf("%w: %s was recorded as %s %s, reported as %s %s",
				ErrTransaction, r.TxID, t.Amount, t.Currency, r.Amount, r.Currency)
		}
		if t.Status.IsFinal() && r.Status != t.Status {
			return fmt.Errorf("%w: %s is %s and cannot become %s", ErrTransaction, r.TxID, t.Status, r.Status)
		}
		if r.Status == t.Status && r.Confirmations <= t.Confirmations {
			return nil // a repeat: nothing new
		}
		t.Status = r.Status
		t.Confirmations = max(t.Confirmations, r.Confirmations)
		t.UpdatedAt = ch.now
		ch.touch()
		if t.Accounted {
			ch.evaluate(false)
		}
		ch.settleRefunds()
		return nil
	})
}

// maxTransactions bounds the transactions of one invoice, so that their
// callback ids (invoice Number × 1,000,000 + position) stay unique.
const maxTransactions = 999_999

// accountable reports whether a new transaction in currency counts toward
// the invoice amount: in the fixed payment currency, while the invoice can
// still be paid.
func (ch *change) accountable(currency string) bool {
	inv := ch.inv
	return !inv.Status.IsFinal() && inv.SenderCurrency != "" && currency == inv.SenderCurrency
}

// validateReport checks a report and returns it with its amount as it is
// stored (trailing zeros past the currency's precision dropped).
func (e *Engine) validateReport(r TransactionReport) (TransactionReport, error) {
	var v ValidationError
	if v.checkText("txid", "txid", r.TxID, false) && (r.TxID == "" || len(r.TxID) > 255) {
		v.add("txid", "The txid field is required and may not be greater than 255 characters.")
	}
	cur, ok := e.currencies[r.Currency]
	if !ok || !cur.Crypto {
		v.add("currency", "The selected currency is invalid.")
	}
	switch {
	case !r.Amount.IsPositive():
		v.add("amount", "The amount must be greater than 0.")
	case ok:
		// Within the precision of the currency the transaction is in.
		var msg string
		if r.Amount, msg = amountProblem(r.Amount, cur.Precision); msg != "" {
			v.add("amount", "The amount "+msg+".")
		}
	}
	switch {
	case r.Confirmations < 0:
		v.add("confirmations", "The confirmations must be at least 0.")
	case r.Status == TxConfirmed && r.Confirmations == 0:
		// A report that contradicts itself: final on chain, yet in no block.
		v.add("confirmations", "A confirmed transaction must have at least 1 confirmation.")
	}
	if r.Status < TxNotConfirmed || r.Status > TxCancelled {
		v.add("status", "The selected status is invalid.")
	}
	return r, v.orNil()
}

// evaluate applies the payment rules after an accounted transaction was
// added (newPart) or changed status.
func (ch *change) evaluate(newPart bool) {
	inv := ch.inv
	switch inv.Status {
	case StatusCreated, StatusPending:
		received := inv.ReceivedAmount()
		switch {
		case inv.Mode == ModeFillOrKill && received.IsPositive(),
			inv.Mode == ModeGoodUntilExpired && ch.covers(received):
			ch.enterProcessing()
			ch.evaluate(false) // the funds may already be confirmed
		case newPart && received.IsPositive():
			_ = ch.apply(EventPartPaid)
		}
	case StatusProcessing:
		received := inv.ReceivedAmount()
		justified := received.IsPositive()
		if inv.Mode == ModeGoodUntilExpired {
			justified = ch.covers(received)
		}
		if !justified {
			ch.revert(received)
			return
		}
		for _, t := range inv.Transactions {
			if t.Accounted && t.Status == TxNotConfirmed {
				return // still confirming
			}
		}
		// Every accounted, not cancelled transaction is confirmed: what was
		// received is what is confirmed.
		if ch.covers(received) {
			_ = ch.apply(EventFundsConfirmed)
		} else {
			_ = ch.apply(EventUnderpaid)
		}
		ch.settleRefunds()
	}
}

// covers reports whether total pays the invoice: at least the payment
// amount less the underpayment tolerance.
func (ch *change) covers(total decimal.Decimal) bool {
	if total.GreaterThanOrEqual(ch.inv.SenderAmount) {
		return true
	}
	return !ch.e.cfg.UnderpaymentTolerancePercent.IsZero() &&
		total.GreaterThanOrEqual(ch.inv.SenderAmount.Mul(ch.e.minReceived))
}

// enterProcessing moves the invoice to processing; for currencies whose
// mempool is visible the deadline becomes the processing window, otherwise
// the payment window stays.
func (ch *change) enterProcessing() {
	if cur := ch.e.currencies[ch.inv.SenderCurrency]; cur.MempoolVisible {
		ch.inv.Deadline = ch.now.Add(ch.e.cfg.ProcessingWindow)
	}
	_ = ch.apply(EventFundsSeen)
}

// revert handles a cancelled transaction that leaves processing
// unjustified: back to pending within the payment window, else failed.
func (ch *change) revert(received decimal.Decimal) {
	inv := ch.inv
	inv.Deadline = inv.ExpiresAt
	switch {
	case inv.ExpiresAt.IsZero() || ch.now.Before(inv.ExpiresAt):
		_ = ch.apply(EventFundsReverted)
	case received.IsPositive():
		_ = ch.apply(EventExpiredPartial)
	default:
		_ = ch.apply(EventExpiredUnpaid)
	}
	ch.settleRefunds()
}
