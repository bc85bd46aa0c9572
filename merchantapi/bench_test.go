//go:build unix

package merchantapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/merchantapi"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/shopspring/decimal"
)

// benchBody is a type 3 create request (a rate, an address and a pending
// invoice: the heaviest create) for foreign_id n.
func benchBody(n int) []byte {
	return fmt.Appendf(nil, `{"timer":true,"title":"Order","currency":"EUR","sender_currency":"BTC","amount":"106.75",`+
		`"foreign_id":"bench-%d","email_user":"customer@example.com","url_success":"https:\/\/shop.example\/ok"}`, n)
}

func benchReq(method, path string, body []byte) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sign(req, testKey, testSecret, body)
	return req
}

// discard is a minimal ResponseWriter, so that the benchmark measures the
// handler and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchEnv(b *testing.B) (*invoicetest.Harness, *merchantapi.Handler) {
	h := invoicetest.New(b, func(c *invoice.Config) { c.CheckoutBaseURL = checkoutURL })
	api, err := merchantapi.New(merchantapi.Config{Engine: h.Engine, Clock: h.Clock,
		Keys: []merchantapi.Key{{Key: testKey, Secret: testSecret}}})
	if err != nil {
		b.Fatal(err)
	}
	return h, api
}

const benchChunk = 2048

