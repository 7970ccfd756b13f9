package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The services area reports what the device exposes and how it
// authenticates: the protocols and ports of adminAccesses, the switchable
// daemons (SSH, telnet, UPnP and its port mapping, ONVIF, the Hik-Connect
// cloud, the IP filter, the SNMP agent), whether Basic auth is accepted on
// the web and RTSP interfaces, SNMP communities left at their defaults,
// and the HTTPS certificate the exporter saw. All sources are
// slow-changing configuration and are read through the client's cache.

var (
	serviceEnabledDesc       = NewDesc("service_enabled", "1 when a network service (adminAccesses protocols, ssh, telnet, upnp, onvif, cloud, ip_filter, snmpv1, snmpv2c, snmpv3) is enabled, else 0.", "service")
	servicePortDesc          = NewDesc("service_port", "Port of a network service: portNo of a protocol in /ISAPI/Security/adminAccesses (TCP), listenPort of the SNMP agent (UDP, service snmp).", "service")
	httpsRedirectDesc        = NewDesc("https_redirect_enabled", "1 when the device redirects HTTP to HTTPS (redirectToHttps of the HTTPS entry in /ISAPI/Security/adminAccesses), else 0.")
	tlsVersionDesc           = NewDesc("tls_version_enabled", "1 when the device's HTTPS server accepts a TLS version (TLS1_x_Enable of the HTTPS entry in /ISAPI/Security/adminAccesses), else 0.", "version")
	basicAllowedDesc         = NewDesc("auth_basic_allowed", "1 when an interface (web, rtsp) accepts HTTP Basic authentication (certificateType digest/basic), 0 when Digest only.", "interface")
	cloudBoundDesc           = NewDesc("cloud_bound", "1 when the device is bound to a Hik-Connect/EZVIZ cloud account (bindStatus in /ISAPI/System/Network/EZVIZ), 0 when unbound.")
	certificateExpiryDesc    = NewDesc("tls_certificate_expiry_timestamp_seconds", "NotAfter of the TLS certificate the device presented to the exporter.")
	snmpCommunityDefaultDesc = NewDesc("snmp_community_default", "1 when a community of an enabled SNMP v1/v2c agent is a well-known default (public, private) or empty, else 0; the community itself is never read out.", "version", "access")
	snmpV3NoAuthDesc         = NewDesc("snmp_v3_users_without_auth", "Number of SNMPv3 users whose authentication method is none.")
	upnpPortMappingDesc      = NewDesc("upnp_port_mapping_enabled", "1 when the device's UPnP port mapping is on (ports/enabled), else 0.")
	upnpMappedPortsDesc      = NewDesc("upnp_mapped_ports", "Number of ports the device asks its router to open over UPnP; 0 when UPnP or its port mapping is off.")
)

type servicesCollector struct{}

func init() { registerCollector("services", servicesCollector{}) }

// serviceSource is one endpoint of the services area: the feature it
// reports, how it is read, and what it emits once read.
type serviceSource struct {
	feature   string
	fetch     func() error
	emit      func(e *serviceEmitter) // nil: the source emits nothing itself
	supported bool
}

