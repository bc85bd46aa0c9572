package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// watchState is the watcher's working state: the checkpoint's block
// position plus what is followed, indexed.
type watchState struct {
	cp       Checkpoint // Height, Hash, Recent; Pending is rebuilt on save
	txs      map[chainhash.Hash]*followed
	order    []chainhash.Hash            // first-seen order of txs
	ignored  map[chainhash.Hash]struct{} // mempool txs that pay no invoice
	finished map[chainhash.Hash]int64    // confirmed or cancelled, at processed height
	reported map[reportKey]reportValue   // the last report that succeeded
	dirty    bool                        // txs changed since the last save
}

type followed struct {
	PendingTx
	missing   int  // consecutive polls neither in the mempool nor mined
	cancelled bool // decided: reported cancelled
}

type reportKey struct {
	tx        chainhash.Hash
	foreignID string
}

type reportValue struct {
	status invoice.TxStatus
	confs  int64
}

// Sync polls the node once: processes every block after the checkpoint
// (after undoing those a reorganisation replaced), looks at the mempool,
// reports what changed and saves the checkpoint. Run calls it every
// PollInterval; tests and hosts with their own scheduling may call it
// directly. Calls are serialised.
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == nil {
		s, err := w.load(ctx)
		if err != nil {
			return err
		}
		w.state = s
	}
	s := w.state
	tipHash, tipHeight, err := w.cfg.Node.BestBlock(ctx)
	if err != nil {
		return err
	}
	for tipHash.String() != s.cp.Hash {
		if err := w.rewind(ctx, s, tipHeight); err != nil {
			return err
		}
		if s.cp.Height >= tipHeight {
			break
		}
		before := s.cp.Height
		if err := w.connect(ctx, s, s.cp.Height+1); err != nil {
			return err
		}
		if s.cp.Height == before {
			break // the chain changed under us: the next poll rewinds
		}
		if err := w.report(ctx, s); err != nil {
			return err
		}
		if err := w.save(ctx, s); err != nil {
			return err
		}
	}
	if err := w.mempool(ctx, s); err != nil {
		return err
	}
	if err := w.report(ctx, s); err != nil {
		return err
	}
	if s.dirty {
		return w.save(ctx, s)
	}
	return nil
}

// load reads the checkpoint, or starts one at StartHeight.
func (w *Watcher) load(ctx context.Context) (*watchState, error) {
	s := &watchState{
		txs:      make(map[chainhash.Hash]*followed),
		ignored:  make(map[chainhash.Hash]struct{}),
		finished: make(map[chainhash.Hash]int64),
		reported: make(map[reportKey]reportValue),
	}
	cp, err := w.cfg.Checkpoints.LoadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("bitcoin: load checkpoint: %w", err)
	}
	if cp == nil {
		var height int64
		var hash chainhash.Hash
		if w.cfg.StartHeight > 0 {
			height = w.cfg.StartHeight - 1
			if hash, err = w.cfg.Node.BlockHash(ctx, height); err != nil {
				return nil, err
			}
		} else if hash, height, err = w.cfg.Node.BestBlock(ctx); err != nil {
			return nil, err
		}
		s.cp = Checkpoint{Height: height, Hash: hash.String(), Recent: []string{hash.String()}}
		if err := w.save(ctx, s); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.cp = Checkpoint{Height: cp.Height, Hash: cp.Hash, Recent: cp.Recent}
	for _, p := range cp.Pending {
		h, err := chainhash.NewHashFromStr(p.TxID)
		if err != nil {
			return nil, fmt.Errorf("bitcoin: checkpoint: txid %q: %w", p.TxID, err)
		}
		s.txs[*h] = &followed{PendingTx: p}
		s.order = append(s.order, *h)
	}
	w.logger.Info("bitcoin watcher: resuming", "height", cp.Height, "pending", len(cp.Pending))
	return s, nil
}

