package ethereum

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/shopspring/decimal"
)

// rig is a real anvil chain with two 6-decimal test tokens (USDTE and
// USDCE), an engine whose deposit addresses are derived from the test
// mnemonic's account key, and a watcher with a file checkpoint.
type rig struct {
	*node
	t            *testing.T
	h            *invoicetest.Harness
	cfg          Config
	w            *Watcher
	usdte, usdce common.Address
}

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	n := startNode(t)
	r := &rig{node: n, t: t}
	r.usdte = n.deployToken(6)
	r.usdce = n.deployToken(6)
	r.h = invoicetest.New(t, func(cfg *invoice.Config) {
		cfg.Currencies = append(invoice.DefaultCurrencies(), invoice.Currency{Code: "USDCE", Precision: 6, Crypto: true})
		cfg.AcceptedCurrencies = []string{"ETH", "USDTE", "USDCE"}
		cfg.Rates = invoice.MustStaticRates("ETH/EUR=3000", "USDTE/EUR=1", "USDCE/EUR=1")
		a, err := NewAddresses(AddressConfig{
			AccountXPub: testXPub,
			Sequences:   cfg.Store,
			Currencies:  []string{"ETH", "USDTE", "USDCE"},
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addresses = a
	})
	r.cfg = Config{
		Client:        n.Client,
		Engine:        r.h.Engine,
		Checkpoints:   FileCheckpoints{Path: filepath.Join(t.TempDir(), "checkpoint.json")},
		Tokens:        []Token{{Currency: "USDTE", Contract: r.usdte, Decimals: 6}, {Currency: "USDCE", Contract: r.usdce, Decimals: 6}},
		Confirmations: 3,
		IgnoreSenders: []common.Address{n.Gas},
		Logger:        testLogger(t),
	}
	if mod != nil {
		mod(&r.cfg)
	}
	r.w = r.watcher(r.cfg)
	r.sync() // starts at the head: the deployments are not scanned
	return r
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tlog struct{ t *testing.T }

func (l tlog) Write(b []byte) (int, error) { l.t.Log(string(b)); return len(b), nil }

func (r *rig) watcher(cfg Config) *Watcher {
	r.t.Helper()
	w, err := New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func (r *rig) sync() {
	r.t.Helper()
	if err := r.w.Sync(context.Background()); err != nil {
		r.t.Fatalf("Sync: %v", err)
	}
}

// invoice creates a type-3 invoice for eur EUR payable in currency: it is
// pending at once, with its deposit address.
func (r *rig) invoice(foreignID, currency, eur string) (*invoice.Invoice, common.Address) {
	r.t.Helper()
	inv, err := r.h.Engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order " + foreignID, Amount: decimal.RequireFromString(eur), Currency: "EUR",
		Timer: true, SenderCurrency: currency, Email: "payer@example.com",
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if inv.Status != invoice.StatusPending || ValidateAddress(inv.Deposit.Address) != nil {
		r.t.Fatalf("invoice %s: status %s, address %q", foreignID, inv.Status, inv.Deposit.Address)
	}
	return inv, common.HexToAddress(inv.Deposit.Address)
}

func (r *rig) get(foreignID string) *invoice.Invoice {
	r.t.Helper()
	inv, err := r.h.Engine.Get(context.Background(), foreignID)
	if err != nil {
		r.t.Fatal(err)
	}
	return inv
}

// want checks an invoice's status and its transactions' (txid → status).
func (r *rig) want(foreignID string, status invoice.Status, txs map[string]invoice.TxStatus) *invoice.Invoice {
	r.t.Helper()
	inv := r.get(foreignID)
	if inv.Status != status {
		r.t.Errorf("%s: status %s, want %s", foreignID, inv.Status, status)
	}
	if len(inv.Transactions) != len(txs) {
		r.t.Errorf("%s: %d transactions %+v, want %d", foreignID, len(inv.Transactions), inv.Transactions, len(txs))
	}
	for id, st := range txs {
		tx := inv.Transaction(id)
		if tx == nil {
			r.t.Errorf("%s: no transaction %s", foreignID, id)
		} else if tx.Status != st {
			r.t.Errorf("%s: transaction %s is %s, want %s", foreignID, id, tx.Status, st)
		}
	}
	return inv
}

func ether(s string) *big.Int {
	return decimal.RequireFromString(s).Shift(18).BigInt()
}

const (
	unconfirmed = invoice.TxNotConfirmed
	confirmed   = invoice.TxConfirmed
	cancelled   = invoice.TxCancelled
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

// A reorganization that drops the payments' blocks cancels them; the
// invoice goes back to pending and a new payment confirms it.
func TestReorgCancelsPayment(t *testing.T) {
	r := newRig(t, nil)
	_, tokAddr := r.invoice("tok", "USDTE", "30")
	_, ethAddr := r.invoice("eth", "ETH", "30")
	snap := r.snapshot()
	txTok := r.transfer(r.usdte, tokAddr, 30_000000).Hex()
	txEth := r.sendEther(ethAddr, ether("0.01")).Hex()
	r.sync()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{txTok: unconfirmed})
	r.want("eth", invoice.StatusProcessing, map[string]invoice.TxStatus{txEth: unconfirmed})

	r.revert(snap) // both blocks are gone ...
	r.mine(3)      // ... and a longer chain without them is the node's
	r.sync()
	r.want("tok", invoice.StatusPending, map[string]invoice.TxStatus{txTok: cancelled})
	r.want("eth", invoice.StatusPending, map[string]invoice.TxStatus{txEth: cancelled})

	again := r.transfer(r.usdte, tokAddr, 30_000000).Hex()
	r.mine(2)
	r.sync()
	r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{txTok: cancelled, again: confirmed})
	if len(r.w.cp.Pending) != 0 {
		t.Errorf("pending after the reorganization: %+v", r.w.cp.Pending)
	}
}

// A reorganization whose new chain includes the same transaction again
// (at another height) does not cancel it.
func TestReorgKeepsReincludedPayment(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("tok", "USDTE", "30")
	snap := r.snapshot()
	h := r.transfer(r.usdte, addr, 30_000000)
	var raw hexutil.Bytes
	r.call(&raw, "eth_getRawTransactionByHash", h)
	r.sync()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{h.Hex(): unconfirmed})

	r.revert(snap)
	r.mine(1) // the transaction lands one block higher on the new chain
	var again common.Hash
	r.call(&again, "eth_sendRawTransaction", raw)
	if again != h {
		t.Fatalf("re-sent %s, want %s", again.Hex(), h.Hex())
	}
	r.receipt(again)
	r.sync()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{h.Hex(): unconfirmed})
	r.mine(2)
	r.sync()
	r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{h.Hex(): confirmed})
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
		t.Errorf("refund claims %+v, want one of 30 USDTE", inv.RefundClaims)
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