func (servicesCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	var (
		admin     isapi.AdminAccessList
		ssh       isapi.SSH
		telnet    isapi.Telnetd
		upnp      upnpMapping
		integrate isapi.Integrate
		ezviz     isapi.EZVIZ
		ipFilter  isapi.IPFilter
		snmp      isapi.SNMP
		web       isapi.WebCertificate
		rtsp      rtspAuth
	)
	sources := []serviceSource{
		{feature: "admin_accesses", fetch: fetchInto(ctx, d, isapi.AdminAccessesEndpoint, &admin), emit: func(e *serviceEmitter) { e.adminAccesses(&admin) }},
		{feature: "ssh", fetch: fetchInto(ctx, d, isapi.SSHEndpoint, &ssh), emit: func(e *serviceEmitter) { e.service("ssh", ssh.Enabled) }},
		{feature: "telnet", fetch: fetchInto(ctx, d, isapi.TelnetdEndpoint, &telnet), emit: func(e *serviceEmitter) { e.service("telnet", telnet.Enabled) }},
		// The port mapping's own endpoint, when read, reports feature
		// upnp_ports itself; like the RTSP fallback, its failure does not
		// take the UPnP switch with it.
		{feature: "upnp", fetch: func() error { return upnp.fetch(ctx, d, m) }, emit: upnp.emit},
		{feature: "integrate", fetch: fetchInto(ctx, d, isapi.IntegrateEndpoint, &integrate), emit: func(e *serviceEmitter) { e.service("onvif", integrate.ONVIF.On()) }},
		{feature: "cloud", fetch: fetchInto(ctx, d, isapi.EZVIZEndpoint, &ezviz), emit: func(e *serviceEmitter) {
			e.service("cloud", ezviz.Enabled)
			e.m.Bool(cloudBoundDesc, ezviz.Bound())
		}},
		{feature: "ip_filter", fetch: fetchInto(ctx, d, isapi.IPFilterEndpoint, &ipFilter), emit: func(e *serviceEmitter) { e.service("ip_filter", ipFilter.Enabled) }},
		{feature: "snmp", fetch: fetchInto(ctx, d, isapi.SNMPEndpoint, &snmp), emit: func(e *serviceEmitter) { e.snmp(&snmp) }},
		{feature: "web_certificate", fetch: fetchInto(ctx, d, isapi.WebCertificateEndpoint, &web), emit: func(e *serviceEmitter) {
			e.m.Bool(basicAllowedDesc, web.BasicAllowed(), "web")
		}},
		// The channel fallback is not a feature of its own: the rtsp
		// series is there or not, whichever source answered.
		{feature: "rtsp_certificate", fetch: func() error { return rtsp.fetch(ctx, d) }},
	}
	reads := make([]func() error, len(sources))
	for i := range sources {
		src := &sources[i]
		reads[i] = func() (err error) {
			src.supported, err = m.Optional(src.feature, src.fetch())
			return err
		}
	}
	err := fanOut(reads...)

	// Series are emitted after every read, in the table's order, so that a
	// service named twice keeps the same source.
	e := &serviceEmitter{m: m, seen: map[string]bool{}, ports: map[string]bool{}}
	for _, src := range sources {
		if src.supported && src.emit != nil {
			src.emit(e)
		}
	}
	m.Bool(basicAllowedDesc, rtsp.basic, "rtsp")

	// Read after this area's requests, so a fresh connection has been seen.
	if d.Module.Scheme == "https" {
		if t, ok := d.Client.CertificateExpiry(); ok {
			m.Timestamp(certificateExpiryDesc, t)
		}
	}
	return errors.Join(err, upnp.portsErr, rtsp.fallbackErr)
}

// upnpMapping is the UPnP switch and the port mapping it governs.
type upnpMapping struct {
	isapi.UPnP
	mapping  *isapi.UPnPPorts // the answer's own ports block, or /UPnP/ports
	portsErr error            // a real failure of /UPnP/ports
}

// fetch reads the UPnP answer and, only when UPnP is on and the answer
// carries no ports block, the mapping at /UPnP/ports (docs/isapi.md §5.5),
// reporting feature upnp_ports for it. It returns the UPnP answer's own
// outcome, which decides the upnp feature.
func (u *upnpMapping) fetch(ctx context.Context, d *Probe, m *Metrics) error {
	var err error
	if u.UPnP, err = isapi.Fetch(ctx, d.Client, isapi.UPnPEndpoint); err != nil {
		return err
	}
	u.mapping = u.Ports
	if u.mapping != nil || !u.Enabled.Set || !u.Enabled.V {
		return nil
	}
	ports, err := isapi.Fetch(ctx, d.Client, isapi.UPnPPortsEndpoint)
	switch ok, err := m.Optional("upnp_ports", err); {
	case ok:
		u.mapping = &ports
	case err != nil:
		u.portsErr = fmt.Errorf("UPnP port mapping: %w", err)
	}
	return nil
}

