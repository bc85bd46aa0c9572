package bitcoin

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcjson"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/rpcclient"
	"github.com/btcsuite/btcd/wire/v2"
)

// Node is what the watcher reads from a full node. RPCNode implements it
// over btcd's JSON-RPC (Bitcoin Core answers the same calls).
// Implementations must be safe for concurrent use: the watcher fetches
// several mempool transactions at once.
type Node interface {
	// BestBlock returns the hash and height of the node's chain tip.
	BestBlock(ctx context.Context) (chainhash.Hash, int64, error)
	// BlockHash returns the hash of the main-chain block at height.
	BlockHash(ctx context.Context, height int64) (chainhash.Hash, error)
	// Block returns a block.
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
	// Mempool returns the txids in the node's mempool.
	Mempool(ctx context.Context) ([]chainhash.Hash, error)
	// MempoolTx returns a transaction of the mempool, or an error
	// matching ErrTxNotFound when it is not there (any more).
	MempoolTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error)
}

// ErrTxNotFound: the node does not have the transaction.
var ErrTxNotFound = errors.New("bitcoin: transaction not found")

// RPCNode is a Node over an rpcclient.Client in HTTP POST mode. The
// client's calls take no context: the context is checked before each call
// only.
type RPCNode struct {
	c *rpcclient.Client
}

// DialRPC connects to a node's JSON-RPC: host is "127.0.0.1:8334"; user
// and pass are the node's rpcuser and rpcpass. With certPEM nil the
// connection is plain HTTP (btcd --notls, allowed on loopback only);
// otherwise TLS with that certificate (btcd's rpc.cert). The password
// never appears in errors.
func DialRPC(host, user, pass string, certPEM []byte) (*RPCNode, error) {
	c, err := rpcclient.New(&rpcclient.ConnConfig{
		Host:         host,
		User:         user,
		Pass:         pass,
		HTTPPostMode: true,
		DisableTLS:   certPEM == nil,
		Certificates: certPEM,
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("bitcoin: rpc client for %s: %w", host, err)
	}
	return &RPCNode{c: c}, nil
}

// NewRPCNode wraps an existing client (which must be in HTTP POST mode or
// connected).
func NewRPCNode(c *rpcclient.Client) *RPCNode { return &RPCNode{c: c} }

// Client returns the underlying client.
func (n *RPCNode) Client() *rpcclient.Client { return n.c }

// Close shuts the client down.
func (n *RPCNode) Close() { n.c.Shutdown() }

// BestBlock implements Node with getbestblockhash and getblockheader.
func (n *RPCNode) BestBlock(ctx context.Context) (chainhash.Hash, int64, error) {
	if err := ctx.Err(); err != nil {
		return chainhash.Hash{}, 0, err
	}
	h, err := n.c.GetBestBlockHash()
	if err != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("bitcoin: getbestblockhash: %w", err)
	}
	hdr, err := n.c.GetBlockHeaderVerbose(h)
	if err != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("bitcoin: getblockheader: %w", err)
	}
	return *h, int64(hdr.Height), nil
}

// BlockHash implements Node with getblockhash.
func (n *RPCNode) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	if err := ctx.Err(); err != nil {
		return chainhash.Hash{}, err
	}
	h, err := n.c.GetBlockHash(height)
	if err != nil {
		return chainhash.Hash{}, fmt.Errorf("bitcoin: getblockhash %d: %w", height, err)
	}
	return *h, nil
}

// Block implements Node with getblock (raw).
func (n *RPCNode) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := n.c.GetBlock(&hash)
	if err != nil {
		return nil, fmt.Errorf("bitcoin: getblock %s: %w", hash, err)
	}
	return b, nil
}

// Mempool implements Node with getrawmempool.
func (n *RPCNode) Mempool(ctx context.Context) ([]chainhash.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hs, err := n.c.GetRawMempool()
	if err != nil {
		return nil, fmt.Errorf("bitcoin: getrawmempool: %w", err)
	}
	out := make([]chainhash.Hash, len(hs))
	for i, h := range hs {
		out[i] = *h
	}
	return out, nil
}

// MempoolTx implements Node with getrawtransaction. Without -txindex a
// node only knows mempool transactions this way; with it, a mined
// transaction is found too and returned (the watcher only asks for txids
// it just saw in the mempool).
func (n *RPCNode) MempoolTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx, err := n.c.GetRawTransaction(&txid)
	if err != nil {
		var rerr *btcjson.RPCError
		if errors.As(err, &rerr) && rerr.Code == btcjson.ErrRPCNoTxInfo {
			return nil, fmt.Errorf("%w: %s", ErrTxNotFound, txid)
		}
		return nil, fmt.Errorf("bitcoin: getrawtransaction %s: %w", txid, err)
	}
	return tx.MsgTx(), nil
}
