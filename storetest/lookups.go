package storetest

import (
	"fmt"
	"slices"
	"sync"

	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

func lookupCases() []testCase {
	return []testCase{
		{"ByCheckoutToken", testByCheckoutToken},
		{"ByAddressNewest", testByAddressNewest},
		{"ByAddressSetByUpdate", testByAddressSetByUpdate},
	}
}

func testByCheckoutToken(f *fixture) {
	t := f.t
	a := f.create()
	b := f.create()
	for _, inv := range []*invoice.Invoice{a, b} {
		got, err := f.s.GetInvoiceByCheckoutToken(ctx(), inv.CheckoutToken)
		require.NoError(t, err)
		requireSame(t, inv, got)
		got.Title = "changed by the caller"
		require.Equal(t, inv.Title, f.get(inv.ID).Title, "GetInvoiceByCheckoutToken returns a copy")
	}
	for _, token := range []string{"", "CT000000000000000000000999", a.CheckoutToken[:10]} {
		_, err := f.s.GetInvoiceByCheckoutToken(ctx(), token)
		require.ErrorIs(t, err, invoice.ErrNotFound, "token %q", token)
	}
	// An invoice without a token is not found by "".
	f.create(func(inv *invoice.Invoice) { inv.CheckoutToken = "" })
	_, err := f.s.GetInvoiceByCheckoutToken(ctx(), "")
	require.ErrorIs(t, err, invoice.ErrNotFound)
}

func testByAddressNewest(f *fixture) {
	t := f.t
	_, err := f.s.GetInvoiceByAddress(ctx(), "bc1qnone")
	require.ErrorIs(t, err, invoice.ErrNotFound)
	f.create() // no address
	_, err = f.s.GetInvoiceByAddress(ctx(), "")
	require.ErrorIs(t, err, invoice.ErrNotFound, `"" finds nothing, not the invoices without an address`)

	withAddr := func(addr string) func(*invoice.Invoice) {
		return func(inv *invoice.Invoice) {
			inv.Deposit = invoice.Address{Address: addr, Path: "m/84'/1'/0'/0/3"}
		}
	}
	older := f.create(withAddr("bc1qshared"))
	other := f.create(withAddr("bc1qother"))
	newer := f.create(withAddr("bc1qshared"))
	require.Greater(t, newer.Number, older.Number)

	got, err := f.s.GetInvoiceByAddress(ctx(), "bc1qshared")
	require.NoError(t, err)
	requireSame(t, newer, got)
	require.Equal(t, "m/84'/1'/0'/0/3", got.Deposit.Path)
	got, err = f.s.GetInvoiceByAddress(ctx(), "bc1qother")
	require.NoError(t, err)
	requireSame(t, other, got)
	_, err = f.s.GetInvoiceByAddress(ctx(), "BC1QOTHER")
	require.ErrorIs(t, err, invoice.ErrNotFound, "addresses match exactly")

	// Updating the older invoice does not make it the newest.
	older.Title = "updated"
	f.update(older)
	got, err = f.s.GetInvoiceByAddress(ctx(), "bc1qshared")
	require.NoError(t, err)
	require.Equal(t, newer.ID, got.ID)
}

func testByAddressSetByUpdate(f *fixture) {
	t := f.t
	inv := f.create()
	_, err := f.s.GetInvoiceByAddress(ctx(), "0xabc")
	require.ErrorIs(t, err, invoice.ErrNotFound)
	inv.Deposit = invoice.Address{Address: "0xabc", Tag: "7"}
	inv.Status = invoice.StatusPending
	f.update(inv)
	got, err := f.s.GetInvoiceByAddress(ctx(), "0xabc")
	require.NoError(t, err)
	requireSame(t, inv, got)
}

func sequenceCases() []testCase {
	return []testCase{
		{"CountsFromZeroPerName", testSequenceCounts},
		{"ConcurrentUnique", testSequenceConcurrent},
	}
}

func testSequenceCounts(f *fixture) {
	t := f.t
	next := func(name string) int64 {
		t.Helper()
		v, err := f.s.NextSequence(ctx(), name)
		require.NoError(t, err)
		return v
	}
	require.Equal(t, int64(0), next("btc/zpub1"))
	require.Equal(t, int64(1), next("btc/zpub1"))
	require.Equal(t, int64(0), next("eth/xpub2"), "each name counts on its own")
	require.Equal(t, int64(2), next("btc/zpub1"))
	require.Equal(t, int64(0), next(""), "the empty name is a name too")
}

func testSequenceConcurrent(f *fixture) {
	t := f.t
	const workers, each = 8, 25
	var (
		mu  sync.Mutex
		got []int64
	)
	errs := concurrently(workers, func(int) error {
		for range each {
			v, err := f.s.NextSequence(ctx(), "shared")
			if err != nil {
				return err
			}
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
		}
		return nil
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	slices.Sort(got)
	want := make([]int64, workers*each)
	for i := range want {
		want[i] = int64(i)
	}
	require.Equal(t, want, got, "%s: every value once, none skipped", fmt.Sprint(workers*each))
}
