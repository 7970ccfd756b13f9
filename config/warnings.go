package config

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// lockoutWindow is how long Hikvision devices usually lock an account after
// repeated failed logins; an auth_backoff below it lets a wrong password be
// retried while the lock count is still running.
const lockoutWindow = 30 * time.Minute

// Warnings lists risky but valid settings found when the config was loaded,
// each naming its entry, in a fixed order (modules by name, then devices).
func (c *Config) Warnings() []string { return slices.Clone(c.warnings) }

func (c *Config) riskWarnings() []string {
	var w []string
	for _, name := range slices.Sorted(maps.Keys(c.Modules)) {
		w = append(w, c.Modules[name].warnings("modules."+name)...)
	}
	return append(w, c.sameEndpointWarnings()...)
}

func (m *Module) warnings(at string) []string {
	var w []string
	if time.Duration(m.AuthBackoff) < lockoutWindow {
		w = append(w, fmt.Sprintf("%s.auth_backoff: %s is shorter than %s, the usual device lock time: failed logins may pile up into a lock",
			at, m.AuthBackoff, model.Duration(lockoutWindow)))
	}
	if m.MaxConcurrentRequests > riskyConcurrency {
		w = append(w, fmt.Sprintf("%s.max_concurrent_requests: %d is above %d: camera CPUs are weak and may slow down or drop requests",
			at, m.MaxConcurrentRequests, riskyConcurrency))
	}
	for i, e := range m.AllowedTargets {
		if coversNearlyEverything(e) {
			w = append(w, fmt.Sprintf("%s.allowed_targets[%d]: %q allows (nearly) every target: the module's credentials can be sent to any host that answers",
				at, i, e))
		}
	}
	if m.AllowBasicAuth {
		w = append(w, fmt.Sprintf("%s.allow_basic_auth: Basic sends the password with every request; leave it off unless a device offers nothing else", at))
	}
	return w
}

// coversNearlyEverything reports an allowed_targets entry that opens ad-hoc
// probing to about any address or name: IPv4 networks wider than /8, IPv6
// wider than /16, or a name pattern made of wildcards only.
func coversNearlyEverything(entry string) bool {
	e := strings.TrimSpace(entry)
	if p, err := netip.ParsePrefix(e); err == nil {
		p = unmapPrefix(p.Masked())
		if p.Addr().Is4() {
			return p.Bits() < 8
		}
		return p.Bits() < 16
	}
	return strings.Contains(e, "*") && strings.Trim(e, "*?.") == ""
}

// sameEndpointWarnings flags two devices that are probably one: the same
// port on "localhost" and on a loopback address. Identical normalised
// addresses are already an error; names are not resolved here.
func (c *Config) sameEndpointWarnings() []string {
	var w []string
	type seen struct {
		i int
		d *Device
	}
	byPort := map[string]map[bool][]seen{} // port -> is "localhost" -> devices
	for i, d := range c.Devices {
		host, port, err := net.SplitHostPort(d.Address)
		if err != nil {
			continue
		}
		ip, ipErr := netip.ParseAddr(host)
		isName := host == "localhost"
		if !isName && (ipErr != nil || !ip.Unmap().IsLoopback()) {
			continue
		}
		if byPort[port] == nil {
			byPort[port] = map[bool][]seen{}
		}
		for _, o := range byPort[port][!isName] {
			w = append(w, fmt.Sprintf("devices[%d] (%s): address: %s is likely the same endpoint as devices[%d] (%s) at %s",
				i, d.Name, d.Address, o.i, o.d.Name, o.d.Address))
		}
		byPort[port][isName] = append(byPort[port][isName], seen{i, d})
	}
	return w
}
