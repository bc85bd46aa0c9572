package checkout

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/checkout/i18n"
)

// Config configures a Handler. Engine is required; every other zero value
// means the documented default.
type Config struct {
	// Engine is the invoice engine whose invoices the pages show. Required.
	Engine *invoice.Engine
	// MerchantName is shown in the page header and title. Default "".
	MerchantName string
	// Logo is the merchant's logo image, served by the handler itself (no
	// external request); LogoType is its media type, one of image/png,
	// image/jpeg, image/webp, image/svg+xml. Default: no logo.
	Logo     []byte
	LogoType string
	// Languages are the offered languages (BCP 47, each with a catalog in
	// Catalogs). Default: every catalog. DefaultLanguage (default "en")
	// is used when the customer's Accept-Language matches none.
	Languages       []string
	DefaultLanguage string
	// Catalogs are the message catalogs. Default: the embedded ones
	// (locales/*.json: English and German).
	Catalogs *i18n.Bundle
	// Clock tells the time for countdowns; use the engine's clock.
	// Default invoice.SystemClock.
	Clock invoice.Clock
	// Networks says, per payment currency, which network it is paid on and
	// how its payment URI is built. Default DefaultNetworks(); a currency
	// without an entry is shown with its code as the network and no QR code.
	Networks map[string]Network
	// PollInterval is how often the page's script asks for the status.
	// Default 3 seconds. Without JavaScript the page reloads itself every
	// NoScriptRefresh (default 15 seconds) while a payment is awaited.
	PollInterval    time.Duration
	NoScriptRefresh time.Duration
	// RateLimit bounds, per client, the confirmations and the look-ups of
	// unknown tokens (each a token from a bucket). Default 30 per minute
	// with a burst of 10. Status polls and page views of a known invoice
	// are not limited.
	RateLimit RateLimit
	// ClientIP returns the client key for rate limiting. Default: the host
	// of Request.RemoteAddr. Behind a reverse proxy, return the address it
	// reports.
	ClientIP func(*http.Request) string
	// Logger receives errors of the store and the engine; request paths
	// (which carry tokens) are never logged. Default: discard.
	Logger *slog.Logger
}

// DefaultCatalogs loads the embedded message catalogs (locales/*.json:
// English and German) with defaultLang as the default and, when langs is
// not empty, only those languages offered. The customer e-mail shares
// them, so that a customer reads the same words (reason texts under
// "reason.*", say) on the page and in the mail.
func DefaultCatalogs(defaultLang string, langs ...string) (*i18n.Bundle, error) {
	b, err := i18n.Load(localesFS, "locales", defaultLang, langs...)
	if err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	return b, nil
}

// RateLimit is a token bucket: Burst requests at once, refilled at
// PerMinute.
type RateLimit struct {
	// PerMinute is how many requests a client's bucket regains a minute.
	PerMinute int
	// Burst is the bucket's size: how many requests a client may make at
	// once.
	Burst int
}

func (c *Config) setDefaults() error {
	if c.Clock == nil {
		c.Clock = invoice.SystemClock{}
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = "en"
	}
	if c.Catalogs == nil {
		b, err := DefaultCatalogs(c.DefaultLanguage, c.Languages...)
		if err != nil {
			return err
		}
		c.Catalogs = b
	}
	if c.Networks == nil {
		c.Networks = DefaultNetworks()
	}
	if c.PollInterval == 0 {
		c.PollInterval = 3 * time.Second
	}
	if c.NoScriptRefresh == 0 {
		c.NoScriptRefresh = 15 * time.Second
	}
	if c.RateLimit == (RateLimit{}) {
		c.RateLimit = RateLimit{PerMinute: 30, Burst: 10}
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteHost
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func (c *Config) validate() error {
	switch {
	case c.Engine == nil:
		return errors.New("checkout: Config.Engine is required")
	case len(c.Logo) > 0 && !allowedLogoTypes[c.LogoType]:
		return fmt.Errorf("checkout: LogoType %q is not one of image/png, image/jpeg, image/webp, image/svg+xml", c.LogoType)
	case c.PollInterval < 0 || c.NoScriptRefresh < 0:
		return errors.New("checkout: intervals must be positive")
	case c.RateLimit.PerMinute <= 0 || c.RateLimit.Burst <= 0:
		return errors.New("checkout: RateLimit needs a positive PerMinute and Burst")
	}
	for code, n := range c.Networks {
		if err := n.validate(code); err != nil {
			return err
		}
	}
	return nil
}

var allowedLogoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true, "image/svg+xml": true}

// remoteHost is the default ClientIP: the host part of RemoteAddr.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
