package bitcoin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
)

// Engine is what the watcher needs of the invoice engine; *invoice.Engine
// satisfies it.
type Engine interface {
	// GetByAddress returns the newest invoice whose deposit address is
	// address, or an error matching invoice.ErrNotFound.
	GetByAddress(ctx context.Context, address string) (*invoice.Invoice, error)
	// ReportTransaction records what the chain says about one transaction
	// to an invoice; reports are idempotent by txid.
	ReportTransaction(ctx context.Context, foreignID string, r invoice.TransactionReport) (*invoice.Invoice, error)
}

// DefaultConfirmations is the default number of confirmations after
// which a Bitcoin payment is reported confirmed (final): 3 blocks, about
// 30 minutes. One confirmation is what many shops accept for small
// amounts; 6 is the classic choice for large ones. A reorganisation
// deeper than the count cannot be undone afterwards (the engine treats
// confirmed as final), so pick it by the value at risk.
const DefaultConfirmations = 3

// WatcherConfig configures a Watcher. Engine, Node and Checkpoints are
// required; every other zero value means the documented default.
type WatcherConfig struct {
	Engine      Engine          // required; an *invoice.Engine
	Node        Node            // required; an *RPCNode
	Checkpoints CheckpointStore // required; FileCheckpoints for one process

	// Network decides how output scripts become addresses. Default Mainnet.
	Network Network
	// Currency is the currency code reported. Default "BTC".
	Currency string
	// Confirmations is how many confirmations make a payment confirmed.
	// Default DefaultConfirmations. One watcher follows one chain: the
	// required count is per currency by running one watcher per currency.
	Confirmations int64
	// PollInterval is how often the node is asked for new blocks and the
	// mempool. Default 1 second: a mempool payment is reported within
	// about that long.
	PollInterval time.Duration
	// StartHeight is the first block scanned when there is no checkpoint
	// yet. Zero: the blocks after the node's tip at the first start (and
	// the mempool); use the height of the block before the first invoice
	// when adding the watcher to an engine that already has invoices.
	StartHeight int64
	// ReorgDepth is how many processed block hashes the checkpoint keeps
	// to find the fork point of a reorganisation. Default 100.
	ReorgDepth int
	// DropAfter is how many consecutive polls an unconfirmed transaction
	// must be missing from both the mempool and the chain before it is
	// reported cancelled (double-spent, replaced, evicted, or reorganised
	// out and not re-admitted). Default 2.
	DropAfter int
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
}

// Watcher follows a Bitcoin node and reports payments to invoices'
// deposit addresses to the engine: a transaction in the mempool as
// not_confirmed (the invoice goes to processing), then its confirmations
// block by block, confirmed once it has Confirmations of them, and
// cancelled when it leaves the mempool without being mined (double
// spend, RBF replacement, eviction) or is reorganised out and does not
// come back. Payments to invoices that are already failed (late
// payments), and several transactions to one invoice, are reported like
// any other; the engine records and refunds them.
//
// It polls (btcd sends no event when a transaction leaves the mempool, so
// the unconfirmed ones are re-checked on every poll anyway): per poll one
// getbestblockhash + getblockheader, one getrawmempool, one
// getrawtransaction per new mempool transaction, and getblockhash +
// getblock per new block, plus one engine look-up (Engine.GetByAddress,
// an indexed store read) per output of every new transaction. On
// mainnet the first poll after a start fetches the whole mempool once.
//
// Durability: after each block, and when the followed transactions
// change, the checkpoint is saved; after a restart the watcher rescans
// every block mined after the checkpoint, so nothing mined while it was
// down is missed, and it keeps following the pending transactions.
// Reports are at least once and idempotent by txid.
//
// One or all instances? Run exactly one watcher per node and chain
// (e.g. in one instance, or a dedicated process), with its own checkpoint.
// Several watchers on the same node are harmless (the engine ignores
// repeated reports) but do the work several times. Never let watchers on
// different nodes report for the same invoices: nodes' mempools differ,
// and one could report cancelled what the other sees confirming.
type Watcher struct {
	cfg    WatcherConfig
	mu     sync.Mutex // one Sync at a time
	state  *watchState
	logger *slog.Logger
}

// NewWatcher validates cfg and returns a Watcher; Run starts it.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	switch {
	case cfg.Engine == nil:
		return nil, errors.New("bitcoin: WatcherConfig.Engine is required")
	case cfg.Node == nil:
		return nil, errors.New("bitcoin: WatcherConfig.Node is required")
	case cfg.Checkpoints == nil:
		return nil, errors.New("bitcoin: WatcherConfig.Checkpoints is required")
	case cfg.Confirmations < 0 || cfg.StartHeight < 0 || cfg.ReorgDepth < 0 || cfg.DropAfter < 0 || cfg.PollInterval < 0:
		return nil, errors.New("bitcoin: WatcherConfig values must not be negative")
	}
	if cfg.Network == 0 {
		cfg.Network = Mainnet
	}
	if cfg.Network.Params() == nil {
		return nil, fmt.Errorf("%w: %s", ErrNetwork, cfg.Network)
	}
	if cfg.Currency == "" {
		cfg.Currency = "BTC"
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = DefaultConfirmations
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.ReorgDepth == 0 {
		cfg.ReorgDepth = 100
	}
	if cfg.DropAfter == 0 {
		cfg.DropAfter = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{cfg: cfg, logger: cfg.Logger}, nil
}

// Run polls until ctx is done, then returns ctx's error. A failed poll
// (node or store unreachable) is logged and retried at the next interval.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := w.Sync(ctx); err != nil && ctx.Err() == nil {
			w.logger.Warn("bitcoin watcher: poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
