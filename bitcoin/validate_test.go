package bitcoin

import (
	"errors"
	"testing"
)

func TestValidateAddress(t *testing.T) {
	tests := []struct {
		name string
		addr string
		net  Network
		want error // nil: valid
	}{
		// BIP-173 / BIP-350 valid vectors.
		{"p2wpkh", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", Mainnet, nil},
		{"p2wpkh lower", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Mainnet, nil},
		{"p2wsh testnet", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", Testnet, nil},
		{"p2wsh testnet on regtest is another network", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", Regtest, ErrNetwork},
		{"taproot bech32m", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", Mainnet, nil},
		{"taproot testnet", "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", Testnet, nil},
		{"p2pkh", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Mainnet, nil},
		{"p2sh", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Mainnet, nil},
		{"p2pkh testnet", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Testnet, nil},
		{"p2pkh testnet on regtest", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Regtest, nil},
		{"regtest bech32", "bcrt1qcr8te4kr609gcawutmrza0j4xv80jy8zeqchgx", Regtest, nil},
		// Wrong network.
		{"mainnet on testnet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Testnet, ErrNetwork},
		{"p2pkh mainnet on testnet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Testnet, ErrNetwork},
		{"testnet on mainnet", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Mainnet, ErrNetwork},
		// Invalid (BIP-173/350 invalid vectors and others).
		{"bad bech32 checksum", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", Mainnet, ErrAddress},
		{"mixed case", "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Mainnet, ErrAddress},
		{"v0 with bech32m checksum", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kn40wgy", Mainnet, ErrAddress},
		{"v1 with bech32 checksum", "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", Mainnet, ErrAddress},
		{"future witness version", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", Mainnet, ErrAddress},
		{"bad base58 checksum", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", Mainnet, ErrAddress},
		{"raw public key", "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", Mainnet, ErrAddress},
		{"empty", "", Mainnet, ErrAddress},
		{"space", " bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Mainnet, ErrAddress},
		{"ethereum", "0x52908400098527886E0F7030069857D2E4169EE7", Mainnet, ErrAddress},
		{"too long", "bc1q" + string(make([]byte, 100)), Mainnet, ErrAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DestinationValidator(tt.net)(tt.addr)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("valid address refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
