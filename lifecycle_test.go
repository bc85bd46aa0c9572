package invoice_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTypeTimerCurrencyPaidAndConfirmed(t *testing.T) {
	h := invoicetest.New(t)
	inv := create(t, h, typ3("o-1"))
	assert.Equal(t, invoice.TypeTimerCurrency, inv.Type)
	assert.Equal(t, pending, inv.Status, "e-mail given: pending at creation")
	assert.Equal(t, "0.00166667", inv.SenderAmount.String(), "rounded up to BTC precision")
	assert.Equal(t, "BTC-o-1", inv.Deposit.Address)
	assert.Equal(t, invoicetest.Epoch, inv.FixedAt)
	assert.Equal(t, invoicetest.Epoch.Add(15*time.Minute), inv.ExpiresAt)
	assert.Equal(t, int64(1), inv.Number)

	h.Clock.Advance(5 * time.Minute)
	inv = report(t, h, "o-1", "tx1", "0.00166667", invoice.TxNotConfirmed)
	assert.Equal(t, processing, inv.Status)
	assert.Equal(t, h.Clock.Now().Add(24*time.Hour), inv.Deadline, "BTC mempool is visible: 24 h processing window")

	inv = report(t, h, "o-1", "tx1", "0.00166667", invoice.TxConfirmed)
	assert.Equal(t, confirmed, inv.Status)
	assert.Empty(t, inv.Error)
	assert.Empty(t, inv.RefundClaims)
	assert.True(t, inv.Deadline.IsZero())

	assert.Equal(t, statuses(processing, confirmed), deliver(t, h, "o-1"))
	cbs := h.Merchant.Callbacks("o-1")
	last := cbs[len(cbs)-1]
	assert.Equal(t, "0.00000000", last.CurrencySent.RemainingAmount.StringFixed(8))
	require.Len(t, last.Transactions, 1)
	assert.Equal(t, int64(1_000_001), last.Transactions[0].ID)
	assert.Equal(t, int64(3), last.Transactions[0].Confirmations)
}

func TestTypeNoTimerFixesRateAtConfirmation(t *testing.T) {
	h := invoicetest.New(t)
	inv := create(t, h, invoice.CreateRequest{ForeignID: "o-1", Title: "t", Amount: dec("100"), Currency: "EUR"})
	assert.Equal(t, invoice.TypeNoTimer, inv.Type)
	assert.Equal(t, created, inv.Status)
	assert.True(t, inv.Deadline.IsZero(), "no timer until the currency is confirmed")
	assert.Zero(t, sweepAfter(t, h, 48*time.Hour), "a type-1 invoice never expires while created")

	_, err := h.Engine.ConfirmPayment(ctx, "o-1", invoice.Confirmation{Currency: "ETH"})
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "The email user field is required.", verr.Field("email_user"))

	inv, err = h.Engine.ConfirmPayment(ctx, "o-1", invoice.Confirmation{Currency: "ETH", Email: "c@example.com"})
	require.NoError(t, err)
	assert.Equal(t, pending, inv.Status)
	assert.Equal(t, "ETH", inv.SenderCurrency)
	assert.Equal(t, "0.033333333333333334", inv.SenderAmount.String(), "100/3000 rounded up to 18 digits")
	assert.Equal(t, h.Clock.Now(), inv.FixedAt)
	assert.Equal(t, h.Clock.Now().Add(15*time.Minute), inv.ExpiresAt)
	assert.Equal(t, statuses(pending), deliver(t, h, "o-1"))

	// ETH has no visible mempool: the 15-minute window stays in processing.
	inv = reportIn(t, h, "o-1", "0xabc", "ETH", "0.033333333333333334", invoice.TxNotConfirmed)
	assert.Equal(t, processing, inv.Status)
	assert.Equal(t, inv.ExpiresAt, inv.Deadline)
	sweepAfter(t, h, 16*time.Minute)
	inv, err = h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, invoice.ReasonProcessingTooLong, inv.Error)
}

