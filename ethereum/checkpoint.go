package ethereum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
)

// Checkpoint is the watcher's durable state: where scanning goes on, the
// recent block hashes that detect a reorganization, and the payments seen
// but not yet confirmed or cancelled. It is saved after the engine was
// told, so a crash repeats reports (which are idempotent) and never skips
// one.
type Checkpoint struct {
	// ChainID is the chain the checkpoint belongs to; a watcher on another
	// chain refuses it.
	ChainID uint64 `json:"chain_id"`
	// Next is the next block to scan.
	Next uint64 `json:"next"`
	// Recent are the hashes of the last scanned blocks, oldest first,
	// ending at block Next-1.
	Recent []BlockRef `json:"recent"`
	// Pending are the payments reported not yet final.
	Pending []Payment `json:"pending"`
}

// BlockRef names one block.
type BlockRef struct {
	Number uint64      `json:"number"`
	Hash   common.Hash `json:"hash"`
}

// Payment is one payment to a deposit address the watcher follows until
// it is confirmed or cancelled.
type Payment struct {
	// TxHash is the transaction; TxID is what the engine knows it as
	// (the hash, see the package doc for the exceptions).
	TxHash common.Hash `json:"tx_hash"`
	TxID   string      `json:"txid"`
	// ForeignID is the invoice paid.
	ForeignID string          `json:"foreign_id"`
	Address   common.Address  `json:"address"`
	Currency  string          `json:"currency"`
	Amount    decimal.Decimal `json:"amount"`
	// Block and BlockHash are where the payment was last seen.
	Block     uint64      `json:"block"`
	BlockHash common.Hash `json:"block_hash"`
	// Orphaned is set when a reorganization removed the block and the
	// payment has not been seen again since; OrphanedAt is the head then.
	Orphaned   bool   `json:"orphaned,omitempty"`
	OrphanedAt uint64 `json:"orphaned_at,omitempty"`

	native bool // sent as ether by the transaction itself (receipt checked)
}

// Checkpoints loads and saves the watcher's checkpoint durably.
type Checkpoints interface {
	// LoadCheckpoint returns the saved checkpoint, or nil and no error
	// when none was ever saved.
	LoadCheckpoint(ctx context.Context) (*Checkpoint, error)
	// SaveCheckpoint replaces the saved checkpoint; when it returns nil
	// the checkpoint survives a crash.
	SaveCheckpoint(ctx context.Context, cp *Checkpoint) error
}

// FileCheckpoints keeps the checkpoint in a JSON file, replaced atomically
// (written to a temporary file, synced, renamed). One watcher per file.
type FileCheckpoints struct {
	Path string // the file; its directory must exist
}

// LoadCheckpoint reads the file; a missing file is no checkpoint.
func (f FileCheckpoints) LoadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ethereum: load checkpoint: %w", err)
	}
	cp := new(Checkpoint)
	if err := json.Unmarshal(b, cp); err != nil {
		return nil, fmt.Errorf("ethereum: load checkpoint %s: %w", f.Path, err)
	}
	return cp, nil
}

// SaveCheckpoint writes cp to a temporary file beside Path, syncs it and
// renames it over Path.
func (f FileCheckpoints) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), filepath.Base(f.Path)+".tmp*")
	if err != nil {
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("ethereum: save checkpoint: %w", err)
	}
	if d, err := os.Open(filepath.Dir(f.Path)); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		d.Close()
	}
	return nil
}

// MemoryCheckpoints keeps the checkpoint in memory: for tests, or a
// watcher that may rescan from Config.StartBlock after every restart.
type MemoryCheckpoints struct {
	mu sync.Mutex
	b  []byte
}

// LoadCheckpoint returns a copy of the last saved checkpoint.
func (m *MemoryCheckpoints) LoadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b == nil {
		return nil, nil
	}
	cp := new(Checkpoint)
	return cp, json.Unmarshal(m.b, cp)
}

// SaveCheckpoint keeps a copy of cp.
func (m *MemoryCheckpoints) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.b = b
	m.mu.Unlock()
	return nil
}
