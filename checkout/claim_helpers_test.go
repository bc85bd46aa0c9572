package checkout

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// testBTCAddress is an address the test validator accepts.
const testBTCAddress = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

// btcValidator is a stand-in for a real Bitcoin address check: bech32
// "bc1q" addresses of 42 characters, lower case.
func btcValidator(address string) error {
	if !strings.HasPrefix(address, "bc1q") || len(address) != 42 || strings.ToLower(address) != address {
		return errors.New("not a bech32 P2WPKH address")
	}
	return nil
}

// claimStore fails GetInvoice while fail is set.
type claimStore struct {
	invoice.Store
	fail atomic.Bool
}

func (s *claimStore) GetInvoice(ctx context.Context, id uuid.UUID) (*invoice.Invoice, error) {
	if s.fail.Load() {
		return nil, errors.New("store down")
	}
	return s.Store.GetInvoice(ctx, id)
}

// claimSite is a checkout site whose engine validates BTC destinations,
// runs on a store that can be made to fail, and has one underpaid invoice
// ("o-1") with an open refund claim whose token the customer notifier
// received.
type claimSite struct {
	*testSite
	store *claimStore
	token string
}

func newClaimSite(t testing.TB, engineOpts []func(*invoice.Config), opts ...func(*Config)) *claimSite {
	t.Helper()
	fs := &claimStore{}
	h := invoicetest.New(t, append([]func(*invoice.Config){func(c *invoice.Config) {
		fs.Store = c.Store
		c.Store = fs
		c.CheckoutBaseURL = "http://127.0.0.1/i"
		c.DestinationValidators = map[string]invoice.DestinationValidator{"BTC": btcValidator}
	}}, engineOpts...)...)
	cfg := Config{Engine: h.Engine, MerchantName: "Demo Shop", Clock: h.Clock, RateLimit: RateLimit{PerMinute: 600, Burst: 100}}
	for _, o := range opts {
		o(&cfg)
	}
	hd, err := New(cfg)
	require.NoError(t, err)
	s := &claimSite{testSite: &testSite{Harness: h, Handler: hd}, store: fs}
	s.token = underpay(t, s.testSite, "o-1")
	return s
}

// underpay creates a BTC invoice, pays less than asked and returns the
// token of the refund claim that follows, as delivered to the customer
// notifier.
func underpay(t testing.TB, s *testSite, foreignID string) string {
	t.Helper()
	s.create(t, invoice.CreateRequest{ForeignID: foreignID, Timer: true, SenderCurrency: "BTC", Email: "customer@example.com"})
	s.report(t, foreignID, "tx-"+foreignID, "BTC", "0.001", invoice.TxNotConfirmed)
	inv := s.report(t, foreignID, "tx-"+foreignID, "BTC", "0.001", invoice.TxConfirmed)
	require.Equal(t, invoice.StatusFailed, inv.Status)
	_, err := s.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	notices := s.Customers.Notices(foreignID)
	require.Len(t, notices, 1)
	require.NotEmpty(t, notices[0].Token)
	return notices[0].Token
}

// claim returns the claim of the site's invoice as stored.
func (s *claimSite) claim(t testing.TB) invoice.RefundClaim {
	t.Helper()
	inv, err := s.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, inv.RefundClaims, 1)
	return inv.RefundClaims[0]
}
