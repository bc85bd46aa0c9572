package ethereum

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// TestToken.bin is testdata/TestToken.sol compiled by solc 0.8.37 (see
// testdata/README.md to rebuild it).
//
//go:embed testdata/TestToken.bin
var testTokenBin string

// node is a throwaway anvil chain started by a test.
type node struct {
	t       *testing.T
	HTTP    string // http://127.0.0.1:port
	WS      string // ws://127.0.0.1:port
	rpc     *rpc.Client
	Client  *ethclient.Client
	Payer   common.Address // anvil's first dev account, unlocked and funded
	Gas     common.Address // the second: the merchant's gas wallet in tests
	started time.Time
}

// startNode starts anvil on a free loopback port and stops it when the
// test ends. Without anvil it skips, or fails under CI=true.
func startNode(t *testing.T) *node {
	t.Helper()
	bin, err := exec.LookPath("anvil")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("anvil not found (CI=true): %v", err)
		}
		t.Skip("anvil not installed; to run: npm install -g @foundry-rs/anvil-linux-amd64@1.7.1 (or run .ci/run)")
	}
	// One slot per epoch: the node's "finalized" block is two below the head.
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", "0", "--slots-in-an-epoch", "1")
	cmd.Dir = t.TempDir()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start anvil: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening on "); ok {
				addr <- strings.TrimSpace(a)
			}
		}
	}() // drains anvil's output until it exits
	var hostPort string
	select {
	case hostPort = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("anvil did not start listening within 20s")
	}
	n := &node{t: t, HTTP: "http://" + hostPort, WS: "ws://" + hostPort, started: start}
	if n.rpc, err = rpc.Dial(n.HTTP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.rpc.Close)
	n.Client = ethclient.NewClient(n.rpc)
	var accounts []common.Address
	n.call(&accounts, "eth_accounts")
	n.Payer, n.Gas = accounts[0], accounts[1]
	t.Logf("anvil at %s in %s", hostPort, time.Since(start).Round(time.Millisecond))
	return n
}

func (n *node) call(result any, method string, args ...any) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.rpc.CallContext(ctx, result, method, args...); err != nil {
		n.t.Fatalf("%s: %v", method, err)
	}
}

// send sends a transaction from an unlocked account; anvil mines it in a
// block of its own at once.
func (n *node) send(from common.Address, to *common.Address, value *big.Int, data []byte) common.Hash {
	n.t.Helper()
	tx := map[string]any{"from": from}
	if to != nil {
		tx["to"] = *to
	}
	if value != nil {
		tx["value"] = (*hexutil.Big)(value)
	}
	if data != nil {
		tx["data"] = hexutil.Bytes(data)
	}
	var h common.Hash
	n.call(&h, "eth_sendTransaction", tx)
	if r := n.receipt(h); r.Status != 1 {
		n.t.Fatalf("transaction %s failed", h.Hex())
	}
	return h
}

// receipt waits (briefly) for the transaction to be mined: anvil mines
// it right after answering.
func (n *node) receipt(h common.Hash) *types.Receipt {
	n.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := n.Client.TransactionReceipt(context.Background(), h)
		if err == nil {
			return r
		}
		if !errors.Is(err, ethereum.NotFound) || time.Now().After(deadline) {
			n.t.Fatalf("receipt of %s: %v", h.Hex(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendEther pays wei from the payer.
func (n *node) sendEther(to common.Address, wei *big.Int) common.Hash {
	n.t.Helper()
	return n.send(n.Payer, &to, wei, nil)
}

// deployToken deploys a TestToken with the given decimals and mints a
// billion whole tokens to the payer.
func (n *node) deployToken(decimals uint8) common.Address {
	n.t.Helper()
	code, err := hex.DecodeString(strings.TrimSpace(testTokenBin))
	if err != nil {
		n.t.Fatal(err)
	}
	r := n.receipt(n.send(n.Payer, nil, nil, append(code, word(big.NewInt(int64(decimals)))...)))
	supply := new(big.Int).Mul(big.NewInt(1e9), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil))
	n.send(n.Payer, &r.ContractAddress, nil, call("mint(address,uint256)", word(n.Payer), word(supply)))
	return r.ContractAddress
}

// transfer sends units of a token from the payer.
func (n *node) transfer(token, to common.Address, units int64) common.Hash {
	n.t.Helper()
	return n.send(n.Payer, &token, nil, call("transfer(address,uint256)", word(to), word(big.NewInt(units))))
}

// batchTransfer sends several token transfers in one transaction.
func (n *node) batchTransfer(token common.Address, to []common.Address, units []int64) common.Hash {
	n.t.Helper()
	// (address[], uint256[]): two offsets, then each array's length and items.
	var args [][]byte
	args = append(args, word(big.NewInt(64)), word(big.NewInt(int64(64+32+32*len(to)))))
	args = append(args, word(big.NewInt(int64(len(to)))))
	for _, a := range to {
		args = append(args, word(a))
	}
	args = append(args, word(big.NewInt(int64(len(units)))))
	for _, u := range units {
		args = append(args, word(big.NewInt(u)))
	}
	return n.send(n.Payer, &token, nil, call("batchTransfer(address[],uint256[])", args...))
}

// mine mines k empty blocks.
func (n *node) mine(k int) {
	n.t.Helper()
	n.call(nil, "anvil_mine", hexutil.Uint64(k))
}

func (n *node) head() uint64 {
	n.t.Helper()
	h, err := n.Client.BlockNumber(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	return h
}

// snapshot saves the chain; revert goes back to it, dropping every block
// mined since (a reorganization once more blocks are mined on top).
func (n *node) snapshot() hexutil.Big {
	n.t.Helper()
	var id hexutil.Big
	n.call(&id, "evm_snapshot")
	return id
}

func (n *node) revert(id hexutil.Big) {
	n.t.Helper()
	var ok bool
	n.call(&ok, "evm_revert", id)
	if !ok {
		n.t.Fatal("evm_revert refused")
	}
}

// call encodes a contract call: the 4-byte selector and 32-byte words.
func call(sig string, words ...[]byte) []byte {
	b := crypto.Keccak256([]byte(sig))[:4]
	for _, w := range words {
		b = append(b, w...)
	}
	return b
}

// word is one 32-byte ABI word of an address or an unsigned integer.
func word(v any) []byte {
	switch v := v.(type) {
	case common.Address:
		return common.LeftPadBytes(v.Bytes(), 32)
	case *big.Int:
		return common.LeftPadBytes(v.Bytes(), 32)
	}
	panic("word: unsupported type") // test helper: a programming error
}
