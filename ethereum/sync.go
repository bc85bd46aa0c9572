package ethereum

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/cryptoinvoice/invoice"
	geth "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// saveEvery is how many scanned blocks go by between checkpoint saves
// while catching up (each Sync also saves at its end).
const saveEvery = 100

// Sync does one round: it finds and undoes a reorganization since the last
// round, scans new blocks (at most BatchBlocks) for payments and reports
// them, reports cancelled the payments a reorganization removed, reports
// confirmed those deep enough, and saves the checkpoint. An error leaves
// the checkpoint where the last save put it; the next round repeats what
// was not saved (reports are idempotent).
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.load(ctx); err != nil {
		return err
	}
	head, err := w.cfg.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("ethereum: head: %w", err)
	}
	headN := head.Number.Uint64()
	var final uint64
	if w.cfg.Finalized {
		f, err := w.cfg.Client.HeaderByNumber(ctx, big.NewInt(int64(rpc.FinalizedBlockNumber)))
		if err != nil && !errors.Is(err, geth.NotFound) {
			return fmt.Errorf("ethereum: finalized block: %w", err)
		}
		if err == nil {
			final = f.Number.Uint64()
		}
	}
	if w.fresh { // no checkpoint yet: where to start
		w.cp.Next = w.cfg.StartBlock
		if w.cp.Next == 0 {
			w.cp.Next = headN
		}
		w.fresh = false
	}
	if err := w.checkTip(ctx, headN); err != nil {
		return err
	}

	scanned := 0
	for w.cp.Next <= headN && uint64(scanned) < w.cfg.BatchBlocks {
		hdr, err := w.cfg.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(w.cp.Next))
		if err != nil {
			return fmt.Errorf("ethereum: block %d: %w", w.cp.Next, err)
		}
		if tip, ok := w.tip(); ok && tip.Number+1 == w.cp.Next && hdr.ParentHash != tip.Hash {
			// The chain changed under this round: undo, and let the next
			// round scan the new branch against a fresh head.
			if err := w.rewind(ctx, headN); err != nil {
				return err
			}
			return w.save(ctx)
		}
		if err := w.scanBlock(ctx, hdr, headN, final); err != nil {
			return err
		}
		w.cp.Recent = append(w.cp.Recent, BlockRef{Number: w.cp.Next, Hash: hdr.Hash()})
		if over := len(w.cp.Recent) - int(w.cfg.History); over > 0 {
			w.cp.Recent = append(w.cp.Recent[:0], w.cp.Recent[over:]...)
		}
		w.cp.Next++
		if scanned++; scanned%saveEvery == 0 {
			if err := w.save(ctx); err != nil {
				return err
			}
		}
	}
	if w.cp.Next > headN {
		if err := w.settle(ctx, headN, final); err != nil {
			return err
		}
	}
	return w.save(ctx)
}

// load reads the checkpoint on the first round.
func (w *Watcher) load(ctx context.Context) error {
	if w.cp != nil {
		return nil
	}
	id, err := w.cfg.Client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("ethereum: chain id: %w", err)
	}
	cp, err := w.cfg.Checkpoints.LoadCheckpoint(ctx)
	if err != nil {
		return err
	}
	if cp == nil {
		cp, w.fresh = &Checkpoint{ChainID: id.Uint64()}, true
	}
	if cp.ChainID != id.Uint64() {
		return fmt.Errorf("%w: checkpoint of chain %d, node on chain %d", ErrChain, cp.ChainID, id.Uint64())
	}
	w.chainID, w.signer = id, types.LatestSignerForChainID(id)
	w.pending = make(map[paymentKey]*Payment, len(cp.Pending))
	for i := range cp.Pending {
		p := cp.Pending[i]
		w.pending[p.key()] = &p
	}
	w.cp = cp
	return nil
}

func (w *Watcher) save(ctx context.Context) error {
	w.cp.Pending = w.cp.Pending[:0]
	for _, p := range w.pending {
		w.cp.Pending = append(w.cp.Pending, *p)
	}
	return w.cfg.Checkpoints.SaveCheckpoint(ctx, w.cp)
}

func (w *Watcher) tip() (BlockRef, bool) {
	if len(w.cp.Recent) == 0 {
		return BlockRef{}, false
	}
	return w.cp.Recent[len(w.cp.Recent)-1], true
}

// checkTip compares the last scanned block with the node's block at that
// height; the recent hashes form a chain, so if the tip matches all do.
func (w *Watcher) checkTip(ctx context.Context, headN uint64) error {
	tip, ok := w.tip()
	if !ok {
		return nil
	}
	if tip.Number <= headN {
		hdr, err := w.cfg.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(tip.Number))
		if err != nil && !errors.Is(err, geth.NotFound) {
			return fmt.Errorf("ethereum: block %d: %w", tip.Number, err)
		}
		if err == nil && hdr.Hash() == tip.Hash {
			return nil
		}
	}
	return w.rewind(ctx, headN)
}

