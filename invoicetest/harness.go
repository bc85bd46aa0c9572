package invoicetest

import (
	"os"
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
// deterministic addresses, sequential IDs, retries without jitter and the
// fixed RefundTokenKey (or, when the environment variable DefaultIDsEnv is
// set, the default UUIDv7 IDs and a random key, as with the DefaultIDs
// option). Options may change the
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
		RefundTokenKeys:  [][]byte{RefundTokenKey()},
		// Retries follow the schedule exactly: tests advance the clock by
		// it. An option may set the engine's default (10) back.
		RetryJitterPercent: -1,
	}
	if os.Getenv(DefaultIDsEnv) != "" {
		DefaultIDs(&cfg)
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

// RefundTokenKey returns the fixed refund token key New configures: 32
// bytes, the same on every call, so tokens are reproducible in tests.
// Never use it outside tests.
func RefundTokenKey() []byte {
	return []byte("invoicetest refund token key 32b")
}

// DefaultIDsEnv names the environment variable that makes New start from
// the default ID source and a random key (DefaultIDs) instead of the
// deterministic ones, so a whole test suite can be run a second time under
// the default configuration: INVOICETEST_DEFAULT_IDS=1 go test ./...
// (.ci/run does so for the root package and webhook). Options given to
// New still apply after it.
const DefaultIDsEnv = "INVOICETEST_DEFAULT_IDS"

// DefaultIDs is an option for New: the engine's default ID source
// (uuid.NewV7) and a fresh random refund token key instead of sequential
// IDs and the fixed key, so a test runs under the default configuration.
func DefaultIDs(cfg *invoice.Config) {
	cfg.NewID = nil
	cfg.RefundTokenKeys = [][]byte{invoice.NewRefundTokenKey()}
}