// rewind undoes processed blocks that are no longer on the node's main
// chain: transactions in them become unconfirmed again (they are then
// either back in the mempool, re-mined, or missing and cancelled).
func (w *Watcher) rewind(ctx context.Context, s *watchState, tipHeight int64) error {
	for {
		if s.cp.Height <= tipHeight {
			hash, err := w.cfg.Node.BlockHash(ctx, s.cp.Height)
			if err != nil {
				return err
			}
			if hash.String() == s.cp.Hash {
				return nil
			}
			if len(s.cp.Recent) <= 1 {
				return w.deepFork(ctx, s)
			}
		}
		// Disconnect the block at s.cp.Height.
		w.logger.Info("bitcoin watcher: block disconnected", "height", s.cp.Height, "hash", s.cp.Hash)
		for _, f := range s.txs {
			if f.Height >= s.cp.Height {
				f.Height, f.Block, f.missing = 0, "", 0
			}
		}
		s.cp.Recent = s.cp.Recent[:len(s.cp.Recent)-1]
		s.cp.Height--
		s.cp.Hash = ""
		if len(s.cp.Recent) > 0 {
			s.cp.Hash = s.cp.Recent[len(s.cp.Recent)-1]
		}
		s.dirty = true
	}
}

// deepFork handles a reorganisation whose fork point lies below the
// remembered block hashes: the scan restarts ReorgDepth blocks further
// back, or below the lowest block holding a followed transaction if that
// is lower, and every followed transaction is unconfirmed until found
// again on the new chain.
func (w *Watcher) deepFork(ctx context.Context, s *watchState) error {
	from := s.cp.Height - int64(w.cfg.ReorgDepth)
	for _, f := range s.txs {
		if f.Height > 0 {
			from = min(from, f.Height-1)
		}
	}
	from = max(from, 0)
	hash, err := w.cfg.Node.BlockHash(ctx, from)
	if err != nil {
		return err
	}
	w.logger.Error("bitcoin watcher: reorganisation deeper than ReorgDepth; rescanning",
		"height", s.cp.Height, "from", from)
	for _, f := range s.txs {
		f.Height, f.Block, f.missing = 0, "", 0
	}
	s.cp.Height, s.cp.Hash, s.cp.Recent = from, hash.String(), []string{hash.String()}
	s.dirty = true
	return nil
}

// connect processes the main-chain block at height, which must follow
// the checkpoint's block; if it does not (the chain changed meanwhile),
// nothing happens and the next round rewinds.
func (w *Watcher) connect(ctx context.Context, s *watchState, height int64) error {
	hash, err := w.cfg.Node.BlockHash(ctx, height)
	if err != nil {
		return err
	}
	block, err := w.cfg.Node.Block(ctx, hash)
	if err != nil {
		return err
	}
	if block.Header.PrevBlock.String() != s.cp.Hash {
		return nil
	}
	cache := make(map[string]*invoice.Invoice)
	// The coinbase (first) transaction is not a customer payment.
	for _, tx := range block.Transactions[min(1, len(block.Transactions)):] {
		if err := w.scan(ctx, s, tx, height, hash.String(), cache); err != nil {
			return err
		}
	}
	s.cp.Height, s.cp.Hash = height, hash.String()
	s.cp.Recent = append(s.cp.Recent, s.cp.Hash)
	if over := len(s.cp.Recent) - w.cfg.ReorgDepth; over > 0 {
		s.cp.Recent = append([]string(nil), s.cp.Recent[over:]...)
	}
	for txid, at := range s.finished {
		if height-at > int64(w.cfg.ReorgDepth) {
			delete(s.finished, txid)
		}
	}
	return nil
}

