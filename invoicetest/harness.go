package invoicetest

import (
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/memstore"
)

// Harness is a ready engine on memstore with every outside dependency
// replaced by a deterministic fake.
type Harness struct {
	Engine    *invoice.Engine
	Store     invoice.Store // memstore unless an option replaced it
	Clock     *Clock
	Merchant  *Notifier // merchant callbacks
	Customers *Notifier // refund-claim notices
	Addresses *Addresses
	Config    invoice.Config // the configuration the engine was built from
}

// New builds a Harness: memstore, a Clock at Epoch, the Rates above,
// deterministic addresses, sequential IDs and retries without jitter. Options may change the
// configuration before the engine is built (for example the payment
// window, the currency table, or Store to run on another store). It fails
// the test if the configuration is invalid.
func New(tb testing.TB, opts ...func(*invoice.Config)) *Harness {
	tb.Helper()
	h, err := NewHarness(opts...)
	if err != nil {
		tb.Fatalf("invoicetest.New: %v", err)
	}
	return h
}

// NewHarness is New for code without a testing.TB (examples, programs): it
// returns the configuration error instead of failing a test.
func NewHarness(opts ...func(*invoice.Config)) (*Harness, error) {
	h := &Harness{
		Clock:     NewClock(Epoch),
		Merchant:  NewNotifier(),
		Customers: NewNotifier(),
		Addresses: &Addresses{},
	}
	cfg := invoice.Config{
		Store:            memstore.New(),
		Rates:            Rates(),
		Addresses:        h.Addresses,
		Notifier:         h.Merchant,
		CustomerNotifier: h.Customers,
		Clock:            h.Clock,
		NewID:            SequentialIDs(),
		// Retries follow the schedule exactly: tests advance the clock by
		// it. An option may set the engine's default (10) back.
		RetryJitterPercent: -1,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	e, err := invoice.New(cfg)
	if err != nil {
		return nil, err
	}
	h.Engine, h.Config, h.Store = e, cfg, cfg.Store
	return h, nil
}
