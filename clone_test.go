package invoice_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

// TestCloneIsDeep: a Clone shares no memory with its original, whatever
// the shape (Clone allocates an invoice with one transaction together
// with it).
func TestCloneIsDeep(t *testing.T) {
	tx := invoice.Transaction{TxID: "tx", Currency: "BTC", Amount: dec("0.001")}
	shapes := map[string]*invoice.Invoice{
		"none": {ForeignID: "o"},
		"one":  {ForeignID: "o", Transactions: []invoice.Transaction{tx}},
		"two":  {ForeignID: "o", Transactions: []invoice.Transaction{tx, tx}},
		"one with quotes": {ForeignID: "o", Transactions: []invoice.Transaction{tx},
			Quotes: []invoice.Quote{{Currency: "BTC", Rate: dec("1"), Amount: dec("1")}}},
		"one with claims": {ForeignID: "o", Transactions: []invoice.Transaction{tx},
			RefundClaims: []invoice.RefundClaim{{ID: uuid.New(), TxIDs: []string{"tx"}}}},
	}
	for name, orig := range shapes {
		t.Run(name, func(t *testing.T) {
			want := copyByHand(orig)
			cp := orig.Clone()
			require.Equal(t, orig, cp)
			for i := range cp.Transactions {
				cp.Transactions[i].TxID = "changed"
			}
			cp.Transactions = append(cp.Transactions, tx)
			for i := range cp.Quotes {
				cp.Quotes[i].Currency = "changed"
			}
			for i := range cp.RefundClaims {
				cp.RefundClaims[i].TxIDs[0] = "changed"
			}
			cp.ForeignID = "changed"
			require.Equal(t, want, orig)
		})
	}
	require.Nil(t, (*invoice.Invoice)(nil).Clone())
}

// copyByHand is a deep copy that does not use Clone.
func copyByHand(inv *invoice.Invoice) *invoice.Invoice {
	cp := *inv
	if inv.Transactions != nil {
		cp.Transactions = append([]invoice.Transaction{}, inv.Transactions...)
	}
	if inv.Quotes != nil {
		cp.Quotes = append([]invoice.Quote{}, inv.Quotes...)
	}
	if inv.RefundClaims != nil {
		cp.RefundClaims = nil
		for _, rc := range inv.RefundClaims {
			rc.TxIDs = append([]string{}, rc.TxIDs...)
			cp.RefundClaims = append(cp.RefundClaims, rc)
		}
	}
	return &cp
}
