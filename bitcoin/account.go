package bitcoin

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// Scheme is how addresses are derived from the account key: the BIP that
// defines the derivation path and the output type.
type Scheme uint8

// Schemes. SchemeAuto takes the scheme from the key's SLIP-132 prefix:
// zpub/vpub → BIP84, ypub/upub → BIP49, and plain xpub/tpub/spub → BIP84.
const (
	SchemeAuto Scheme = iota
	// BIP84: native SegWit P2WPKH ("bc1q…"), path m/84'/coin'/account'/0/i.
	BIP84
	// BIP49: P2WPKH nested in P2SH ("3…"), path m/49'/coin'/account'/0/i.
	BIP49
	// BIP44: legacy P2PKH ("1…"), path m/44'/coin'/account'/0/i.
	BIP44
)

// String returns "auto", "bip84", "bip49" or "bip44".
func (s Scheme) String() string {
	switch s {
	case SchemeAuto:
		return "auto"
	case BIP84:
		return "bip84"
	case BIP49:
		return "bip49"
	case BIP44:
		return "bip44"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// ParseScheme parses "bip84", "bip49", "bip44" or "auto" ("" is auto).
func ParseScheme(s string) (Scheme, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return SchemeAuto, nil
	case "bip84", "84":
		return BIP84, nil
	case "bip49", "49":
		return BIP49, nil
	case "bip44", "44":
		return BIP44, nil
	}
	return 0, fmt.Errorf("%w: unknown scheme %q", ErrKey, s)
}

// Purpose returns the BIP-43 purpose number of the scheme (84, 49, 44), or
// 0 for SchemeAuto.
func (s Scheme) Purpose() uint32 {
	switch s {
	case BIP84:
		return 84
	case BIP49:
		return 49
	case BIP44:
		return 44
	}
	return 0
}

// keyVersion is one known set of extended public key version bytes.
type keyVersion struct {
	version [4]byte
	prefix  string
	nets    []Network
	scheme  Scheme // SchemeAuto: any scheme
}

// Public key versions of BIP-32 and SLIP-132. Regtest uses testnet's.
var keyVersions = []keyVersion{
	{[4]byte{0x04, 0x88, 0xb2, 0x1e}, "xpub", []Network{Mainnet}, SchemeAuto},
	{[4]byte{0x04, 0x9d, 0x7c, 0xb2}, "ypub", []Network{Mainnet}, BIP49},
	{[4]byte{0x04, 0xb2, 0x47, 0x46}, "zpub", []Network{Mainnet}, BIP84},
	{[4]byte{0x04, 0x35, 0x87, 0xcf}, "tpub", []Network{Testnet, Regtest}, SchemeAuto},
	{[4]byte{0x04, 0x4a, 0x52, 0x62}, "upub", []Network{Testnet, Regtest}, BIP49},
	{[4]byte{0x04, 0x5f, 0x1c, 0xf6}, "vpub", []Network{Testnet, Regtest}, BIP84},
	{chaincfg.SimNetParams.HDPublicKeyID, "spub", []Network{Simnet}, SchemeAuto},
}

// Account is an account-level extended public key (depth 3, the key at
// m/purpose'/coin'/account') from which deposit addresses are derived. It
// holds no private key and is safe for concurrent use.
type Account struct {
	net      Network
	scheme   Scheme
	account  uint32                  // the account number, without the hardened bit
	external *hdkeychain.ExtendedKey // the account's external chain, m/…/0
	id       string                  // hex HASH160 of the account public key
}

// ParseAccount parses an account-level extended public key (xpub, ypub,
// zpub; tpub, upub, vpub on testnet and regtest; spub on simnet) for the
// network. With SchemeAuto the scheme follows the key's prefix (xpub, tpub
// and spub mean BIP84); an explicit scheme must agree with a ypub/zpub
// prefix. Private keys, keys of another network and keys that are not at
// account depth (3, hardened) are refused with an error matching ErrKey or
// ErrNetwork; the key text never appears in an error.
func ParseAccount(key string, net Network, scheme Scheme) (*Account, error) {
	params := net.Params()
	if params == nil {
		return nil, fmt.Errorf("%w: %s", ErrNetwork, net)
	}
	if scheme > BIP44 {
		return nil, fmt.Errorf("%w: unknown scheme %s", ErrKey, scheme)
	}
	k, err := hdkeychain.NewKeyFromString(strings.TrimSpace(key))
	if err != nil {
		return nil, fmt.Errorf("%w: not an extended key (%v)", ErrKey, err)
	}
	if k.IsPrivate() {
		return nil, fmt.Errorf("%w: a private extended key was given; give the account's extended public key (the private key must never be on the server)", ErrKey)
	}
	var kv *keyVersion
	for i := range keyVersions {
		if bytes.Equal(k.Version(), keyVersions[i].version[:]) {
			kv = &keyVersions[i]
		}
	}
	if kv == nil {
		return nil, fmt.Errorf("%w: unknown extended key version %x", ErrKey, k.Version())
	}
	forNet := false
	for _, n := range kv.nets {
		forNet = forNet || n == net
	}
	if !forNet {
		return nil, fmt.Errorf("%w: a %s key is not for %s", ErrNetwork, kv.prefix, net)
	}
	switch {
	case scheme == SchemeAuto && kv.scheme == SchemeAuto:
		scheme = BIP84
	case scheme == SchemeAuto:
		scheme = kv.scheme
	case kv.scheme != SchemeAuto && kv.scheme != scheme:
		return nil, fmt.Errorf("%w: a %s key is for %s, not %s", ErrKey, kv.prefix, kv.scheme, scheme)
	}
	if k.Depth() != 3 || k.ChildIndex() < hdkeychain.HardenedKeyStart {
		return nil, fmt.Errorf("%w: not an account-level key (depth %d; want 3, hardened: m/%d'/coin'/account')",
			ErrKey, k.Depth(), scheme.Purpose())
	}
	external, err := k.Derive(0)
	if err != nil {
		return nil, fmt.Errorf("%w: deriving the external chain: %v", ErrKey, err)
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return &Account{
		net:      net,
		scheme:   scheme,
		account:  k.ChildIndex() - hdkeychain.HardenedKeyStart,
		external: external,
		id:       hex.EncodeToString(address.Hash160(pub.SerializeCompressed())),
	}, nil
}

// Network returns the account's network.
func (a *Account) Network() Network { return a.net }

// Scheme returns the account's scheme (never SchemeAuto).
func (a *Account) Scheme() Scheme { return a.scheme }

// ID identifies the account key: the hex HASH160 of its public key. It is
// not secret (it reveals no address) and names the account's sequence.
func (a *Account) ID() string { return a.id }

// Path returns the derivation path of the external (receive) address at
// index, e.g. "m/84'/0'/0'/0/7", assuming the standard BIP-44/49/84 path
// for the account key (purpose from the scheme, coin type from the
// network: 0 mainnet, 1 testnet and regtest, 115 simnet).
func (a *Account) Path(index uint32) string {
	return fmt.Sprintf("m/%d'/%d'/%d'/0/%d", a.scheme.Purpose(), a.net.Params().HDCoinType, a.account, index)
}

// Address derives the external (receive) address at index: m/…/0/index.
// index must be below 2^31 (non-hardened).
func (a *Account) Address(index uint32) (string, error) {
	if index >= hdkeychain.HardenedKeyStart {
		return "", fmt.Errorf("%w: index %d", ErrIndexExhausted, index)
	}
	child, err := a.external.Derive(index)
	if err != nil {
		// An invalid child (probability below 2^-127): BIP-32 says use the
		// next index; the caller skips it.
		return "", fmt.Errorf("bitcoin: deriving index %d: %w", index, err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return "", fmt.Errorf("bitcoin: deriving index %d: %w", index, err)
	}
	hash := address.Hash160(pub.SerializeCompressed())
	params := a.net.Params()
	var addr address.Address
	switch a.scheme {
	case BIP84:
		addr, err = address.NewAddressWitnessPubKeyHash(hash, params)
	case BIP49:
		redeem := append([]byte{0x00, 0x14}, hash...) // OP_0 <20-byte key hash>
		addr, err = address.NewAddressScriptHash(redeem, params)
	case BIP44:
		addr, err = address.NewAddressPubKeyHash(hash, params)
	}
	if err != nil {
		return "", fmt.Errorf("bitcoin: encoding address %d: %w", index, err)
	}
	return addr.EncodeAddress(), nil
}