// cpuMeter adds up the process's CPU time (every thread: the GC's too)
// over the timed parts of a benchmark, so that the cost per request can be
// read on a machine shared with other work, where wall time says little.
type cpuMeter struct {
	b       *testing.B
	total   time.Duration
	started time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func newCPUMeter(b *testing.B) *cpuMeter {
	m := &cpuMeter{b: b, started: cpuTime()}
	b.Cleanup(func() {
		m.total += cpuTime() - m.started
		if b.N > 0 {
			b.ReportMetric(float64(m.total.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	})
	return m
}

// stop and start pause and resume both the benchmark timer and the meter.
func (m *cpuMeter) stop() {
	m.b.StopTimer()
	m.total += cpuTime() - m.started
}

func (m *cpuMeter) start() {
	m.started = cpuTime()
	m.b.StartTimer()
}

// Create through the handler in process vs the engine call alone, on
// memstore: the difference is the handler's overhead (reading, verifying
// the signature, decoding, rendering and encoding). Requests are built and
// signed outside the timer, in chunks.
func BenchmarkCreate(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		h, _ := benchEnv(b)
		ctx := context.Background()
		n := 0
		b.ReportAllocs()
		newCPUMeter(b)
		for b.Loop() {
			n++
			_, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: fmt.Sprint("bench-", n), Title: "Order",
				Amount: decimalOf("106.75"), Currency: "EUR", Timer: true, SenderCurrency: "BTC",
				Email: "customer@example.com", URLSuccess: "https://shop.example/ok"})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("minimal", func(b *testing.B) {
		// The baseline: a hand-written handler for the same effect, strict
		// (typed decoding, no leniency, no OpenAPI shape), to show what the
		// handler's extra work costs.
		h, _ := benchEnv(b)
		serveBatches(b, minimalCreate(h.Engine), createBatch())
	})
	b.Run("handler", func(b *testing.B) {
		_, api := benchEnv(b)
		serveBatches(b, api, createBatch())
	})
}

// createBatch returns a refill for serveBatches: the next benchChunk
// signed create requests, each for a new foreign id.
func createBatch() func() []*http.Request {
	n := 0
	return func() []*http.Request {
		reqs := make([]*http.Request, 0, benchChunk)
		for range benchChunk {
			n++
			reqs = append(reqs, benchReq(http.MethodPost, "/api/v2/invoices/create", benchBody(n)))
		}
		return reqs
	}
}

// serveBatches serves one request to h per b.Loop iteration. Requests come
// from refill in batches (served last first), built outside the timer and
// the CPU meter.
func serveBatches(b *testing.B, h http.Handler, refill func() []*http.Request) {
	w := &discard{h: http.Header{}}
	var reqs []*http.Request
	b.ReportAllocs()
	m := newCPUMeter(b)
	for b.Loop() {
		if len(reqs) == 0 {
			m.stop()
			reqs = refill()
			m.start()
		}
		req := reqs[len(reqs)-1]
		reqs = reqs[:len(reqs)-1]
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// minimalCreate is the smallest handler doing a create the same way: read
// the body, check the HMAC, decode a typed request, call the engine,
// encode a few fields.
func minimalCreate(e *invoice.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.VerifyProcessingSignature(testSecret, body, r.Header.Get("X-Processing-Signature")) != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var req struct {
			Timer          bool            `json:"timer"`
			Title          string          `json:"title"`
			Currency       string          `json:"currency"`
			SenderCurrency string          `json:"sender_currency"`
			Amount         decimal.Decimal `json:"amount"`
			ForeignID      string          `json:"foreign_id"`
			Email          string          `json:"email_user"`
			URLSuccess     string          `json:"url_success"`
		}
		if json.Unmarshal(body, &req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		inv, err := e.Create(r.Context(), invoice.CreateRequest{ForeignID: req.ForeignID, Title: req.Title,
			Amount: req.Amount, Currency: req.Currency, Timer: req.Timer, SenderCurrency: req.SenderCurrency,
			Email: req.Email, URLSuccess: req.URLSuccess})
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		out, _ := json.Marshal(map[string]any{"data": map[string]any{"id": inv.Number, "foreign_id": inv.ForeignID,
			"url": e.CheckoutURL(inv), "status": inv.Status.String(), "amount": inv.Amount.StringFixed(8),
			"sender_amount": inv.SenderAmount.StringFixed(8), "address": inv.Deposit.Address}})
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
}

// Cancel through the handler vs Engine.Cancel, on invoices created outside
// the timer.
func BenchmarkCancel(b *testing.B) {
	// prepare creates benchChunk invoices; the caller stops the timer.
	prepare := func(b *testing.B, h *invoicetest.Harness, from int) []string {
		ids := make([]string, 0, benchChunk)
		for i := range benchChunk {
			id := fmt.Sprint("bench-", from+i)
			_, err := h.Engine.Create(context.Background(), invoice.CreateRequest{ForeignID: id, Title: "Order",
				Amount: decimalOf("106.75"), Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "c@example.com"})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	b.Run("engine", func(b *testing.B) {
		h, _ := benchEnv(b)
		ctx := context.Background()
		var ids []string
		n := 0
		b.ReportAllocs()
		m := newCPUMeter(b)
		for b.Loop() {
			if len(ids) == 0 {
				m.stop()
				ids = prepare(b, h, n)
				n += benchChunk
				m.start()
			}
			if _, err := h.Engine.Cancel(ctx, ids[len(ids)-1]); err != nil {
				b.Fatal(err)
			}
			ids = ids[:len(ids)-1]
		}
	})
	b.Run("handler", func(b *testing.B) {
		h, api := benchEnv(b)
		n := 0
		serveBatches(b, api, func() []*http.Request {
			ids := prepare(b, h, n)
			n += benchChunk
			reqs := make([]*http.Request, 0, len(ids))
			for _, id := range ids {
				reqs = append(reqs, benchReq(http.MethodPost, "/api/v2/invoices/"+id+"/cancel/", []byte("{}")))
			}
			return reqs
		})
	})
}

// TestLoopbackLoad is the bounded load run of BENCHMARKS.md: 64 keep-alive
// connections create and read invoices over loopback for MERCHANTAPI_LOAD
// (e.g. 10s), on memstore; every answer must be a 200. It is skipped unless
// MERCHANTAPI_LOAD is set:
//
//	MERCHANTAPI_LOAD=10s go test -run TestLoopbackLoad -v ./merchantapi
func TestLoopbackLoad(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("MERCHANTAPI_LOAD"))
	if err != nil || d <= 0 {
		t.Skip("set MERCHANTAPI_LOAD=10s to run the loopback load test")
	}
	const conns = 64
	e := newEnv(t)
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		seq       atomic.Int64
		errs      atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	call := func(method, path string, body []byte) bool {
		req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sign(req, testKey, testSecret, body)
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				n := int(seq.Add(1))
				start := time.Now()
				ok := call(http.MethodPost, "/api/v2/invoices/create", benchBody(n))
				mine = append(mine, time.Since(start))
				start = time.Now()
				ok = call(http.MethodGet, fmt.Sprintf("/api/v2/invoices/bench-%d", n), nil) && ok
				mine = append(mine, time.Since(start))
				if !ok {
					errs.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	t.Logf("%d connections, %s: %d requests (%.0f/s), %d errors; latency p50 %s, p99 %s, max %s",
		conns, d, len(latencies), float64(len(latencies))/d.Seconds(), errs.Load(), q(0.5), q(0.99), q(1))
	if errs.Load() != 0 {
		t.Errorf("%d failed requests", errs.Load())
	}
}
