// Package rates gives the invoice engine live exchange rates: adapters for
// the public price endpoints of Coinbase, Kraken, Binance and CoinGecko,
// and combinators that keep invoices going when one feed misbehaves.
//
// Every adapter and combinator is an invoice.RateSource. A rate is how many
// units of the invoice currency one unit of the payment currency is worth
// (EUR per BTC). Prices are parsed exactly, as decimal strings, never
// through float64, even from feeds that send JSON numbers.
//
// A missing, zero, negative, unparsable or stale rate is always an error
// matching invoice.ErrRate with errors.Is, never a zero amount. Errors of a
// feed are a *FeedError saying which feed, which pair, the HTTP status and
// how long the feed asked to wait (Retry-After), and match one of
// ErrRateLimited, ErrUnknownPair, ErrMalformed, ErrNonPositive or
// ErrUnavailable.
//
// The combinators compose:
//
//   - Cache keeps each pair's rate for at most MaxAge, never longer, and
//     asks its source once per pair however many invoices ask at once.
//   - Median asks several feeds at once and returns the median of those
//     that agree within a maximum divergence; a feed far from the others is
//     ignored and logged.
//   - Fallback tries sources in order until one answers.
//   - Cross computes a rate through a pivot currency (BTC/EUR as BTC/USD ×
//     USD/EUR); Inverse turns EUR/USD into USD/EUR.
//   - Spread lowers the rate of chosen pairs by a percentage.
//
// A typical wiring (see the package example):
//
//	median, _ := rates.NewMedian(rates.MedianConfig{
//		Sources: []invoice.RateSource{&rates.Coinbase{}, &rates.Kraken{}, &rates.Binance{}},
//		Logger:  logger,
//	})
//	engine, _ := invoice.New(invoice.Config{
//		Rates: rates.NewCache(median, rates.CacheConfig{MaxAge: 30 * time.Second}),
//		// ...
//	})
package rates
