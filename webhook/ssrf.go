package webhook

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrBlockedAddress is what a Sender with BlockPrivateNetworks returns
// (wrapped) when the callback URL resolves to an address it must not
// connect to.
var ErrBlockedAddress = errors.New("webhook: destination address is not public")

// blockedPrefixes are refused in addition to what netip.Addr's predicates
// catch (loopback, private, link-local, multicast, unspecified).
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT shared address space
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (Teredo, ...)
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an arbitrary IPv4 address
	netip.MustParsePrefix("::/96"),          // deprecated IPv4-compatible
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("255.255.255.255/32"),
}

// nat64 is the well-known NAT64 prefix: the embedded IPv4 address decides.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// BlockedAddress reports whether a Sender with BlockPrivateNetworks refuses
// to connect to addr: loopback, private (RFC 1918, fc00::/7), link-local,
// unspecified, multicast, CGNAT (100.64.0.0/10) and other special-purpose
// ranges. IPv4-mapped and NAT64 addresses are judged by their IPv4 address.
func BlockedAddress(addr netip.Addr) bool {
	if !addr.IsValid() {
		return true
	}
	addr = addr.Unmap()
	if addr.Is6() && nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte(b[12:16]))
	}
	if addr.Zone() != "" {
		return true // scoped addresses are link-local by nature
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() ||
		addr.IsMulticast() || addr.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// guardControl is the net.Dialer Control of a guarded Sender: it runs
// after name resolution, on the exact address about to be connected to,
// for every attempt (each address of a multi-address answer included).
func guardControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dialled address %q", ErrBlockedAddress, address)
	}
	if BlockedAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
	}
	return nil
}
