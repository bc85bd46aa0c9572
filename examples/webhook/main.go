// Command webhook runs invoices of all three types through success and
// failure paths on an in-memory engine with a fake clock, and delivers
// their callbacks with webhook.Sender to a merchant receiver built on
// webhook.Handler, which verifies and prints each one.
//
//	go run ./examples/webhook
//	go run ./examples/webhook -callback-url https://shop.example/cb -key KEY -secret SECRET
//
// Without -callback-url it starts its own receiver on 127.0.0.1, which
// simulates a short outage (-outage) so that retries show. With it, the
// callbacks go to that external receiver instead. Either way the program
// delivers until every callback is acknowledged, advancing the fake clock
// along the retry schedule, and exits 0 then; it exits 1 if a callback is
// still unacknowledged (or dead) after -max-rounds rounds.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/shopspring/decimal"
)

func main() { os.Exit(run()) }

func run() int {
	callbackURL := flag.String("callback-url", "", "deliver to this external receiver instead of starting one")
	key := flag.String("key", "demo_public_key", "merchant public key (X-Processing-Key)")
	secret := flag.String("secret", "demo_secret", "merchant secret (signs both schemes)")
	outage := flag.Int("outage", 2, "own receiver only: answer 503 to this many first attempts")
	timeout := flag.Duration("timeout", 10*time.Second, "per-attempt timeout")
	maxRounds := flag.Int("max-rounds", 50, "delivery rounds before giving up")
	flag.Parse()

	ctx := context.Background()
	url := *callbackURL
	if url == "" {
		srv := startReceiver(*key, *secret, *outage)
		defer srv.Close()
		url = srv.URL + "/callbacks"
		fmt.Printf("merchant receiver listening on %s\n", url)
	} else {
		fmt.Printf("delivering to external receiver %s\n", url)
	}

	sender, err := webhook.NewSender(webhook.SenderConfig{URL: url, Key: *key, Secret: *secret, Timeout: *timeout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 2
	}
	clock := invoicetest.NewClock(time.Now().UTC().Truncate(time.Second))
	engine, err := invoice.New(invoice.Config{
		Store:            memstore.New(),
		Rates:            invoicetest.Rates(),
		Addresses:        &invoicetest.Addresses{},
		Notifier:         loggingNotifier{sender, clock},
		CustomerNotifier: invoice.CustomerNotifierFunc(printNotice),
		// memstore lives as long as the process: a key made now is enough.
		// With a shared store, every instance loads the same key.
		RefundTokenKeys: [][]byte{invoice.NewRefundTokenKey()},
		Clock:           clock,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 2
	}

	d := &demo{ctx: ctx, e: engine, clock: clock, prefix: fmt.Sprintf("demo-%d-", time.Now().Unix())}
	d.scenarios()
	if d.err != nil {
		fmt.Fprintln(os.Stderr, "error:", d.err)
		return 2
	}
	return d.deliverAll(*maxRounds)
}

// demo drives the engine; the first error stops it.
type demo struct {
	ctx    context.Context
	e      *invoice.Engine
	clock  *invoicetest.Clock
	prefix string
	ids    []string
	err    error
}

func (d *demo) step(what string, fn func() (*invoice.Invoice, error)) {
	if d.err != nil {
		return
	}
	inv, err := fn()
	if err != nil {
		d.err = fmt.Errorf("%s: %w", what, err)
		return
	}
	line := fmt.Sprintf("engine:   %-28s %-31s → %s", inv.ForeignID, what, inv.Status)
	if inv.Error != "" {
		line += " (" + inv.Error + ")"
	}
	fmt.Println(line)
}

func (d *demo) create(title string, req invoice.CreateRequest) string {
	req.ForeignID = d.prefix + req.ForeignID
	req.Title, req.Amount, req.Currency = title, decimal.NewFromInt(100), "EUR"
	d.ids = append(d.ids, req.ForeignID)
	d.step("create "+invoice.Type(typeOf(req)).String(), func() (*invoice.Invoice, error) { return d.e.Create(d.ctx, req) })
	return req.ForeignID
}

func typeOf(req invoice.CreateRequest) invoice.Type {
	t, _ := invoice.TypeOf(req.Timer, req.SenderCurrency)
	return t
}

func (d *demo) confirm(id, currency, email string) {
	d.step("customer confirms "+currency, func() (*invoice.Invoice, error) {
		return d.e.ConfirmPayment(d.ctx, id, invoice.Confirmation{Currency: currency, Email: email})
	})
}

func (d *demo) tx(id, txid, currency, amount string, st invoice.TxStatus) {
	conf := int64(0)
	if st == invoice.TxConfirmed {
		conf = 3
	}
	d.step(fmt.Sprintf("tx %s %s %s", amount, currency, st), func() (*invoice.Invoice, error) {
		return d.e.ReportTransaction(d.ctx, id, invoice.TransactionReport{
			TxID: txid, Currency: currency, Amount: decimal.RequireFromString(amount), Confirmations: conf, Status: st,
		})
	})
}

// deliver delivers what is due now.
func (d *demo) deliver() {
	if d.err != nil {
		return
	}
	if _, err := d.e.DeliverDue(d.ctx); err != nil {
		d.err = err
	}
}

func (d *demo) scenarios() {
	const email = "customer@example.com"

	fmt.Println("\n# Type 2 (timer): nobody pays; the timer expires")
	id := d.create("Type 2", invoice.CreateRequest{ForeignID: "t2-expired", Timer: true})
	if d.err == nil {
		d.clock.Advance(16 * time.Minute)
		fmt.Println("clock:    +16m")
		n, err := d.e.Sweep(d.ctx)
		if err != nil {
			d.err = err
			return
		}
		fmt.Printf("engine:   sweep failed %d overdue invoice(s)\n", n)
	}
	d.step("after sweep", func() (*invoice.Invoice, error) { return d.e.Get(d.ctx, id) })
	d.deliver()

	fmt.Println("\n# Type 1 (no timer): customer picks LTC, pays, confirmed")
	id = d.create("Type 1", invoice.CreateRequest{ForeignID: "t1-paid"})
	d.confirm(id, "LTC", email)
	d.tx(id, "ltc-tx-1", "LTC", "1.25", invoice.TxNotConfirmed)
	d.tx(id, "ltc-tx-1", "LTC", "1.25", invoice.TxConfirmed)
	d.deliver()

	fmt.Println("\n# Type 2 (timer, quote table): customer picks USDT, pays, confirmed")
	id = d.create("Type 2", invoice.CreateRequest{ForeignID: "t2-paid", Timer: true, Email: email})
	d.confirm(id, "USDT", "")
	d.tx(id, "usdt-tx-1", "USDT", "100", invoice.TxNotConfirmed)
	d.tx(id, "usdt-tx-1", "USDT", "100", invoice.TxConfirmed)
	d.deliver()

	fmt.Println("\n# Type 3 (timer + BTC): paid in two installments (good_until_expired), confirmed")
	id = d.create("Type 3", invoice.CreateRequest{ForeignID: "t3-paid", Timer: true, SenderCurrency: "BTC",
		Email: email, Mode: invoice.ModeGoodUntilExpired})
	d.tx(id, "btc-tx-1", "BTC", "0.001", invoice.TxNotConfirmed)
	d.tx(id, "btc-tx-2", "BTC", "0.00066667", invoice.TxNotConfirmed)
	d.tx(id, "btc-tx-1", "BTC", "0.001", invoice.TxConfirmed)
	d.tx(id, "btc-tx-2", "BTC", "0.00066667", invoice.TxConfirmed)
	d.deliver()

	fmt.Println("\n# Type 3 (timer + BTC): underpaid → failed, refund claim")
	id = d.create("Type 3", invoice.CreateRequest{ForeignID: "t3-underpaid", Timer: true, SenderCurrency: "BTC", Email: email})
	d.tx(id, "btc-tx-3", "BTC", "0.001", invoice.TxNotConfirmed)
	d.tx(id, "btc-tx-3", "BTC", "0.001", invoice.TxConfirmed)
	d.deliver()

	fmt.Println("\n# Type 1 (no timer): cancelled")
	id = d.create("Type 1", invoice.CreateRequest{ForeignID: "t1-cancelled"})
	d.confirm(id, "BTC", email)
	d.step("cancel", func() (*invoice.Invoice, error) { return d.e.Cancel(d.ctx, id) })
	d.deliver()

}

// deliverAll delivers until every merchant callback is acknowledged,
// advancing the fake clock to the next scheduled retry between rounds.
func (d *demo) deliverAll(maxRounds int) int {
	fmt.Println("\n# Delivering until every callback is acknowledged")
	for round := 1; ; round++ {
		if _, err := d.e.DeliverDue(d.ctx); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 2
		}
		total, acked, dead, next, err := d.outbox()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 2
		}
		pending := total - acked - dead
		if pending == 0 || round >= maxRounds {
			fmt.Printf("\n%d callbacks: %d acknowledged, %d dead, %d pending\n", total, acked, dead, pending)
			if acked == total {
				fmt.Println("all callbacks acknowledged")
				return 0
			}
			if pending > 0 {
				fmt.Printf("gave up after %d rounds\n", round)
			}
			return 1
		}
		wait := next.Sub(d.clock.Now())
		if wait > 0 {
			d.clock.Advance(wait)
		}
		fmt.Printf("clock:    +%s to the next retry (%d callbacks pending)\n", wait.Round(time.Second), pending)
	}
}

