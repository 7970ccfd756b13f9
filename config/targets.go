package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// Target is what a probe connects to, resolved from /probe?target=&module=.
type Target struct {
	Name       string // the device name, or the address of an ad-hoc target
	Address    string // host:port
	Host       string // host without port or brackets, for TLS server name checks
	ModuleName string
	Module     *Module
	Configured bool
	Labels     map[string]string
	// Pinned, when not empty, lists the only addresses the exporter may
	// connect to: an ad-hoc target is pinned to the addresses its allow-list
	// check saw, so DNS that changes between check and connect cannot move
	// the credentials elsewhere.
	Pinned []netip.Addr
}

// Resolver looks up host names; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// TargetError is a probe request the exporter refuses without connecting anywhere.
type TargetError struct{ Reason string }

func (e *TargetError) Error() string { return e.Reason }

func refuse(format string, a ...any) error { return &TargetError{Reason: fmt.Sprintf(format, a...)} }

// Resolve turns a probe's target and module parameters into a Target. A
// module that is not configured is refused whatever the target; a
// configured device (by name or address) is probed with its own module; any
// other address only when it is inside the allowed_targets of the module
// named by module (default "default").
func (c *Config) Resolve(ctx context.Context, r Resolver, target, module string) (*Target, error) {
	// An unknown module is a mistake in the scrape configuration (a typo, a
	// module removed from the file) even when the target is a configured
	// device: refuse it, as the blackbox exporter does, instead of probing
	// and hiding the mistake.
	if module != "" {
		if _, ok := c.Modules[module]; !ok {
			return nil, refuse("unknown module %q", module)
		}
	}
	// A configured device is probed with its own module whatever known
	// module module= names, so one scrape job with a module parameter can
	// cover both kinds.
	if d := c.byName[target]; d != nil {
		return c.deviceTarget(d), nil
	}
	for _, scheme := range []string{"https", "http"} {
		t, err := parseTarget(target, scheme)
		if err != nil {
			return nil, refuse("target %q: %v", redactUserinfo(target), err)
		}
		if d := c.byAddress[t.hostPort()]; d != nil && c.Modules[d.Module].Scheme == scheme {
			return c.deviceTarget(d), nil
		}
	}
	if module == "" {
		module = "default"
	}
	m, ok := c.Modules[module]
	if !ok {
		return nil, refuse("target %q is not a configured device and no module was given", redactUserinfo(target))
	}
	t, err := parseTarget(target, m.Scheme)
	if err != nil {
		return nil, refuse("target %q: %v", redactUserinfo(target), err)
	}
	pinned, err := m.allowed.check(ctx, r, t)
	if err != nil {
		return nil, err
	}
	return &Target{
		Name: t.hostPort(), Address: t.hostPort(), Host: t.host,
		ModuleName: module, Module: m, Pinned: pinned,
	}, nil
}

func (c *Config) deviceTarget(d *Device) *Target {
	t, _ := parseTarget(d.Address, c.Modules[d.Module].Scheme) // validated at load
	return &Target{
		Name: d.Name, Address: d.Address, Host: t.host,
		ModuleName: d.Module, Module: c.Modules[d.Module],
		Configured: true, Labels: d.Labels,
	}
}

type hostPort struct {
	host string // lower-case name or canonical IP, no brackets
	ip   netip.Addr
	port string
}

func (t hostPort) hostPort() string { return net.JoinHostPort(t.host, t.port) }

