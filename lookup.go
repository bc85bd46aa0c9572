package invoice

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// GetByAddress returns the newest invoice (highest Number) whose deposit
// address is exactly address, or an error matching ErrNotFound. Chain
// watchers use it to find the invoice a payment is for, then report it
// with ReportTransaction under the invoice's ForeignID.
func (e *Engine) GetByAddress(ctx context.Context, address string) (*Invoice, error) {
	if address == "" || len(address) > maxAddressLen || !utf8.ValidString(address) || strings.IndexByte(address, 0) >= 0 {
		return nil, fmt.Errorf("invoice: no invoice has deposit address %q: %w", address, ErrNotFound)
	}
	inv, err := e.cfg.Store.GetInvoiceByAddress(ctx, address)
	if err != nil {
		return nil, fmt.Errorf("invoice: deposit address %q: %w", address, err)
	}
	return inv, nil
}

// maxAddressLen bounds deposit addresses (with room for the longest
// formats, such as a Cardano or Monero address).
const maxAddressLen = 255

// Store returns the engine's store, for what hosts and adapters build
// beside the engine (such as an address source taking its derivation
// indexes from Store.NextSequence).
func (e *Engine) Store() Store { return e.cfg.Store }
