package ethereum

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
	geth "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// ErrChain reports a checkpoint saved for another chain than the node's.
var ErrChain = errors.New("ethereum: checkpoint belongs to another chain")

// Client is the part of *ethclient.Client the watcher uses. Dial the
// node over HTTP ("http://...") or WebSocket ("ws://..."): over WebSocket
// the watcher also subscribes to new heads and reacts at once; over HTTP it
// polls.
type Client interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	BlockByHash(ctx context.Context, hash common.Hash) (*types.Block, error)
	FilterLogs(ctx context.Context, q geth.FilterQuery) ([]types.Log, error)
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	SubscribeNewHead(ctx context.Context, ch chan<- *types.Header) (geth.Subscription, error)
}

// Engine is the part of *invoice.Engine the watcher uses.
type Engine interface {
	GetByAddress(ctx context.Context, address string) (*invoice.Invoice, error)
	ReportTransaction(ctx context.Context, foreignID string, r invoice.TransactionReport) (*invoice.Invoice, error)
}

// Token is one ERC-20 token contract the watcher follows.
type Token struct {
	// Currency is the engine's code for it, e.g. "USDTE" (Tether on
	// Ethereum mainnet: contract 0xdAC17F958D2ee523a2206206994597C13D831ec7,
	// 6 decimals).
	Currency string
	// Contract is the token contract's address.
	Contract common.Address
	// Decimals scales the token's integer amounts (USDT 6, most tokens 18).
	Decimals uint8
	// Confirmations overrides Config.Confirmations for this token; zero
	// means Config.Confirmations.
	Confirmations uint64
}

// Config configures a Watcher. Client, Engine and Checkpoints are
// required; every zero value means the documented default.
type Config struct {
	Client      Client      // required: the node
	Engine      Engine      // required: usually the *invoice.Engine
	Checkpoints Checkpoints // required: where progress is kept durably

	// Native is the engine's currency code for ether. Default "ETH".
	Native string
	// NoNative ignores ether transfers (only tokens are watched; blocks
	// are then not fetched whole).
	NoNative bool
	// NativeConfirmations overrides Confirmations for ether; zero means
	// Confirmations.
	NativeConfirmations uint64
	// Tokens are the ERC-20 contracts to watch. Transfers of any other
	// token are not seen: a customer who sends one is helped by hand.
	Tokens []Token
	// Confirmations is how deep a payment's block must be (the block
	// itself counts as one) to report it confirmed. Default 12.
	Confirmations uint64
	// Finalized, when true, confirms a payment only once its block is at
	// or below the node's "finalized" block (about 13 minutes on
	// mainnet), whatever the counts above say. Reorganizations cannot
	// revert a finalized block.
	Finalized bool
	// IgnoreSenders are senders whose transfers to deposit addresses are
	// not payments: the merchant's own wallet that sends ether for gas to
	// deposit addresses before sweeping tokens out of them. Without it a
	// gas top-up is reported as a payment in the wrong currency, and
	// refunded to the customer.
	IgnoreSenders []common.Address
	// StartBlock is the first block scanned when no checkpoint exists.
	// Zero means the node's head at the first Sync.
	StartBlock uint64
	// ReorgGrace is how many blocks a payment removed by a
	// reorganization may take to reappear on the new chain before it is
	// reported cancelled. Default 0: cancelled as soon as the new chain was
	// scanned to its head without it.
	ReorgGrace uint64
	// History is how many recent block hashes are kept to find where a
	// reorganization forked. Default 256; it must exceed every
	// confirmation count plus ReorgGrace.
	History uint64
	// BatchBlocks bounds the blocks one Sync scans (catching up after a
	// stop takes several). Default 500.
	BatchBlocks uint64
	// PollInterval is how often Run polls the node (over WebSocket also
	// woken by each new head). Default 4 seconds.
	PollInterval time.Duration
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
}

// Watcher follows an Ethereum node and reports every payment to an
// invoice's deposit address to the engine: ether sent by a transaction to
// the address and Transfer logs of the configured tokens to it. See the
// package documentation for the rules.
type Watcher struct {
	cfg       Config
	tokens    map[common.Address]Token
	contracts []common.Address
	ignore    map[common.Address]bool
	log       *slog.Logger

	mu      sync.Mutex // one Sync at a time
	cp      *Checkpoint
	fresh   bool // no checkpoint was saved before: start at StartBlock
	chainID *big.Int
	signer  types.Signer
	pending map[paymentKey]*Payment
}

