package invoice_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// A no-timer invoice waits for the customer to choose how to pay: the
// payment page lists the accepted currencies, and ConfirmPayment fixes the
// rate, the amount and the deposit address of the chosen one (and the
// e-mail, when the merchant gave none).
func ExampleEngine_ConfirmPayment() {
	h, _ := invoicetest.NewHarness(func(c *invoice.Config) { c.AcceptedCurrencies = []string{"BTC", "ETH"} })
	ctx := context.Background()
	inv, _ := h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-7", Title: "Order 7", Amount: decimal.NewFromInt(150), Currency: "EUR",
	})
	fmt.Println(inv.Type, inv.Status, "choices:", h.Config.AcceptedCurrencies)

	_, err := h.Engine.ConfirmPayment(ctx, "order-7", invoice.Confirmation{Currency: "LTC", Email: "c@example.com"})
	var verr *invoice.ValidationError
	if errors.As(err, &verr) {
		fmt.Println("LTC:", verr.Field("currency"))
	}
	inv, _ = h.Engine.ConfirmPayment(ctx, "order-7", invoice.Confirmation{Currency: "ETH", Email: "c@example.com"})
	fmt.Println(inv.Status, inv.SenderAmount, inv.SenderCurrency, "to", inv.Deposit.Address,
		"until", inv.ExpiresAt.Sub(inv.FixedAt))
	// Output:
	// no_timer created choices: [BTC ETH]
	// LTC: The selected currency is invalid.
	// pending 0.05 ETH to ETH-order-7 until 15m0s
}

// A callback whose every retry failed is dead. Once the merchant's
// endpoint works again, the operator lists the dead deliveries and sends
// each again with Redeliver: same delivery ID (receivers dedupe on it),
// one more attempt.
func ExampleEngine_Redeliver() {
	h, _ := invoicetest.NewHarness(func(c *invoice.Config) {
		c.RetrySchedule = []time.Duration{time.Minute} // one retry, for the example
	})
	ctx := context.Background()
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-9", Title: "Order 9",
		Amount: decimal.NewFromInt(20), Currency: "EUR"})
	_, _ = h.Engine.Cancel(ctx, "order-9")

	h.Merchant.FailNext(2) // the endpoint is down: the attempt and its retry fail
	_, _ = h.Engine.DeliverDue(ctx)
	h.Clock.Advance(time.Minute)
	_, _ = h.Engine.DeliverDue(ctx)

	dead, _ := h.Engine.DeadDeliveries(ctx, uuid.Nil, 100)
	for _, d := range dead {
		fmt.Println("dead:", d.Callback.ForeignID, d.Callback.Status, len(d.Attempts), "attempts")
		_ = h.Engine.Redeliver(ctx, d.ID) // the endpoint is fixed
	}
	n, _ := h.Engine.DeliverDue(ctx)
	fmt.Println("delivered:", n, h.Merchant.Statuses("order-9"))
	// Output:
	// dead: order-9 failed 2 attempts
	// delivered: 1 [failed]
}

// List pages through invoices in creation order (with the default UUIDv7
// IDs), optionally of one status; pass each page's NextCursor to get the
// next one.
func ExampleEngine_List() {
	h, _ := invoicetest.NewHarness()
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		_, _ = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: fmt.Sprint("order-", i), Title: "Order",
			Amount: decimal.NewFromInt(10), Currency: "EUR"})
	}
	_, _ = h.Engine.Cancel(ctx, "order-2")

	opts := invoice.ListOptions{Limit: 2}
	for {
		page, err := h.Engine.List(ctx, opts)
		if err != nil {
			panic(err)
		}
		for _, inv := range page.Invoices {
			fmt.Print(inv.ForeignID, ":", inv.Status, " ")
		}
		fmt.Println("|")
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	failed, _ := h.Engine.List(ctx, invoice.ListOptions{Status: invoice.StatusFailed})
	fmt.Println("failed:", failed.Invoices[0].ForeignID)
	// Output:
	// order-1:created order-2:failed |
	// order-3:created order-4:created |
	// order-5:created |
	// failed: order-2
}
