package ethereum

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
)

func TestPayInTokenAndInEther(t *testing.T) {
	r := newRig(t, nil)
	tok, tokAddr := r.invoice("tok", "USDTE", "30")
	eth, ethAddr := r.invoice("eth", "ETH", "30")
	if !tok.SenderAmount.Equal(decimal.RequireFromString("30")) || !eth.SenderAmount.Equal(decimal.RequireFromString("0.01")) {
		t.Fatalf("amounts %s USDTE, %s ETH", tok.SenderAmount, eth.SenderAmount)
	}
	txTok := r.transfer(r.usdte, tokAddr, 30_000000).Hex() // block B
	txEth := r.sendEther(ethAddr, ether("0.01")).Hex()     // block B+1
	r.sync()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{txTok: unconfirmed})
	r.want("eth", invoice.StatusProcessing, map[string]invoice.TxStatus{txEth: unconfirmed})

	r.mine(1) // B is 3 deep, B+1 2 deep
	r.sync()
	inv := r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{txTok: confirmed})
	if tx := inv.Transaction(txTok); tx.Confirmations != 3 || !tx.Amount.Equal(decimal.RequireFromString("30")) || tx.Currency != "USDTE" {
		t.Errorf("token transaction %+v, want 30 USDTE with 3 confirmations", tx)
	}
	r.want("eth", invoice.StatusProcessing, map[string]invoice.TxStatus{txEth: unconfirmed})

	r.mine(1)
	r.sync()
	inv = r.want("eth", invoice.StatusConfirmed, map[string]invoice.TxStatus{txEth: confirmed})
	if tx := inv.Transaction(txEth); !tx.Amount.Equal(decimal.RequireFromString("0.01")) || tx.Currency != "ETH" {
		t.Errorf("ether transaction %+v, want 0.01 ETH", tx)
	}
	if len(r.w.cp.Pending) != 0 {
		t.Errorf("pending after confirmation: %+v", r.w.cp.Pending)
	}

	// On the wire the token is USDTE, never a bare USDT.
	if _, err := r.h.Engine.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	cbs := r.h.Merchant.Callbacks("tok")
	if len(cbs) == 0 {
		t.Fatal("no callbacks for tok")
	}
	last := cbs[len(cbs)-1]
	if last.CurrencySent.Currency != "USDTE" || last.CryptoAddress.Currency != "USDTE" ||
		last.CryptoAddress.Address != tokAddr.Hex() || len(last.Transactions) != 1 ||
		last.Transactions[0].Currency != "USDTE" || last.Transactions[0].TxID != txTok {
		t.Errorf("last callback %+v", last)
	}
}

// Two Transfer logs of one transaction to one address are one payment.
func TestTransfersOfOneTransactionAreSummed(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("sum", "USDTE", "30")
	_, other := r.invoice("other", "USDTE", "30")
	tx := r.batchTransfer(r.usdte, []common.Address{addr, other, addr}, []int64{10_000000, 5_000000, 20_000000}).Hex()
	r.mine(2)
	r.sync()
	inv := r.want("sum", invoice.StatusConfirmed, map[string]invoice.TxStatus{tx: confirmed})
	if got := inv.Transaction(tx).Amount; !got.Equal(decimal.RequireFromString("30")) {
		t.Errorf("summed amount %s, want 30", got)
	}
	// 5 of 30 on the other invoice: fill_or_kill, confirmed short → failed.
	r.want("other", invoice.StatusFailed, map[string]invoice.TxStatus{tx: confirmed})
}

// A payment in a token (or in ether) the invoice was not created for is
// recorded, not accounted, and refunded once confirmed; ether from the
// merchant's own gas wallet is no payment at all.
func TestWrongCurrencyPayments(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Confirmations = 5 })
	_, addr := r.invoice("tok", "USDTE", "30")
	wrongTok := r.transfer(r.usdce, addr, 30_000000).Hex()
	wrongEth := r.sendEther(addr, ether("0.01")).Hex()
	r.send(r.Gas, &addr, ether("0.001"), nil) // a gas top-up by the merchant
	r.sync()
	inv := r.want("tok", invoice.StatusPending, map[string]invoice.TxStatus{wrongTok: unconfirmed, wrongEth: unconfirmed})
	for _, tx := range inv.Transactions {
		if tx.Accounted {
			t.Errorf("wrong-currency transaction %s %s accounted", tx.TxID, tx.Currency)
		}
	}
	r.mine(3)
	r.sync()
	inv = r.want("tok", invoice.StatusPending, map[string]invoice.TxStatus{wrongTok: confirmed, wrongEth: confirmed})
	refunds := map[string]string{}
	for _, c := range inv.RefundClaims {
		refunds[c.Currency] = c.Amount.String()
	}
	if refunds["USDCE"] != "30" || refunds["ETH"] != "0.01" || len(refunds) != 2 {
		t.Errorf("refund claims %v, want 30 USDCE and 0.01 ETH", refunds)
	}
}

