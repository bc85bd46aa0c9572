package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
)

// shop is the merchant's side of the demo: a page to create invoices and
// list them, and (with -simulate) the simulated-payment controls.
type shop struct {
	engine   *invoice.Engine
	base     string
	simulate bool
	out      io.Writer
	orders   atomic.Int64
	txs      atomic.Int64
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("POST /orders", s.newOrder)
	if s.simulate {
		mux.HandleFunc("POST /dev/pay", s.pay)
	}
	cop := http.NewCrossOriginProtection()
	h := cop.Handler(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/i/assets/checkout.css"></head>
<body><main>
<h1>Demo Shop</h1>
{{with .Notice}}<p class="status" role="status">{{.}}</p>{{end}}
<form class="card" method="post" action="/orders">
<h2>New order</h2>
<label for="title">Title</label><input id="title" name="title" value="Coffee beans, 1 kg" maxlength="50" required>
<label for="amount">Amount (EUR)</label><input id="amount" name="amount" value="25.00" inputmode="decimal" required>
<fieldset><legend>Invoice type</legend>
<label class="option"><input type="radio" name="type" value="1" checked> <span class="code">1</span> <span>no timer: the customer picks a currency, the rate is fixed then</span></label>
<label class="option"><input type="radio" name="type" value="2"> <span class="code">2</span> <span>timer: quotes for every currency fixed now, 15 minutes</span></label>
<label class="option"><input type="radio" name="type" value="3"> <span class="code">3</span> <span>timer and BTC pre-selected</span></label>
</fieldset>
<label class="option"><input type="checkbox" name="installments" value="1"> <span>accept installments (good_until_expired)</span></label>
<label for="email">Customer e-mail (optional: else the checkout page asks)</label><input id="email" name="email" type="email">
<p><button type="submit">Create the invoice and open its checkout page</button></p>
</form>
<section class="card"><h2>Orders</h2>
{{if not .Invoices}}<p>No orders yet.</p>{{end}}
<ul class="txs">{{range .Invoices}}
<li><strong>{{.ForeignID}}</strong> {{.Title}}: <span class="tx-status">{{.Status}}</span>{{if .Error}} ({{.Error}}){{end}}
 — <a href="{{.URL}}">checkout page</a>
{{if and $.Simulate .Payable}}<form method="post" action="/dev/pay">
<input type="hidden" name="foreign_id" value="{{.ForeignID}}">
<button name="action" value="seen" class="copy">simulate: full payment seen</button>
<button name="action" value="part" class="copy">simulate: half paid, confirmed</button>
<button name="action" value="confirm" class="copy">simulate: confirm all</button>
</form>{{end}}</li>{{end}}</ul>
</section>
{{if .Simulate}}<p class="warn">Simulated payments are on (-simulate): for development only.</p>{{end}}
</main></body></html>`))

type orderRow struct {
	ForeignID, Title, Status, Error string
	URL                             template.URL
	Payable                         bool
}

func (s *shop) index(w http.ResponseWriter, r *http.Request) {
	page, err := s.engine.List(r.Context(), invoice.ListOptions{Limit: 50})
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	data := struct {
		Notice   string
		Invoices []orderRow
		Simulate bool
	}{Simulate: s.simulate}
	switch {
	case r.URL.Query().Has("paid"):
		data.Notice = "Back from the checkout page: order paid."
	case r.URL.Query().Has("failed"):
		data.Notice = "Back from the checkout page: the payment failed."
	}
	for i := len(page.Invoices) - 1; i >= 0; i-- {
		inv := page.Invoices[i]
		data.Invoices = append(data.Invoices, orderRow{ForeignID: inv.ForeignID, Title: inv.Title, Status: inv.Status.String(),
			Error: inv.Error, URL: template.URL(s.engine.CheckoutURL(inv)),
			Payable: inv.SenderCurrency != "" && inv.Deposit.Address != ""})
	}
	var buf bytes.Buffer
	if err := indexTmpl.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (s *shop) newOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	amount, err := decimal.NewFromString(r.PostForm.Get("amount"))
	if err != nil {
		http.Error(w, "amount: not a number", http.StatusBadRequest)
		return
	}
	n := s.orders.Add(1)
	req := invoice.CreateRequest{
		ForeignID:  "order-" + strconv.FormatInt(n, 10),
		Title:      r.PostForm.Get("title"),
		Amount:     amount,
		Currency:   "EUR",
		Email:      r.PostForm.Get("email"),
		URLSuccess: s.base + "/?paid=" + strconv.FormatInt(n, 10),
		URLFailed:  s.base + "/?failed=" + strconv.FormatInt(n, 10),
	}
	switch r.PostForm.Get("type") {
	case "2":
		req.Timer = true
	case "3":
		req.Timer, req.SenderCurrency = true, "BTC"
	}
	if r.PostForm.Get("installments") != "" {
		req.Mode = invoice.ModeGoodUntilExpired
	}
	inv, err := s.engine.Create(r.Context(), req)
	var verr *invoice.ValidationError
	switch {
	case errors.As(err, &verr):
		http.Error(w, verr.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, "could not create the invoice", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(s.out, "order %s created (%s): %s\n", inv.ForeignID, inv.Type, s.engine.CheckoutURL(inv))
	http.Redirect(w, r, s.engine.CheckoutURL(inv), http.StatusSeeOther)
}

// pay reports a simulated on-chain payment (development only: mounted
// with -simulate).
func (s *shop) pay(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := s.simulatePayment(r.Context(), r.PostForm.Get("foreign_id"), r.PostForm.Get("action")); err != nil {
		if errors.Is(err, invoice.ErrNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// simulatePayment reports what a chain watcher would: "seen" the amount
// still due in the mempool, "part" half of it confirmed, "confirm" every
// transaction still confirming.
func (s *shop) simulatePayment(ctx context.Context, foreignID, action string) error {
	inv, err := s.engine.Get(ctx, foreignID)
	if err != nil {
		return err
	}
	if inv.SenderCurrency == "" {
		return errors.New("the customer has not chosen a currency yet")
	}
	report := func(txid string, amount decimal.Decimal, st invoice.TxStatus, conf int64) error {
		_, err := s.engine.ReportTransaction(ctx, foreignID, invoice.TransactionReport{
			TxID: txid, Currency: inv.SenderCurrency, Amount: amount, Status: st, Confirmations: conf})
		if err == nil {
			fmt.Fprintf(s.out, "simulated %s: %s %s %s\n", st, amount, inv.SenderCurrency, foreignID)
		}
		return err
	}
	due := inv.RemainingAmount()
	if !due.IsPositive() {
		due = inv.SenderAmount
	}
	txid := fmt.Sprintf("sim-%d", s.txs.Add(1))
	switch action {
	case "seen":
		return report(txid, due, invoice.TxNotConfirmed, 0)
	case "part":
		cur, _ := s.engine.Currency(inv.SenderCurrency)
		half := due.Div(decimal.NewFromInt(2)).RoundUp(cur.Precision)
		return report(txid, half, invoice.TxConfirmed, 6)
	case "confirm":
		for _, t := range inv.Transactions {
			if t.Status == invoice.TxNotConfirmed {
				if err := report(t.TxID, t.Amount, invoice.TxConfirmed, 6); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("unknown action %q", action)
}
