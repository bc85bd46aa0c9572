package checkout

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func TestPaymentURI(t *testing.T) {
	nets := DefaultNetworks()
	d := decimal.RequireFromString
	for _, tc := range []struct {
		name, cur, addr, amount, want string
	}{
		{"bip21", "BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "0.00166667", "bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq?amount=0.00166667"},
		{"bip21 litecoin", "LTC", "ltc1qxyz", "1.25", "litecoin:ltc1qxyz?amount=1.25"},
		{"cashaddr keeps its prefix", "BCH", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "0.25", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a?amount=0.25"},
		{"cashaddr without prefix", "BCH", "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "0.25", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a?amount=0.25"},
		{"eip681 ether in wei", "ETH", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "0.033333333333333334", "ethereum:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359@1?value=33333333333333334"},
		{"eip681 whole ether", "ETH", "0xabc", "2", "ethereum:0xabc@1?value=2000000000000000000"},
		{"eip681 erc20", "USDT", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "100.5", "ethereum:" + USDTMainnetContract + "@1/transfer?address=0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359&uint256=100500000"},
		{"bip21 refuses a query in the address", "BTC", "bc1q?amount=9", "1", ""},
		{"bip21 refuses another scheme", "BTC", "litecoin:abc", "1", ""},
		{"eip681 refuses a finer amount", "USDT", "0xabc", "0.0000001", ""},
		{"zero amount", "BTC", "bc1q", "0", ""},
		{"empty address", "BTC", "", "1", ""},
		{"eip681 refuses a scheme in the address", "ETH", "ethereum:0xabc", "1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nets[tc.cur].PaymentURI(tc.addr, d(tc.amount))
			if tc.want == "" {
				require.ErrorIs(t, err, errNoURI)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	custom := Network{Name: "Sepolia (ERC-20)", URI: URIEIP681, TokenContract: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", Decimals: 6}
	got, err := custom.PaymentURI("0xabc", d("1"))
	require.NoError(t, err)
	require.Equal(t, "ethereum:0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238/transfer?address=0xabc&uint256=1000000", got, "no chain id when 0; configurable contract")
	_, err = Network{Name: "Ripple"}.PaymentURI("r123", d("1"))
	require.ErrorIs(t, err, errNoURI)
}

func TestNetworkValidate(t *testing.T) {
	for code, n := range DefaultNetworks() {
		require.NoError(t, n.validate(code))
	}
	for _, n := range []Network{{}, {Name: "x", URI: URIBIP21}, {Name: "x", URI: URIBIP21, Scheme: "a:b"},
		{Name: "x", URI: URIEIP681, Decimals: 99}, {Name: "x", URI: URIEIP681, ChainID: -1}, {Name: "x", URI: 9}} {
		require.Error(t, n.validate("X"), "%+v", n)
	}
}
