package bitcoin

import (
	"context"
	"errors"
	"fmt"

	"github.com/cryptoinvoice/invoice"
)

// Sequencer hands out durable counters: every call returns a value never
// returned before for that name (0, 1, 2, …), across restarts and
// engines. invoice.Store satisfies it (Store.NextSequence); so does
// e.Store() of an *invoice.Engine.
type Sequencer interface {
	NextSequence(ctx context.Context, name string) (int64, error)
}

// AddressSource is an invoice.AddressSource that derives a fresh deposit
// address for every invoice from an account's extended public key: the
// external chain m/purpose'/coin'/account'/0/i, with i the next value of
// the account's durable sequence (SequenceName), so a restart or a second
// engine never hands out the same address twice. The address's Path
// records where it came from.
//
// # Gap limit
//
// Every invoice that reaches a payment currency takes the next index,
// whether or not it is ever paid, and an index taken by an engine that
// then loses a store race is skipped too. A wallet that holds the private
// key (Sparrow, Electrum, Bitcoin Core, BTCPay, a hardware wallet's
// companion app) only looks ahead "gap limit" unused addresses (usually 20)
// past the last one with funds, so it would not see a payment after more
// than 20 consecutive unpaid invoices. Import the account with a gap
// limit above the longest run of unpaid invoices you expect (1,000 is
// common for merchants), or, to be exact, above the highest index handed
// out so far: the index is the last element of the Path of the newest
// invoice's deposit address. Bitcoin Core descriptors: importdescriptors
// with a range up to that index.
type AddressSource struct {
	acct     *Account
	seq      Sequencer
	currency string
	name     string
}

// SourceOptions configures NewAddressSource; the zero value is the default.
type SourceOptions struct {
	// Currency is the currency code the source serves. Default "BTC".
	// DepositAddress refuses any other currency with ErrCurrency; combine
	// several sources with an invoice.AddressSourceFunc that switches on
	// the currency.
	Currency string
}

// NewAddressSource returns a source deriving addresses of acct, indexed
// by seq.
func NewAddressSource(acct *Account, seq Sequencer, opts SourceOptions) *AddressSource {
	if opts.Currency == "" {
		opts.Currency = "BTC"
	}
	return &AddressSource{
		acct:     acct,
		seq:      seq,
		currency: opts.Currency,
		name:     fmt.Sprintf("bitcoin/%s/%s/%s", acct.net, acct.scheme, acct.id),
	}
}

// SequenceName is the name of the account's sequence in the Sequencer:
// "bitcoin/<network>/<scheme>/<account ID>". One account key always has
// the same name, so engines sharing a store share the sequence.
func (s *AddressSource) SequenceName() string { return s.name }

// Account returns the account addresses are derived from.
func (s *AddressSource) Account() *Account { return s.acct }

// DepositAddress derives the address at the account's next index. It
// implements invoice.AddressSource.
func (s *AddressSource) DepositAddress(ctx context.Context, _ *invoice.Invoice, currency string) (invoice.Address, error) {
	if currency != s.currency {
		return invoice.Address{}, fmt.Errorf("%w: %s (this source serves %s)", ErrCurrency, currency, s.currency)
	}
	for {
		i, err := s.seq.NextSequence(ctx, s.name)
		if err != nil {
			return invoice.Address{}, fmt.Errorf("bitcoin: next derivation index: %w", err)
		}
		if i < 0 || i >= 1<<31 {
			return invoice.Address{}, fmt.Errorf("%w: sequence %s is at %d", ErrIndexExhausted, s.name, i)
		}
		a, err := s.acct.Address(uint32(i))
		if errors.Is(err, ErrIndexExhausted) {
			return invoice.Address{}, err
		} else if err != nil {
			continue // an invalid child key (BIP-32: skip to the next index)
		}
		return invoice.Address{Address: a, Path: s.acct.Path(uint32(i))}, nil
	}
}
