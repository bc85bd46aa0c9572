package pgstore_test

import (
	"testing"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/storetest"
)

// TestConformance runs the invoice.Store conformance suite, each subtest
// on a fresh schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) invoice.Store { return newStore(t) })
}
