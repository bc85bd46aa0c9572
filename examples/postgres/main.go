// Command postgres runs one invoice through its lifecycle on PostgreSQL
// and prints the callbacks a merchant receives.
//
// It connects to DATABASE_URL (default: the local test database), creates
// or upgrades the tables (pgstore.Migrate), creates the invoice inside a
// transaction together with an "order" row (Store.WithTx and
// Engine.CreateIn), then confirms the payment currency, reports a
// transaction seen and confirmed (slightly overpaid, so the customer also
// gets a refund claim), and delivers the outbox with printing notifiers.
//
//	go run ./examples/postgres
//	DATABASE_URL=postgres://user:pass@host:5432/db go run ./examples/postgres -schema invoice_demo
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/pgstore"
)

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func main() {
	schema := flag.String("schema", pgstore.DefaultSchema, "PostgreSQL schema for the invoice tables")
	flag.Parse()
	if err := run(context.Background(), *schema); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, schema string) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = defaultDatabaseURL
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()

	store, err := pgstore.New(pool, pgstore.WithSchema(schema))
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	fmt.Printf("schema %q migrated to version %d\n", store.Schema(), pgstore.SchemaVersion())

	// Refund links are derived from this key: every instance on the
	// database must load the same one, from a secret store, never from the
	// database (REFUND_TOKEN_KEY, base64, at least 32 bytes).
	refundKey, err := base64.StdEncoding.DecodeString(os.Getenv("REFUND_TOKEN_KEY"))
	if err != nil {
		return fmt.Errorf("REFUND_TOKEN_KEY: %w", err)
	}
	if len(refundKey) == 0 {
		refundKey = invoice.NewRefundTokenKey()
		fmt.Println("REFUND_TOKEN_KEY is not set: using a key made now (refund links of this run die with it)")
	}
	engine, err := invoice.New(invoice.Config{
		Store: store,
		Rates: invoice.MustStaticRates("BTC/EUR=60000", "ETH/EUR=3000", "LTC/EUR=80", "BCH/EUR=400", "USDT/EUR=1"),
		Addresses: invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
			return invoice.Address{Address: "bc1q-demo-" + inv.ForeignID}, nil
		}),
		Notifier: invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
			body, err := json.MarshalIndent(d.Callback, "    ", "  ")
			if err != nil {
				return err
			}
			fmt.Printf("  callback %s (delivery %s):\n    %s\n", d.Callback.Status, d.ID, body)
			return nil
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			fmt.Printf("  e-mail to %s: refund claim of %s %s (%s)\n", n.Email, n.Amount, n.Currency, n.Reason)
			return nil
		}),
		RefundTokenKeys: [][]byte{refundKey},
	})
	if err != nil {
		return err
	}

	// The order and its invoice commit together, or neither does.
	foreignID := fmt.Sprintf("order-%d", time.Now().UnixNano())
	orders := pgx.Identifier{store.Schema(), "example_orders"}.Sanitize()
	if _, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+orders+" (id text PRIMARY KEY, invoice_number bigint NOT NULL)"); err != nil {
		return err
	}
	var inv *invoice.Invoice
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		inv, err = engine.CreateIn(ctx, store.WithTx(tx), invoice.CreateRequest{
			ForeignID: foreignID, Title: "Example order", Amount: decimal.RequireFromString("100.00"), Currency: "EUR",
		})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO "+orders+" VALUES ($1, $2)", foreignID, inv.Number)
		return err
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Printf("created invoice %d (%s), status %s\n", inv.Number, inv.ForeignID, inv.Status)

	if inv, err = engine.ConfirmPayment(ctx, foreignID, invoice.Confirmation{Currency: "BTC", Email: "buyer@example.com"}); err != nil {
		return err
	}
	fmt.Printf("customer chose BTC: pay %s BTC to %s\n", inv.SenderAmount, inv.Deposit.Address)
	paid := inv.SenderAmount.Add(decimal.RequireFromString("0.00000100"))
	for confs, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		if inv, err = engine.ReportTransaction(ctx, foreignID, invoice.TransactionReport{
			TxID: "demo-tx-" + foreignID, Currency: "BTC", Amount: paid, Confirmations: int64(confs), Status: st,
		}); err != nil {
			return err
		}
		fmt.Printf("transaction %s: invoice %s\n", st, inv.Status)
	}

	fmt.Println("delivering the outbox:")
	n, err := engine.DeliverDue(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%d deliveries acknowledged\n", n)

	ds, err := engine.Deliveries(ctx, foreignID)
	if err != nil {
		return err
	}
	fmt.Println("stored outbox:")
	for _, d := range ds {
		what := "refund notice"
		if d.Callback != nil {
			what = "callback " + d.Callback.Status.String()
		}
		fmt.Printf("  seq %-6d %-8s %-20s %s, %d attempt(s)\n", d.Seq, d.Channel, what, d.State, len(d.Attempts))
	}
	return nil
}
