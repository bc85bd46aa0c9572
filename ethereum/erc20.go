package ethereum

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"
)

// transferTopic is the ERC-20 (and ERC-721) Transfer event's signature
// hash, the first topic of its logs.
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// parseTransfer reads an ERC-20 Transfer log: from and to indexed, the
// value in the data. ERC-721 transfers (the token id indexed too, so four
// topics) and malformed logs are refused.
func parseTransfer(l types.Log) (from, to common.Address, value *big.Int, ok bool) {
	if len(l.Topics) != 3 || l.Topics[0] != transferTopic || len(l.Data) != 32 {
		return common.Address{}, common.Address{}, nil, false
	}
	from = common.BytesToAddress(l.Topics[1].Bytes())
	to = common.BytesToAddress(l.Topics[2].Bytes())
	return from, to, new(big.Int).SetBytes(l.Data), true
}

// units converts an integer amount in the smallest unit to a decimal
// with the given number of decimals (wei to ether: 18).
func units(v *big.Int, decimals uint8) decimal.Decimal {
	return decimal.NewFromBigInt(v, -int32(decimals))
}
