package pgstore_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

// An update from a version this Store has read writes only the columns
// that changed (and sweep_at): a column changed behind its back without a
// new version (which nothing but this test does) is left as it is. An
// update from a version it has not read, or through WithTx, writes every
// column. The batched update does the same for the union of what changed.
func TestUpdateWritesOnlyWhatChanged(t *testing.T) {
	s := newStore(t)
	ident := pgx.Identifier{s.Schema()}.Sanitize()
	sneak := func(id any) {
		t.Helper()
		_, err := s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET description = 'sneaked in' WHERE id = $1", id)
		require.NoError(t, err)
	}
	description := func(id any) string {
		t.Helper()
		var d string
		require.NoError(t, s.Pool().QueryRow(bg(), "SELECT description FROM "+ident+".invoices WHERE id = $1", id).Scan(&d))
		return d
	}
	inv := newInvoice(t, "lean")
	require.NoError(t, s.CreateInvoice(bg(), inv))

	read, err := s.GetInvoiceByForeignID(bg(), "lean") // remembered at version 1
	require.NoError(t, err)
	sneak(inv.ID)
	read.Title = "changed"
	require.NoError(t, s.UpdateInvoice(bg(), read, nil))
	require.Equal(t, "sneaked in", description(inv.ID), "description did not change: not written")
	got, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, "changed", got.Title)

	// Not read at this version by that Store: every column is written.
	other := newStoreOn(t, s.Pool(), s.Schema())
	unread := got.Clone() // description "sneaked in", as read
	_, err = s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET description = 'meanwhile' WHERE id = $1", inv.ID)
	require.NoError(t, err)
	unread.Title = "by another store"
	require.NoError(t, other.UpdateInvoice(bg(), unread, nil))
	require.Equal(t, "sneaked in", description(inv.ID), "an update from an unread version writes every column")

	// Batched, from a read version: only what changed.
	cur, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, "sneaked in", cur.Description)
	_, err = s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET description = 'before the batch' WHERE id = $1", inv.ID)
	require.NoError(t, err)
	cur.Status = invoice.StatusFailed
	errs, err := s.UpdateInvoices(bg(), []invoice.InvoiceUpdate{{Invoice: cur}})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.Equal(t, "before the batch", description(inv.ID), "the batch wrote only what changed")
	_, err = s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET description = 'sneaked in' WHERE id = $1", inv.ID)
	require.NoError(t, err)

	// Through WithTx (even from a version read outside it): every column.
	cur, err = s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, "sneaked in", cur.Description)
	_, err = s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET description = 'again' WHERE id = $1", inv.ID)
	require.NoError(t, err)
	tx, err := s.Pool().Begin(bg())
	require.NoError(t, err)
	defer tx.Rollback(bg())
	cur.Title = "in tx"
	require.NoError(t, s.WithTx(tx).UpdateInvoice(bg(), cur, nil))
	require.NoError(t, tx.Commit(bg()))
	require.Equal(t, "sneaked in", description(inv.ID), "WithTx writes every column")
}

// The JSON columns are compared as lists with what was read: an unchanged
// list is neither encoded nor written, and a list the caller changed in
// place (the Store's copy of what it read is its own) is written.
func TestUpdateWritesChangedListsOnly(t *testing.T) {
	s := newStore(t)
	ident := pgx.Identifier{s.Schema()}.Sanitize()
	inv := newInvoice(t, "lean-lists")
	inv.Quotes = []invoice.Quote{{Currency: "BTC", Rate: dec("50000"), Amount: dec("0.002")}}
	require.NoError(t, s.CreateInvoice(bg(), inv))

	// Changed in place: written.
	read, err := s.GetInvoiceByForeignID(bg(), "lean-lists")
	require.NoError(t, err)
	read.Quotes[0].Currency = "ETH"
	read.Quotes[0].Amount = dec("0.03")
	require.NoError(t, s.UpdateInvoice(bg(), read, nil))
	got, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Len(t, got.Quotes, 1)
	require.Equal(t, "ETH", got.Quotes[0].Currency)
	requireDecimal(t, "0.03", got.Quotes[0].Amount)

	// Unchanged: not written (a change behind the Store's back, without a
	// new version, which nothing but this test does, stays).
	_, err = s.Pool().Exec(bg(), "UPDATE "+ident+".invoices SET quotes = jsonb_set(quotes, '{0,currency}', '\"LTC\"') WHERE id = $1", inv.ID)
	require.NoError(t, err)
	got.Title = "title only"
	require.NoError(t, s.UpdateInvoice(bg(), got, nil))
	again, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Equal(t, "title only", again.Title)
	require.Equal(t, "LTC", again.Quotes[0].Currency, "quotes did not change: not written")

	// Appended (and from nil to a list): written.
	again.Transactions = append(again.Transactions, invoice.Transaction{TxID: "tx1", Currency: "LTC", Amount: dec("0.01")})
	again.Quotes = append(again.Quotes, invoice.Quote{Currency: "BTC", Rate: dec("1"), Amount: dec("2")})
	require.NoError(t, s.UpdateInvoice(bg(), again, nil))
	last, err := s.GetInvoice(bg(), inv.ID)
	require.NoError(t, err)
	require.Len(t, last.Quotes, 2)
	require.Len(t, last.Transactions, 1)
	require.Equal(t, "tx1", last.Transactions[0].TxID)
}
