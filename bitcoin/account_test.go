package bitcoin

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// The mnemonic of the BIP-84 and BIP-49 test vectors.
const abandonMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

// Account keys published with the test vectors.
const (
	// BIP-84, account 0 (m/84'/0'/0').
	bip84Zpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
	// BIP-49, testnet account 0 (m/49'/1'/0').
	bip49Upub = "upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY"
)

// accountKey derives the account-level extended public key of the test
// mnemonic at m/purpose'/coin'/0' with hdkeychain, serialized with version.
func accountKey(t *testing.T, params *chaincfg.Params, purpose, coin uint32, version []byte) string {
	t.Helper()
	// BIP-39 seed: PBKDF2-HMAC-SHA512(mnemonic, "mnemonic", 2048, 64).
	seed, err := pbkdf2.Key(sha512.New, abandonMnemonic, []byte("mnemonic"), 2048, 64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := hdkeychain.NewMaster(seed, params)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{purpose, coin, 0} {
		if k, err = k.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := k.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	if version != nil {
		if pub, err = pub.CloneWithVersion(version); err != nil {
			t.Fatal(err)
		}
	}
	return pub.String()
}

func TestAccountKeysFromMnemonicMatchVectors(t *testing.T) {
	if got := accountKey(t, &chaincfg.MainNetParams, 84, 0, []byte{0x04, 0xb2, 0x47, 0x46}); got != bip84Zpub {
		t.Errorf("BIP-84 account key = %s, want %s", got, bip84Zpub)
	}
	if got := accountKey(t, &chaincfg.TestNet3Params, 49, 1, []byte{0x04, 0x4a, 0x52, 0x62}); got != bip49Upub {
		t.Errorf("BIP-49 account key = %s, want %s", got, bip49Upub)
	}
}

func TestAddressVectors(t *testing.T) {
	bip44Xpub := accountKey(t, &chaincfg.MainNetParams, 44, 0, nil)
	bip84Xpub := accountKey(t, &chaincfg.MainNetParams, 84, 0, nil) // the same key as plain xpub
	tests := []struct {
		name   string
		key    string
		net    Network
		scheme Scheme
		index  uint32
		want   string
		path   string
	}{
		// BIP-84 test vectors.
		{"bip84 zpub 0", bip84Zpub, Mainnet, SchemeAuto, 0, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "m/84'/0'/0'/0/0"},
		{"bip84 zpub 1", bip84Zpub, Mainnet, BIP84, 1, "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", "m/84'/0'/0'/0/1"},
		{"bip84 xpub 0", bip84Xpub, Mainnet, SchemeAuto, 0, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "m/84'/0'/0'/0/0"},
		// BIP-49 test vector (testnet).
		{"bip49 upub 0", bip49Upub, Testnet, SchemeAuto, 0, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", "m/49'/1'/0'/0/0"},
		// BIP-44 has no vectors of its own; this is the well-known first
		// address of the same mnemonic.
		{"bip44 xpub 0", bip44Xpub, Mainnet, BIP44, 0, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", "m/44'/0'/0'/0/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAccount(tt.key, tt.net, tt.scheme)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Address(tt.index)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("address %d = %s, want %s", tt.index, got, tt.want)
			}
			if p := a.Path(tt.index); p != tt.path {
				t.Errorf("path = %s, want %s", p, tt.path)
			}
		})
	}
}

func TestParseAccountRefuses(t *testing.T) {
	seed, _ := pbkdf2.Key(sha512.New, abandonMnemonic, []byte("mnemonic"), 2048, 64)
	master, _ := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	masterPub, _ := master.Neuter()
	tests := []struct {
		name   string
		key    string
		net    Network
		scheme Scheme
		want   error
	}{
		{"garbage", "zpub-not-a-key", Mainnet, SchemeAuto, ErrKey},
		{"bad checksum", bip84Zpub[:len(bip84Zpub)-1] + "t", Mainnet, SchemeAuto, ErrKey},
		{"private key", master.String(), Mainnet, SchemeAuto, ErrKey},
		{"master public key (depth 0)", masterPub.String(), Mainnet, SchemeAuto, ErrKey},
		{"mainnet key on testnet", bip84Zpub, Testnet, SchemeAuto, ErrNetwork},
		{"testnet key on mainnet", bip49Upub, Mainnet, SchemeAuto, ErrNetwork},
		{"zpub as BIP-44", bip84Zpub, Mainnet, BIP44, ErrKey},
		{"unknown network", bip84Zpub, Network(9), SchemeAuto, ErrNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAccount(tt.key, tt.net, tt.scheme)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if len(tt.key) > 20 && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
}

func TestAccountNetworks(t *testing.T) {
	tests := []struct {
		net     Network
		version []byte
		prefix  string
		coin    uint32
	}{
		{Regtest, []byte{0x04, 0x5f, 0x1c, 0xf6}, "bcrt1q", 1},
		{Testnet, nil, "tb1q", 1},
		{Simnet, nil, "sb1q", 115},
	}
	for _, tt := range tests {
		t.Run(tt.net.String(), func(t *testing.T) {
			key := accountKey(t, tt.net.Params(), 84, tt.coin, tt.version)
			a, err := ParseAccount(key, tt.net, SchemeAuto)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Address(3)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("address = %s, want prefix %s", got, tt.prefix)
			}
			if err := ValidateAddress(got, tt.net); err != nil {
				t.Errorf("derived address does not validate: %v", err)
			}
		})
	}
}
