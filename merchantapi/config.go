package merchantapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cryptoinvoice/invoice"
)

// Key is one API key pair: the public key the client sends as
// X-Processing-Key and the secret it signs request bodies with.
type Key struct {
	Key    string // public, sent in X-Processing-Key
	Secret string // HMAC-SHA512 key of X-Processing-Signature; never logged
}

// Config configures a Handler. Engine and Keys are required; every other
// zero value means the documented default.
type Config struct {
	// Engine serves every request. Required.
	Engine *invoice.Engine
	// Keys are the accepted key pairs: several at once, so that a client
	// can move to a new pair before the old one is removed. At least one;
	// keys must be unique and neither part empty.
	Keys []Key
	// Prefix is the path the API is served under, e.g. "/api/v2". Default
	// "": both "/api/v2" (what CoinsPaid clients call) and "/v2". "/"
	// serves the endpoints at the root (for a handler mounted with
	// http.StripPrefix).
	Prefix string
	// MaxBodyBytes bounds a request body; a longer one is answered 413.
	// Default 64 KiB.
	MaxBodyBytes int64
	// Clock gives the time seconds_left is counted from: give it the
	// engine's clock. Default invoice.SystemClock.
	Clock invoice.Clock
	// Logger receives one debug record per request and an error record for
	// every unexpected engine error (never secrets, signatures or bodies).
	// Default: discard.
	Logger *slog.Logger
}

// DefaultMaxBodyBytes is the default of Config.MaxBodyBytes.
const DefaultMaxBodyBytes = 64 << 10

// ErrConfig means a Config is invalid.
var ErrConfig = errors.New("merchantapi: invalid configuration")

func (c *Config) setDefaults() {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Clock == nil {
		c.Clock = invoice.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.Engine == nil {
		return bad("Engine is required")
	}
	if len(c.Keys) == 0 {
		return bad("at least one key is required")
	}
	seen := make(map[string]bool, len(c.Keys))
	for i, k := range c.Keys {
		switch {
		case k.Key == "" || k.Secret == "":
			return bad("key %d: key and secret must both be set", i)
		case strings.TrimSpace(k.Key) != k.Key:
			return bad("key %d: the key has surrounding spaces", i)
		case seen[k.Key]:
			return bad("key %d is repeated", i)
		}
		seen[k.Key] = true
	}
	if c.MaxBodyBytes < 0 {
		return bad("MaxBodyBytes must be positive")
	}
	if c.Prefix != "" && (!strings.HasPrefix(c.Prefix, "/") || strings.ContainsAny(c.Prefix, "?#%")) {
		return bad("Prefix %q must start with / and hold no ?, # or %%", c.Prefix)
	}
	return nil
}

// prefixes returns the path prefixes served, without a trailing slash.
func (c *Config) prefixes() []string {
	switch c.Prefix {
	case "":
		return []string{"/api/v2", "/v2"}
	case "/":
		return []string{""}
	}
	return []string{strings.TrimRight(c.Prefix, "/")}
}
