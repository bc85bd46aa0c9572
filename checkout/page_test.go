package checkout

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

func TestPageSmoke(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1", Timer: true, SenderCurrency: "BTC", Email: "a@example.com", Description: "Two <b>socks</b>"})
	res, body := s.do(t, "GET", "/i/"+inv.CheckoutToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	t.Log(body)
}
