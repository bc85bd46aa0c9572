package merchantapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/cryptoinvoice/invoice"
)

// A customer overpays; the claim is redeemed; the payout system lists it,
// marks it paid (idempotently) and it leaves the listing.
func TestRefundClaimsAwaitingPayout(t *testing.T) {
	forEachStore(t, func(t *testing.T, st storeKind) {
		e := newEnv(t, withStore(st.open(t)))
		ctx := context.Background()
		expect(t, e.do(http.MethodGet, "/api/v2/refund-claims/awaiting-payout", "", validRequest), 200, `{"data":[],"next_cursor":null}`)
		for i := range 3 {
			id := fmt.Sprint("rf-", i)
			e.mustCreate(fmt.Sprintf(type3, id))
			_, err := e.h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{TxID: "tx-" + id, Currency: "BTC",
				Amount: decimalOf("0.01"), Confirmations: 6, Status: invoice.TxConfirmed})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.h.Engine.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		claims := map[string]string{} // foreign_id → claim id
		for i := range 3 {
			id := fmt.Sprint("rf-", i)
			notices := e.h.Customers.Notices(id)
			if len(notices) != 1 {
				t.Fatalf("%s: %d notices", id, len(notices))
			}
			rc, err := e.h.Engine.RedeemRefundClaim(ctx, notices[0].Token, "bc1qcustomer"+id)
			if err != nil {
				t.Fatal(err)
			}
			claims[id] = rc.ID.String()
		}
		r := e.do(http.MethodGet, "/api/v2/refund-claims/awaiting-payout?limit=2", "", validRequest)
		expect(t, r, 200, "")
		body := r.json(t)
		first := body["data"].([]any)
		next, _ := body["next_cursor"].(string)
		if len(first) != 2 || next == "" {
			t.Fatalf("first page: %s", r.body)
		}
		p := first[0].(map[string]any)
		// 0.01 BTC received for 0.00177917 asked: 0.00822083 back.
		if p["foreign_id"] != "rf-0" || p["amount"] != "0.00822083" || p["currency"] != "BTC" ||
			p["destination"] != "bc1qcustomerrf-0" || p["claim_id"] != claims["rf-0"] {
			t.Errorf("payout %v", p)
		}
		r = e.do(http.MethodGet, "/api/v2/refund-claims/awaiting-payout?limit=2&cursor="+next, "", validRequest)
		if rest := r.json(t)["data"].([]any); len(rest) != 1 || rest[0].(map[string]any)["foreign_id"] != "rf-2" {
			t.Errorf("second page: %s", r.body)
		}

		path := "/api/v2/invoices/rf-0/refund-claims/" + claims["rf-0"] + "/paid"
		r = e.do(http.MethodPost, path, `{"payout_ref":"payout-tx-1"}`, validRequest)
		expect(t, r, 200, "")
		if d := r.data(t); d["status"] != "paid" || d["payout_ref"] != "payout-tx-1" || d["claim_id"] != claims["rf-0"] {
			t.Errorf("paid: %v", d)
		}
		expect(t, e.do(http.MethodPost, path, `{"payout_ref":"payout-tx-1"}`), 200, "") // a retry
		expect(t, e.do(http.MethodPost, path, `{"payout_ref":"another"}`), 400, "")
		if r := e.do(http.MethodPost, path, `{"payout_ref":"another"}`); r.json(t)["errors"].(map[string]any)["code"] != "invalid_refund_claim_state" {
			t.Errorf("paid with another reference: %s", r.body)
		}
		expect(t, e.do(http.MethodPost, path, `{}`), 400, `{"errors":{"payout_ref":"The payout ref field is required."}}`)
		expect(t, e.do(http.MethodPost, "/api/v2/invoices/rf-1/refund-claims/"+claims["rf-0"]+"/paid", `{"payout_ref":"x"}`), 404,
			`{"errors":{"error":"Refund claim not found.","code":"refund_claim_not_found"}}`)
		expect(t, e.do(http.MethodPost, "/api/v2/invoices/rf-1/refund-claims/nope/paid", `{"payout_ref":"x"}`), 404,
			`{"errors":{"error":"Refund claim not found.","code":"refund_claim_not_found"}}`)
		r = e.do(http.MethodGet, "/api/v2/refund-claims/awaiting-payout", "")
		if rest := r.json(t)["data"].([]any); len(rest) != 2 {
			t.Errorf("after one payout: %s", r.body)
		}
		expect(t, e.do(http.MethodGet, "/api/v2/refund-claims/awaiting-payout?cursor=x", ""), 400, `{"errors":{"cursor":"The cursor is invalid."}}`)
	})
}
