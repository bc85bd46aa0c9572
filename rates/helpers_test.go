package rates_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// reply is one recorded answer of a feed.
type reply struct {
	status int               // default 200
	header map[string]string // extra response headers
	file   string            // body from testdata/<file>
	body   string            // body when file is empty
	delay  time.Duration     // wait before answering (or until the request is cancelled)
	hang   bool              // never answer: wait until the request is cancelled
}

// feedServer replays recorded answers by request URI and counts requests.
type feedServer struct {
	*httptest.Server
	t      testing.TB
	mu     sync.Mutex
	routes map[string]reply
	hits   map[string]int
	header []http.Header // headers of every request
}

func newFeedServer(t testing.TB, routes map[string]reply) *feedServer {
	t.Helper()
	fs := &feedServer{t: t, routes: routes, hits: map[string]int{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	rep, ok := fs.routes[r.URL.RequestURI()]
	fs.hits[r.URL.RequestURI()]++
	fs.header = append(fs.header, r.Header.Clone())
	fs.mu.Unlock()
	if !ok {
		fs.t.Errorf("feed server: unexpected request %s", r.URL.RequestURI())
		http.Error(w, "no such route", http.StatusNotFound)
		return
	}
	if rep.hang {
		<-r.Context().Done()
		return
	}
	if rep.delay > 0 {
		select {
		case <-time.After(rep.delay):
		case <-r.Context().Done():
			return
		}
	}
	body := []byte(rep.body)
	if rep.file != "" {
		var err error
		body, err = os.ReadFile(filepath.Join("testdata", rep.file))
		if err != nil {
			fs.t.Errorf("feed server: %v", err)
		}
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// setRoute replaces one route's answer.
func (fs *feedServer) setRoute(uri string, rep reply) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.routes[uri] = rep
}

// count returns how many requests asked for uri.
func (fs *feedServer) count(uri string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[uri]
}

// total returns how many requests the server got.
func (fs *feedServer) total() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := 0
	for _, c := range fs.hits {
		n += c
	}
	return n
}

// Request URIs of the feeds for BTC/EUR.
const (
	coinbaseBTCEUR  = "/v2/prices/BTC-EUR/spot"
	krakenBTCEUR    = "/0/public/Ticker?pair=XBTEUR"
	binanceBTCEUR   = "/api/v3/ticker/price?symbol=BTCEUR"
	coingeckoBTCEUR = "/api/v3/simple/price?ids=bitcoin&include_last_updated_at=true&precision=full&vs_currencies=eur"
)

// staticSource is a RateSource answering a fixed rate or error, counting calls.
type staticSource struct {
	mu    sync.Mutex
	rate  decimal.Decimal
	err   error
	calls int
	delay time.Duration
	name  string
}

func (s *staticSource) Name() string {
	if s.name == "" {
		return "static"
	}
	return s.name
}

func (s *staticSource) Rate(ctx context.Context, pay, inv string) (decimal.Decimal, error) {
	s.mu.Lock()
	s.calls++
	r, err, d := s.rate, s.err, s.delay
	s.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return decimal.Decimal{}, ctx.Err()
		}
	}
	return r, err
}

func (s *staticSource) set(r string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r != "" {
		s.rate = decimal.RequireFromString(r)
	} else {
		s.rate = decimal.Decimal{}
	}
	s.err = err
}

func (s *staticSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func static(name, r string) *staticSource {
	s := &staticSource{name: name}
	s.set(r, nil)
	return s
}

var _ invoice.RateSource = (*staticSource)(nil)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