// The watcher stops, blocks with payments are mined, a new watcher on the
// same checkpoint catches up (in several rounds) and misses nothing; then
// one runs over WebSocket and reacts to new heads.
func TestRestartWhileBlocksAreMined(t *testing.T) {
	r := newRig(t, func(c *Config) { c.BatchBlocks = 2 })
	_, a := r.invoice("a", "USDTE", "30")
	_, b := r.invoice("b", "ETH", "30")
	_, c := r.invoice("c", "USDTE", "30")
	txA := r.transfer(r.usdte, a, 30_000000).Hex()
	r.sync()
	r.want("a", invoice.StatusProcessing, map[string]invoice.TxStatus{txA: unconfirmed})

	// Stopped: the old watcher is dropped; the chain goes on.
	r.w = nil
	r.mine(2)
	txB := r.sendEther(b, ether("0.01")).Hex()
	r.mine(4)

	w2 := r.watcher(r.cfg)
	for i := 0; ; i++ {
		if err := w2.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if w2.cp.Next > r.head() {
			break
		}
		if i > 10 {
			t.Fatalf("not caught up after %d rounds: next %d, head %d", i, w2.cp.Next, r.head())
		}
	}
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusConfirmed, map[string]invoice.TxStatus{txB: confirmed})

	// Over WebSocket, Run wakes on each new head.
	ws, err := ethclient.Dial(r.WS)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	cfg := r.cfg
	cfg.Client, cfg.PollInterval = ws, time.Hour // only new heads wake it
	w3 := r.watcher(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w3.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()
	time.Sleep(200 * time.Millisecond) // let Run subscribe
	txC := r.transfer(r.usdte, c, 30_000000).Hex()
	r.mine(2)
	deadline := time.Now().Add(10 * time.Second)
	for r.get("c").Status != invoice.StatusConfirmed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r.want("c", invoice.StatusConfirmed, map[string]invoice.TxStatus{txC: confirmed})
}