func TestTypeTimerQuotesAtCreationAndCustomerPicks(t *testing.T) {
	h := invoicetest.New(t)
	inv := create(t, h, invoice.CreateRequest{ForeignID: "o-2", Title: "t", Amount: dec("120"), Currency: "EUR", Timer: true})
	assert.Equal(t, invoice.TypeTimer, inv.Type)
	assert.Equal(t, created, inv.Status)
	require.Len(t, inv.Quotes, 5)
	q, ok := inv.Quote("LTC")
	require.True(t, ok)
	assert.Equal(t, "1.5", q.Amount.String())
	assert.Equal(t, invoicetest.Epoch.Add(15*time.Minute), inv.Deadline)

	h.Clock.Advance(10 * time.Minute)
	_, err := h.Engine.ConfirmPayment(ctx, "o-2", invoice.Confirmation{Currency: "DOGE", Email: "c@example.com"})
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "The selected currency is invalid.", verr.Field("currency"))

	inv, err = h.Engine.ConfirmPayment(ctx, "o-2", invoice.Confirmation{Currency: "LTC", Email: "c@example.com"})
	require.NoError(t, err)
	assert.Equal(t, pending, inv.Status)
	assert.Equal(t, "1.5", inv.SenderAmount.String(), "the quote fixed at creation")
	assert.Equal(t, invoicetest.Epoch, inv.FixedAt)
	assert.Equal(t, invoicetest.Epoch.Add(15*time.Minute), inv.ExpiresAt, "the window still runs from creation")

	// A second confirmation is a refused transition.
	_, err = h.Engine.ConfirmPayment(ctx, "o-2", invoice.Confirmation{Currency: "LTC"})
	assert.ErrorIs(t, err, invoice.ErrInvalidState)
}

func TestTypeTimerCurrencyWithoutEmailWaitsForCustomer(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-3")
	req.Email = ""
	inv := create(t, h, req)
	assert.Equal(t, created, inv.Status)
	inv, err := h.Engine.ConfirmPayment(ctx, "o-3", invoice.Confirmation{Email: "c@example.com"})
	require.NoError(t, err)
	assert.Equal(t, pending, inv.Status)
	assert.Equal(t, "c@example.com", inv.Email)
}

func TestTimerExpiryUnpaid(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	assert.Zero(t, sweepAfter(t, h, 15*time.Minute-time.Microsecond))
	assert.Equal(t, 1, sweepAfter(t, h, time.Microsecond))
	inv, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, "Timer expired. User not paid.", inv.Error)
	assert.Empty(t, inv.RefundClaims)
	assert.Equal(t, statuses(failed), deliver(t, h, "o-1"))
	assert.Equal(t, "Timer expired. User not paid.", h.Merchant.Callbacks("o-1")[0].Error)
}

func TestOverdueInvoiceIsFailedByTheNextOperationEvenWithoutSweep(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	h.Clock.Advance(20 * time.Minute)
	// The customer pays after the window: the invoice fails first, then the
	// payment is recorded as a late payment.
	inv := report(t, h, "o-1", "tx1", "0.00166667", invoice.TxNotConfirmed)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, invoice.ReasonNotPaid, inv.Error)
	require.Len(t, inv.Transactions, 1)
	assert.False(t, inv.Transactions[0].Accounted)
	assert.Equal(t, statuses(failed, failed), deliver(t, h, "o-1"), "the expiry, then the late payment")
}

func TestProcessingTooLong(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.00166667", invoice.TxNotConfirmed)
	assert.Zero(t, sweepAfter(t, h, 23*time.Hour), "the 15-minute window no longer applies")
	assert.Equal(t, 1, sweepAfter(t, h, time.Hour))
	inv, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, "Timer expired. Transactions were in status processing too long.", inv.Error)
	assert.Empty(t, inv.RefundClaims, "nothing confirmed yet")

	// It confirms later: the customer gets it back.
	inv = report(t, h, "o-1", "tx1", "0.00166667", invoice.TxConfirmed)
	assert.Equal(t, failed, inv.Status)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, "0.00166667", inv.RefundClaims[0].Amount.String())
	assert.Equal(t, invoice.ReasonProcessingTooLong, inv.RefundClaims[0].Reason)
}

