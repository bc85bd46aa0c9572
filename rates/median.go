package rates

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// MedianConfig configures a Median. Every zero value means the documented
// default.
type MedianConfig struct {
	// Sources are the feeds asked, all at once. Required: at least one.
	Sources []invoice.RateSource
	// MaxDivergencePercent is how far, in percent of the median of all
	// answers, a feed's rate may be and still count. Default 1; must be
	// in (0, 100).
	MaxDivergencePercent decimal.Decimal
	// MinSources is how many feeds must answer and agree. Default a
	// majority of Sources (2 of 3, 3 of 4 or 5).
	MinSources int
	// Timeout bounds each feed's answer. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a warning for every feed that failed or was ignored
	// as an outlier. Default: discard.
	Logger *slog.Logger
}

// Median is a RateSource that asks several feeds at once and returns the
// median of the rates that agree: a rate farther than MaxDivergencePercent
// from the median of all answers is ignored (and logged), and then the
// median of the rest is returned, if at least MinSources remain.
// Otherwise the error matches invoice.ErrRate and ErrDiverged, and every
// feed's error. Safe for concurrent use.
type Median struct {
	cfg MedianConfig
}

// NewMedian checks cfg and returns a Median. Its error matches
// invoice.ErrConfig.
func NewMedian(cfg MedianConfig) (*Median, error) {
	if len(cfg.Sources) == 0 {
		return nil, fmt.Errorf("%w: rates.MedianConfig.Sources is empty", invoice.ErrConfig)
	}
	for i, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("%w: rates.MedianConfig.Sources[%d] is nil", invoice.ErrConfig, i)
		}
	}
	if cfg.MaxDivergencePercent.IsZero() {
		cfg.MaxDivergencePercent = decimal.NewFromInt(1)
	}
	if !cfg.MaxDivergencePercent.IsPositive() || cfg.MaxDivergencePercent.GreaterThanOrEqual(decimal.NewFromInt(100)) {
		return nil, fmt.Errorf("%w: rates.MedianConfig.MaxDivergencePercent %s out of (0, 100)", invoice.ErrConfig, cfg.MaxDivergencePercent)
	}
	if cfg.MinSources == 0 {
		cfg.MinSources = len(cfg.Sources)/2 + 1
	}
	if cfg.MinSources < 1 || cfg.MinSources > len(cfg.Sources) {
		return nil, fmt.Errorf("%w: rates.MedianConfig.MinSources %d out of [1, %d]", invoice.ErrConfig, cfg.MinSources, len(cfg.Sources))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Median{cfg: cfg}, nil
}

// quote is one feed's answer.
type quote struct {
	name string
	rate decimal.Decimal
	err  error
}

// Rate asks every source and returns the median of those that agree.
func (m *Median) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	pair := pairKey(payCurrency, invoiceCurrency)
	quotes := make([]quote, len(m.cfg.Sources))
	var wg sync.WaitGroup
	for i, src := range m.cfg.Sources {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
			defer cancel()
			q := quote{name: sourceName(i, src)}
			q.rate, q.err = src.Rate(ctx, payCurrency, invoiceCurrency)
			if q.err == nil && !q.rate.IsPositive() {
				q.err = rateError(ErrNonPositive, pair, fmt.Sprintf("%s gave %s", q.name, q.rate))
			}
			quotes[i] = q
		})
	}
	wg.Wait()

	var ok []quote
	var errs []error
	for _, q := range quotes {
		if q.err != nil {
			m.cfg.Logger.WarnContext(ctx, "rates: feed failed", "feed", q.name, "pair", pair, "err", q.err)
			errs = append(errs, fmt.Errorf("%s: %w", q.name, q.err))
			continue
		}
		ok = append(ok, q)
	}
	if len(ok) < m.cfg.MinSources {
		return decimal.Decimal{}, rateError(ErrDiverged, pair,
			fmt.Sprintf("%d of %d feeds answered, %d needed", len(ok), len(quotes), m.cfg.MinSources), errs...)
	}
	mid := median(ok)
	limit := mid.Mul(m.cfg.MaxDivergencePercent).Shift(-2)
	agree := ok[:0:0]
	for _, q := range ok {
		if q.rate.Sub(mid).Abs().GreaterThan(limit) {
			m.cfg.Logger.WarnContext(ctx, "rates: feed ignored as an outlier", "feed", q.name, "pair", pair,
				"rate", q.rate.String(), "median", mid.String(), "max_divergence_percent", m.cfg.MaxDivergencePercent.String())
			errs = append(errs, fmt.Errorf("%s: rate %s is more than %s%% from the median %s", q.name, q.rate, m.cfg.MaxDivergencePercent, mid))
			continue
		}
		agree = append(agree, q)
	}
	if len(agree) < m.cfg.MinSources {
		return decimal.Decimal{}, rateError(ErrDiverged, pair,
			fmt.Sprintf("%d of %d feeds agree within %s%%, %d needed", len(agree), len(quotes), m.cfg.MaxDivergencePercent, m.cfg.MinSources), errs...)
	}
	return median(agree), nil
}

// median returns the median rate of qs (not empty): the middle one, or the
// mean of the two middle ones (exact: their sum halved).
func median(qs []quote) decimal.Decimal {
	r := make([]decimal.Decimal, len(qs))
	for i, q := range qs {
		r[i] = q.rate
	}
	sort.Slice(r, func(i, j int) bool { return r[i].LessThan(r[j]) })
	n := len(r)
	if n%2 == 1 {
		return r[n/2]
	}
	return r[n/2-1].Add(r[n/2]).Mul(decimal.New(5, -1))
}