func TestCheckpointOfAnotherChain(t *testing.T) {
	r := newRig(t, nil)
	cp := &MemoryCheckpoints{}
	if err := cp.SaveCheckpoint(context.Background(), &Checkpoint{ChainID: 1, Next: 100}); err != nil {
		t.Fatal(err)
	}
	cfg := r.cfg
	cfg.Checkpoints = cp
	if err := r.watcher(cfg).Sync(context.Background()); !errors.Is(err, ErrChain) {
		t.Fatalf("Sync: %v, want ErrChain", err)
	}
}

// A payment cancelled by a reorganization whose transaction a later block
// includes again is a new transaction "<hash>@<block>": the money is never
// dropped, though the engine keeps the first sighting cancelled.
func TestReorgedPaymentIncludedAfterCancel(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("tok", "USDTE", "30")
	snap := r.snapshot()
	h := r.transfer(r.usdte, addr, 30_000000)
	var raw hexutil.Bytes
	r.call(&raw, "eth_getRawTransactionByHash", h)
	r.sync()
	r.revert(snap)
	r.mine(1)
	r.sync()
	r.want("tok", invoice.StatusPending, map[string]invoice.TxStatus{h.Hex(): cancelled})

	r.call(nil, "eth_sendRawTransaction", raw)
	block := r.receipt(h).BlockNumber.Uint64()
	r.sync()
	again := h.Hex() + "@" + big.NewInt(int64(block)).String()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{h.Hex(): cancelled, again: unconfirmed})
	r.mine(2)
	r.sync()
	r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{h.Hex(): cancelled, again: confirmed})
}

// With ReorgGrace, a payment a reorganization removed has that many blocks
// to reappear before it is cancelled.
func TestReorgGrace(t *testing.T) {
	r := newRig(t, func(c *Config) { c.ReorgGrace = 2 })
	_, addr := r.invoice("tok", "USDTE", "30")
	_, gone := r.invoice("gone", "USDTE", "30")
	snap := r.snapshot()
	h := r.transfer(r.usdte, addr, 30_000000)
	lost := r.transfer(r.usdte, gone, 30_000000).Hex()
	var raw hexutil.Bytes
	r.call(&raw, "eth_getRawTransactionByHash", h)
	r.sync()
	r.revert(snap)
	r.mine(3)
	r.sync() // orphaned at this head, within grace
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{h.Hex(): unconfirmed})
	r.want("gone", invoice.StatusProcessing, map[string]invoice.TxStatus{lost: unconfirmed})

	r.call(nil, "eth_sendRawTransaction", raw)
	r.receipt(h) // one block: grace not yet passed
	r.sync()
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{h.Hex(): unconfirmed})
	r.want("gone", invoice.StatusProcessing, map[string]invoice.TxStatus{lost: unconfirmed})
	r.mine(2)
	r.sync()
	r.want("tok", invoice.StatusConfirmed, map[string]invoice.TxStatus{h.Hex(): confirmed})
	r.want("gone", invoice.StatusPending, map[string]invoice.TxStatus{lost: cancelled})
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