func TestUnderpaidFailsWithRefundOfEverything(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.001", invoice.TxNotConfirmed)
	inv := report(t, h, "o-1", "tx1", "0.001", invoice.TxConfirmed)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, "Timer expired. User paid less than requested.", inv.Error)
	assert.Equal(t, invoice.TxConfirmed, inv.Transactions[0].Status, "the transaction stays confirmed")
	require.Len(t, inv.RefundClaims, 1)
	rc := inv.RefundClaims[0]
	assert.Equal(t, "0.001", rc.Amount.String())
	assert.Equal(t, "BTC", rc.Currency)
	assert.Equal(t, []string{"tx1"}, rc.TxIDs)
	assert.Equal(t, statuses(processing, failed), deliver(t, h, "o-1"))
	notices := h.Customers.Notices("o-1")
	require.Len(t, notices, 1)
	assert.Equal(t, "customer@example.com", notices[0].Email)
	assert.Equal(t, rc.ID, notices[0].ClaimID)
}

func TestOverpaidConfirmsAndRefundsTheDifference(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.002", invoice.TxNotConfirmed)
	inv := report(t, h, "o-1", "tx1", "0.002", invoice.TxConfirmed)
	assert.Equal(t, confirmed, inv.Status)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, "0.00033333", inv.RefundClaims[0].Amount.String())
	assert.Equal(t, invoice.RefundReasonOverpaid, inv.RefundClaims[0].Reason)
}

func TestUnderpaymentTolerance(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) { c.UnderpaymentTolerancePercent = dec("1") })
	create(t, h, typ3("o-1"))
	// 0.00166667 × 0.99 = 0.0016500033: 0.00165001 is within 1 %.
	report(t, h, "o-1", "tx1", "0.00165001", invoice.TxNotConfirmed)
	inv := report(t, h, "o-1", "tx1", "0.00165001", invoice.TxConfirmed)
	assert.Equal(t, confirmed, inv.Status)

	create(t, h, typ3("o-2"))
	report(t, h, "o-2", "tx2", "0.00165", invoice.TxNotConfirmed)
	inv = report(t, h, "o-2", "tx2", "0.00165", invoice.TxConfirmed)
	assert.Equal(t, failed, inv.Status)
}

func TestInstallments(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-1")
	req.Mode = invoice.ModeGoodUntilExpired
	create(t, h, req)

	inv := report(t, h, "o-1", "p1", "0.0005", invoice.TxNotConfirmed)
	assert.Equal(t, pending, inv.Status)
	assert.Equal(t, "0.00116667", inv.RemainingAmount().String())
	inv = report(t, h, "o-1", "p1", "0.0005", invoice.TxConfirmed)
	assert.Equal(t, pending, inv.Status, "a confirmation of a part is not a new part")
	inv = report(t, h, "o-1", "p2", "0.0006", invoice.TxConfirmed)
	assert.Equal(t, pending, inv.Status)
	inv = report(t, h, "o-1", "p3", "0.00056667", invoice.TxNotConfirmed)
	assert.Equal(t, processing, inv.Status)
	inv = report(t, h, "o-1", "p3", "0.00056667", invoice.TxConfirmed)
	assert.Equal(t, confirmed, inv.Status)
	assert.Empty(t, inv.RefundClaims)

	assert.Equal(t, statuses(pending, pending, processing, confirmed), deliver(t, h, "o-1"))
	var remaining []string
	for _, cb := range h.Merchant.Callbacks("o-1") {
		remaining = append(remaining, cb.CurrencySent.RemainingAmount.StringFixed(8))
	}
	assert.Equal(t, []string{"0.00116667", "0.00056667", "0.00000000", "0.00000000"}, remaining)
}