// mempool follows new mempool transactions and counts the polls for
// which unconfirmed ones were missing.
func (w *Watcher) mempool(ctx context.Context, s *watchState) error {
	ids, err := w.cfg.Node.Mempool(ctx)
	if err != nil {
		return err
	}
	in := make(map[chainhash.Hash]struct{}, len(ids))
	var fresh []chainhash.Hash
	for _, id := range ids {
		in[id] = struct{}{}
		_, followed := s.txs[id]
		_, ignored := s.ignored[id]
		_, finished := s.finished[id]
		if !followed && !ignored && !finished {
			fresh = append(fresh, id)
		}
	}
	txs, err := w.fetch(ctx, fresh)
	if err != nil {
		return err
	}
	cache := make(map[string]*invoice.Invoice)
	for i, tx := range txs {
		if tx == nil {
			continue // mined or dropped since the list was made
		}
		if err := w.scan(ctx, s, tx, 0, "", cache); err != nil {
			return err
		}
		if _, ok := s.txs[fresh[i]]; !ok {
			s.ignored[fresh[i]] = struct{}{}
		}
	}
	for id := range s.ignored {
		if _, ok := in[id]; !ok {
			delete(s.ignored, id)
		}
	}
	// Count a transaction missing only if the chain did not move while the
	// mempool was read: a block mined meanwhile may hold it.
	tip, _, err := w.cfg.Node.BestBlock(ctx)
	if err != nil {
		return err
	}
	if tip.String() != s.cp.Hash {
		return nil
	}
	for id, f := range s.txs {
		if f.Height > 0 || f.cancelled {
			continue
		}
		if _, ok := in[id]; ok {
			f.missing = 0
			continue
		}
		f.missing++
		if f.missing >= w.cfg.DropAfter {
			w.logger.Info("bitcoin watcher: transaction dropped", "txid", f.TxID)
			f.cancelled = true
			s.dirty = true
		}
	}
	return nil
}

// fetchConcurrency bounds the mempool transactions fetched at once.
const fetchConcurrency = 8

// fetch gets the mempool transactions ids, several at a time (a node's
// first poll on mainnet fetches the whole mempool); a transaction gone
// meanwhile is nil.
func (w *Watcher) fetch(ctx context.Context, ids []chainhash.Hash) ([]*wire.MsgTx, error) {
	txs := make([]*wire.MsgTx, len(ids))
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(fetchConcurrency, len(ids)) {
		wg.Go(func() {
			for i := range next {
				txs[i], errs[i] = w.cfg.Node.MempoolTx(ctx, ids[i])
				if errors.Is(errs[i], ErrTxNotFound) {
					txs[i], errs[i] = nil, nil
				}
			}
		})
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first; the others are likely the same
		}
	}
	return txs, nil
}

// scan follows tx if it pays any invoice's deposit address; a followed
// transaction found in a block is marked mined there.
func (w *Watcher) scan(ctx context.Context, s *watchState, tx *wire.MsgTx, height int64, block string, cache map[string]*invoice.Invoice) error {
	txid := tx.TxHash()
	if f, ok := s.txs[txid]; ok {
		if height > 0 && !f.cancelled {
			f.Height, f.Block, f.missing = height, block, 0
			s.dirty = true
		}
		return nil
	}
	if _, ok := s.finished[txid]; ok {
		return nil
	}
	params := w.cfg.Network.Params()
	var payments []Payment
	for _, out := range tx.TxOut {
		_, addrs, _, err := txscript.ExtractPkScriptAddrs(out.PkScript, params)
		if err != nil || len(addrs) != 1 || out.Value <= 0 {
			continue
		}
		addr := addrs[0].EncodeAddress()
		inv, ok := cache[addr]
		if !ok {
			inv, err = w.cfg.Engine.GetByAddress(ctx, addr)
			if errors.Is(err, invoice.ErrNotFound) {
				inv, err = nil, nil
			}
			if err != nil {
				return fmt.Errorf("bitcoin: look up %s: %w", addr, err)
			}
			cache[addr] = inv
		}
		if inv == nil {
			continue
		}
		amount := decimal.New(out.Value, -8)
		i := 0
		for i < len(payments) && payments[i].Address != addr {
			i++
		}
		if i == len(payments) {
			payments = append(payments, Payment{ForeignID: inv.ForeignID, Address: addr})
		}
		payments[i].Amount = payments[i].Amount.Add(amount)
	}
	if len(payments) == 0 {
		return nil
	}
	w.logger.Info("bitcoin watcher: payment seen", "txid", txid.String(), "height", height, "invoices", len(payments))
	s.txs[txid] = &followed{PendingTx: PendingTx{TxID: txid.String(), Height: height, Block: block, Payments: payments}}
	s.order = append(s.order, txid)
	s.dirty = true
	return nil
}

