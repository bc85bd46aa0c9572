package invoicetest

import (
	"context"
	"encoding/binary"
	"sync/atomic"

	"github.com/cryptoinvoice/invoice"
	"github.com/google/uuid"
)

// Rates returns the static rates used by New: BTC 60,000, BCH 400,
// LTC 80, ETH 3,000 and USDTE 1 EUR (and the same numbers in USD).
func Rates() invoice.StaticRates {
	return invoice.MustStaticRates(
		"BTC/EUR=60000", "BCH/EUR=400", "LTC/EUR=80", "ETH/EUR=3000", "USDTE/EUR=1",
		"BTC/USD=60000", "BCH/USD=400", "LTC/USD=80", "ETH/USD=3000", "USDTE/USD=1",
	)
}

// Addresses is a deterministic invoice.AddressSource: the address for an
// invoice and currency is "<currency>-<foreign_id>", the same on every call.
type Addresses struct {
	calls atomic.Int64
}

// DepositAddress returns "<currency>-<foreign_id>".
func (a *Addresses) DepositAddress(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
	a.calls.Add(1)
	return invoice.Address{Address: currency + "-" + inv.ForeignID}, nil
}

// Calls returns how many addresses were handed out.
func (a *Addresses) Calls() int {
	return int(a.calls.Load())
}

// SequentialIDs returns a deterministic ID source for invoice.Config.NewID:
// 00000000-0000-7000-8000-000000000001, ...-000000000002, ... (valid
// version-7 UUIDs in increasing order). Safe for concurrent use.
func SequentialIDs() func() (uuid.UUID, error) {
	var n atomic.Uint64
	return func() (uuid.UUID, error) {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[8:], n.Add(1))
		id[6] = 0x70  // version 7
		id[8] |= 0x80 // RFC 4122 variant
		return id, nil
	}
}