func TestInstallmentsExpireWithPartialTotal(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-1")
	req.Mode = invoice.ModeGoodUntilExpired
	create(t, h, req)
	report(t, h, "o-1", "p1", "0.0005", invoice.TxConfirmed)
	report(t, h, "o-1", "p2", "0.0003", invoice.TxNotConfirmed)
	sweepAfter(t, h, 15*time.Minute)
	inv, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, invoice.ReasonPaidLess, inv.Error)
	require.Len(t, inv.RefundClaims, 1, "the confirmed part now")
	assert.Equal(t, "0.0005", inv.RefundClaims[0].Amount.String())
	inv = report(t, h, "o-1", "p2", "0.0003", invoice.TxConfirmed)
	require.Len(t, inv.RefundClaims, 2, "the other part once it confirms")
	assert.Equal(t, "0.0003", inv.RefundClaims[1].Amount.String())
}

func TestDoubleSpendRevertsProcessing(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.00166667", invoice.TxNotConfirmed)
	inv := report(t, h, "o-1", "tx1", "0.00166667", invoice.TxCancelled)
	assert.Equal(t, pending, inv.Status)
	assert.Equal(t, inv.ExpiresAt, inv.Deadline, "back on the payment window")
	assert.Equal(t, "0.00166667", inv.RemainingAmount().String())

	// Paid again, then double-spent after the window: failed.
	report(t, h, "o-1", "tx2", "0.00166667", invoice.TxNotConfirmed)
	h.Clock.Advance(20 * time.Minute)
	inv = report(t, h, "o-1", "tx2", "0.00166667", invoice.TxCancelled)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, invoice.ReasonNotPaid, inv.Error)
	assert.Empty(t, inv.RefundClaims)
	assert.Equal(t, statuses(processing, pending, processing, failed), deliver(t, h, "o-1"))

	// A cancelled transaction cannot come back.
	_, err := h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{
		TxID: "tx2", Currency: "BTC", Amount: dec("0.00166667"), Confirmations: 1, Status: invoice.TxConfirmed})
	assert.ErrorIs(t, err, invoice.ErrTransaction)
}

func TestLatePaymentIsRecordedAndRefunded(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	sweepAfter(t, h, time.Hour)
	inv := report(t, h, "o-1", "late", "0.00166667", invoice.TxNotConfirmed)
	assert.Equal(t, failed, inv.Status)
	require.Len(t, inv.Transactions, 1)
	assert.Empty(t, inv.RefundClaims, "not before it confirms")
	inv = report(t, h, "o-1", "late", "0.00166667", invoice.TxConfirmed)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, invoice.RefundReasonLate, inv.RefundClaims[0].Reason)
	assert.Equal(t, statuses(failed, failed), deliver(t, h, "o-1"))
	assert.Len(t, h.Customers.Notices("o-1"), 1)

	// Same after confirmation.
	create(t, h, typ3("o-2"))
	report(t, h, "o-2", "a", "0.00166667", invoice.TxConfirmed)
	inv = report(t, h, "o-2", "b", "0.001", invoice.TxConfirmed)
	assert.Equal(t, confirmed, inv.Status)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, "0.001", inv.RefundClaims[0].Amount.String())
}

func TestWrongCurrencyPaymentIsRecordedAndRefunded(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	inv := reportIn(t, h, "o-1", "eth1", "ETH", "0.05", invoice.TxNotConfirmed)
	assert.Equal(t, pending, inv.Status, "does not count toward a BTC invoice")
	inv = reportIn(t, h, "o-1", "eth1", "ETH", "0.05", invoice.TxConfirmed)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, "ETH", inv.RefundClaims[0].Currency)
	assert.Equal(t, invoice.RefundReasonWrongCurrency, inv.RefundClaims[0].Reason)
	assert.Equal(t, statuses(pending), deliver(t, h, "o-1"), "one callback for the unexpected payment")
}