// parseTarget accepts "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6
// address, and nothing else: no scheme, user info, path, query or zone.
func parseTarget(s, scheme string) (hostPort, error) {
	if s == "" {
		return hostPort{}, errors.New("empty address")
	}
	if strings.ContainsAny(s, "/?#@\\%") || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return hostPort{}, errors.New("must be host or host:port, without scheme, user info, path or zone")
	}
	port := "443"
	if scheme == "http" {
		port = "80"
	}
	host := s
	switch {
	case strings.HasPrefix(s, "["):
		if strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
			break
		}
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return hostPort{}, fmt.Errorf("bad address: %w", err)
		}
		host, port = h, p
	case strings.Count(s, ":") == 1:
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return hostPort{}, fmt.Errorf("bad address: %w", err)
		}
		host, port = h, p
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return hostPort{}, fmt.Errorf("bad port %q", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1 for allow-list checks
		return hostPort{host: ip.String(), ip: ip, port: port}, nil
	}
	if err := checkHostName(host); err != nil {
		return hostPort{}, err
	}
	return hostPort{host: strings.ToLower(strings.TrimSuffix(host, ".")), port: port}, nil
}

// checkHostName rejects anything that is not a plain DNS name. A numeric last
// label is refused because C resolvers read "2130706433" or "0x7f.1" as IP
// addresses, which would slip past the CIDR checks.
func checkHostName(h string) error {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return fmt.Errorf("bad host name %q", h)
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") {
			return fmt.Errorf("bad host name %q", h)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("bad host name %q", h)
			}
		}
	}
	last := strings.ToLower(labels[len(labels)-1])
	if _, err := strconv.ParseUint(last, 0, 64); err == nil || strings.HasPrefix(last, "0x") {
		return fmt.Errorf("host name %q looks like a numeric address", h)
	}
	return nil
}

// allowList is a module's allowed_targets: networks and host-name patterns.
type allowList struct {
	prefixes []netip.Prefix
	patterns []string
}

func parseAllowList(entries []string) (allowList, error) {
	var a allowList
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			if p.Addr().Zone() != "" {
				return a, fmt.Errorf("[%d]: %q: zones are not allowed", i, e)
			}
			a.prefixes = append(a.prefixes, unmapPrefix(p.Masked()))
			continue
		}
		if ip, err := netip.ParseAddr(e); err == nil && ip.Zone() == "" {
			ip = ip.Unmap()
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		if err := checkHostName(strings.ReplaceAll(e, "*", "x")); err != nil {
			return a, fmt.Errorf("[%d]: %q is neither a network (CIDR), an address nor a host name pattern", i, e)
		}
		a.patterns = append(a.patterns, strings.ToLower(strings.TrimSuffix(e, ".")))
	}
	return a, nil
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

func (a allowList) containsIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (a allowList) matchesName(name string) bool {
	for _, p := range a.patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// check allows an IP inside a network, a name matching a pattern, or a name
// whose every address is inside a network; for the last it returns the
// addresses checked, to which the connection is then pinned.
func (a allowList) check(ctx context.Context, r Resolver, t hostPort) ([]netip.Addr, error) {
	if len(a.prefixes) == 0 && len(a.patterns) == 0 {
		return nil, refuse("target %q is not a configured device and the module allows no other targets", t.hostPort())
	}
	if t.ip.IsValid() {
		if a.containsIP(t.ip) {
			return []netip.Addr{t.ip}, nil
		}
		return nil, refuse("target %q is not in the module's allowed_targets", t.hostPort())
	}
	if a.matchesName(t.host) {
		return nil, nil
	}
	if len(a.prefixes) == 0 || r == nil {
		return nil, refuse("target %q is not in the module's allowed_targets", t.hostPort())
	}
	addrs, err := r.LookupNetIP(ctx, "ip", t.host)
	if err != nil || len(addrs) == 0 {
		return nil, refuse("target %q: cannot resolve the name to check it against allowed_targets", t.hostPort())
	}
	for i, ip := range addrs {
		if !a.containsIP(ip) {
			return nil, refuse("target %q resolves to %s, outside the module's allowed_targets", t.hostPort(), ip)
		}
		addrs[i] = ip.Unmap()
	}
	return addrs, nil
}

// redactUserinfo hides anything before an "@" in a refused target, which
// someone may have meant as credentials; they are never echoed or logged.
func redactUserinfo(target string) string {
	if i := strings.LastIndex(target, "@"); i >= 0 {
		return "<redacted>@" + target[i+1:]
	}
	return target
}
