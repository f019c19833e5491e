package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// MaxURLLength bounds an endpoint URL.
const MaxURLLength = 2048

// ErrPrivateTarget is a delivery refused because its address is on a
// private, loopback, link-local or otherwise internal network and the
// endpoint has no opt-in.
var ErrPrivateTarget = errors.New("private network address")

// blocked are the ranges an endpoint may reach only with the admin's
// opt-in: the server's own machine and networks, cloud metadata, and
// ranges that embed such addresses.
var blocked = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this" network
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b::/96",    // NAT64: embeds an IPv4 address
		"64:ff9b:1::/48",  // local NAT64
		"2002::/16",       // 6to4: embeds an IPv4 address
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"::ffff:0:0/96",   // IPv4-mapped (unmapped first; kept as a backstop)
		"fec0::/10",       // deprecated site-local
		"2001::/32",       // Teredo: embeds an IPv4 address
		"192.88.99.0/24",  // 6to4 relay anycast
		"203.0.113.0/24",  // documentation
		"198.51.100.0/24", // documentation
		"192.0.2.0/24",    // documentation
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Private reports whether ip is one an endpoint reaches only with the
// private-network opt-in.
func Private(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range blocked {
		if p.Contains(ip) {
			return true
		}
	}
	return !ip.IsValid()
}

// ValidateURL checks an endpoint URL when an admin registers it: https
// (plain http only to loopback), a host, no user name or password, no
// fragment, and, without allowPrivate, no literal private address nor
// "localhost". Host names are checked again at every dial (DNS can
// change between now and then), so this is the first check, not the only one.
func ValidateURL(raw string, allowPrivate bool) error {
	if raw == "" {
		return errors.New("enter the address that should receive the events (https://…)")
	}
	if len(raw) > MaxURLLength {
		return fmt.Errorf("the address is longer than %d characters", MaxURLLength)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return errors.New("the address has a space or a control character in it")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("that is not a web address: it should look like https://hooks.example.com/deskside")
	}
	if u.Opaque != "" || !u.IsAbs() {
		return errors.New("the address should start with https://")
	}
	if u.User != nil {
		return errors.New("put credentials in the receiver's configuration, not in the address (no user:password@)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("the address cannot have a #fragment")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("the address has no host name")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return errors.New("the address has an invalid port")
		}
	}
	if ipErr := checkNumericHost(host); ipErr != nil {
		return ipErr
	}
	loopback := isLoopbackName(host)
	ip, ipErr := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if ipErr == nil {
		if ip.Zone() != "" {
			return errors.New("the address cannot carry an IPv6 zone")
		}
		loopback = ip.Unmap().IsLoopback()
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback {
			return errors.New("the address must start with https:// (plain http only for this machine, for testing)")
		}
	default:
		return errors.New("the address must start with https://")
	}
	if allowPrivate {
		return nil
	}
	if loopback || (ipErr == nil && Private(ip)) {
		return fmt.Errorf("%s is on a private network (%w): tick \"Allow private network\" if the receiver really is inside your network", host, ErrPrivateTarget)
	}
	return nil
}

func parsePort(p string) (int, error) {
	n := 0
	if len(p) > 5 {
		return 0, errors.New("port too long")
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, errors.New("port not a number")
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return 0, errors.New("port out of range")
	}
	return n, nil
}

// checkNumericHost refuses hosts that only look like a name: "127.1",
// "2130706433", "0x7f.1" are IPv4 addresses to some resolvers (inet_aton)
// and not to others, so nobody can tell where they lead.
func checkNumericHost(host string) error {
	if strings.Contains(host, ":") {
		return nil // IPv6 literal, parsed strictly below
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	last := host[strings.LastIndex(host, ".")+1:]
	numeric := last != ""
	for _, c := range strings.ToLower(last) {
		if !(c >= '0' && c <= '9' || c == 'x' || c >= 'a' && c <= 'f') {
			numeric = false
		}
	}
	if numeric && (last[0] >= '0' && last[0] <= '9') {
		return errors.New("write the address as a host name or a plain IP address (like 203.0.113.7)")
	}
	return nil
}

func isLoopbackName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// dialControl refuses, at connect time, any address the endpoint may not
// reach: it sees the address DNS actually gave (so a name that rebinds to
// 127.0.0.1 after registration is still refused), for every hop.
func dialControl(allowPrivate bool) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(_ context.Context, network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		return checkDialAddress(network, address)
	}
}

func checkDialAddress(network, address string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("refused to connect over %s", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %s: %w", address, err)
	}
	if Private(ap.Addr()) {
		return fmt.Errorf("refused to connect to %s: %w (no private-network opt-in)", ap.Addr(), ErrPrivateTarget)
	}
	return nil
}

// newDialer is a dialer whose every connection passes dialControl.
func newDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{ControlContext: dialControl(allowPrivate)}
}