func TestTransactionReportsAreIdempotent(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	a := report(t, h, "o-1", "tx1", "0.001", invoice.TxNotConfirmed)
	b := report(t, h, "o-1", "tx1", "0.001", invoice.TxNotConfirmed)
	assert.Equal(t, a.Version, b.Version, "a repeated report stores nothing")
	assert.Len(t, b.Transactions, 1)
	_, err := h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{
		TxID: "tx1", Currency: "BTC", Amount: dec("0.002"), Status: invoice.TxNotConfirmed})
	assert.ErrorIs(t, err, invoice.ErrTransaction, "same txid, different amount")
	_, err = h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{TxID: "", Currency: "XYZ", Amount: dec("0"), Status: 9})
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr)
	for _, f := range []string{"txid", "currency", "amount", "status"} {
		assert.NotEmpty(t, verr.Field(f), f)
	}
	_, err = h.Engine.ReportTransaction(ctx, "nope", invoice.TransactionReport{TxID: "x", Currency: "BTC", Amount: dec("1"), Confirmations: 1, Status: invoice.TxConfirmed})
	assert.ErrorIs(t, err, invoice.ErrNotFound)
}

func TestComplianceFlag(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.00166667", invoice.TxConfirmed)
	_, err := h.Engine.FlagTransaction(ctx, "o-1", "tx1")
	assert.ErrorIs(t, err, invoice.ErrInvalidState, "already confirmed")

	create(t, h, typ3("o-2"))
	report(t, h, "o-2", "tx2", "0.00166667", invoice.TxNotConfirmed)
	inv, err := h.Engine.FlagTransaction(ctx, "o-2", "tx2")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
	assert.Equal(t, "Transaction flagged by compliance.", inv.Error)
	assert.True(t, inv.Transactions[0].Flagged)
	inv = report(t, h, "o-2", "tx2", "0.00166667", invoice.TxConfirmed)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, invoice.ReasonFlagged, inv.RefundClaims[0].Reason)

	_, err = h.Engine.FlagTransaction(ctx, "o-2", "nope")
	assert.ErrorIs(t, err, invoice.ErrNotFound)

	req := typ3("o-3")
	req.Email = ""
	create(t, h, req)
	report(t, h, "o-3", "tx3", "0.0001", invoice.TxNotConfirmed) // created → processing
	inv, err = h.Engine.FlagTransaction(ctx, "o-3", "tx3")
	require.NoError(t, err)
	assert.Equal(t, failed, inv.Status)
}

func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *invoicetest.Harness)
	}{
		{"created", func(h *invoicetest.Harness) {
			create(t, h, invoice.CreateRequest{ForeignID: "o", Title: "t", Amount: dec("1"), Currency: "EUR"})
		}},
		{"pending", func(h *invoicetest.Harness) { create(t, h, typ3("o")) }},
		{"processing", func(h *invoicetest.Harness) {
			create(t, h, typ3("o"))
			report(t, h, "o", "tx", "0.001", invoice.TxNotConfirmed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := invoicetest.New(t)
			tc.setup(h)
			inv, err := h.Engine.Cancel(ctx, "o")
			require.NoError(t, err)
			assert.Equal(t, failed, inv.Status)
			assert.Equal(t, "Cancelled by customer", inv.Error)
			sts := deliver(t, h, "o")
			assert.Equal(t, failed, sts[len(sts)-1])
		})
	}
}

func TestCancelFinalInvoiceIsRefusedAndChangesNothing(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.00166667", invoice.TxConfirmed)
	before, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	deliveriesBefore, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)

	_, err = h.Engine.Cancel(ctx, "o-1")
	var te *invoice.TransitionError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid_invoice_state", te.Code())
	assert.Equal(t, "Invoice cannot be failed in its current state.", err.Error())
	assert.Equal(t, confirmed, te.Status)

	after, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, before, after)
	deliveriesAfter, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, len(deliveriesBefore), len(deliveriesAfter))

	_, err = h.Engine.Cancel(ctx, "o-1")
	assert.ErrorIs(t, err, invoice.ErrInvalidState, "still refused")
	_, err = h.Engine.Cancel(ctx, "missing")
	assert.ErrorIs(t, err, invoice.ErrNotFound)
}

