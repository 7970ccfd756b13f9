package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The services area reports what the device exposes and how it
// authenticates: the protocols and ports of adminAccesses, the switchable
// daemons (SSH, telnet, UPnP, ONVIF, the Hik-Connect cloud, the IP filter),
// whether Basic auth is accepted on the web and RTSP interfaces, and the
// HTTPS certificate the exporter saw. All sources are slow-changing
// configuration and are read through the client's cache.

var (
	serviceEnabledDesc = newDesc("service_enabled",
		"1 when a network service (adminAccesses protocols, ssh, telnet, upnp, onvif, cloud, ip_filter) is enabled, else 0.",
		"service")
	servicePortDesc = newDesc("service_port",
		"TCP port of a protocol in /ISAPI/Security/adminAccesses (portNo).",
		"service")
	httpsRedirectDesc = newDesc("https_redirect_enabled",
		"1 when the device redirects HTTP to HTTPS (redirectToHttps of the HTTPS entry in /ISAPI/Security/adminAccesses), else 0.")
	tlsVersionDesc = newDesc("tls_version_enabled",
		"1 when the device's HTTPS server accepts a TLS version (TLS1_x_Enable of the HTTPS entry in /ISAPI/Security/adminAccesses), else 0.",
		"version")
	basicAllowedDesc = newDesc("auth_basic_allowed",
		"1 when an interface (web, rtsp) accepts HTTP Basic authentication (certificateType digest/basic), 0 when Digest only.",
		"interface")
	cloudBoundDesc = newDesc("cloud_bound",
		"1 when the device is bound to a Hik-Connect/EZVIZ cloud account (bindStatus in /ISAPI/System/Network/EZVIZ), 0 when unbound.")
	certificateExpiryDesc = newDesc("tls_certificate_expiry_timestamp_seconds",
		"NotAfter of the TLS certificate the device presented to the exporter.")
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
		upnp      isapi.UPnP
		integrate isapi.Integrate
		ezviz     isapi.EZVIZ
		ipFilter  isapi.IPFilter
		web       isapi.WebCertificate
		rtsp      rtspAuth
	)
	sources := []serviceSource{
		{feature: "admin_accesses", fetch: fetchInto(ctx, d, isapi.AdminAccessesEndpoint, &admin), emit: func(e *serviceEmitter) { e.adminAccesses(&admin) }},
		{feature: "ssh", fetch: fetchInto(ctx, d, isapi.SSHEndpoint, &ssh), emit: func(e *serviceEmitter) { e.service("ssh", ssh.Enabled) }},
		{feature: "telnet", fetch: fetchInto(ctx, d, isapi.TelnetdEndpoint, &telnet), emit: func(e *serviceEmitter) { e.service("telnet", telnet.Enabled) }},
		{feature: "upnp", fetch: fetchInto(ctx, d, isapi.UPnPEndpoint, &upnp), emit: func(e *serviceEmitter) { e.service("upnp", upnp.Enabled) }},
		{feature: "integrate", fetch: fetchInto(ctx, d, isapi.IntegrateEndpoint, &integrate), emit: func(e *serviceEmitter) { e.service("onvif", integrate.ONVIF.On()) }},
		{feature: "cloud", fetch: fetchInto(ctx, d, isapi.EZVIZEndpoint, &ezviz), emit: func(e *serviceEmitter) {
			e.service("cloud", ezviz.Enabled)
			e.m.Bool(cloudBoundDesc, ezviz.Bound())
		}},
		{feature: "ip_filter", fetch: fetchInto(ctx, d, isapi.IPFilterEndpoint, &ipFilter), emit: func(e *serviceEmitter) { e.service("ip_filter", ipFilter.Enabled) }},
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
	e := &serviceEmitter{m: m, seen: map[string]bool{}}
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
	return errors.Join(err, rtsp.fallbackErr)
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

// serviceEmitter writes service series, each service name once.
type serviceEmitter struct {
	m    *Metrics
	seen map[string]bool
}

func (e *serviceEmitter) service(name string, enabled isapi.OptionalBool) bool {
	if e.seen[name] {
		return false
	}
	e.seen[name] = true
	e.m.Bool(serviceEnabledDesc, enabled, name)
	return true
}

func (e *serviceEmitter) adminAccesses(l *isapi.AdminAccessList) {
	for _, s := range l.Services() {
		if e.service(s.Name, s.Enabled) {
			e.m.Int(servicePortDesc, s.Port, s.Name)
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