type paymentKey struct {
	tx       common.Hash
	to       common.Address
	currency string
}

func (p *Payment) key() paymentKey { return paymentKey{p.TxHash, p.Address, p.Currency} }

// New checks cfg and returns a watcher; nothing is asked of the node yet.
func New(cfg Config) (*Watcher, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: ethereum watcher: "+format, append([]any{invoice.ErrConfig}, args...)...)
	}
	switch {
	case cfg.Client == nil:
		return nil, bad("Client is required")
	case cfg.Engine == nil:
		return nil, bad("Engine is required")
	case cfg.Checkpoints == nil:
		return nil, bad("Checkpoints is required")
	case cfg.NoNative && len(cfg.Tokens) == 0:
		return nil, bad("nothing to watch: NoNative and no Tokens")
	}
	if cfg.Native == "" {
		cfg.Native = "ETH"
	}
	if cfg.Confirmations == 0 {
		cfg.Confirmations = 12
	}
	if cfg.NativeConfirmations == 0 {
		cfg.NativeConfirmations = cfg.Confirmations
	}
	if cfg.History == 0 {
		cfg.History = 256
	}
	if cfg.BatchBlocks == 0 {
		cfg.BatchBlocks = 500
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 4 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{
		cfg:    cfg,
		tokens: make(map[common.Address]Token, len(cfg.Tokens)),
		ignore: make(map[common.Address]bool, len(cfg.IgnoreSenders)),
		log:    cfg.Logger,
	}
	deepest := cfg.NativeConfirmations
	currencies := map[string]bool{}
	if !cfg.NoNative {
		currencies[cfg.Native] = true
	}
	for _, t := range cfg.Tokens {
		if t.Currency == "" || currencies[t.Currency] {
			return nil, bad("token currency %q is empty or repeated", t.Currency)
		}
		if _, dup := w.tokens[t.Contract]; dup || t.Contract == (common.Address{}) {
			return nil, bad("token contract %s is zero or repeated", t.Contract)
		}
		if t.Decimals > 36 {
			return nil, bad("token %s decimals %d out of [0, 36]", t.Currency, t.Decimals)
		}
		if t.Confirmations == 0 {
			t.Confirmations = cfg.Confirmations
		}
		deepest = max(deepest, t.Confirmations)
		currencies[t.Currency] = true
		w.tokens[t.Contract] = t
		w.contracts = append(w.contracts, t.Contract)
	}
	if cfg.History <= deepest+cfg.ReorgGrace {
		return nil, bad("History %d must exceed the deepest confirmation count %d plus ReorgGrace %d",
			cfg.History, deepest, cfg.ReorgGrace)
	}
	for _, a := range cfg.IgnoreSenders {
		w.ignore[a] = true
	}
	return w, nil
}

// required returns the confirmation count of a currency.
func (w *Watcher) required(currency string) uint64 {
	if !w.cfg.NoNative && currency == w.cfg.Native {
		return w.cfg.NativeConfirmations
	}
	for _, t := range w.tokens {
		if t.Currency == currency {
			return t.Confirmations
		}
	}
	return w.cfg.Confirmations
}

// Run syncs until ctx ends: at once, then on every new head (WebSocket)
// and every PollInterval. Errors of one round (the node or the store
// unreachable) are logged and retried; a checkpoint of another chain ends
// Run with ErrChain. It returns ctx's error when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	heads := make(chan *types.Header, 64)
	var sub geth.Subscription
	push := true // until the node says it has no subscriptions (HTTP)
	subscribe := func() {
		s, err := w.cfg.Client.SubscribeNewHead(ctx, heads)
		switch {
		case err == nil:
			sub = s
		case errors.Is(err, rpc.ErrNotificationsUnsupported):
			push = false
		default:
			w.log.Warn("ethereum: subscribe to new heads", "err", err)
		}
	}
	defer func() {
		if sub != nil {
			sub.Unsubscribe()
		}
	}()
	subscribe()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		var subErr <-chan error
		if sub != nil {
			subErr = sub.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-heads:
		case err := <-subErr:
			w.log.Warn("ethereum: new-head subscription ended", "err", err)
			sub = nil
		}
		for len(heads) > 0 {
			<-heads
		}
		if err := w.Sync(ctx); err != nil {
			if errors.Is(err, ErrChain) {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.log.Warn("ethereum: sync", "err", err)
		}
		if sub == nil && push {
			subscribe()
		}
		timer.Reset(w.cfg.PollInterval)
	}
}
