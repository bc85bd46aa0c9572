package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// fakeChain is an in-memory Node whose chain and mempool the test edits,
// for what a real node cannot be made to do on cue.
type fakeChain struct {
	mu      sync.Mutex
	chain   []*wire.MsgBlock // the main chain; index = height
	blocks  map[chainhash.Hash]*wire.MsgBlock
	mempool map[chainhash.Hash]*wire.MsgTx
	nonce   uint32
	// afterMempool, when set, runs after Mempool has made its list.
	afterMempool func()
}

func newFakeChain() *fakeChain {
	c := &fakeChain{blocks: map[chainhash.Hash]*wire.MsgBlock{}, mempool: map[chainhash.Hash]*wire.MsgTx{}}
	c.mine() // genesis
	return c
}

func (c *fakeChain) tip() *wire.MsgBlock { return c.chain[len(c.chain)-1] }

// mine appends a block holding txs (and a coinbase) and removes them from
// the mempool.
func (c *fakeChain) mine(txs ...*wire.MsgTx) chainhash.Hash {
	c.nonce++
	b := &wire.MsgBlock{Header: wire.BlockHeader{Nonce: c.nonce, Timestamp: time.Unix(int64(c.nonce), 0)}}
	if len(c.chain) > 0 {
		b.Header.PrevBlock = c.tip().BlockHash()
	}
	cb := wire.NewMsgTx(2)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: []byte{byte(c.nonce), byte(c.nonce >> 8)}})
	cb.AddTxOut(wire.NewTxOut(50, []byte{txscript.OP_TRUE}))
	b.Transactions = append([]*wire.MsgTx{cb}, txs...)
	for _, tx := range txs {
		delete(c.mempool, tx.TxHash())
	}
	c.chain = append(c.chain, b)
	c.blocks[b.BlockHash()] = b
	return b.BlockHash()
}

// disconnect drops the top n blocks (their transactions are not put back).
func (c *fakeChain) disconnect(n int) { c.chain = c.chain[:len(c.chain)-n] }

func (c *fakeChain) send(tx *wire.MsgTx) { c.mempool[tx.TxHash()] = tx }

func (c *fakeChain) BestBlock(context.Context) (chainhash.Hash, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tip().BlockHash(), int64(len(c.chain) - 1), nil
}

func (c *fakeChain) BlockHash(_ context.Context, h int64) (chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h < 0 || h >= int64(len(c.chain)) {
		return chainhash.Hash{}, fmt.Errorf("height %d out of range", h)
	}
	return c.chain[h].BlockHash(), nil
}

func (c *fakeChain) Block(_ context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.blocks[hash]
	if !ok {
		return nil, errors.New("no such block")
	}
	return b, nil
}

func (c *fakeChain) Mempool(context.Context) ([]chainhash.Hash, error) {
	c.mu.Lock()
	var ids []chainhash.Hash
	for id := range c.mempool {
		ids = append(ids, id)
	}
	hook := c.afterMempool
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ids, nil
}

func (c *fakeChain) MempoolTx(_ context.Context, id chainhash.Hash) (*wire.MsgTx, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, ok := c.mempool[id]
	if !ok {
		return nil, ErrTxNotFound
	}
	return tx, nil
}

// recorder is an Engine with fixed invoices that records reports.
type recorder struct {
	mu       sync.Mutex
	invoices map[string]string // address → foreign_id
	reports  []string          // "foreign_id txid status confs amount"
	failNext int
}

func (r *recorder) GetByAddress(_ context.Context, a string) (*invoice.Invoice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.invoices[a]; ok {
		return &invoice.Invoice{ForeignID: id}, nil
	}
	return nil, invoice.ErrNotFound
}

func (r *recorder) ReportTransaction(_ context.Context, id string, rep invoice.TransactionReport) (*invoice.Invoice, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		return nil, errors.New("store unavailable")
	}
	r.reports = append(r.reports, fmt.Sprintf("%s %s %s %d %s", id, rep.TxID[:8], rep.Status, rep.Confirmations, rep.Amount))
	return &invoice.Invoice{ForeignID: id}, nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reports
	r.reports = nil
	return out
}

var payNonce uint32

