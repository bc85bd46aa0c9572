package bitcoin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/shopspring/decimal"
)

// testConfirmations is the required count in the node tests.
const testConfirmations = 2

// shop is an engine on memstore with the xpub address source of a fresh
// account, and a watcher on the test node.
type shop struct {
	t    *testing.T
	n    *testNode
	h    *invoicetest.Harness
	src  *AddressSource
	cps  CheckpointStore
	stop func()
}

// randomAccount returns a fresh regtest BIP-84 account's extended public
// key (tpub), the private side of which only the test ever held.
func randomAccount(t *testing.T) string {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	k, err := hdkeychain.NewMaster(seed, Regtest.Params())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{84, 1, 0} {
		if k, err = k.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := k.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

func newShop(t *testing.T, n *testNode, cps CheckpointStore) *shop {
	t.Helper()
	acct, err := ParseAccount(randomAccount(t), Regtest, SchemeAuto)
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{t: t, n: n, cps: cps}
	s.h = invoicetest.New(t, func(c *invoice.Config) {
		s.src = NewAddressSource(acct, c.Store, SourceOptions{})
		c.Addresses = s.src
		c.Clock = invoice.SystemClock{} // real time and UUIDv7 IDs
		c.NewID = nil
		c.DestinationValidators = map[string]invoice.DestinationValidator{"BTC": DestinationValidator(Regtest)}
	})
	s.start()
	t.Cleanup(func() { s.stop() })
	return s
}

// start runs a watcher on the shop's checkpoint.
func (s *shop) start() {
	s.t.Helper()
	w, err := NewWatcher(WatcherConfig{
		Engine:        s.h.Engine,
		Node:          s.n.node,
		Checkpoints:   s.cps,
		Network:       Regtest,
		Confirmations: testConfirmations,
		PollInterval:  100 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(testLog{s.t}, nil)),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	// The first poll sets the checkpoint at the current tip; payments
	// made after start are then surely seen.
	if err := w.Sync(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	s.stop = func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			s.t.Errorf("watcher Run: %v", err)
		}
		s.stop = func() {}
	}
}

// create makes a pending invoice of 60 EUR = 0.001 BTC with a deposit address.
func (s *shop) create(foreignID string, mode invoice.PaymentMode) *invoice.Invoice {
	s.t.Helper()
	inv, err := s.h.Engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order " + foreignID, Amount: decimal.NewFromInt(60), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com", Mode: mode,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if inv.Status != invoice.StatusPending || !inv.SenderAmount.Equal(decimal.RequireFromString("0.001")) {
		s.t.Fatalf("invoice %s: %s %s", foreignID, inv.Status, inv.SenderAmount)
	}
	return inv
}

func (s *shop) get(foreignID string) *invoice.Invoice {
	s.t.Helper()
	inv, err := s.h.Engine.Get(context.Background(), foreignID)
	if err != nil {
		s.t.Fatal(err)
	}
	return inv
}

// wait polls the invoice until ok holds, or fails after within.
func (s *shop) wait(foreignID string, within time.Duration, what string, ok func(*invoice.Invoice) bool) *invoice.Invoice {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		inv := s.get(foreignID)
		if ok(inv) {
			return inv
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("invoice %s: not %s within %s: status %s, transactions %+v", foreignID, what, within, inv.Status, inv.Transactions)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *shop) waitStatus(foreignID string, want invoice.Status) *invoice.Invoice {
	s.t.Helper()
	return s.wait(foreignID, 15*time.Second, want.String(), func(inv *invoice.Invoice) bool { return inv.Status == want })
}

func (s *shop) waitTx(foreignID string, txid chainhash.Hash, want invoice.TxStatus, confs int64) *invoice.Invoice {
	s.t.Helper()
	return s.wait(foreignID, 15*time.Second, "having "+txid.String()+" "+want.String(), func(inv *invoice.Invoice) bool {
		tx := inv.Transaction(txid.String())
		return tx != nil && tx.Status == want && tx.Confirmations >= confs
	})
}

// otherAddress is a regtest address no invoice has.
func otherAddress(t *testing.T) string {
	k, _ := btcec.NewPrivateKey()
	a, err := address.NewAddressWitnessPubKeyHash(address.Hash160(k.PubKey().SerializeCompressed()), Regtest.Params())
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}

// token returns the refund claim token sent to the invoice's customer.
func (s *shop) token(foreignID string, amount string) string {
	s.t.Helper()
	if _, err := s.h.Engine.DeliverDue(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	for _, rn := range s.h.Customers.Notices(foreignID) {
		if rn.Amount.Equal(decimal.RequireFromString(amount)) && rn.Currency == "BTC" {
			return rn.Token
		}
	}
	s.t.Fatalf("no refund notice of %s BTC for %s: %+v", amount, foreignID, s.h.Customers.Notices(foreignID))
	return ""
}

func TestWatcherPaymentProcessingThenConfirmed(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	inv := s.create("confirm-1", invoice.ModeFillOrKill)
	if inv.Deposit.Path != "m/84'/1'/0'/0/0" {
		t.Errorf("path = %q", inv.Deposit.Path)
	}
	if err := ValidateAddress(inv.Deposit.Address, Regtest); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	txid := n.spend(t, n.coin(t), 10_000, out{inv.Deposit.Address, 100_000})
	s.wait("confirm-1", time.Second, "processing within a second", func(inv *invoice.Invoice) bool {
		return inv.Status == invoice.StatusProcessing
	})
	t.Logf("processing %s after the payment was sent", time.Since(sent).Round(time.Millisecond))
	got := s.get("confirm-1").Transaction(txid.String())
	if got == nil || got.Status != invoice.TxNotConfirmed || got.Confirmations != 0 || !got.Amount.Equal(decimal.RequireFromString("0.001")) {
		t.Fatalf("transaction %+v", got)
	}

	n.mine(t, 1)
	inv = s.waitTx("confirm-1", txid, invoice.TxNotConfirmed, 1)
	if inv.Status != invoice.StatusProcessing {
		t.Fatalf("after 1 block: %s", inv.Status)
	}
	n.mine(t, 1)
	inv = s.waitStatus("confirm-1", invoice.StatusConfirmed)
	if tx := inv.Transaction(txid.String()); tx.Status != invoice.TxConfirmed || tx.Confirmations != testConfirmations {
		t.Fatalf("confirmed transaction %+v", tx)
	}
	// A second invoice takes the next index.
	if next := s.create("confirm-2", invoice.ModeFillOrKill); next.Deposit.Path != "m/84'/1'/0'/0/1" || next.Deposit.Address == inv.Deposit.Address {
		t.Errorf("second address %+v", next.Deposit)
	}
}

func TestWatcherReorgRevertsPayment(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	inv := s.create("reorg-1", invoice.ModeFillOrKill)
	c := n.coin(t)
	txid := n.spend(t, c, 10_000, out{inv.Deposit.Address, 100_000})
	s.waitStatus("reorg-1", invoice.StatusProcessing)
	block := n.mine(t, 1)[0]
	s.waitTx("reorg-1", txid, invoice.TxNotConfirmed, 1)

	// The block is reorganised out, and the coin is spent elsewhere in the
	// new chain: the payment is gone for good.
	if err := n.rpc.InvalidateBlock(block); err != nil {
		t.Fatal(err)
	}
	n.spend(t, c, 30_000, out{otherAddress(t), 100_000})
	n.mine(t, 2)
	inv = s.waitTx("reorg-1", txid, invoice.TxCancelled, 0)
	if inv.Status != invoice.StatusPending {
		t.Fatalf("after the reorg: %s", inv.Status)
	}
}

func TestWatcherRBFReplacement(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	// X: replaced by a transaction paying someone else → cancelled.
	x := s.create("rbf-x", invoice.ModeFillOrKill)
	cx := n.coin(t)
	ax := n.spend(t, cx, 10_000, out{x.Deposit.Address, 100_000})
	s.waitStatus("rbf-x", invoice.StatusProcessing)
	n.spend(t, cx, 30_000, out{otherAddress(t), 100_000})
	inv := s.waitTx("rbf-x", ax, invoice.TxCancelled, 0)
	if inv.Status != invoice.StatusPending {
		t.Fatalf("replaced payment: invoice %s", inv.Status)
	}

	// Y: a fee bump paying the same invoice → the replacement counts.
	y := s.create("rbf-y", invoice.ModeFillOrKill)
	cy := n.coin(t)
	ay := n.spend(t, cy, 10_000, out{y.Deposit.Address, 100_000})
	s.waitStatus("rbf-y", invoice.StatusProcessing)
	by := n.spend(t, cy, 30_000, out{y.Deposit.Address, 100_000})
	s.waitTx("rbf-y", ay, invoice.TxCancelled, 0)
	s.waitTx("rbf-y", by, invoice.TxNotConfirmed, 0)
	n.mine(t, testConfirmations)
	inv = s.waitStatus("rbf-y", invoice.StatusConfirmed)
	if _, err := s.h.Engine.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, st := range s.h.Merchant.Statuses("rbf-y") {
		if st == invoice.StatusPending {
			t.Errorf("the fee bump sent the invoice back to pending: %v", s.h.Merchant.Statuses("rbf-y"))
		}
	}
	if !inv.ReceivedAmount().Equal(decimal.RequireFromString("0.001")) {
		t.Errorf("received %s", inv.ReceivedAmount())
	}
}

func TestWatcherRestartMissesNothing(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, FileCheckpoints{Path: filepath.Join(t.TempDir(), "watcher.json")})
	i1 := s.create("restart-1", invoice.ModeFillOrKill)
	i2 := s.create("restart-2", invoice.ModeFillOrKill)
	i3 := s.create("restart-3", invoice.ModeFillOrKill)
	i4 := s.create("restart-4", invoice.ModeFillOrKill)
	t1 := n.spend(t, n.coin(t), 10_000, out{i1.Deposit.Address, 100_000})
	c4 := n.coin(t)
	t4 := n.spend(t, c4, 10_000, out{i4.Deposit.Address, 100_000})
	s.waitStatus("restart-1", invoice.StatusProcessing)
	s.waitStatus("restart-4", invoice.StatusProcessing)
	s.stop()

	// While the watcher is down: 1 is mined, 2 is paid and mined, 3 is
	// paid in a later block, and 4's payment is replaced by one to
	// someone else.
	t2 := n.spend(t, n.coin(t), 10_000, out{i2.Deposit.Address, 100_000})
	n.spend(t, c4, 30_000, out{otherAddress(t), 100_000})
	n.mine(t, 1)
	t3 := n.spend(t, n.coin(t), 10_000, out{i3.Deposit.Address, 100_000})
	n.mine(t, testConfirmations)

	s.start()
	s.waitTx("restart-1", t1, invoice.TxConfirmed, testConfirmations)
	s.waitTx("restart-2", t2, invoice.TxConfirmed, testConfirmations)
	s.waitTx("restart-3", t3, invoice.TxConfirmed, testConfirmations)
	for _, id := range []string{"restart-1", "restart-2", "restart-3"} {
		s.waitStatus(id, invoice.StatusConfirmed)
	}
	if inv := s.waitTx("restart-4", t4, invoice.TxCancelled, 0); inv.Status != invoice.StatusPending {
		t.Errorf("restart-4: %s", inv.Status)
	}
}

func TestWatcherUnderAndOverpaymentRefunds(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	under := s.create("under-1", invoice.ModeFillOrKill)
	over := s.create("over-1", invoice.ModeFillOrKill)
	n.spend(t, n.coin(t), 10_000, out{under.Deposit.Address, 40_000})
	n.spend(t, n.coin(t), 10_000, out{over.Deposit.Address, 150_000})
	s.waitStatus("under-1", invoice.StatusProcessing)
	s.waitStatus("over-1", invoice.StatusProcessing)
	n.mine(t, testConfirmations)

	inv := s.waitStatus("under-1", invoice.StatusFailed)
	if inv.Error != invoice.ReasonPaidLess {
		t.Errorf("underpaid error %q", inv.Error)
	}
	s.waitStatus("over-1", invoice.StatusConfirmed)

	ctx := context.Background()
	refund := otherAddress(t)
	for id, amount := range map[string]string{"under-1": "0.0004", "over-1": "0.0005"} {
		tok := s.token(id, amount)
		// A mainnet address is refused for a regtest refund, and the claim
		// stays redeemable.
		_, err := s.h.Engine.RedeemRefundClaim(ctx, tok, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")
		var verr *invoice.ValidationError
		if !errors.As(err, &verr) || !strings.Contains(err.Error(), "it is a mainnet address; a regtest address is needed") {
			t.Fatalf("%s: mainnet refund address: %v", id, err)
		}
		rc, err := s.h.Engine.RedeemRefundClaim(ctx, tok, refund)
		if err != nil {
			t.Fatalf("%s: redeem: %v", id, err)
		}
		if rc.Destination != refund || !rc.Amount.Equal(decimal.RequireFromString(amount)) {
			t.Errorf("%s: claim %+v", id, rc)
		}
	}
}

func TestWatcherLateAndSplitPayments(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	ctx := context.Background()

	// A payment to a cancelled (failed) invoice is recorded and refunded.
	late := s.create("late-1", invoice.ModeFillOrKill)
	if _, err := s.h.Engine.Cancel(ctx, "late-1"); err != nil {
		t.Fatal(err)
	}
	tl := n.spend(t, n.coin(t), 10_000, out{late.Deposit.Address, 100_000})
	s.waitTx("late-1", tl, invoice.TxNotConfirmed, 0)

	// An installment invoice is paid in two transactions.
	split := s.create("split-1", invoice.ModeGoodUntilExpired)
	ta := n.spend(t, n.coin(t), 10_000, out{split.Deposit.Address, 60_000})
	s.waitTx("split-1", ta, invoice.TxNotConfirmed, 0)
	if st := s.get("split-1").Status; st != invoice.StatusPending {
		t.Fatalf("after the first part: %s", st)
	}
	tb := n.spend(t, n.coin(t), 10_000, out{split.Deposit.Address, 40_000})
	s.waitTx("split-1", tb, invoice.TxNotConfirmed, 0)
	s.waitStatus("split-1", invoice.StatusProcessing)

	n.mine(t, testConfirmations)
	s.waitStatus("split-1", invoice.StatusConfirmed)
	inv := s.waitTx("late-1", tl, invoice.TxConfirmed, testConfirmations)
	if inv.Status != invoice.StatusFailed {
		t.Errorf("late-1: %s", inv.Status)
	}
	if tok := s.token("late-1", "0.001"); tok == "" {
		t.Error("no refund claim for the late payment")
	}
}

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(string(trimNL(p)))
	return len(p), nil
}

// Two engine instances on one store, each running a watcher on the same
// node: the payment is recorded once and each status is called back once.
func TestWatcherTwoInstancesReportOnce(t *testing.T) {
	n := needNode(t)
	s := newShop(t, n, &MemoryCheckpoints{})
	second, err := invoice.New(s.h.Config) // same store, notifiers and address source
	if err != nil {
		t.Fatal(err)
	}
	w2, err := NewWatcher(WatcherConfig{Engine: second, Node: n.node, Checkpoints: &MemoryCheckpoints{},
		Network: Regtest, Confirmations: testConfirmations, PollInterval: 70 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w2.Run(ctx) }()
	defer func() { cancel(); <-done }()

	inv := s.create("twice-1", invoice.ModeFillOrKill)
	txid := n.spend(t, n.coin(t), 10_000, out{inv.Deposit.Address, 100_000})
	s.waitStatus("twice-1", invoice.StatusProcessing)
	n.mine(t, 1)
	s.waitTx("twice-1", txid, invoice.TxNotConfirmed, 1)
	n.mine(t, 1)
	inv = s.waitStatus("twice-1", invoice.StatusConfirmed)
	time.Sleep(300 * time.Millisecond) // both watchers have polled again
	if len(s.get("twice-1").Transactions) != 1 {
		t.Fatalf("transactions %+v", inv.Transactions)
	}
	if _, err := s.h.Engine.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.h.Merchant.Statuses("twice-1")
	want := []invoice.Status{invoice.StatusProcessing, invoice.StatusConfirmed}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("callbacks %v, want %v", got, want)
	}
}
