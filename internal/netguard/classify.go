package netguard

import "net/netip"

// Class names the kind of address a connection would reach. Its text is
// what a refusal says: "refused: " + class.
type Class string

// The classes Classify returns. Every one but Public is refused unless
// the operator's allow-list opens it.
const (
	Public      Class = ""
	Loopback    Class = "loopback address"
	Private     Class = "private address"
	LinkLocal   Class = "link-local address"
	Unspecified Class = "unspecified address"
	SharedNAT   Class = "carrier-grade NAT address"
	Multicast   Class = "multicast address"
	Metadata    Class = "cloud metadata address"
	Reserved    Class = "reserved address"
)

// metadataAddrs are the instance metadata services of the clouds: AWS,
// GCP, Azure and OpenStack (169.254.169.254 and AWS's IPv6 fd00:ec2::254),
// AWS ECS task metadata, Alibaba Cloud and Oracle Cloud's legacy address.
// Each sits in a range refused anyway; naming them makes the refusal say
// what was aimed at.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("192.0.0.192"),
	netip.MustParseAddr("fd00:ec2::254"),
}

// classPrefixes are the ranges netip has no predicate for, checked in
// order after the predicates.
var classPrefixes = []struct {
	prefix netip.Prefix
	class  Class
}{
	{netip.MustParsePrefix("100.64.0.0/10"), SharedNAT},  // RFC 6598
	{netip.MustParsePrefix("0.0.0.0/8"), Reserved},       // "this network", RFC 791
	{netip.MustParsePrefix("192.0.0.0/24"), Reserved},    // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), Reserved},   // benchmarking, often used inside networks
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},     // future use and the broadcast address
	{netip.MustParsePrefix("fec0::/10"), Private},        // site-local, deprecated but still routed inside some networks
	{netip.MustParsePrefix("64:ff9b:1::/48"), Private},   // local-use NAT64, RFC 8215
	{netip.MustParsePrefix("100::/64"), Reserved},        // discard-only
	{netip.MustParsePrefix("::/96"), Reserved},           // IPv4-compatible, deprecated
	{netip.MustParsePrefix("2001:db8::/32"), Reserved},   // documentation
	{netip.MustParsePrefix("192.0.2.0/24"), Reserved},    // documentation
	{netip.MustParsePrefix("198.51.100.0/24"), Reserved}, // documentation
	{netip.MustParsePrefix("203.0.113.0/24"), Reserved},  // documentation
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its last 32 bits are
// an IPv4 address a NAT64 gateway would connect to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Classify says what kind of address ip is. IPv4-mapped IPv6 addresses
// (::ffff:127.0.0.1) and NAT64 ones (64:ff9b::7f00:1) are classified by
// the IPv4 address they stand for; a zone is ignored.
func Classify(ip netip.Addr) Class {
	ip = ip.WithZone("").Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return Metadata
		}
	}
	switch {
	case !ip.IsValid():
		return Reserved
	case ip.IsUnspecified():
		return Unspecified
	case ip.IsLoopback():
		return Loopback
	case ip.IsPrivate():
		return Private
	case ip.IsLinkLocalUnicast():
		return LinkLocal
	case ip.IsMulticast():
		return Multicast
	}
	for _, p := range classPrefixes {
		if p.prefix.Contains(ip) {
			return p.class
		}
	}
	return Public
}
