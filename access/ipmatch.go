package access

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// subnet is APR's apr_ipsubnet_t: an address family, the network and the
// mask, compared as 128-bit values (IPv4 in the low 32 bits).
type subnet struct {
	v4   bool
	net  [16]byte
	mask [16]byte
}

// errNotIP is APR_EINVAL from apr_ipsubnet_create: the text does not look
// like an IP address at all, so callers may try other forms (host names).
var errNotIP = errors.New("not an IP address")

// APR's messages for APR_EBADIP and APR_EBADMASK (apr_strerror).
var (
	errBadIP   = errors.New("The specified IP address is invalid.")
	errBadMask = errors.New("The specified network mask is invalid.")
)

// looksLikeIP is APR's looks_like_ip: anything with a colon, or only
// digits and dots.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.Contains(s, ":") {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// parseIPv4 is inet_pton(AF_INET) as APR implements it: exactly four
// decimal parts of at most 255 (leading zeros allowed).
func parseIPv4(s string) ([4]byte, bool) {
	var out [4]byte
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return out, false
	}
	for i, p := range parts {
		if p == "" || len(p) > 3 {
			return out, false
		}
		n := 0
		for j := 0; j < len(p); j++ {
			if p[j] < '0' || p[j] > '9' {
				return out, false
			}
			n = n*10 + int(p[j]-'0')
		}
		if n > 255 {
			return out, false
		}
		out[i] = byte(n)
	}
	return out, true
}

// parseSubnet is apr_ipsubnet_create(ip, mask): mask is "" when the text
// had no '/'. Partial IPv4 networks ("10.1", "10.1.") are accepted only
// without a mask.
func parseSubnet(ip, mask string, hasMask bool) (subnet, error) {
	var sn subnet
	if !looksLikeIP(ip) {
		return sn, errNotIP
	}
	for i := range sn.mask {
		sn.mask[i] = 0xff
	}
	if err := sn.parseIP(ip, !hasMask); err != nil {
		return sn, err
	}
	if hasMask {
		maxBits := 128
		if sn.v4 {
			maxBits = 32
		}
		if bits, err := strconv.Atoi(mask); err == nil && isDigits(mask) && bits > 0 && bits <= maxBits {
			sn.mask = [16]byte{}
			if sn.v4 {
				bits += 96
			}
			for i := 0; i < bits; i++ {
				sn.mask[i/8] |= 0x80 >> (i % 8)
			}
			if sn.v4 {
				// The high 96 bits of an IPv4 subnet are never compared.
				for i := 0; i < 12; i++ {
					sn.mask[i] = 0
				}
			}
		} else if m, ok := parseIPv4(mask); ok && sn.v4 {
			sn.mask = [16]byte{}
			copy(sn.mask[12:], m[:])
		} else {
			return sn, errBadMask
		}
	}
	for i := range sn.net {
		sn.net[i] &= sn.mask[i]
	}
	return sn, nil
}

// isDigits is strtol's "whole string consumed" check for a bit count
// (strtol also accepts a sign and leading spaces; a sign only makes the
// count non-positive, which is rejected anyway).
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (sn *subnet) parseIP(s string, networkAllowed bool) error {
	if strings.Contains(s, ":") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" || !a.Is6() {
			return errBadIP
		}
		if a.Is4In6() {
			// APR refuses ::ffff:a.b.c.d: IPv4 rules are written as IPv4.
			return errBadIP
		}
		sn.net = a.As16()
		return nil
	}
	if a, ok := parseIPv4(s); ok {
		sn.v4 = true
		copy(sn.net[12:], a[:])
		for i := 0; i < 12; i++ {
			sn.mask[i] = 0
		}
		return nil
	}
	if !networkAllowed {
		return errBadIP
	}
	return sn.parseNetwork(s)
}

// parseNetwork is APR's legacy partial form: "a.b.c." or "a.b" means the
// network of those leading octets.
func (sn *subnet) parseNetwork(s string) error {
	if len(s) >= len("255.255.255.255")+1 {
		return errBadIP
	}
	sn.v4 = true
	sn.net = [16]byte{}
	sn.mask = [16]byte{}
	octet := 0
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return errBadIP
		}
		part := s[:i]
		s = s[i:]
		if s != "" {
			if s[0] != '.' {
				return errBadIP
			}
			s = s[1:]
		}
		if octet > 3 {
			return errBadIP
		}
		n, err := strconv.Atoi(part)
		if err != nil || n > 255 {
			return errBadIP
		}
		sn.net[12+octet] = byte(n)
		sn.mask[12+octet] = 0xff
		octet++
	}
	return nil
}

// match is apr_ipsubnet_test: IPv4 subnets match IPv4 clients and
// IPv4-mapped IPv6 clients; IPv6 subnets match other IPv6 clients.
func (sn *subnet) match(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("")
	if a.Is4() || a.Is4In6() {
		if !sn.v4 {
			return false
		}
		b := a.Unmap().As4()
		for i := 0; i < 4; i++ {
			if b[i]&sn.mask[12+i] != sn.net[12+i] {
				return false
			}
		}
		return true
	}
	if sn.v4 {
		return false
	}
	b := a.As16()
	for i := 0; i < 16; i++ {
		if b[i]&sn.mask[i] != sn.net[i] {
			return false
		}
	}
	return true
}