func (u *upnpMapping) emit(e *serviceEmitter) {
	e.service("upnp", u.Enabled)
	if u.mapping != nil {
		e.m.Bool(upnpPortMappingDesc, u.mapping.Enabled)
	}
	e.m.Int(upnpMappedPortsDesc, isapi.MappedPorts(u.Enabled, u.mapping))
}

// rtspAuth is the outcome of the RTSP authentication lookup.
type rtspAuth struct {
	basic       isapi.OptionalBool
	fallbackErr error // a real error from the channel 101 fallback
}

// fetch reads the RTSP authentication mode from RTSPCertificate and, only
// when the device lacks that endpoint, from the first channel's
// Transport/Security. It returns RTSPCertificate's own outcome, which
// decides the rtsp_certificate feature; a real failure of the fallback is
// kept in fallbackErr, and a channel the device lacks means no mode.
func (r *rtspAuth) fetch(ctx context.Context, d *Probe) error {
	cert, err := isapi.Fetch(ctx, d.Client, isapi.RTSPCertificateEndpoint)
	if err == nil {
		r.basic = cert.BasicAllowed()
		return nil
	}
	if !isapi.IsNotSupported(err) {
		return err
	}
	switch ch, ferr := isapi.Fetch(ctx, d.Client, isapi.StreamingChannel101Endpoint); {
	case ferr == nil:
		r.basic = ch.Security.BasicAllowed()
	case !isapi.IsNotSupported(ferr):
		r.fallbackErr = fmt.Errorf("RTSP auth fallback: %w", ferr)
	}
	return err
}

// serviceEmitter writes service series, each service name once, and each
// service's port once.
type serviceEmitter struct {
	m     *Metrics
	seen  map[string]bool
	ports map[string]bool
}

func (e *serviceEmitter) service(name string, enabled isapi.OptionalBool) bool {
	if e.seen[name] {
		return false
	}
	e.seen[name] = true
	e.m.Bool(serviceEnabledDesc, enabled, name)
	return true
}

func (e *serviceEmitter) port(name string, port isapi.OptionalInt) {
	if !port.Set || e.ports[name] {
		return
	}
	e.ports[name] = true
	e.m.Int(servicePortDesc, port, name)
}

func (e *serviceEmitter) adminAccesses(l *isapi.AdminAccessList) {
	for _, s := range l.Services() {
		if e.service(s.Name, s.Enabled) {
			e.port(s.Name, s.Port)
		}
	}
	https, ok := l.HTTPS()
	if !ok {
		return
	}
	e.m.Bool(httpsRedirectDesc, https.RedirectToHTTPS)
	e.m.Bool(tlsVersionDesc, https.TLS11, "1.1")
	e.m.Bool(tlsVersionDesc, https.TLS12, "1.2")
	e.m.Bool(tlsVersionDesc, https.TLS13, "1.3")
}

// snmp writes the SNMP agent's switches and port, and for each enabled
// v1/v2c agent whether its communities are defaults. The answer was
// decoded into verdicts only (isapi.SNMP): no community is at hand here.
func (e *serviceEmitter) snmp(s *isapi.SNMP) {
	e.service("snmpv1", s.V1.Enabled)
	e.service("snmpv2c", s.V2c.Enabled)
	e.service("snmpv3", s.V3.Enabled)
	e.port("snmp", s.ListenPort)
	for _, v := range []struct {
		version string
		c       *isapi.SNMPCommunities
	}{{"v1", &s.V1}, {"v2c", &s.V2c}} {
		if !v.c.Enabled.Set || !v.c.Enabled.V {
			continue
		}
		e.m.Bool(snmpCommunityDefaultDesc, v.c.Read, v.version, "read")
		e.m.Bool(snmpCommunityDefaultDesc, v.c.Write, v.version, "write")
		e.m.Bool(snmpCommunityDefaultDesc, v.c.Trap, v.version, "trap")
	}
	e.m.Int(snmpV3NoAuthDesc, s.V3.UsersWithoutAuth)
}
