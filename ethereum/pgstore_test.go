package ethereum

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// pgStore returns a migrated pgstore in a fresh schema dropped at the end,
// on DATABASE_URL (default the machine's test database). It skips without
// PostgreSQL, or fails under CI=true.
func pgStore(t *testing.T) *pgstore.Store {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s not reachable (CI=true): %v", url, err)
		}
		t.Skipf("PostgreSQL at %s not reachable; start it or set DATABASE_URL: %v", url, err)
	}
	t.Cleanup(pool.Close)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "eth_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	s, err := pgstore.New(pool, pgstore.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// Two engines on one PostgreSQL database hand out different deposit
// addresses from the shared durable counter, and a payment watched
// through one is seen by both (GetByAddress on the indexed column).
func TestOnPostgreSQL(t *testing.T) {
	store := pgStore(t)
	n := startNode(t)
	usdte := n.deployToken(6)
	engines := make([]*invoicetest.Harness, 2)
	for i := range engines {
		engines[i] = invoicetest.New(t, func(cfg *invoice.Config) {
			cfg.Store = store
			cfg.NewID = nil // UUIDv7 from crypto/rand: the engines share one table
			a, err := NewAddresses(AddressConfig{AccountXPub: testXPub, Sequences: store})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Addresses = a
		})
	}
	ctx := context.Background()
	seen := map[string]string{}
	for i := range 6 {
		h := engines[i%2]
		id := "pg-" + string(rune('a'+i))
		inv, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: id, Title: id,
			Amount: decimal.RequireFromString("30"), Currency: "EUR", Timer: true, SenderCurrency: "USDTE", Email: "payer@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[inv.Deposit.Address]; dup {
			t.Fatalf("%s and %s share %s", other, id, inv.Deposit.Address)
		}
		seen[inv.Deposit.Address] = id
		got, err := engines[(i+1)%2].Engine.Get(ctx, id)
		if err != nil || got.Deposit.Path == "" || got.Deposit.Path != inv.Deposit.Path {
			t.Fatalf("stored deposit %+v, %v; want path %q", got.Deposit, err, inv.Deposit.Path)
		}
	}
	first, err := engines[0].Engine.Get(ctx, "pg-a")
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Client: n.Client, Engine: engines[0].Engine, Checkpoints: &MemoryCheckpoints{},
		Tokens: []Token{{Currency: "USDTE", Contract: usdte, Decimals: 6}}, Confirmations: 2, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tx := n.transfer(usdte, common.HexToAddress(first.Deposit.Address), 30_000000).Hex()
	n.mine(1)
	if err := w.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := engines[1].Engine.GetByAddress(ctx, first.Deposit.Address)
	if err != nil || got.ForeignID != "pg-a" || got.Status != invoice.StatusConfirmed || got.Transaction(tx) == nil {
		t.Fatalf("through the other engine: %+v, %v", got, err)
	}
}