// A payment to an invoice that already failed is recorded and refunded.
func TestLatePayment(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("late", "USDTE", "30")
	r.h.Clock.Advance(16 * time.Minute)
	if _, err := r.h.Engine.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want("late", invoice.StatusFailed, nil)
	tx := r.transfer(r.usdte, addr, 30_000000).Hex()
	r.sync()
	r.want("late", invoice.StatusFailed, map[string]invoice.TxStatus{tx: unconfirmed})
	r.mine(2)
	r.sync()
	inv := r.want("late", invoice.StatusFailed, map[string]invoice.TxStatus{tx: confirmed})
	if len(inv.RefundClaims) != 1 || inv.RefundClaims[0].Currency != "USDTE" || !inv.RefundClaims[0].Amount.Equal(decimal.RequireFromString("30")) {
		t.Fatalf("refund claims %+v, want one of 30 USDTE", inv.RefundClaims)
	}

	// The customer redeems the claim; the destination is checked as an
	// Ethereum address, checksum included.
	ctx := context.Background()
	if _, err := r.h.Engine.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	notices := r.h.Customers.Notices("late")
	if len(notices) != 1 {
		t.Fatalf("%d refund notices, want 1", len(notices))
	}
	token := notices[0].Token
	for _, bad := range []string{
		"0x9858efFD232B4033E47d90003D41EC34EcaEda94", // one letter's case changed
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",         // a Tron address for an ERC-20 refund
	} {
		_, err := r.h.Engine.RedeemRefundClaim(ctx, token, bad)
		var ve *invoice.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "not a valid USDTE address") {
			t.Errorf("redeem to %s: %v, want a validation error on the address", bad, err)
		}
	}
	claim, err := r.h.Engine.RedeemRefundClaim(ctx, token, firstAddress)
	if err != nil || claim.Destination != firstAddress {
		t.Fatalf("redeem to %s: %+v, %v", firstAddress, claim, err)
	}
}

// With Finalized, confirmation waits for the node's finalized block (two
// below the head on this anvil), whatever the confirmation count.
func TestConfirmAtFinalized(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Finalized = true; c.Confirmations = 1 })
	_, addr := r.invoice("fin", "USDTE", "30")
	tx := r.transfer(r.usdte, addr, 30_000000).Hex()
	r.mine(1)
	r.sync()
	r.want("fin", invoice.StatusProcessing, map[string]invoice.TxStatus{tx: unconfirmed})
	r.mine(1)
	r.sync()
	r.want("fin", invoice.StatusConfirmed, map[string]invoice.TxStatus{tx: confirmed})
}

// Each currency has its own confirmation depth.
func TestConfirmationsPerCurrency(t *testing.T) {
	r := newRig(t, func(c *Config) { c.Tokens[0].Confirmations = 1; c.NativeConfirmations = 4 })
	_, tokAddr := r.invoice("tok", "USDTE", "30")
	_, ethAddr := r.invoice("eth", "ETH", "30")
	txTok := r.transfer(r.usdte, tokAddr, 30_000000).Hex()
	r.sync()
	r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{txTok: confirmed}) // 1 deep is enough
	txEth := r.sendEther(ethAddr, ether("0.01")).Hex()
	r.mine(2)
	r.sync()
	r.want("eth", invoice.StatusProcessing, map[string]invoice.TxStatus{txEth: unconfirmed}) // 3 deep
	r.mine(1)
	r.sync()
	inv := r.want("eth", invoice.StatusConfirmed, map[string]invoice.TxStatus{txEth: confirmed})
	if c := inv.Transaction(txEth).Confirmations; c != 4 {
		t.Errorf("ether confirmations %d, want 4", c)
	}
}
