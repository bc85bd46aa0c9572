package invoicetest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// In a host's test, invoicetest.New(t) is a ready engine on memstore with
// a fake clock, a recording notifier, deterministic addresses and IDs:
// drive an invoice from creation to expiry without sleeping.
func ExampleNew() {
	t := &testing.T{} // in a test: the test's *testing.T
	h := invoicetest.New(t)
	ctx := context.Background()
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-42", Title: "Order 42", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	h.Clock.Advance(15 * time.Minute) // the payment window ends
	n, _ := h.Engine.Sweep(ctx)
	_, _ = h.Engine.DeliverDue(ctx)
	fmt.Println("expired:", n, h.Merchant.Statuses("order-42"))
	inv, _ := h.Engine.Get(ctx, "order-42")
	fmt.Println(inv.Error)
	// Output:
	// expired: 1 [failed]
	// Timer expired. User not paid.
}
