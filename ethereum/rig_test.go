package ethereum

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"
)

// rig is a real anvil chain with two 6-decimal test tokens (USDTE and
// USDCE), an engine whose deposit addresses are derived from the test
// mnemonic's account key, and a watcher with a file checkpoint.
type rig struct {
	*node
	t            *testing.T
	h            *invoicetest.Harness
	cfg          Config
	w            *Watcher
	usdte, usdce common.Address
}

func newRig(t *testing.T, mod func(*Config)) *rig {
	t.Helper()
	n := startNode(t)
	r := &rig{node: n, t: t}
	r.usdte = n.deployToken(6)
	r.usdce = n.deployToken(6)
	r.h = invoicetest.New(t, func(cfg *invoice.Config) {
		cfg.Currencies = append(invoice.DefaultCurrencies(), invoice.Currency{Code: "USDCE", Precision: 6, Crypto: true})
		cfg.AcceptedCurrencies = []string{"ETH", "USDTE", "USDCE"}
		cfg.Rates = invoice.MustStaticRates("ETH/EUR=3000", "USDTE/EUR=1", "USDCE/EUR=1")
		a, err := NewAddresses(AddressConfig{
			AccountXPub: testXPub,
			Sequences:   cfg.Store,
			Currencies:  []string{"ETH", "USDTE", "USDCE"},
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addresses = a
		cfg.DestinationValidators = DestinationValidators("ETH", "USDTE", "USDCE")
	})
	r.cfg = Config{
		Client:        n.Client,
		Engine:        r.h.Engine,
		Checkpoints:   FileCheckpoints{Path: filepath.Join(t.TempDir(), "checkpoint.json")},
		Tokens:        []Token{{Currency: "USDTE", Contract: r.usdte, Decimals: 6}, {Currency: "USDCE", Contract: r.usdce, Decimals: 6}},
		Confirmations: 3,
		IgnoreSenders: []common.Address{n.Gas},
		Logger:        testLogger(t),
	}
	if mod != nil {
		mod(&r.cfg)
	}
	r.w = r.watcher(r.cfg)
	r.sync() // starts at the head: the deployments are not scanned
	return r
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tlog struct{ t *testing.T }

func (l tlog) Write(b []byte) (int, error) { l.t.Log(string(b)); return len(b), nil }

func (r *rig) watcher(cfg Config) *Watcher {
	r.t.Helper()
	w, err := New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

func (r *rig) sync() {
	r.t.Helper()
	if err := r.w.Sync(context.Background()); err != nil {
		r.t.Fatalf("Sync: %v", err)
	}
}

// invoice creates a type-3 invoice for eur EUR payable in currency: it is
// pending at once, with its deposit address.
func (r *rig) invoice(foreignID, currency, eur string) (*invoice.Invoice, common.Address) {
	r.t.Helper()
	inv, err := r.h.Engine.Create(context.Background(), invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order " + foreignID, Amount: decimal.RequireFromString(eur), Currency: "EUR",
		Timer: true, SenderCurrency: currency, Email: "payer@example.com",
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if inv.Status != invoice.StatusPending || ValidateAddress(inv.Deposit.Address) != nil {
		r.t.Fatalf("invoice %s: status %s, address %q", foreignID, inv.Status, inv.Deposit.Address)
	}
	return inv, common.HexToAddress(inv.Deposit.Address)
}

func (r *rig) get(foreignID string) *invoice.Invoice {
	r.t.Helper()
	inv, err := r.h.Engine.Get(context.Background(), foreignID)
	if err != nil {
		r.t.Fatal(err)
	}
	return inv
}

// want checks an invoice's status and its transactions' (txid → status).
func (r *rig) want(foreignID string, status invoice.Status, txs map[string]invoice.TxStatus) *invoice.Invoice {
	r.t.Helper()
	inv := r.get(foreignID)
	if inv.Status != status {
		r.t.Errorf("%s: status %s, want %s", foreignID, inv.Status, status)
	}
	if len(inv.Transactions) != len(txs) {
		r.t.Errorf("%s: %d transactions %+v, want %d", foreignID, len(inv.Transactions), inv.Transactions, len(txs))
	}
	for id, st := range txs {
		tx := inv.Transaction(id)
		if tx == nil {
			r.t.Errorf("%s: no transaction %s", foreignID, id)
		} else if tx.Status != st {
			r.t.Errorf("%s: transaction %s is %s, want %s", foreignID, id, tx.Status, st)
		}
	}
	return inv
}

func ether(s string) *big.Int {
	return decimal.RequireFromString(s).Shift(18).BigInt()
}

const (
	unconfirmed = invoice.TxNotConfirmed
	confirmed   = invoice.TxConfirmed
	cancelled   = invoice.TxCancelled
)
