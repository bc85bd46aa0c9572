// Package bitcoin connects the invoice engine to Bitcoin without a
// custodial wallet: deposit addresses derived from an account's extended
// public key, refund address validation, and a watcher that follows a
// full node and reports every payment to the engine.
//
// # Addresses
//
// ParseAccount reads an account-level extended public key (zpub, ypub or
// xpub; vpub, upub, tpub on testnet and regtest; spub on simnet) and
// NewAddressSource turns it into an invoice.AddressSource: each invoice
// gets the external address m/purpose'/coin'/account'/0/i, with i the next
// value of the store's durable sequence named after the account
// (invoice.Store.NextSequence), so no restart and no second engine hands
// out an address twice. BIP-84 (native SegWit) is the default; BIP-49 and
// BIP-44 are options. The derivation path is stored on the invoice
// (Address.Path); see AddressSource for the wallet's gap limit.
//
// # Refund destinations
//
// DestinationValidator checks base58check, bech32 and bech32m addresses
// for a network; register it under "BTC" in
// invoice.Config.DestinationValidators.
//
// # Watcher
//
// Watcher polls a node (RPCNode: btcd's JSON-RPC, which Bitcoin Core also
// answers) and reports mempool payments (not_confirmed), their
// confirmations block by block, confirmed at WatcherConfig.Confirmations
// (DefaultConfirmations), and cancelled when they are double-spent,
// replaced, evicted or reorganised out. It resumes from a durable
// Checkpoint after a restart. Run one watcher per node: see Watcher.
//
// The package is its own module (github.com/cryptoinvoice/invoice/bitcoin)
// so that btcd's dependencies stay out of the root module. It is built on
// btcsuite's hdkeychain, address, chaincfg, txscript, wire and rpcclient.
package bitcoin