// outbox counts the merchant deliveries and finds the earliest retry: the
// next attempt of the first pending callback of each invoice (the ones
// after it wait for it, whatever their own NextAttemptAt says).
func (d *demo) outbox() (total, acked, dead int, next time.Time, err error) {
	for _, id := range d.ids {
		ds, err := d.e.Deliveries(d.ctx, id)
		if err != nil {
			return 0, 0, 0, time.Time{}, err
		}
		var head *invoice.Delivery
		for _, del := range ds {
			if del.Channel != invoice.ChannelMerchant {
				continue
			}
			total++
			switch del.State {
			case invoice.DeliveryDelivered:
				acked++
			case invoice.DeliveryDead:
				dead++
			default:
				if head == nil || del.Seq < head.Seq {
					head = del
				}
			}
		}
		if head != nil && (next.IsZero() || head.NextAttemptAt.Before(next)) {
			next = head.NextAttemptAt
		}
	}
	return total, acked, dead, next, nil
}

// loggingNotifier prints each attempt of the Sender.
type loggingNotifier struct {
	s     *webhook.Sender
	clock *invoicetest.Clock
}

func (l loggingNotifier) Notify(ctx context.Context, d *invoice.Delivery) error {
	err := l.s.Notify(ctx, d)
	outcome := "acknowledged"
	if err != nil {
		outcome = "FAILED: " + err.Error()
	}
	fmt.Printf("sender:   %-28s %-10s attempt %d → %s\n", d.Callback.ForeignID, d.Callback.Status,
		len(d.Attempts)+1, outcome)
	return err
}

