package ethereum

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ErrKey reports an unusable account extended public key: unparsable, a
// private key, or not an account-level (depth 3, hardened) key.
var ErrKey = errors.New("ethereum: unusable account extended public key")

// ErrCurrency reports a deposit address asked for a currency this address
// source does not serve.
var ErrCurrency = errors.New("ethereum: currency not served")

// ErrIndexExhausted reports that the derivation counter passed the last
// non-hardened index (2^31 - 1).
var ErrIndexExhausted = errors.New("ethereum: derivation indexes exhausted")

// Sequencer hands out a durable counter: 0, 1, 2, ... for one name, never
// the same value twice. invoice.Store satisfies it (NextSequence).
type Sequencer interface {
	NextSequence(ctx context.Context, name string) (int64, error)
}

// AddressConfig configures Addresses.
type AddressConfig struct {
	// AccountXPub is the BIP-44 account extended public key, the key at
	// m/44'/60'/account' (an "xpub..." string, as wallets export it).
	// Required. A private key (xprv) is refused: the server needs none.
	AccountXPub string
	// Sequences hands out the derivation indexes. Required; pass the
	// engine's store (Engine.Store()), whose counter is durable and shared
	// by every engine on the same database.
	Sequences Sequencer
	// SequenceName names the counter. Default "ethereum:" followed by the
	// account key's path, e.g. "ethereum:m/44'/60'/0'". Two keys of the
	// same account number may share it: they only skip indexes.
	SequenceName string
	// Currencies are the payment currencies an address is handed out for.
	// Default ETH and USDTE (Tether's ERC-20 token). Any other currency is
	// refused with ErrCurrency, so that a BTC invoice never gets an
	// Ethereum address through a misrouted source.
	Currencies []string
}

// invoice.Store hands out the derivation indexes.
var _ Sequencer = invoice.Store(nil)

// Addresses is an invoice.AddressSource that derives one Ethereum deposit
// address per call from an account extended public key, along the BIP-44
// external chain m/44'/60'/account'/0/i, with i from a durable counter. It
// holds no private key: the merchant's wallet, which has the seed, can
// spend from every address (the derivation path is in Address.Path).
//
// The engine may ask again for the same invoice when a store operation
// loses a race; each call takes a new index, so indexes may be skipped.
// Wallets that discover addresses by a gap limit (often 20) may then not
// show them all; sweep by the stored paths instead (see the package doc).
type Addresses struct {
	external   *hdkeychain.ExtendedKey // m/44'/60'/account'/0
	account    uint32
	seq        Sequencer
	seqName    string
	currencies []string
}

// NewAddresses checks cfg and returns the address source.
func NewAddresses(cfg AddressConfig) (*Addresses, error) {
	if cfg.Sequences == nil {
		return nil, fmt.Errorf("%w: Sequences is required", invoice.ErrConfig)
	}
	key, err := hdkeychain.NewKeyFromString(cfg.AccountXPub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if key.IsPrivate() {
		return nil, fmt.Errorf("%w: a private extended key was given; export the account's public key (xpub)", ErrKey)
	}
	if key.Depth() != 3 || key.ChildIndex() < hdkeychain.HardenedKeyStart {
		return nil, fmt.Errorf("%w: want the account key m/44'/60'/n' (depth 3, hardened), got depth %d", ErrKey, key.Depth())
	}
	external, err := key.Derive(0)
	if err != nil {
		return nil, fmt.Errorf("%w: derive the external chain: %v", ErrKey, err)
	}
	a := &Addresses{
		external:   external,
		account:    key.ChildIndex() - hdkeychain.HardenedKeyStart,
		seq:        cfg.Sequences,
		seqName:    cfg.SequenceName,
		currencies: cfg.Currencies,
	}
	if a.seqName == "" {
		a.seqName = "ethereum:" + a.accountPath()
	}
	if a.currencies == nil {
		a.currencies = []string{"ETH", "USDTE"}
	}
	return a, nil
}

func (a *Addresses) accountPath() string {
	return fmt.Sprintf("m/44'/60'/%d'", a.account)
}

// Derive returns the address at external index i and its path,
// m/44'/60'/account'/0/i.
func (a *Addresses) Derive(i uint32) (common.Address, string, error) {
	if i >= hdkeychain.HardenedKeyStart {
		return common.Address{}, "", fmt.Errorf("%w: index %d", ErrIndexExhausted, i)
	}
	child, err := a.external.Derive(i)
	if err != nil {
		// Happens with probability below 2^-127 per index (BIP-32);
		// the caller takes the next index.
		return common.Address{}, "", fmt.Errorf("ethereum: derive index %d: %w", i, err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return common.Address{}, "", fmt.Errorf("ethereum: derive index %d: %w", i, err)
	}
	// An Ethereum address is the last 20 bytes of the Keccak-256 of the
	// uncompressed public key without its 0x04 prefix.
	addr := common.BytesToAddress(crypto.Keccak256(pub.SerializeUncompressed()[1:])[12:])
	return addr, fmt.Sprintf("%s/0/%d", a.accountPath(), i), nil
}

// DepositAddress takes the next index and returns its EIP-55 checksummed
// address with the derivation path. It implements invoice.AddressSource.
func (a *Addresses) DepositAddress(ctx context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
	if !slices.Contains(a.currencies, currency) {
		return invoice.Address{}, fmt.Errorf("%w: %s", ErrCurrency, currency)
	}
	for range 2 { // an invalid child (p < 2^-127) is skipped once
		n, err := a.seq.NextSequence(ctx, a.seqName)
		if err != nil {
			return invoice.Address{}, fmt.Errorf("ethereum: next derivation index: %w", err)
		}
		if n < 0 || n >= int64(hdkeychain.HardenedKeyStart) {
			return invoice.Address{}, fmt.Errorf("%w: counter %s at %d", ErrIndexExhausted, a.seqName, n)
		}
		addr, path, err := a.Derive(uint32(n))
		if errors.Is(err, hdkeychain.ErrInvalidChild) {
			continue
		}
		if err != nil {
			return invoice.Address{}, err
		}
		return invoice.Address{Address: addr.Hex(), Path: path}, nil
	}
	return invoice.Address{}, fmt.Errorf("ethereum: two invalid children in a row: %w", hdkeychain.ErrInvalidChild)
}
