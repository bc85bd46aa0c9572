package bitcoin

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/shopspring/decimal"
)

func TestAddressSourceVectorsAndPaths(t *testing.T) {
	acct, err := ParseAccount(bip84Zpub, Mainnet, SchemeAuto)
	if err != nil {
		t.Fatal(err)
	}
	src := NewAddressSource(acct, memstore.New(), SourceOptions{})
	want := []invoice.Address{
		{Address: "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", Path: "m/84'/0'/0'/0/0"},
		{Address: "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", Path: "m/84'/0'/0'/0/1"},
	}
	for i, w := range want {
		got, err := src.DepositAddress(context.Background(), &invoice.Invoice{}, "BTC")
		if err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("address %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := src.DepositAddress(context.Background(), &invoice.Invoice{}, "ETH"); !errors.Is(err, ErrCurrency) {
		t.Errorf("ETH: %v, want ErrCurrency", err)
	}
	if got, want := src.SequenceName(), "bitcoin/mainnet/bip84/"+acct.ID(); got != want {
		t.Errorf("sequence name %q, want %q", got, want)
	}
}

// Two engines on one store never hand out the same address, even when
// creating invoices concurrently.
func TestAddressSourceSharedStoreNeverRepeats(t *testing.T) {
	store := memstore.New()
	acct, err := ParseAccount(bip84Zpub, Mainnet, SchemeAuto)
	if err != nil {
		t.Fatal(err)
	}
	var engines []*invoice.Engine
	key := invoice.NewRefundTokenKey()
	for range 2 {
		e, err := invoice.New(invoice.Config{
			Store:            store,
			Rates:            invoice.MustStaticRates("BTC/EUR=60000"),
			Addresses:        NewAddressSource(acct, store, SourceOptions{}),
			Notifier:         invoice.NotifierFunc(func(context.Context, *invoice.Delivery) error { return nil }),
			CustomerNotifier: invoice.CustomerNotifierFunc(func(context.Context, *invoice.RefundNotice) error { return nil }),
			RefundTokenKeys:  [][]byte{key},
		})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	const per = 25
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Go(func() {
			for j := range per {
				id := string(rune('a'+i)) + "-" + decimal.NewFromInt(int64(j)).String()
				inv, err := e.Create(context.Background(), invoice.CreateRequest{
					ForeignID: id, Title: "t", Amount: decimal.NewFromInt(10), Currency: "EUR",
					Timer: true, SenderCurrency: "BTC", Email: "c@example.com",
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if other, dup := seen[inv.Deposit.Address]; dup {
					t.Errorf("address %s handed out to %s and %s", inv.Deposit.Address, other, id)
				}
				seen[inv.Deposit.Address] = id
				mu.Unlock()
				got, err := e.GetByAddress(context.Background(), inv.Deposit.Address)
				if err != nil || got.ForeignID != id {
					t.Errorf("GetByAddress(%s) = %v, %v", inv.Deposit.Address, got, err)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != 2*per {
		t.Errorf("%d distinct addresses, want %d", len(seen), 2*per)
	}
}