func printNotice(_ context.Context, n *invoice.RefundNotice) error {
	fmt.Printf("customer: %-28s refund claim for %s %s (%s), link token %s…\n",
		n.ForeignID, n.Amount, n.Currency, n.Reason, n.Token[:min(len(n.Token), 12)])
	return nil
}

// startReceiver starts the merchant's endpoint: webhook.Handler verifying
// both signature schemes, deduping on the delivery id and printing each
// callback. The first outage attempts are answered 503 before reaching it.
func startReceiver(key, secret string, outage int) *httptest.Server {
	var (
		mu       sync.Mutex
		seen     = map[string]bool{}
		refusals = outage
	)
	verifier := &webhook.Verifier{Key: key, Secret: secret}
	handler := webhook.Handler(verifier, func(_ context.Context, cb *invoice.Callback, meta webhook.Meta) error {
		mu.Lock()
		defer mu.Unlock()
		if seen[meta.ID] {
			fmt.Printf("merchant: %-28s duplicate delivery %s ignored\n", cb.ForeignID, meta.ID)
			return nil
		}
		seen[meta.ID] = true
		var b strings.Builder
		fmt.Fprintf(&b, "merchant: %-28s %-10s", cb.ForeignID, cb.Status)
		if cb.CurrencySent.Currency != "" {
			paid := cb.CurrencySent.Amount.Sub(cb.CurrencySent.RemainingAmount.Decimal)
			fmt.Fprintf(&b, " paid %s of %s %s", paid, cb.CurrencySent.Amount.String(), cb.CurrencySent.Currency)
		}
		fmt.Fprintf(&b, " for %s %s, %d tx", cb.CurrencyReceived.Amount.String(), cb.CurrencyReceived.Currency, len(cb.Transactions))
		if cb.Error != "" {
			fmt.Fprintf(&b, ", error %q", cb.Error)
		}
		fmt.Fprintf(&b, " (verified %s, delivery …%s)", meta.Verified, meta.ID[len(meta.ID)-12:])
		fmt.Println(b.String())
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/callbacks", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		refuse := refusals > 0
		if refuse {
			refusals--
		}
		mu.Unlock()
		if refuse {
			fmt.Println("merchant: (simulated outage: answering 503)")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	return httptest.NewServer(mux)
}
