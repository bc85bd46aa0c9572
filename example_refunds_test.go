package invoice_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/shopspring/decimal"
)

// The whole refund flow: an overpayment creates a claim, the customer's
// notice carries the link, the claim page looks the claim up and checks
// the address, the customer redeems it, the payout system is told, pays
// and marks it paid.
func ExampleEngine_RedeemRefundClaim() {
	ctx := context.Background()
	var link string
	h, err := invoicetest.NewHarness(func(c *invoice.Config) {
		c.CustomerNotifier = invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			// E-mail the link to n.Email; the token exists only here.
			link = "https://shop.example/refund/" + n.Token
			fmt.Println("notice:", n.Amount, n.Currency, n.Reason)
			return nil
		})
		c.PayoutNotifier = invoice.PayoutNotifierFunc(func(_ context.Context, p *invoice.RefundPayout) error {
			fmt.Println("payout system told:", p.Amount, p.Currency, "to", p.Destination)
			return nil
		})
		c.DestinationValidators = map[string]invoice.DestinationValidator{
			"BTC": func(address string) error {
				if !strings.HasPrefix(address, "bc1") {
					return errors.New("use a bc1 address")
				}
				return nil
			},
		}
	})
	if err != nil {
		panic(err)
	}
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "order-7", Title: "Order 7", Amount: decimal.NewFromInt(100), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	_, _ = h.Engine.ReportTransaction(ctx, "order-7", invoice.TransactionReport{
		TxID: "f00d", Currency: "BTC", Amount: decimal.RequireFromString("0.00216667"), Confirmations: 1, Status: invoice.TxConfirmed,
	})
	_, _ = h.Engine.DeliverDue(ctx) // in a service: go engine.Run(ctx)

	// The claim page, at the link.
	token := path.Base(link)
	info, _ := h.Engine.LookupRefundClaim(ctx, token)
	fmt.Println("claim page:", info.Title, info.Amount, info.Currency, info.Status)
	fmt.Println(h.Engine.CheckRefundDestination(info.Currency, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"))
	claim, _ := h.Engine.RedeemRefundClaim(ctx, token, "bc1qcustomer")
	fmt.Println("redeemed:", claim.Status)
	_, _ = h.Engine.DeliverDue(ctx)

	// The payout system: pay what awaits payout, then mark it paid.
	page, _ := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{})
	for _, p := range page.Payouts {
		paid, _ := h.Engine.MarkRefundClaimPaid(ctx, p.ForeignID, p.ClaimID, "payout-txid-1")
		fmt.Println(p.ForeignID, paid.Status, paid.PayoutRef)
	}

	_, err = h.Engine.RedeemRefundClaim(ctx, token, "bc1qsomeoneelse")
	fmt.Println(err)
	_, err = h.Engine.RedeemRefundClaim(ctx, "rc2_forged", "bc1qsomeoneelse")
	fmt.Println(err)
	// Output:
	// notice: 0.0005 BTC Overpayment.
	// claim page: Order 7 0.0005 BTC open
	// invoice: invalid request: address: The address is not a valid BTC address: use a bc1 address
	// redeemed: redeemed
	// payout system told: 0.0005 BTC to bc1qcustomer
	// order-7 paid payout-txid-1
	// invoice: refund claim not redeemable: already redeemed
	// invoice: refund claim not redeemable
}