// status is what to report for f at the processed height.
func (w *Watcher) status(s *watchState, f *followed) (invoice.TxStatus, int64) {
	switch {
	case f.cancelled:
		return invoice.TxCancelled, 0
	case f.Height == 0:
		return invoice.TxNotConfirmed, 0
	}
	confs := s.cp.Height - f.Height + 1
	if confs >= w.cfg.Confirmations {
		return invoice.TxConfirmed, confs
	}
	return invoice.TxNotConfirmed, confs
}

// report tells the engine what changed since the last report: new and
// confirming transactions first, then cancelled ones (so that a
// replacement paying the same invoice is counted before the replaced one
// is withdrawn). Transactions that became final are no longer followed.
func (w *Watcher) report(ctx context.Context, s *watchState) error {
	for _, cancelled := range []bool{false, true} {
		for _, id := range s.order {
			f := s.txs[id]
			if f.cancelled != cancelled {
				continue
			}
			status, confs := w.status(s, f)
			for _, p := range f.Payments {
				key, val := reportKey{id, p.ForeignID}, reportValue{status, confs}
				if s.reported[key] == val {
					continue
				}
				r := invoice.TransactionReport{
					TxID:          f.TxID,
					Currency:      w.cfg.Currency,
					Amount:        p.Amount,
					Confirmations: confs,
					Status:        status,
				}
				_, err := w.cfg.Engine.ReportTransaction(ctx, p.ForeignID, r)
				if errors.Is(err, invoice.ErrNotFound) {
					// The invoice's foreign_id changed since: find it again.
					if inv, lerr := w.cfg.Engine.GetByAddress(ctx, p.Address); lerr == nil && inv.ForeignID != p.ForeignID {
						_, err = w.cfg.Engine.ReportTransaction(ctx, inv.ForeignID, r)
					}
				}
				var verr *invoice.ValidationError
				switch {
				case err == nil:
				case errors.Is(err, invoice.ErrTransaction), errors.Is(err, invoice.ErrNotFound), errors.As(err, &verr):
					// The engine refuses it for good (a final transaction cannot
					// change); retrying would not help.
					w.logger.Warn("bitcoin watcher: report refused", "txid", f.TxID,
						"foreign_id", p.ForeignID, "status", status, "err", err)
				default:
					return fmt.Errorf("bitcoin: report %s to invoice %q: %w", f.TxID, p.ForeignID, err)
				}
				s.reported[key] = val
			}
			if status.IsFinal() {
				s.finished[id] = s.cp.Height
				for _, p := range f.Payments {
					delete(s.reported, reportKey{id, p.ForeignID})
				}
				delete(s.txs, id)
				s.dirty = true
			}
		}
		s.order = compact(s.order, s.txs)
	}
	return nil
}

// compact keeps the ids still followed, in order.
func compact(order []chainhash.Hash, txs map[chainhash.Hash]*followed) []chainhash.Hash {
	out := order[:0]
	for _, id := range order {
		if _, ok := txs[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// save writes the checkpoint with the followed transactions.
func (w *Watcher) save(ctx context.Context, s *watchState) error {
	cp := s.cp
	cp.Recent = append([]string(nil), s.cp.Recent...)
	cp.Pending = make([]PendingTx, 0, len(s.order))
	for _, id := range s.order {
		cp.Pending = append(cp.Pending, s.txs[id].PendingTx)
	}
	if err := w.cfg.Checkpoints.SaveCheckpoint(ctx, &cp); err != nil {
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	s.dirty = false
	return nil
}