// payTx builds a transaction paying sats to each address.
func payTx(t *testing.T, outs ...out) *wire.MsgTx {
	t.Helper()
	payNonce++
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: payNonce}})
	for _, o := range outs {
		a, err := address.DecodeAddress(o.addr, Regtest.Params())
		if err != nil {
			t.Fatal(err)
		}
		script, _ := txscript.PayToAddrScript(a)
		tx.AddTxOut(wire.NewTxOut(o.sats, script))
	}
	return tx
}

type unitRig struct {
	t     *testing.T
	chain *fakeChain
	eng   *recorder
	cps   *MemoryCheckpoints
	w     *Watcher
	addrs []string // invoice i's address; foreign_id "inv-i"
}

func newUnitRig(t *testing.T, cfg WatcherConfig) *unitRig {
	r := &unitRig{t: t, chain: newFakeChain(), eng: &recorder{invoices: map[string]string{}}, cps: &MemoryCheckpoints{}}
	for i := range 3 {
		a := otherAddress(t)
		r.addrs = append(r.addrs, a)
		r.eng.invoices[a] = fmt.Sprintf("inv-%d", i)
	}
	cfg.Engine, cfg.Node, cfg.Checkpoints, cfg.Network = r.eng, r.chain, r.cps, Regtest
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 2
	}
	r.cfg(cfg)
	r.sync()
	return r
}

func (r *unitRig) cfg(cfg WatcherConfig) {
	w, err := NewWatcher(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.w = w
}

func (r *unitRig) sync() {
	r.t.Helper()
	if err := r.w.Sync(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// expect checks the reports made since the last check.
func (r *unitRig) expect(want ...string) {
	r.t.Helper()
	got := r.eng.take()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		r.t.Fatalf("reports\n got %q\nwant %q", got, want)
	}
}

func short(tx *wire.MsgTx) string { return tx.TxHash().String()[:8] }

func TestWatcherFollowsConfirmationsOnce(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{})
	tx := payTx(t, out{r.addrs[0], 100_000}, out{r.addrs[1], 5_000}, out{r.addrs[0], 1}, out{otherAddress(t), 7})
	r.chain.send(tx)
	r.sync()
	id := short(tx)
	r.expect("inv-0 "+id+" not_confirmed 0 0.00100001", "inv-1 "+id+" not_confirmed 0 0.00005")
	r.sync()
	r.expect() // nothing new: no repeated report
	r.chain.mine(tx)
	r.sync()
	r.expect("inv-0 "+id+" not_confirmed 1 0.00100001", "inv-1 "+id+" not_confirmed 1 0.00005")
	r.chain.mine()
	r.chain.mine() // two blocks in one poll: reported block by block
	r.sync()
	r.expect("inv-0 "+id+" confirmed 2 0.00100001", "inv-1 "+id+" confirmed 2 0.00005")
	r.chain.mine()
	r.sync()
	r.expect() // final: no longer followed
	if cp, _ := r.cps.LoadCheckpoint(context.Background()); len(cp.Pending) != 0 || cp.Height != 4 {
		t.Fatalf("checkpoint %+v", cp)
	}
}

// A transaction mined between the tip check and the mempool read is not
// taken for dropped, even with DropAfter 1.
func TestWatcherMinedDuringMempoolReadIsNotDropped(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{DropAfter: 1})
	tx := payTx(t, out{r.addrs[0], 100_000})
	r.chain.send(tx)
	r.sync()
	r.expect("inv-0 " + short(tx) + " not_confirmed 0 0.001")
	r.chain.mu.Lock()
	r.chain.afterMempool = func() {
		r.chain.mu.Lock()
		r.chain.mine(tx)
		r.chain.afterMempool = nil
		r.chain.mu.Unlock()
	}
	delete(r.chain.mempool, tx.TxHash()) // the listing no longer shows it
	r.chain.mu.Unlock()
	r.sync()
	r.expect()
	r.sync()
	r.expect("inv-0 " + short(tx) + " not_confirmed 1 0.001")
}

