package bitcoin

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

func TestCheckpointStores(t *testing.T) {
	cp := &Checkpoint{
		Height: 812, Hash: "00ab", Recent: []string{"00aa", "00ab"},
		Pending: []PendingTx{{TxID: "c0ffee", Height: 811, Block: "00aa", Payments: []Payment{
			{ForeignID: "order-1", Address: "bc1qexample", Amount: decimal.RequireFromString("0.00150000")},
		}}},
	}
	path := filepath.Join(t.TempDir(), "cp.json")
	for name, cs := range map[string]CheckpointStore{"memory": &MemoryCheckpoints{}, "file": FileCheckpoints{Path: path}} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			got, err := cs.LoadCheckpoint(ctx)
			if err != nil || got != nil {
				t.Fatalf("empty store: %+v, %v", got, err)
			}
			if err := cs.SaveCheckpoint(ctx, cp); err != nil {
				t.Fatal(err)
			}
			cp.Height = 999 // the store kept its own copy
			got, err = cs.LoadCheckpoint(ctx)
			cp.Height = 812
			if err != nil {
				t.Fatal(err)
			}
			if !got.Pending[0].Payments[0].Amount.Equal(cp.Pending[0].Payments[0].Amount) {
				t.Fatalf("amount %s", got.Pending[0].Payments[0].Amount)
			}
			got.Pending[0].Payments[0].Amount = cp.Pending[0].Payments[0].Amount
			if !reflect.DeepEqual(got, cp) {
				t.Fatalf("loaded %+v, want %+v", got, cp)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (FileCheckpoints{Path: path}).LoadCheckpoint(context.Background()); err == nil {
		t.Error("a corrupt checkpoint loaded")
	}
}

func TestNewWatcherRequires(t *testing.T) {
	for name, cfg := range map[string]WatcherConfig{
		"no engine":      {Node: &RPCNode{}, Checkpoints: &MemoryCheckpoints{}},
		"no node":        {Engine: fakeEngine{}, Checkpoints: &MemoryCheckpoints{}},
		"no checkpoints": {Engine: fakeEngine{}, Node: &RPCNode{}},
		"negative":       {Engine: fakeEngine{}, Node: &RPCNode{}, Checkpoints: &MemoryCheckpoints{}, Confirmations: -1},
		"bad network":    {Engine: fakeEngine{}, Node: &RPCNode{}, Checkpoints: &MemoryCheckpoints{}, Network: 42},
	} {
		if _, err := NewWatcher(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// fakeEngine satisfies Engine for configuration tests.
type fakeEngine struct{}

func (fakeEngine) GetByAddress(context.Context, string) (*invoice.Invoice, error) {
	return nil, invoice.ErrNotFound
}

func (fakeEngine) ReportTransaction(context.Context, string, invoice.TransactionReport) (*invoice.Invoice, error) {
	return nil, nil
}