func TestCancelWithFundsRefundsThem(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-1")
	req.Mode = invoice.ModeGoodUntilExpired
	create(t, h, req)
	report(t, h, "o-1", "p1", "0.0005", invoice.TxConfirmed)
	report(t, h, "o-1", "p2", "0.0002", invoice.TxNotConfirmed)
	inv, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, inv.RefundClaims, 1)
	assert.Equal(t, "0.0005", inv.RefundClaims[0].Amount.String())
	assert.Equal(t, invoice.ReasonCancelled, inv.RefundClaims[0].Reason)
	inv = report(t, h, "o-1", "p2", "0.0002", invoice.TxConfirmed)
	require.Len(t, inv.RefundClaims, 2, "the part still confirming is refunded once confirmed")
}

func TestRefundClaimRedeemOnceThenPaid(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.001", invoice.TxConfirmed)
	deliver(t, h, "o-1")
	notices := h.Customers.Notices("o-1")
	require.Len(t, notices, 1)
	token := notices[0].Token
	assert.GreaterOrEqual(t, len(token), 40)

	inv, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Empty(t, inv.RefundClaims[0].TokenHash, "nothing of the token is stored")

	forged := token[:len(token)-1] + "A"
	if forged == token {
		forged = token[:len(token)-1] + "B"
	}
	_, err = h.Engine.RedeemRefundClaim(ctx, forged, "bc1qdest")
	assert.ErrorIs(t, err, invoice.ErrRefundClaim, "a forged token")
	_, err = h.Engine.RedeemRefundClaim(ctx, "garbage", "bc1qdest")
	assert.ErrorIs(t, err, invoice.ErrRefundClaim)
	_, err = h.Engine.RedeemRefundClaim(ctx, token, "")
	assert.ErrorIs(t, err, invoice.ErrValidation)

	claim, err := h.Engine.RedeemRefundClaim(ctx, token, "bc1qdest")
	require.NoError(t, err)
	assert.Equal(t, invoice.RefundRedeemed, claim.Status)
	assert.Equal(t, "bc1qdest", claim.Destination)
	_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qother")
	assert.ErrorIs(t, err, invoice.ErrRefundClaim, "never redeemable twice")

	paid, err := h.Engine.MarkRefundClaimPaid(ctx, "o-1", claim.ID, "payout-tx")
	require.NoError(t, err)
	assert.Equal(t, invoice.RefundPaid, paid.Status)
	again, err := h.Engine.MarkRefundClaimPaid(ctx, "o-1", claim.ID, "payout-tx")
	require.NoError(t, err, "idempotent for the same reference")
	assert.Equal(t, paid, again)
	_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", claim.ID, "other-tx")
	assert.ErrorIs(t, err, invoice.ErrRefundClaim, "refused for another reference")
}

func TestRateErrors(t *testing.T) {
	for name, rate := range map[string]string{"zero": "0", "negative": "-1"} {
		t.Run(name, func(t *testing.T) {
			h := invoicetest.New(t, func(c *invoice.Config) {
				c.Rates = invoice.MustStaticRates("BTC/EUR=" + rate)
			})
			_, err := h.Engine.Create(ctx, typ3("o-1"))
			assert.ErrorIs(t, err, invoice.ErrRate)
			_, err = h.Engine.Get(ctx, "o-1")
			assert.ErrorIs(t, err, invoice.ErrNotFound, "nothing stored")
		})
	}
	h := invoicetest.New(t, func(c *invoice.Config) { c.Rates = invoice.StaticRates{} })
	_, err := h.Engine.Create(ctx, typ3("o-1"))
	assert.ErrorIs(t, err, invoice.ErrRate)
	assert.Contains(t, err.Error(), "BTC/EUR")
}

