package invoice

import "github.com/google/uuid"

// RefundTokenFor returns the token e derives for a claim location, for
// tests that need a token with a valid tag for a location that holds no
// claim.
func RefundTokenFor(e *Engine, invoiceID, claimID uuid.UUID) string {
	return e.refundToken(invoiceID, claimID)
}
