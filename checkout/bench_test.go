package checkout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

// benchSite has one pending BTC invoice (payment details with a QR code)
// and one type-1 invoice still choosing (indicative quotes).
func benchSite(b *testing.B) (*testSite, *invoice.Invoice, *invoice.Invoice) {
	s := newSite(b)
	pay := s.create(b, invoice.CreateRequest{ForeignID: "pay", Timer: true, SenderCurrency: "BTC", Email: "a@example.com"})
	choose := s.create(b, invoice.CreateRequest{ForeignID: "choose"})
	return s, pay, choose
}

func serve(b *testing.B, h http.Handler, target string, hdr ...string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK && w.Code != http.StatusNotModified {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkPage renders the checkout page per request.
func BenchmarkPage(b *testing.B) {
	s, pay, choose := benchSite(b)
	b.Run("pay", func(b *testing.B) { serve(b, s.Handler, "/"+pay.CheckoutToken, "Accept-Language", "de-DE,de;q=0.9") })
	b.Run("choose", func(b *testing.B) { serve(b, s.Handler, "/"+choose.CheckoutToken) })
	// Baseline: the same look-up and a minimal hand-written template of
	// the payment details, without layout, i18n, QR code or headers.
	b.Run("baseline", func(b *testing.B) {
		serve(b, minimalPage(s.Engine), "/"+pay.CheckoutToken)
	})
}

// BenchmarkStatus answers the live-status poll per request.
func BenchmarkStatus(b *testing.B) {
	s, pay, _ := benchSite(b)
	target := "/" + pay.CheckoutToken + "/status"
	r := httptest.NewRequest("GET", target, nil)
	w := httptest.NewRecorder()
	s.Handler.ServeHTTP(w, r)
	etag := w.Header().Get("ETag")
	b.Run("changed", func(b *testing.B) { serve(b, s.Handler, target) })
	b.Run("not_modified", func(b *testing.B) { serve(b, s.Handler, target, "If-None-Match", etag) })
	// Baseline: look-up and json.Marshal of status and seconds_left.
	b.Run("baseline", func(b *testing.B) { serve(b, minimalStatus(s.Engine, s.Clock), target) })
}

var minimalTmpl = template.Must(template.New("m").Parse(`<!doctype html><title>{{.Title}}</title>
<p>Pay <code>{{.SenderAmount}}</code> {{.SenderCurrency}} to <code>{{.Deposit.Address}}</code></p>`))

func minimalPage(e *invoice.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inv, err := e.GetByCheckoutToken(r.Context(), strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		_ = minimalTmpl.Execute(&buf, inv)
		_, _ = w.Write(buf.Bytes())
	})
}

func minimalStatus(e *invoice.Engine, clock invoice.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		inv, err := e.GetByCheckoutToken(r.Context(), tok)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		b, _ := json.Marshal(map[string]any{"status": inv.Status.String(), "seconds_left": int64(inv.ExpiresAt.Sub(clock.Now()).Seconds())})
		_, _ = w.Write(b)
	})
}

// watchResult is what a live-status load run measured.
type watchResult struct {
	Requests, Changed, Errors int64
	P50, P90, P99             time.Duration // polls after each watcher's first
	FirstP99                  time.Duration // first polls: connection set-up and a full answer
	PeakHeap                  uint64        // bytes in use at the highest sample
	HeapBefore                uint64
	Goroutines                int
}