func TestWatcherDropsAfterPolls(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{DropAfter: 3})
	tx := payTx(t, out{r.addrs[0], 100_000})
	r.chain.send(tx)
	r.sync()
	r.expect("inv-0 " + short(tx) + " not_confirmed 0 0.001")
	delete(r.chain.mempool, tx.TxHash())
	r.sync()
	r.sync()
	r.expect()
	r.sync()
	r.expect("inv-0 " + short(tx) + " cancelled 0 0.001")
	r.chain.send(tx) // back again: a cancelled transaction stays cancelled
	r.sync()
	r.expect()
}

func TestWatcherReorgDeeperThanReorgDepth(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{ReorgDepth: 3, Confirmations: 10})
	tx := payTx(t, out{r.addrs[0], 100_000})
	r.chain.mine(tx)
	for range 4 {
		r.chain.mine()
	}
	r.sync()
	got := r.eng.take()
	if len(got) != 5 || got[4] != "inv-0 "+short(tx)+" not_confirmed 5 0.001" {
		t.Fatalf("reports %q", got)
	}
	// Replace all five blocks (more than ReorgDepth) by six without tx.
	r.chain.disconnect(5)
	for range 6 {
		r.chain.mine()
	}
	r.sync()
	r.sync()
	r.expect("inv-0 "+short(tx)+" not_confirmed 0 0.001", "inv-0 "+short(tx)+" cancelled 0 0.001")
}

// After a fork deeper than ReorgDepth, a payment re-mined on the new chain
// below the remembered blocks is found again.
func TestWatcherDeepReorgFindsRemined(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{ReorgDepth: 2, Confirmations: 10})
	tx := payTx(t, out{r.addrs[1], 100_000})
	r.chain.mine()
	r.chain.mine(tx) // height 2
	for range 4 {
		r.chain.mine()
	}
	r.sync()
	r.eng.take()
	r.chain.disconnect(5) // back to height 1
	r.chain.mine(tx)      // re-mined at height 2 of the new chain
	for range 5 {
		r.chain.mine()
	}
	r.sync()
	r.sync()
	got := r.eng.take()
	if len(got) == 0 || got[len(got)-1] != "inv-1 "+short(tx)+" not_confirmed 6 0.001" {
		t.Fatalf("reports %q", got)
	}
	for _, g := range got {
		if g == "inv-1 "+short(tx)+" cancelled 0 0.001" {
			t.Fatalf("re-mined payment cancelled: %q", got)
		}
	}
}

func TestWatcherRetriesFailedReportsAndResumes(t *testing.T) {
	r := newUnitRig(t, WatcherConfig{})
	tx := payTx(t, out{r.addrs[2], 100_000})
	r.chain.send(tx)
	r.eng.failNext = 1
	if err := r.w.Sync(context.Background()); err == nil {
		t.Fatal("a failed report was not an error")
	}
	r.sync()
	r.expect("inv-2 " + short(tx) + " not_confirmed 0 0.001")

	// A new watcher on the same checkpoint (a restart) while the payment is
	// mined and buried: it rescans and confirms it.
	r.chain.mine(tx)
	r.chain.mine()
	r.cfg(WatcherConfig{Engine: r.eng, Node: r.chain, Checkpoints: r.cps, Network: Regtest, Confirmations: 2})
	r.sync()
	r.expect("inv-2 "+short(tx)+" not_confirmed 1 0.001", "inv-2 "+short(tx)+" confirmed 2 0.001")
}

func TestWatcherStartHeightRescansHistory(t *testing.T) {
	chain := newFakeChain()
	eng := &recorder{invoices: map[string]string{}}
	a := otherAddress(t)
	eng.invoices[a] = "old"
	tx := payTx(t, out{a, 250_000})
	chain.mine()
	chain.mine(tx) // height 2
	chain.mine()
	chain.mine()
	w, err := NewWatcher(WatcherConfig{Engine: eng, Node: chain, Checkpoints: &MemoryCheckpoints{}, Network: Regtest,
		Confirmations: 3, StartHeight: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := eng.take()
	want := []string{"old " + short(tx) + " not_confirmed 1 0.0025", "old " + short(tx) + " not_confirmed 2 0.0025", "old " + short(tx) + " confirmed 3 0.0025"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reports %q, want %q", got, want)
	}
	_ = decimal.Zero
}