// rewind finds the newest recent block still on the node's chain, drops
// the hashes above it, marks the payments in the dropped blocks orphaned,
// and moves scanning back to the block after it.
func (w *Watcher) rewind(ctx context.Context, headN uint64) error {
	// next is the first block to scan again: the one after the fork.
	next, found := uint64(0), false
	for i := len(w.cp.Recent) - 1; i >= 0 && !found; i-- {
		ref := w.cp.Recent[i]
		if ref.Number > headN {
			continue
		}
		hdr, err := w.cfg.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(ref.Number))
		if err != nil && !errors.Is(err, geth.NotFound) {
			return fmt.Errorf("ethereum: block %d: %w", ref.Number, err)
		}
		if err == nil && hdr.Hash() == ref.Hash {
			next, found = ref.Number+1, true
		}
	}
	if !found {
		// Deeper than History: rescan all that is kept. Payments in older
		// blocks were confirmed already (History exceeds every count).
		w.log.Error("ethereum: reorganization deeper than the kept history; rescanning it all",
			"history", len(w.cp.Recent))
		if len(w.cp.Recent) > 0 {
			next = w.cp.Recent[0].Number
		}
		if next > headN+1 { // the node's chain is shorter than all we kept
			next = headN + 1 - min(w.cfg.History, headN+1)
		}
	}
	kept := w.cp.Recent[:0]
	for _, ref := range w.cp.Recent {
		if ref.Number < next {
			kept = append(kept, ref)
		}
	}
	w.cp.Recent = kept
	w.cp.Next = next
	for _, p := range w.pending {
		if p.Block >= next && !p.Orphaned {
			p.Orphaned, p.OrphanedAt = true, headN
		}
	}
	w.log.Info("ethereum: reorganization", "rescan_from", next, "head", headN)
	return nil
}

// settle runs once scanning reached the head: orphaned payments whose
// grace passed are reported cancelled, deep enough ones confirmed.
func (w *Watcher) settle(ctx context.Context, headN, final uint64) error {
	for k, p := range w.pending {
		switch {
		case p.Orphaned:
			if headN < p.OrphanedAt+w.cfg.ReorgGrace {
				continue
			}
			if err := w.report(ctx, p, invoice.TxCancelled, 0); err != nil {
				return err
			}
			delete(w.pending, k)
		case w.confirmed(p, headN, final):
			// Confirm only what is on the node's chain right now.
			hdr, err := w.cfg.Client.HeaderByNumber(ctx, new(big.Int).SetUint64(p.Block))
			if err != nil {
				return fmt.Errorf("ethereum: block %d: %w", p.Block, err)
			}
			if hdr.Hash() != p.BlockHash {
				continue // the next round's reorganization check sorts it out
			}
			if err := w.report(ctx, p, invoice.TxConfirmed, depth(p.Block, headN)); err != nil {
				return err
			}
			delete(w.pending, k)
		}
	}
	return nil
}

func depth(block, headN uint64) uint64 {
	if headN < block {
		return 0
	}
	return headN - block + 1
}

func (w *Watcher) confirmed(p *Payment, headN, final uint64) bool {
	if w.cfg.Finalized {
		return final > 0 && p.Block <= final
	}
	return depth(p.Block, headN) >= w.required(p.Currency)
}

// report tells the engine; a report the engine refuses for good (invalid,
// contradicting what it recorded, unknown invoice) is logged and dropped,
// since repeating it cannot succeed. Any other error is returned.
func (w *Watcher) report(ctx context.Context, p *Payment, status invoice.TxStatus, confirmations uint64) error {
	_, err := w.cfg.Engine.ReportTransaction(ctx, p.ForeignID, invoice.TransactionReport{
		TxID:          p.TxID,
		Currency:      p.Currency,
		Amount:        p.Amount,
		Confirmations: int64(confirmations),
		Status:        status,
	})
	var ve *invoice.ValidationError
	switch {
	case err == nil:
		w.log.Info("ethereum: reported", "foreign_id", p.ForeignID, "txid", p.TxID,
			"currency", p.Currency, "amount", p.Amount.String(), "status", status.String(),
			"confirmations", confirmations)
		return nil
	case errors.As(err, &ve), errors.Is(err, invoice.ErrTransaction), errors.Is(err, invoice.ErrNotFound):
		w.log.Error("ethereum: the engine refused a report", "foreign_id", p.ForeignID, "txid", p.TxID,
			"currency", p.Currency, "amount", p.Amount.String(), "status", status.String(), "err", err)
		return nil
	}
	return fmt.Errorf("ethereum: report %s to invoice %q: %w", p.TxID, p.ForeignID, err)
}

