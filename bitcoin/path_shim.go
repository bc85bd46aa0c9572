package bitcoin

import "github.com/cryptoinvoice/invoice"

// setPath records the derivation path. TEMPORARY until the foundation's
// Address.Path lands on main.
func setPath(a *invoice.Address, path string) { _ = a; _ = path }