func TestRateSpreadMakesCustomerPayMore(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) { c.RateSpreadPercent = dec("2") })
	inv := create(t, h, typ3("o-1"))
	assert.Equal(t, "58800", inv.Rate.String())
	assert.Equal(t, "0.00170069", inv.SenderAmount.String()) // 100/58800 = 0.001700680…
}

func TestPaymentAmountRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		amount, rate string
		precision    int32
		want         string
	}{
		{"100", "60000", 8, "0.00166667"},
		{"120", "80", 8, "1.5"},
		{"1", "3", 2, "0.34"},
		{"0.01", "60000", 8, "0.00000017"},
		{"0.0000001", "60000", 8, "0.00000001"},
		{"100", "3000", 18, "0.033333333333333334"},
		{"99.99", "1", 6, "99.99"},
	} {
		got := invoice.PaymentAmount(dec(tc.amount), dec(tc.rate), tc.precision)
		assert.Equal(t, tc.want, got.String(), "%s / %s", tc.amount, tc.rate)
		assert.True(t, got.Mul(dec(tc.rate)).GreaterThanOrEqual(dec(tc.amount)), "the merchant never receives less")
	}
}

func TestGetAndList(t *testing.T) {
	h := invoicetest.New(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		create(t, h, typ3(id))
	}
	_, err := h.Engine.Cancel(ctx, "c")
	require.NoError(t, err)

	page, err := h.Engine.List(ctx, invoice.ListOptions{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page.Invoices, 2)
	assert.Equal(t, "a", page.Invoices[0].ForeignID)
	var all []string
	for cursor := ""; ; {
		page, err := h.Engine.List(ctx, invoice.ListOptions{Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for _, inv := range page.Invoices {
			all = append(all, inv.ForeignID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, all)

	page, err = h.Engine.List(ctx, invoice.ListOptions{Status: failed})
	require.NoError(t, err)
	require.Len(t, page.Invoices, 1)
	assert.Equal(t, "c", page.Invoices[0].ForeignID)
	assert.Empty(t, page.NextCursor)

	_, err = h.Engine.List(ctx, invoice.ListOptions{Cursor: "not-a-cursor"})
	assert.ErrorIs(t, err, invoice.ErrValidation)
	_, err = h.Engine.Get(ctx, "zzz")
	assert.True(t, errors.Is(err, invoice.ErrNotFound))
}

func TestRefusedOperationOnOverdueInvoiceStoresOnlyTheExpiry(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	h.Clock.Advance(time.Hour)
	inv, err := h.Engine.Cancel(ctx, "o-1")
	assert.Nil(t, inv)
	assert.ErrorIs(t, err, invoice.ErrInvalidState, "the timer ran out first")
	got, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, failed, got.Status)
	assert.Equal(t, invoice.ReasonNotPaid, got.Error)
	assert.Equal(t, statuses(failed), deliver(t, h, "o-1"))
}

func TestInstallmentsWithinToleranceConfirm(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) { c.UnderpaymentTolerancePercent = dec("1") })
	req := typ3("o-1")
	req.Mode = invoice.ModeGoodUntilExpired
	create(t, h, req)
	report(t, h, "o-1", "p1", "0.001", invoice.TxConfirmed)
	inv := report(t, h, "o-1", "p2", "0.00066", invoice.TxConfirmed) // 0.00166 ≥ 0.00166667 × 0.99
	assert.Equal(t, confirmed, inv.Status)
}

func TestPositiveExponentsAreStoredCanonically(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Rates = invoice.StaticRates{"BTC/EUR": dec("6E4")}
	})
	req := typ3("o-1")
	req.Amount = dec("1E2")
	inv := create(t, h, req)
	assert.Equal(t, int32(0), inv.Amount.Exponent())
	assert.Equal(t, "100", inv.Amount.String())
	assert.Equal(t, int32(0), inv.Rate.Exponent())
	assert.Equal(t, "60000", inv.Rate.String())
}
