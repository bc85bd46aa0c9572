// Package ethereum takes payments in ether and ERC-20 tokens (Tether's
// USDT as USDTE, USD Coin, ...) for the invoice engine: deposit addresses
// derived per invoice from an account extended public key, a checksum-aware
// refund address check, and a watcher that reports every payment it sees
// on an Ethereum node to the engine.
//
// It is a Go module of its own (github.com/cryptoinvoice/invoice/ethereum)
// so that the root module's users never download go-ethereum and its
// dependencies; only those who import this package do.
//
// # Currencies
//
// The network is part of the currency code, as CoinsPaid names them:
// USDTE is Tether USD as an ERC-20 token on Ethereum (contract
// 0xdAC17F958D2ee523a2206206994597C13D831ec7, 6 decimals); USDTT would be
// the TRC-20 token on Tron, a different asset on a different chain that
// this package does not watch. Ether is ETH (18 decimals). Other tokens
// (USDCE for USD Coin on Ethereum, 6 decimals) need a row in the engine's
// currency table and a Token here.
//
// # Deposit addresses
//
// Addresses derives m/44'/60'/account'/0/i from the account's extended
// public key (the "xpub" a wallet exports for m/44'/60'/0'), i from the
// store's durable counter (Store.NextSequence), so every invoice gets an
// address of its own and two engines on one database never hand out the
// same one. The address is EIP-55 checksummed and Address.Path records its
// derivation path. The server holds no private key. Keep the xpub
// confidential all the same: it links every payment the merchant receives.
//
// # What the watcher reports
//
// For each new block (scanned in order, from a durable checkpoint):
//
//   - ether sent by a transaction to a deposit address (its value, if the
//     transaction succeeded), in the Native currency;
//   - Transfer logs of each configured token contract to a deposit address
//     (value scaled by the token's decimals; several logs of one
//     transaction to one address are summed). Transfers from IgnoreSenders
//     (the merchant's gas wallet), zero-value transfers and an address's
//     transfers to itself are skipped.
//
// The invoice is found with Engine.GetByAddress by the EIP-55 form of the
// address (as Addresses hands them out); addresses of no invoice are
// ignored. Every Token's currency must be in the engine's currency table:
// a report the engine refuses is logged at error level and dropped. The transaction id is the transaction hash. A payment is
// first reported not_confirmed, then confirmed once its block is
// Confirmations deep (per currency; the block itself counts) or, with
// Finalized, at or below the node's finalized block. A payment in a
// currency other than the invoice's (a USDCE transfer to a USDTE invoice,
// or ether) is reported in its own currency: the engine records it as a
// wrong-currency payment and refunds it once confirmed. A payment to an
// invoice that already failed is a late payment: recorded and refunded.
//
// # Reorganizations
//
// The checkpoint keeps the hashes of the last History blocks. When the
// node's chain no longer contains the last scanned block, the watcher
// finds the newest kept block still on it, rescans from there, and the
// payments of the dropped blocks that do not reappear on the new chain
// (within ReorgGrace blocks) are reported cancelled: a payment removed by
// a reorganization, or a transaction dropped, is cancelled, and the engine
// moves the invoice back to pending (or fails it past its window). If the
// same transaction is later included again, it is reported as a new
// transaction with id "<hash>@<block>" (the engine keeps a cancelled
// transaction cancelled), so no money goes unrecorded. A payment that is
// already confirmed cannot be cancelled: choose the confirmation depth (or
// Finalized) so that reorganizations stop before it. In the rare case that
// one transaction pays one address both ether and a token, the token's id
// is "<hash>:<CURRENCY>".
//
// Logs that a node marks removed (a reorganization seen by a log
// subscription) are never counted: the watcher reads logs by block hash and
// follows the chain of block hashes itself, which covers the same cases
// over HTTP too.
//
// # Restarts
//
// The checkpoint (FileCheckpoints, or your own Checkpoints on your
// database) is saved after the engine was told, at the end of every round
// and every 100 blocks while catching up. After a crash the watcher
// rescans from the last save and repeats reports, which the engine ignores
// as repeats: nothing is missed and nothing is counted twice.
//
// # What stays the merchant's job
//
// The funds sit in one address per invoice, spendable by the wallet that
// holds the seed. Moving them out is the merchant's job, usually a
// scheduled "sweep" run by a separate signer (not this server):
//
//   - Ether: send each address's balance less the gas to the treasury.
//   - Tokens: an ERC-20 transfer costs gas in ether, and a deposit address
//     holds only tokens. The usual way is a gas station: the merchant's hot
//     wallet sends each address just enough ether for one transfer, then
//     the address transfers its tokens to the treasury. Put the gas
//     wallet in IgnoreSenders, or the top-up is reported as an ether
//     payment and refunded to the customer. Alternatives are deposit
//     contracts (CREATE2 forwarders swept by one call) and smart-account
//     wallets; both need contracts this package does not provide.
//   - Keep gas costs in mind when choosing minimum invoice amounts.
//   - The derivation paths are stored with each invoice (Address.Path);
//     sweep by them, not by a wallet's gap-limit discovery, since indexes
//     can be skipped.
//   - Sweep to a treasury address, never into another deposit address:
//     the watcher would report that as a payment to its invoice.
//   - Refunds (the engine's refund claims) are paid by the merchant's
//     payout system from the treasury.
//
// Ether sent by a contract (an internal transfer, as some exchanges and
// multisig wallets do) is not seen: the watcher reads transactions, not
// traces. Tokens other than the configured contracts are not seen either.
// Both are found by comparing address balances, which is left to the
// sweep's reconciliation.
package ethereum