// Without a checkpoint the watcher starts at StartBlock (default: the
// head), so payments before the first start can be picked up.
func TestStartBlock(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("early", "USDTE", "30")
	h := r.transfer(r.usdte, addr, 30_000000)
	block := r.receipt(h).BlockNumber.Uint64()
	r.mine(5)
	for _, tc := range []struct {
		start uint64
		want  map[string]invoice.TxStatus
	}{
		{0, nil},         // from the head: the payment is before it
		{block + 1, nil}, // just after it
		{block, map[string]invoice.TxStatus{h.Hex(): confirmed}},
	} {
		cfg := r.cfg
		cfg.Checkpoints, cfg.StartBlock = &MemoryCheckpoints{}, tc.start
		if err := r.watcher(cfg).Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		status := invoice.StatusPending
		if tc.want != nil {
			status = invoice.StatusConfirmed
		}
		r.want("early", status, tc.want)
	}
}

// failingSaves is a checkpoint store whose saves fail while broken, like
// a crash after the engine was told but before the checkpoint was saved.
type failingSaves struct {
	MemoryCheckpoints
	broken bool
}

func (f *failingSaves) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	if f.broken {
		return errors.New("disk full")
	}
	return f.MemoryCheckpoints.SaveCheckpoint(ctx, cp)
}

// Reports made before a lost save are repeated by the next watcher from
// the older checkpoint: the engine sees repeats, never duplicates, and a
// payment it already holds as confirmed is not reported again.
func TestCrashBeforeCheckpointSave(t *testing.T) {
	r := newRig(t, nil)
	cp := &failingSaves{}
	cfg := r.cfg
	cfg.Checkpoints = cp
	first := r.watcher(cfg)
	if err := first.Sync(context.Background()); err != nil { // saved: at the head
		t.Fatal(err)
	}
	_, a := r.invoice("a", "USDTE", "30")
	_, b := r.invoice("b", "USDTE", "30")
	txA := r.transfer(r.usdte, a, 30_000000).Hex()
	r.mine(3)
	txB := r.transfer(r.usdte, b, 30_000000).Hex()
	cp.broken = true
	if err := first.Sync(context.Background()); err == nil {
		t.Fatal("Sync with a failing save: no error")
	}
	// The engine was told: a confirmed at once (4 deep), b seen.
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusProcessing, map[string]invoice.TxStatus{txB: unconfirmed})

	cp.broken = false
	second := r.watcher(cfg) // restarts from the checkpoint before the payments
	if err := second.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusProcessing, map[string]invoice.TxStatus{txB: unconfirmed})
	if len(second.cp.Pending) != 1 || second.cp.Pending[0].TxID != txB {
		t.Fatalf("pending %+v, want only %s", second.cp.Pending, txB)
	}
	r.mine(2)
	if err := second.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want("b", invoice.StatusConfirmed, map[string]invoice.TxStatus{txB: confirmed})
}

// A reorganization deeper than the kept history (a misconfigured or
// replaced node) is logged and the kept range rescanned; a chain shorter
// than every kept block is rescanned over its last History blocks.
func TestReorgDeeperThanHistory(t *testing.T) {
	r := newRig(t, func(c *Config) { c.History = 5 })
	_, addr := r.invoice("tok", "USDTE", "30")

	snap := r.snapshot()
	r.mine(10)
	r.sync()
	r.revert(snap)
	r.mine(12) // longer, and different from the snapshot on
	r.sync()
	if r.w.cp.Next != r.head()+1 {
		t.Fatalf("longer chain: next %d, head %d", r.w.cp.Next, r.head())
	}

	snap = r.snapshot()
	r.mine(10)
	r.sync() // keeps the last 5 of these
	r.revert(snap)
	tx := r.transfer(r.usdte, addr, 30_000000).Hex() // one block: shorter than all kept
	r.sync()
	if r.w.cp.Next != r.head()+1 {
		t.Fatalf("shorter chain: next %d, head %d", r.w.cp.Next, r.head())
	}
	r.want("tok", invoice.StatusProcessing, map[string]invoice.TxStatus{tx: unconfirmed})
}
