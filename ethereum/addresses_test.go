package ethereum

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The BIP-39 test mnemonic "abandon ×11 about" (empty passphrase) and its
// account keys at m/44'/60'/0'. Its first Ethereum address is the one
// every wallet shows for it: 0x9858EfFD232B4033E47d90003D41EC34EcaEda94.
const (
	testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	testXPub     = "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt"
	testXPrv     = "xprv9zDSoJv1aBcjX6sNgEpE2J9K6MV2MUnXuqXsFgzVn3zY2aHyupaFQdYCtdCbNMkvcTdx9FeN49sgXw6mjrhrFLRSzJVnRYPfSCCgjeg4GxY"
	firstAddress = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
)

// counter is an in-memory Sequencer.
type counter struct {
	next map[string]int64
	err  error
}

func (c *counter) NextSequence(_ context.Context, name string) (int64, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.next == nil {
		c.next = map[string]int64{}
	}
	n := c.next[name]
	c.next[name] = n + 1
	return n, nil
}

// accountKey derives m/44'/60'/0' from the test mnemonic (BIP-39 seed:
// PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic").
func accountKey(t *testing.T) *hdkeychain.ExtendedKey {
	t.Helper()
	seed, err := pbkdf2.Key(sha512.New, testMnemonic, []byte("mnemonic"), 2048, 64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{44, 60, 0} {
		if k, err = k.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func TestAccountKeysOfTheTestMnemonic(t *testing.T) {
	k := accountKey(t)
	if got := k.String(); got != testXPrv {
		t.Fatalf("xprv = %s, want %s", got, testXPrv)
	}
	pub, err := k.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.String(); got != testXPub {
		t.Fatalf("xpub = %s, want %s", got, testXPub)
	}
}

func TestDeriveKnownVector(t *testing.T) {
	a, err := NewAddresses(AddressConfig{AccountXPub: testXPub, Sequences: &counter{}})
	if err != nil {
		t.Fatal(err)
	}
	addr, path, err := a.Derive(0)
	if err != nil {
		t.Fatal(err)
	}
	if addr.Hex() != firstAddress || path != "m/44'/60'/0'/0/0" {
		t.Fatalf("Derive(0) = %s %s, want %s m/44'/60'/0'/0/0", addr.Hex(), path, firstAddress)
	}
}

// Public derivation from the xpub must give the addresses of the private
// keys a wallet derives from the seed: the merchant can spend them.
func TestDeriveMatchesPrivateDerivation(t *testing.T) {
	a, err := NewAddresses(AddressConfig{AccountXPub: testXPub, Sequences: &counter{}})
	if err != nil {
		t.Fatal(err)
	}
	external, err := accountKey(t).Derive(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{0, 1, 2, 3, 19, 20, 1000, 1<<31 - 1} {
		child, err := external.Derive(i)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := child.ECPrivKey()
		if err != nil {
			t.Fatal(err)
		}
		want := crypto.PubkeyToAddress(priv.ToECDSA().PublicKey)
		got, path, err := a.Derive(i)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || path != fmt.Sprintf("m/44'/60'/0'/0/%d", i) {
			t.Errorf("Derive(%d) = %s %s, want %s", i, got.Hex(), path, want.Hex())
		}
	}
	if _, _, err := a.Derive(1 << 31); !errors.Is(err, ErrIndexExhausted) {
		t.Errorf("Derive(2^31) error = %v, want ErrIndexExhausted", err)
	}
}

func TestDepositAddress(t *testing.T) {
	seq := &counter{}
	a, err := NewAddresses(AddressConfig{AccountXPub: testXPub, Sequences: seq})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seen := map[string]bool{}
	for i, cur := range []string{"USDTE", "ETH", "USDTE"} {
		got, err := a.DepositAddress(ctx, &invoice.Invoice{ForeignID: "x"}, cur)
		if err != nil {
			t.Fatal(err)
		}
		wantPath := fmt.Sprintf("m/44'/60'/0'/0/%d", i)
		if got.Path != wantPath || got.Tag != "" {
			t.Errorf("address %d: path %q tag %q, want path %q and no tag", i, got.Path, got.Tag, wantPath)
		}
		if got.Address != common.HexToAddress(got.Address).Hex() {
			t.Errorf("address %d %s is not EIP-55 checksummed", i, got.Address)
		}
		if seen[got.Address] {
			t.Errorf("address %d %s handed out twice", i, got.Address)
		}
		seen[got.Address] = true
		if i == 0 && got.Address != firstAddress {
			t.Errorf("first address %s, want %s", got.Address, firstAddress)
		}
	}
	if seq.next["ethereum:m/44'/60'/0'"] != 3 {
		t.Errorf("counters %v, want ethereum:m/44'/60'/0' at 3", seq.next)
	}
	if _, err := a.DepositAddress(ctx, &invoice.Invoice{}, "BTC"); !errors.Is(err, ErrCurrency) {
		t.Errorf("BTC: error %v, want ErrCurrency", err)
	}
	boom := errors.New("store down")
	seq.err = boom
	if _, err := a.DepositAddress(ctx, &invoice.Invoice{}, "ETH"); !errors.Is(err, boom) {
		t.Errorf("failing counter: error %v, want it wrapped", err)
	}
	seq.err = nil
	seq.next["ethereum:m/44'/60'/0'"] = 1 << 31
	if _, err := a.DepositAddress(ctx, &invoice.Invoice{}, "ETH"); !errors.Is(err, ErrIndexExhausted) {
		t.Errorf("counter past 2^31-1: error %v, want ErrIndexExhausted", err)
	}
}

func TestNewAddressesRefuses(t *testing.T) {
	master, err := hdkeychain.NewMaster(make([]byte, 32), &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	masterPub, _ := master.Neuter()
	external, _ := accountKey(t).Derive(0)
	externalPub, _ := external.Neuter()
	for _, tc := range []struct {
		name string
		cfg  AddressConfig
		want error
	}{
		{"no counter", AddressConfig{AccountXPub: testXPub}, invoice.ErrConfig},
		{"private key", AddressConfig{AccountXPub: testXPrv, Sequences: &counter{}}, ErrKey},
		{"garbage", AddressConfig{AccountXPub: "xpub-nope", Sequences: &counter{}}, ErrKey},
		{"empty", AddressConfig{Sequences: &counter{}}, ErrKey},
		{"master key", AddressConfig{AccountXPub: masterPub.String(), Sequences: &counter{}}, ErrKey},
		{"external chain key", AddressConfig{AccountXPub: externalPub.String(), Sequences: &counter{}}, ErrKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewAddresses(tc.cfg); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}
