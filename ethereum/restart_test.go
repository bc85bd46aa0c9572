package ethereum

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/ethclient"
)

// The watcher stops, blocks with payments are mined, a new watcher on the
// same checkpoint catches up (in several rounds) and misses nothing; then
// one runs over WebSocket and reacts to new heads.
func TestRestartWhileBlocksAreMined(t *testing.T) {
	r := newRig(t, func(c *Config) { c.BatchBlocks = 2 })
	_, a := r.invoice("a", "USDTE", "30")
	_, b := r.invoice("b", "ETH", "30")
	_, c := r.invoice("c", "USDTE", "30")
	txA := r.transfer(r.usdte, a, 30_000000).Hex()
	r.sync()
	r.want("a", invoice.StatusProcessing, map[string]invoice.TxStatus{txA: unconfirmed})

	// Stopped: the old watcher is dropped; the chain goes on.
	r.w = nil
	r.mine(2)
	txB := r.sendEther(b, ether("0.01")).Hex()
	r.mine(4)

	w2 := r.watcher(r.cfg)
	for i := 0; ; i++ {
		if err := w2.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		if w2.cp.Next > r.head() {
			break
		}
		if i > 10 {
			t.Fatalf("not caught up after %d rounds: next %d, head %d", i, w2.cp.Next, r.head())
		}
	}
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusConfirmed, map[string]invoice.TxStatus{txB: confirmed})

	// Over WebSocket, Run wakes on each new head.
	ws, err := ethclient.Dial(r.WS)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	cfg := r.cfg
	cfg.Client, cfg.PollInterval = ws, time.Hour // only new heads wake it
	w3 := r.watcher(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w3.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()
	time.Sleep(200 * time.Millisecond) // let Run subscribe
	txC := r.transfer(r.usdte, c, 30_000000).Hex()
	r.mine(2)
	deadline := time.Now().Add(10 * time.Second)
	for r.get("c").Status != invoice.StatusConfirmed && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r.want("c", invoice.StatusConfirmed, map[string]invoice.TxStatus{txC: confirmed})
}

func TestCheckpointOfAnotherChain(t *testing.T) {
	r := newRig(t, nil)
	cp := &MemoryCheckpoints{}
	if err := cp.SaveCheckpoint(context.Background(), &Checkpoint{ChainID: 1, Next: 100}); err != nil {
		t.Fatal(err)
	}
	cfg := r.cfg
	cfg.Checkpoints = cp
	if err := r.watcher(cfg).Sync(context.Background()); !errors.Is(err, ErrChain) {
		t.Fatalf("Sync: %v, want ErrChain", err)
	}
}

// Without a checkpoint the watcher starts at StartBlock (default: the
// head), so payments before the first start can be picked up.
func TestStartBlock(t *testing.T) {
	r := newRig(t, nil)
	_, addr := r.invoice("early", "USDTE", "30")
	h := r.transfer(r.usdte, addr, 30_000000)
	block := r.receipt(h).BlockNumber.Uint64()
	r.mine(5)
	for _, tc := range []struct {
		start uint64
		want  map[string]invoice.TxStatus
	}{
		{0, nil},         // from the head: the payment is before it
		{block + 1, nil}, // just after it
		{block, map[string]invoice.TxStatus{h.Hex(): confirmed}},
	} {
		cfg := r.cfg
		cfg.Checkpoints, cfg.StartBlock = &MemoryCheckpoints{}, tc.start
		if err := r.watcher(cfg).Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		status := invoice.StatusPending
		if tc.want != nil {
			status = invoice.StatusConfirmed
		}
		r.want("early", status, tc.want)
	}
}

// failingSaves is a checkpoint store whose saves fail while broken, like
// a crash after the engine was told but before the checkpoint was saved.
type failingSaves struct {
	MemoryCheckpoints
	broken bool
}

func (f *failingSaves) SaveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	if f.broken {
		return errors.New("disk full")
	}
	return f.MemoryCheckpoints.SaveCheckpoint(ctx, cp)
}

// Reports made before a lost save are repeated by the next watcher from
// the older checkpoint: the engine sees repeats, never duplicates, and a
// payment it already holds as confirmed is not reported again.
func TestCrashBeforeCheckpointSave(t *testing.T) {
	r := newRig(t, nil)
	cp := &failingSaves{}
	cfg := r.cfg
	cfg.Checkpoints = cp
	first := r.watcher(cfg)
	if err := first.Sync(context.Background()); err != nil { // saved: at the head
		t.Fatal(err)
	}
	_, a := r.invoice("a", "USDTE", "30")
	_, b := r.invoice("b", "USDTE", "30")
	txA := r.transfer(r.usdte, a, 30_000000).Hex()
	r.mine(3)
	txB := r.transfer(r.usdte, b, 30_000000).Hex()
	cp.broken = true
	if err := first.Sync(context.Background()); err == nil {
		t.Fatal("Sync with a failing save: no error")
	}
	// The engine was told: a confirmed at once (4 deep), b seen.
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusProcessing, map[string]invoice.TxStatus{txB: unconfirmed})

	cp.broken = false
	second := r.watcher(cfg) // restarts from the checkpoint before the payments
	if err := second.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want("a", invoice.StatusConfirmed, map[string]invoice.TxStatus{txA: confirmed})
	r.want("b", invoice.StatusProcessing, map[string]invoice.TxStatus{txB: unconfirmed})
	if len(second.cp.Pending) != 1 || second.cp.Pending[0].TxID != txB {
		t.Fatalf("pending %+v, want only %s", second.cp.Pending, txB)
	}
	r.mine(2)
	if err := second.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.want("b", invoice.StatusConfirmed, map[string]invoice.TxStatus{txB: confirmed})
}

// Over HTTP the node has no subscriptions: Run polls every PollInterval.
func TestRunOverHTTPPolls(t *testing.T) {
	r := newRig(t, func(c *Config) { c.PollInterval = 50 * time.Millisecond })
	_, addr := r.invoice("poll", "USDTE", "30")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.w.Run(ctx) }()
	tx := r.transfer(r.usdte, addr, 30_000000).Hex()
	r.mine(2)
	deadline := time.Now().Add(10 * time.Second)
	for r.get("poll").Status != invoice.StatusConfirmed && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	r.want("poll", invoice.StatusConfirmed, map[string]invoice.TxStatus{tx: confirmed})
}