// txID picks the engine's transaction id for a new sighting of p on inv:
// the transaction hash; with ":CURRENCY" appended when the same
// transaction already paid the invoice in another currency; with
// "@BLOCK" appended when that id was cancelled (a transaction that a
// reorganization removed and a later block included again). done is true
// when the engine already holds p as final: nothing to report.
func txID(inv *invoice.Invoice, p *Payment) (id string, done bool) {
	id = p.TxHash.Hex()
	if t := inv.Transaction(id); t != nil && t.Currency != p.Currency {
		id += ":" + p.Currency
	}
	if t := inv.Transaction(id); t != nil && t.Status == invoice.TxCancelled {
		id += "@" + strconv.FormatUint(p.Block, 10)
	}
	t := inv.Transaction(id)
	return id, t != nil && t.Status.IsFinal()
}

// found handles one payment seen in a scanned block.
func (w *Watcher) found(ctx context.Context, p *Payment, headN, final uint64) error {
	if q, ok := w.pending[p.key()]; ok {
		if q.Amount.Equal(p.Amount) {
			q.Block, q.BlockHash, q.Orphaned, q.OrphanedAt = p.Block, p.BlockHash, false, 0
			return nil
		}
		// Included again with another effect (token amounts depend on
		// state): the old sighting is gone, this one is new.
		if err := w.report(ctx, q, invoice.TxCancelled, 0); err != nil {
			return err
		}
		delete(w.pending, q.key())
	}
	inv, err := w.cfg.Engine.GetByAddress(ctx, p.Address.Hex())
	if errors.Is(err, invoice.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ethereum: invoice of %s: %w", p.Address.Hex(), err)
	}
	if p.native {
		// A transfer to an address with code (EIP-7702) may revert.
		r, err := w.cfg.Client.TransactionReceipt(ctx, p.TxHash)
		if err != nil {
			return fmt.Errorf("ethereum: receipt of %s: %w", p.TxHash.Hex(), err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return nil
		}
	}
	p.ForeignID = inv.ForeignID
	id, done := txID(inv, p)
	if done {
		return nil
	}
	p.TxID = id
	status := invoice.TxNotConfirmed
	if w.confirmed(p, headN, final) {
		status = invoice.TxConfirmed
	}
	if err := w.report(ctx, p, status, depth(p.Block, headN)); err != nil {
		return err
	}
	if status != invoice.TxConfirmed {
		w.pending[p.key()] = p
	}
	return nil
}

// scanBlock finds the block's payments (summed per transaction, address
// and currency) and hands each to found.
func (w *Watcher) scanBlock(ctx context.Context, hdr *types.Header, headN, final uint64) error {
	hash, n := hdr.Hash(), hdr.Number.Uint64()
	var order []paymentKey
	byKey := map[paymentKey]*Payment{}
	add := func(tx common.Hash, to common.Address, currency string, amount *big.Int, decimals uint8, native bool) {
		k := paymentKey{tx, to, currency}
		p, ok := byKey[k]
		if !ok {
			p = &Payment{TxHash: tx, Address: to, Currency: currency, Block: n, BlockHash: hash, native: native}
			byKey[k] = p
			order = append(order, k)
		}
		p.Amount = p.Amount.Add(units(amount, decimals))
	}
	if len(w.contracts) > 0 {
		logs, err := w.cfg.Client.FilterLogs(ctx, geth.FilterQuery{
			BlockHash: &hash,
			Addresses: w.contracts,
			Topics:    [][]common.Hash{{transferTopic}},
		})
		if err != nil {
			return fmt.Errorf("ethereum: logs of block %d: %w", n, err)
		}
		for _, l := range logs {
			tok, ok := w.tokens[l.Address]
			if !ok || l.Removed || l.BlockHash != hash {
				continue
			}
			from, to, value, ok := parseTransfer(l)
			if !ok || value.Sign() <= 0 || w.ignore[from] || from == to {
				continue
			}
			add(l.TxHash, to, tok.Currency, value, tok.Decimals, false)
		}
	}
	if !w.cfg.NoNative {
		block, err := w.cfg.Client.BlockByHash(ctx, hash)
		if err != nil {
			return fmt.Errorf("ethereum: block %d: %w", n, err)
		}
		for _, tx := range block.Transactions() {
			if tx.To() == nil || tx.Value().Sign() <= 0 {
				continue
			}
			if len(w.ignore) > 0 {
				from, err := types.Sender(w.signer, tx)
				if err == nil && w.ignore[from] {
					continue
				}
			}
			add(tx.Hash(), *tx.To(), w.cfg.Native, tx.Value(), 18, true)
		}
	}
	for _, k := range order {
		if err := w.found(ctx, byKey[k], headN, final); err != nil {
			return err
		}
	}
	return nil
}
