package rates_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/rates"
	"github.com/shopspring/decimal"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMedian(t *testing.T) {
	down := &rates.FeedError{Feed: "x", Pair: "BTC/EUR", StatusCode: 503, Kind: rates.ErrUnavailable}
	tests := []struct {
		name  string
		rates []string // "" is a failing feed
		max   string   // MaxDivergencePercent; "" default 1
		min   int
		want  string // "" expects ErrDiverged
		logs  []string
	}{
		{name: "three agree", rates: []string{"60000", "60100", "60050"}, want: "60050"},
		{name: "one outlier ignored", rates: []string{"60000", "66000", "60100"}, want: "60050",
			logs: []string{`msg="rates: feed ignored as an outlier" feed=f1 pair=BTC/EUR rate=66000 median=60100`}},
		{name: "one outlier low", rates: []string{"60000", "60060", "1"}, want: "60030", logs: []string{"feed=f2", "rate=1 "}},
		{name: "one feed down", rates: []string{"60000", "", "60100"}, want: "60050",
			logs: []string{`msg="rates: feed failed" feed=f1 pair=BTC/EUR`}},
		{name: "two feeds down", rates: []string{"60000", "", ""}},
		{name: "all down", rates: []string{"", "", ""}},
		{name: "two disagree", rates: []string{"60000", "", "66000"}, logs: []string{"feed=f0", "feed=f2"}},
		{name: "wider divergence allowed", rates: []string{"60000", "", "66000"}, max: "10", want: "63000"},
		{name: "one of three is enough when asked", rates: []string{"", "", "60000"}, min: 1, want: "60000"},
		{name: "five, two outliers", rates: []string{"60000", "90000", "60010", "30000", "60020"}, want: "60010"},
		{name: "even count: mean of the middle", rates: []string{"60000", "60001", "60003", "60004"}, want: "60002"},
		{name: "zero and negative are failures", rates: []string{"0", "-60000", "60000"}},
		{name: "exact decimals", rates: []string{"60000.000000000001", "60000.000000000003", ""}, want: "60000.000000000002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []invoice.RateSource
			for i, r := range tt.rates {
				s := &staticSource{name: "f" + string(rune('0'+i))}
				if r == "" {
					s.set("", down)
				} else {
					s.set(r, nil)
				}
				srcs = append(srcs, s)
			}
			var logs syncBuffer
			cfg := rates.MedianConfig{Sources: srcs, MinSources: tt.min, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if tt.max != "" {
				cfg.MaxDivergencePercent = dec(tt.max)
			}
			m, err := rates.NewMedian(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Rate(context.Background(), "BTC", "EUR")
			if tt.want == "" {
				if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrDiverged) || !got.IsZero() {
					t.Fatalf("Rate = %s, %v; want ErrDiverged", got, err)
				}
			} else if err != nil || !got.Equal(dec(tt.want)) {
				t.Fatalf("Rate = %s, %v; want %s", got, err, tt.want)
			}
			for _, l := range tt.logs {
				if !strings.Contains(logs.String(), l) {
					t.Errorf("log lacks %q:\n%s", l, logs.String())
				}
			}
		})
	}
}

// The error of a failed Median carries every feed's error.
func TestMedianErrorKeepsCauses(t *testing.T) {
	limited := &rates.FeedError{Feed: "binance", Pair: "BTC/EUR", StatusCode: 429, RetryAfter: time.Minute, Kind: rates.ErrRateLimited}
	a, b := static("a", "60000"), static("b", "")
	b.set("", limited)
	m, _ := rates.NewMedian(rates.MedianConfig{Sources: []invoice.RateSource{a, b}})
	_, err := m.Rate(context.Background(), "BTC", "EUR")
	var fe *rates.FeedError
	if !errors.As(err, &fe) || fe != limited || !errors.Is(err, rates.ErrRateLimited) {
		t.Fatalf("error %v does not carry the feed's error", err)
	}
	if !strings.Contains(err.Error(), "1 of 2 feeds answered, 2 needed") || !strings.Contains(err.Error(), "binance") {
		t.Errorf("error text %q", err)
	}
}

// A slow feed is cut off by Timeout; the others decide.
func TestMedianSlowFeed(t *testing.T) {
	cb := newFeedServer(t, map[string]reply{coinbaseBTCEUR: {file: "coinbase/spot_btc_eur.json"}})
	kr := newFeedServer(t, map[string]reply{krakenBTCEUR: {hang: true}})
	bn := newFeedServer(t, map[string]reply{binanceBTCEUR: {file: "binance/price_btceur.json", delay: 20 * time.Millisecond}})
	m, err := rates.NewMedian(rates.MedianConfig{
		Sources: []invoice.RateSource{
			&rates.Coinbase{BaseURL: cb.URL, Client: cb.Client()},
			&rates.Kraken{BaseURL: kr.URL, Client: kr.Client()},
			&rates.Binance{BaseURL: bn.URL, Client: bn.Client()},
		},
		Timeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := m.Rate(context.Background(), "BTC", "EUR")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Rate took %s with a 200ms timeout", took)
	}
	want := dec("60123.45").Add(dec("60120.01")).Div(decimal.NewFromInt(2))
	if err != nil || !got.Equal(want) {
		t.Fatalf("Rate = %s, %v; want %s", got, err, want)
	}
}

func TestNewMedianValidates(t *testing.T) {
	s := static("s", "1")
	for _, cfg := range []rates.MedianConfig{
		{},
		{Sources: []invoice.RateSource{nil}},
		{Sources: []invoice.RateSource{s}, MaxDivergencePercent: dec("-1")},
		{Sources: []invoice.RateSource{s}, MaxDivergencePercent: dec("100")},
		{Sources: []invoice.RateSource{s}, MinSources: 2},
		{Sources: []invoice.RateSource{s}, MinSources: -1},
	} {
		if _, err := rates.NewMedian(cfg); !errors.Is(err, invoice.ErrConfig) {
			t.Errorf("NewMedian(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
}
