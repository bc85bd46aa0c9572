package ethereum

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/cryptoinvoice/invoice"
	geth "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// noClient satisfies Client for configuration tests; it is never called.
type noClient struct{}

func (noClient) ChainID(context.Context) (*big.Int, error) { return nil, errors.New("unused") }
func (noClient) HeaderByNumber(context.Context, *big.Int) (*types.Header, error) {
	return nil, errors.New("unused")
}
func (noClient) BlockByHash(context.Context, common.Hash) (*types.Block, error) {
	return nil, errors.New("unused")
}
func (noClient) FilterLogs(context.Context, geth.FilterQuery) ([]types.Log, error) {
	return nil, errors.New("unused")
}
func (noClient) TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error) {
	return nil, errors.New("unused")
}
func (noClient) SubscribeNewHead(context.Context, chan<- *types.Header) (geth.Subscription, error) {
	return nil, errors.New("unused")
}

type noEngine struct{}

func (noEngine) GetByAddress(context.Context, string) (*invoice.Invoice, error) {
	return nil, invoice.ErrNotFound
}
func (noEngine) ReportTransaction(context.Context, string, invoice.TransactionReport) (*invoice.Invoice, error) {
	return nil, invoice.ErrNotFound
}

func TestNewRefusesBadConfig(t *testing.T) {
	usdt := common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7")
	ok := Config{Client: noClient{}, Engine: noEngine{}, Checkpoints: &MemoryCheckpoints{}}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"no client", func(c *Config) { c.Client = nil }},
		{"no engine", func(c *Config) { c.Engine = nil }},
		{"no checkpoints", func(c *Config) { c.Checkpoints = nil }},
		{"nothing to watch", func(c *Config) { c.NoNative = true }},
		{"token without currency", func(c *Config) { c.Tokens = []Token{{Contract: usdt, Decimals: 6}} }},
		{"token named like ether", func(c *Config) { c.Tokens = []Token{{Currency: "ETH", Contract: usdt, Decimals: 6}} }},
		{"zero contract", func(c *Config) { c.Tokens = []Token{{Currency: "USDTE", Decimals: 6}} }},
		{"repeated contract", func(c *Config) {
			c.Tokens = []Token{{Currency: "USDTE", Contract: usdt, Decimals: 6}, {Currency: "X", Contract: usdt}}
		}},
		{"decimals", func(c *Config) { c.Tokens = []Token{{Currency: "USDTE", Contract: usdt, Decimals: 37}} }},
		{"history too short", func(c *Config) { c.History = 12 }},
		{"history below a token's depth", func(c *Config) {
			c.Tokens = []Token{{Currency: "USDTE", Contract: usdt, Decimals: 6, Confirmations: 300}}
		}},
		{"history below depth plus grace", func(c *Config) { c.History = 20; c.ReorgGrace = 8 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mod(&cfg)
			if _, err := New(cfg); !errors.Is(err, invoice.ErrConfig) {
				t.Fatalf("New: %v, want ErrConfig", err)
			}
		})
	}
	w, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if w.cfg.Native != "ETH" || w.cfg.Confirmations != 12 || w.cfg.History != 256 || w.required("ETH") != 12 {
		t.Errorf("defaults %+v", w.cfg)
	}
}

func TestParseTransfer(t *testing.T) {
	from, to := common.HexToAddress("0x01"), common.HexToAddress("0x02")
	value := common.LeftPadBytes(big.NewInt(1_500000).Bytes(), 32)
	good := types.Log{Topics: []common.Hash{transferTopic, common.BytesToHash(from.Bytes()), common.BytesToHash(to.Bytes())}, Data: value}
	f, tt, v, ok := parseTransfer(good)
	if !ok || f != from || tt != to || v.Int64() != 1_500000 || units(v, 6).String() != "1.5" {
		t.Fatalf("parseTransfer = %s %s %s %v", f, tt, v, ok)
	}
	nft := good
	nft.Topics = append(append([]common.Hash{}, good.Topics...), common.Hash{1}) // ERC-721: id indexed
	nft.Data = nil
	other := good
	other.Topics = []common.Hash{{9}, good.Topics[1], good.Topics[2]}
	short := good
	short.Data = value[:31]
	for name, l := range map[string]types.Log{"erc721": nft, "other event": other, "short data": short} {
		if _, _, _, ok := parseTransfer(l); ok {
			t.Errorf("%s parsed as an ERC-20 transfer", name)
		}
	}
}
