package ethereum

import (
	"math/big"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

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
