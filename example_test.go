package invoice_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/shopspring/decimal"
)

// A service wires the engine to its store, rate feed, wallet and callback
// sender, creates invoices, and runs the engine in the background.
func ExampleNew() {
	engine, err := invoice.New(invoice.Config{
		Store: memstore.New(),
		Rates: invoice.MustStaticRates("BTC/EUR=60000"),
		Addresses: invoice.AddressSourceFunc(func(ctx context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
			return invoice.Address{Address: "bc1q-" + inv.ForeignID}, nil // ask your wallet here
		}),
		Notifier: invoice.NotifierFunc(func(ctx context.Context, d *invoice.Delivery) error {
			fmt.Println("callback:", d.Callback.ForeignID, d.Callback.Status)
			return nil // nil means the merchant acknowledged it
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(ctx context.Context, n *invoice.RefundNotice) error {
			return nil // e-mail the customer a link with n.Token
		}),
		// The same secret key on every instance, from your secret store (see
		// NewRefundTokenKey): refund links are derived from it.
		RefundTokenKeys:    [][]byte{refundTokenKey()},
		AcceptedCurrencies: []string{"BTC"},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	inv, err := engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-42", Title: "Order 42", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(inv.Status, inv.SenderAmount, inv.SenderCurrency, "to", inv.Deposit.Address)
	_, _ = engine.Cancel(ctx, "order-42")
	_, _ = engine.DeliverDue(ctx) // in a service: go engine.Run(ctx)
	// Output:
	// pending 0.00166667 BTC to bc1q-order-42
	// callback: order-42 failed
}

// The chain watcher reports transactions; the engine moves the invoice.
func ExampleEngine_ReportTransaction() {
	h, _ := invoicetest.NewHarness()
	ctx := context.Background()
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-1", Title: "Order 1", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	for i, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		inv, _ := h.Engine.ReportTransaction(ctx, "order-1", invoice.TransactionReport{
			TxID: "f00d", Currency: "BTC", Amount: decimal.RequireFromString("0.00166667"),
			Confirmations: int64(i), Status: st, // confirmed: at least one confirmation
		})
		fmt.Println(st, "→", inv.Status)
	}
	// Output:
	// not_confirmed → processing
	// confirmed → confirmed
}

// A test drives an invoice to expiry with the fake clock: no sleeping.
func ExampleEngine_Sweep() {
	h, _ := invoicetest.NewHarness()
	ctx := context.Background()
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-1", Title: "Order 1", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	h.Clock.Advance(15 * time.Minute)
	n, _ := h.Engine.Sweep(ctx)
	_, _ = h.Engine.DeliverDue(ctx)
	cb := h.Merchant.Callbacks("order-1")[0]
	fmt.Println(n, cb.Status, cb.Error)
	// Output:
	// 1 failed Timer expired. User not paid.
}

// Cancelling a final invoice is refused with the API's error.
func ExampleEngine_Cancel() {
	h, _ := invoicetest.NewHarness()
	ctx := context.Background()
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-1", Title: "Order 1", Amount: decimal.NewFromInt(5), Currency: "EUR",
	})
	inv, _ := h.Engine.Cancel(ctx, "order-1")
	fmt.Println(inv.Status, inv.Error)
	_, err := h.Engine.Cancel(ctx, "order-1")
	var te *invoice.TransitionError
	if errors.As(err, &te) {
		fmt.Println(te.Code(), te.Error())
	}
	// Output:
	// failed Cancelled by customer
	// invalid_invoice_state Invoice cannot be failed in its current state.
}

// refundTokenKey stands for reading the refund token key from the
// service's secret store.
func refundTokenKey() []byte { return invoicetest.RefundTokenKey() }
