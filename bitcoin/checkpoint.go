package bitcoin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/shopspring/decimal"
)

// Checkpoint is the watcher's durable state: the last block it fully
// processed, the hashes of the blocks before it (to find where a reorg
// forked), and the payments it still follows (not yet confirmed or
// cancelled). After a restart the watcher resumes from it: it rescans
// every block after Height and keeps following Pending.
type Checkpoint struct {
	// Height and Hash are those of the last processed block.
	Height int64  `json:"height"`
	Hash   string `json:"hash"`
	// Recent are the hashes of the last processed blocks, oldest first,
	// ending with Hash (heights Height-len(Recent)+1 … Height).
	Recent []string `json:"recent"`
	// Pending are the followed transactions, in the order first seen.
	Pending []PendingTx `json:"pending"`
}

// PendingTx is a transaction paying one or more invoices that is not yet
// final.
type PendingTx struct {
	TxID string `json:"txid"` // the transaction's id, as block explorers show it
	// Height and Block locate it on the main chain; 0 and "" while it is
	// unconfirmed.
	Height int64  `json:"height,omitempty"`
	Block  string `json:"block,omitempty"`
	// Payments are what it pays to each invoice, one per deposit address.
	Payments []Payment `json:"payments"`
}

// Payment is what one transaction pays to one invoice's deposit address
// (the sum of its outputs to that address).
type Payment struct {
	ForeignID string          `json:"foreign_id"` // the invoice's foreign_id
	Address   string          `json:"address"`    // its deposit address
	Amount    decimal.Decimal `json:"amount"`     // in BTC, 8 fraction digits
}

// CheckpointStore keeps the watcher's checkpoint. Load returns nil and no
// error when nothing was saved yet. Save replaces the checkpoint
// atomically: after a crash Load returns the previous or the new one,
// never a mix. The watcher saves after every processed block and whenever
// its set of pending transactions changes.
//
// Several watchers (several engine instances) must each have their own
// checkpoint name or file; see Watcher for whether to run more than one.
// MemoryCheckpoints and FileCheckpoints are provided; a host with a
// database may implement it on a one-row table (a JSON column).
type CheckpointStore interface {
	LoadCheckpoint(ctx context.Context) (*Checkpoint, error)
	SaveCheckpoint(ctx context.Context, cp *Checkpoint) error
}

// MemoryCheckpoints keeps the checkpoint in memory: for tests, or for a
// watcher that may rescan from its StartHeight after every restart. The
// zero value is ready; safe for concurrent use.
type MemoryCheckpoints struct {
	mu sync.Mutex
	cp []byte
}

// LoadCheckpoint returns a copy of the saved checkpoint, or nil.
func (m *MemoryCheckpoints) LoadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cp == nil {
		return nil, ctx.Err()
	}
	var cp Checkpoint
	if err := json.Unmarshal(m.cp, &cp); err != nil {
		return nil, err
	}
	return &cp, nil
}

// SaveCheckpoint stores a copy of cp.
func (m *MemoryCheckpoints) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.cp = b
	m.mu.Unlock()
	return nil
}

// FileCheckpoints keeps the checkpoint as JSON in a file, replaced
// atomically (write to a temporary file, fsync, rename, fsync the
// directory). It is the default for a single watcher process; it does not
// depend on the invoice store.
type FileCheckpoints struct {
	Path string // e.g. /var/lib/shop/bitcoin-watcher.json
}

// LoadCheckpoint reads the file; a missing file is no checkpoint.
func (f FileCheckpoints) LoadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bitcoin: read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("bitcoin: checkpoint %s: %w", f.Path, err)
	}
	return &cp, nil
}

// SaveCheckpoint writes the file atomically.
func (f FileCheckpoints) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("bitcoin: save checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