// watchLoad runs watchers clients over loopback, each polling the status
// of one of invoices (round robin) every interval with If-None-Match, as
// the page's script does, for d; meanwhile a writer pays one invoice
// after another (seen, then confirmed), so that watchers see changes.
func watchLoad(t testing.TB, watchers, invoices int, interval, d time.Duration) watchResult {
	s := newSite(t, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 1 << 20, Burst: 1 << 20} })
	srv := httptest.NewServer(s.mux())
	defer srv.Close()
	var tokens []string
	for i := range invoices {
		inv := s.create(t, invoice.CreateRequest{ForeignID: fmt.Sprint("w-", i), Timer: true, SenderCurrency: "BTC",
			Email: "a@example.com"})
		tokens = append(tokens, inv.CheckoutToken)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: watchers, MaxIdleConnsPerHost: watchers,
		MaxConnsPerHost: watchers, IdleConnTimeout: time.Minute}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res := watchResult{HeapBefore: ms.HeapInuse}

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var requests, changed, errs atomic.Int64
	lat := make([][]time.Duration, watchers)
	var wg sync.WaitGroup
	for w := range watchers {
		wg.Go(func() {
			url := srv.URL + "/i/" + tokens[w%len(tokens)] + "/status"
			etag := ""
			// Spread the first polls over one interval.
			next := time.Now().Add(time.Duration(w) * interval / time.Duration(watchers))
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(interval)
				req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
				if etag != "" {
					req.Header.Set("If-None-Match", etag)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lat[w] = append(lat[w], time.Since(start))
				requests.Add(1)
				switch resp.StatusCode {
				case http.StatusOK:
					changed.Add(1)
					etag = resp.Header.Get("ETag")
				case http.StatusNotModified:
				default:
					errs.Add(1)
				}
			}
		})
	}
	// The writer: one payment seen and confirmed every 20 ms, round robin.
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			id := fmt.Sprint("w-", i%invoices)
			st := invoice.TxNotConfirmed
			if i/invoices%2 == 1 {
				st = invoice.TxConfirmed
			}
			if i/invoices >= 2 {
				continue // every invoice confirmed: nothing left to change
			}
			if _, err := s.Engine.ReportTransaction(context.Background(), id, invoice.TransactionReport{
				TxID: "tx-" + id, Currency: "BTC", Amount: dec("0.00166667"), Confirmations: int64(st) - 1, Status: st}); err != nil {
				errs.Add(1)
			}
		}
	})
	// Sample the heap while the load runs.
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			res.PeakHeap = max(res.PeakHeap, m.HeapInuse)
			res.Goroutines = max(res.Goroutines, runtime.NumGoroutine())
		}
	})
	wg.Wait()
	var all, first []time.Duration
	for _, l := range lat {
		if len(l) > 0 {
			first = append(first, l[0])
			all = append(all, l[1:]...)
		}
	}
	slices.Sort(first)
	if len(first) > 0 {
		res.FirstP99 = first[len(first)*99/100]
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.P50, res.P90, res.P99 = all[len(all)/2], all[len(all)*9/10], all[len(all)*99/100]
	}
	res.Requests, res.Changed, res.Errors = requests.Load(), changed.Load(), errs.Load()
	return res
}

// TestLiveStatusWatchers is a small run of the load (200 watchers for 2
// seconds) that must show no errors; BenchmarkLiveStatusWatchers is the
// full 1,000.
func TestLiveStatusWatchers(t *testing.T) {
	if testing.Short() {
		t.Skip("load run; skipped with -short")
	}
	r := watchLoad(t, 200, 50, 500*time.Millisecond, 2*time.Second)
	t.Logf("%+v", r)
	require.Zero(t, r.Errors)
	require.Greater(t, r.Requests, int64(200))
	require.Greater(t, r.Changed, int64(200), "every watcher's first poll, then the changes")
	require.Less(t, r.PeakHeap, uint64(256<<20), "bounded memory")
}

// BenchmarkLiveStatusWatchers: 1,000 watchers polling every second (the
// page's default is 3 s) over loopback for 10 seconds per iteration; run
// with -benchtime 1x.
func BenchmarkLiveStatusWatchers(b *testing.B) {
	for b.Loop() {
		r := watchLoad(b, 1000, 200, time.Second, 10*time.Second)
		if r.Errors != 0 {
			b.Fatalf("%d errors", r.Errors)
		}
		b.ReportMetric(float64(r.Requests)/10, "req/s")
		b.ReportMetric(float64(r.Changed), "full-answers")
		b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(r.P90.Microseconds())/1000, "p90-ms")
		b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(r.FirstP99.Microseconds())/1000, "first-p99-ms")
		b.ReportMetric(float64(r.PeakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(r.HeapBefore)/(1<<20), "heap-before-MiB")
		b.ReportMetric(float64(r.Goroutines), "peak-goroutines")
	}
}
