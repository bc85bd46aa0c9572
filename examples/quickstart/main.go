// Command quickstart runs the invoice engine on the embedded store and
// prints what a merchant sees: each of the three invoice types paid and
// confirmed, a timer expiry, an underpayment with its refund claim, and a
// cancel. A fake clock stands in for the 15-minute timer, so it finishes at
// once.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/shopspring/decimal"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	clock := invoicetest.NewClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	var refundToken string // what the customer's refund link carries
	engine, err := invoice.New(invoice.Config{
		Store: memstore.New(),
		Rates: invoice.MustStaticRates("BTC/EUR=60000", "ETH/EUR=3000", "LTC/EUR=80", "BCH/EUR=400", "USDT/EUR=1"),
		Addresses: invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
			return invoice.Address{Address: strings.ToLower(currency) + "1q" + inv.ForeignID}, nil
		}),
		Notifier: invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
			cb := d.Callback
			line := fmt.Sprintf("    callback → %-10s sent %s %s, remaining %s", cb.Status, cb.CurrencySent.Amount.String(),
				cb.CurrencySent.Currency, cb.CurrencySent.RemainingAmount.String())
			if cb.Error != "" {
				line += fmt.Sprintf(", error %q", cb.Error)
			}
			fmt.Println(line)
			return nil
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			fmt.Printf("    e-mail to %s: refund claim of %s %s (%s), with a link\n",
				n.Email, n.Amount, n.Currency, n.Reason)
			refundToken = n.Token // a secret: it goes into the link, nowhere else
			return nil
		}),
		PayoutNotifier: invoice.PayoutNotifierFunc(func(_ context.Context, p *invoice.RefundPayout) error {
			fmt.Printf("    payout system told: pay %s %s to %s for %s\n", p.Amount, p.Currency, p.Destination, p.ForeignID)
			return nil
		}),
		// Refund links are derived from this key. memstore lives as long as
		// the process, so a key made at start-up is enough here; with a
		// shared store (pgstore), load the same key on every instance from
		// your secret store.
		RefundTokenKeys: [][]byte{invoice.NewRefundTokenKey()},
		Clock:           clock,
	})
	if err != nil {
		return err
	}
	// deliver hands every due callback to the notifiers (Engine.Run does
	// this continuously in a real service).
	deliver := func() error { _, err := engine.DeliverDue(ctx); return err }
	tx := func(foreignID, txid, currency, amount string, st invoice.TxStatus) error {
		conf := int64(0) // a confirmed transaction has at least one confirmation
		if st == invoice.TxConfirmed {
			conf = 1
		}
		inv, err := engine.ReportTransaction(ctx, foreignID, invoice.TransactionReport{
			TxID: txid, Currency: currency, Amount: decimal.RequireFromString(amount), Confirmations: conf, Status: st,
		})
		if err != nil {
			return err
		}
		fmt.Printf("  transaction %s %s %s %s → invoice %s\n", txid, amount, currency, st, inv.Status)
		return deliver()
	}
	show := func(inv *invoice.Invoice) {
		fmt.Printf("  created %s: type %s, status %s", inv.ForeignID, inv.Type, inv.Status)
		if inv.SenderCurrency != "" {
			fmt.Printf(", pay %s %s to %s", inv.SenderAmount, inv.SenderCurrency, inv.Deposit.Address)
		}
		fmt.Println()
	}
	amount := decimal.NewFromInt(100)

	fmt.Println("1. Invoice without timer: the customer picks ETH, the rate is fixed then")
	inv, err := engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-1", Title: "Order 1", Amount: amount, Currency: "EUR"})
	if err != nil {
		return err
	}
	show(inv)
	if inv, err = engine.ConfirmPayment(ctx, "order-1", invoice.Confirmation{Currency: "ETH", Email: "alice@example.com"}); err != nil {
		return err
	}
	fmt.Printf("  customer confirmed ETH: pay %s ETH within 15 minutes\n", inv.SenderAmount)
	if err := deliver(); err != nil {
		return err
	}
	if err := tx("order-1", "0xa1", "ETH", inv.SenderAmount.String(), invoice.TxNotConfirmed); err != nil {
		return err
	}
	if err := tx("order-1", "0xa1", "ETH", inv.SenderAmount.String(), invoice.TxConfirmed); err != nil {
		return err
	}

	fmt.Println("\n2. Invoice with timer: a quote for every currency is fixed at creation")
	if inv, err = engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-2", Title: "Order 2", Amount: amount, Currency: "EUR", Timer: true}); err != nil {
		return err
	}
	show(inv)
	for _, q := range inv.Quotes {
		fmt.Printf("    quote %-4s %s\n", q.Currency, q.Amount)
	}
	if inv, err = engine.ConfirmPayment(ctx, "order-2", invoice.Confirmation{Currency: "LTC", Email: "bob@example.com"}); err != nil {
		return err
	}
	fmt.Printf("  customer picked LTC: pay %s LTC\n", inv.SenderAmount)
	if err := deliver(); err != nil {
		return err
	}
	if err := tx("order-2", "ltc-1", "LTC", "1.25", invoice.TxConfirmed); err != nil {
		return err
	}

	fmt.Println("\n3. Invoice with timer and pre-selected BTC, paid in two installments")
	inv, err = engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-3", Title: "Order 3", Amount: amount, Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Mode: invoice.ModeGoodUntilExpired, Email: "carol@example.com"})
	if err != nil {
		return err
	}
	show(inv)
	if err := tx("order-3", "btc-1", "BTC", "0.001", invoice.TxConfirmed); err != nil {
		return err
	}
	if err := tx("order-3", "btc-2", "BTC", "0.00066667", invoice.TxNotConfirmed); err != nil {
		return err
	}
	if err := tx("order-3", "btc-2", "BTC", "0.00066667", invoice.TxConfirmed); err != nil {
		return err
	}

	fmt.Println("\n4. Timer expiry: nobody pays within 15 minutes")
	if inv, err = engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-4", Title: "Order 4", Amount: amount, Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "dave@example.com"}); err != nil {
		return err
	}
	show(inv)
	clock.Advance(16 * time.Minute)
	n, err := engine.Sweep(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("  16 minutes later the sweep failed %d invoice(s)\n", n)
	if err := deliver(); err != nil {
		return err
	}

	fmt.Println("\n5. Underpayment: the customer sends less than asked")
	if inv, err = engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-5", Title: "Order 5", Amount: amount, Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "erin@example.com"}); err != nil {
		return err
	}
	show(inv)
	if err := tx("order-5", "btc-5", "BTC", "0.001", invoice.TxNotConfirmed); err != nil {
		return err
	}
	if err := tx("order-5", "btc-5", "BTC", "0.001", invoice.TxConfirmed); err != nil {
		return err
	}
	info, err := engine.LookupRefundClaim(ctx, refundToken)
	if err != nil {
		return err
	}
	fmt.Printf("  the claim page shows %s %s for %q (%s)\n", info.Amount, info.Currency, info.Title, info.Status)
	claim, err := engine.RedeemRefundClaim(ctx, refundToken, "bc1qerin")
	if err != nil {
		return err
	}
	fmt.Printf("  erin redeems it to %s → %s\n", claim.Destination, claim.Status)
	if err := deliver(); err != nil {
		return err
	}
	if claim, err = engine.MarkRefundClaimPaid(ctx, "order-5", claim.ID, "btc-payout-5"); err != nil {
		return err
	}
	fmt.Printf("  the payout system paid it (%s) → %s\n", claim.PayoutRef, claim.Status)
	if _, err := engine.RedeemRefundClaim(ctx, refundToken, "bc1qmallory"); err != nil {
		fmt.Printf("  redeeming again → error %q\n", err)
	}

	fmt.Println("\n6. Cancel: the merchant cancels an invoice, then tries again")
	if inv, err = engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-6", Title: "Order 6", Amount: amount, Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "frank@example.com"}); err != nil {
		return err
	}
	show(inv)
	if inv, err = engine.Cancel(ctx, "order-6"); err != nil {
		return err
	}
	fmt.Printf("  cancelled → %s (%s)\n", inv.Status, inv.Error)
	if err := deliver(); err != nil {
		return err
	}
	if _, err = engine.Cancel(ctx, "order-6"); err != nil {
		fmt.Printf("  cancel again → error %q\n", err)
	}
	return nil
}
