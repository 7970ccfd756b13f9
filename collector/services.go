package collector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The services area reports what the device exposes and how it
// authenticates: the protocols and ports of adminAccesses, the switchable
// daemons (SSH, telnet, UPnP, ONVIF, the Hik-Connect cloud, the IP filter),
// whether Basic auth is accepted on the web and RTSP interfaces, and the
// HTTPS certificate the exporter saw. All sources are slow-changing
// configuration and are read through the client's cache.

var (
	svcEnabledDesc = newDesc("service_enabled",
		"1 when a network service is enabled, else 0. Protocols (http, https, rtsp, sdk = DEV_MANAGE, sdk_tls = SDK_OVER_TLS, websocket, websockets, srtp, bonjour, ...) come from /ISAPI/Security/adminAccesses; ssh, telnet, upnp, onvif, cloud (Hik-Connect/EZVIZ) and ip_filter from their /ISAPI/System/Network endpoints. Absent when the device does not send the switch.",
		"service")
	svcPortDesc = newDesc("service_port",
		"TCP port of a protocol in /ISAPI/Security/adminAccesses (portNo). Absent when the device lists no port (e.g. bonjour).",
		"service")
	svcHTTPSRedirectDesc = newDesc("https_redirect_enabled",
		"1 when the device redirects HTTP to HTTPS (redirectToHttps of the HTTPS entry in /ISAPI/Security/adminAccesses), else 0. Absent when the device does not send it.")
	svcTLSVersionDesc = newDesc("tls_version_enabled",
		"1 when the device's HTTPS server accepts a TLS version, else 0 (TLS1_x_Enable of the HTTPS entry in /ISAPI/Security/adminAccesses). Absent for a version the device does not list.",
		"version")
	svcBasicAllowedDesc = newDesc("auth_basic_allowed",
		"1 when an interface accepts HTTP Basic authentication (certificateType digest/basic), 0 when Digest only. interface=web from /ISAPI/Security/webCertificate; interface=rtsp from /ISAPI/Security/RTSPCertificate or, where that is unsupported, Transport/Security of /ISAPI/Streaming/channels/101. Absent when the source sends no mode (NVRs and DVRs have none in the channel).",
		"interface")
	svcCloudBoundDesc = newDesc("cloud_bound",
		"1 when the device is bound to a Hik-Connect/EZVIZ cloud account (bindStatus bind in /ISAPI/System/Network/EZVIZ), 0 when unbound. Absent when the device does not send bindStatus.")
	svcCertExpiryDesc = newDesc("tls_certificate_expiry_timestamp_seconds",
		"NotAfter of the TLS certificate the device presented to the exporter. Absent when the module probes over plain http or no TLS connection was made.")
)

type servicesCollector struct{}

func init() { registerCollector("services", servicesCollector{}) }

// svcRTSP is the outcome of the RTSP authentication lookup.
type svcRTSP struct {
	basic       isapi.OptionalBool
	fallbackErr error // a real error from the channel 101 fallback
}

func (servicesCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	ttl := time.Duration(d.Module.CacheTTL)
	get := func(path string, v any) func() error {
		return func() error { return d.Client.GetCachedXML(ctx, path, ttl, v) }
	}
	var (
		admin     isapi.AdminAccessList
		ssh       isapi.SSH
		telnet    isapi.Telnetd
		upnp      isapi.UPnP
		integrate isapi.Integrate
		ezviz     isapi.EZVIZ
		ipFilter  isapi.IPFilter
		web       isapi.WebCertificate
		rtsp      svcRTSP
	)
	endpoints := []struct {
		feature string
		fetch   func() error
		emit    func(e *svcEmitter)
	}{
		{"admin_accesses", get(isapi.PathAdminAccesses, &admin), func(e *svcEmitter) { e.adminAccesses(&admin) }},
		{"ssh", get(isapi.PathSSH, &ssh), func(e *svcEmitter) { e.service("ssh", ssh.Enabled) }},
		{"telnet", get(isapi.PathTelnetd, &telnet), func(e *svcEmitter) { e.service("telnet", telnet.Enabled) }},
		{"upnp", get(isapi.PathUPnP, &upnp), func(e *svcEmitter) { e.service("upnp", upnp.Enabled) }},
		{"integrate", get(isapi.PathIntegrate, &integrate), func(e *svcEmitter) { e.service("onvif", integrate.ONVIF.On()) }},
		{"cloud", get(isapi.PathEZVIZ, &ezviz), func(e *svcEmitter) {
			e.service("cloud", ezviz.Enabled)
			e.m.Bool(svcCloudBoundDesc, ezviz.Bound())
		}},
		{"ip_filter", get(isapi.PathIPFilter, &ipFilter), func(e *svcEmitter) { e.service("ip_filter", ipFilter.Enabled) }},
		{"web_certificate", get(isapi.PathWebCertificate, &web), func(e *svcEmitter) {
			e.m.Bool(svcBasicAllowedDesc, web.BasicAllowed(), "web")
		}},
		// The channel fallback is not a feature of its own: the rtsp
		// series is there or not, whichever source answered.
		{"rtsp_certificate", func() error { return svcFetchRTSP(ctx, d, ttl, &rtsp) }, nil},
	}

	// Independent endpoints are fetched at once; the client keeps the
	// device's limit on requests in flight. Metrics are emitted afterwards
	// in a fixed order, so a service named twice keeps the same source.
	errs := make([]error, len(endpoints))
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() { errs[i] = ep.fetch() })
	}
	wg.Wait()

	e := &svcEmitter{m: m, seen: map[string]bool{}}
	var failed []error
	for i, ep := range endpoints {
		ok, err := m.Optional(ep.feature, errs[i])
		if err != nil {
			failed = append(failed, err)
		}
		if ok && ep.emit != nil {
			ep.emit(e)
		}
	}
	m.Bool(svcBasicAllowedDesc, rtsp.basic, "rtsp")
	if rtsp.fallbackErr != nil {
		failed = append(failed, rtsp.fallbackErr)
	}

	// Read after this area's requests, so a fresh connection has been seen.
	if d.Module.Scheme == "https" {
		if t, ok := d.Client.CertificateExpiry(); ok {
			m.Timestamp(svcCertExpiryDesc, t)
		}
	}
	return errors.Join(failed...)
}

// svcFetchRTSP reads the RTSP authentication mode from RTSPCertificate and,
// only when the device lacks that endpoint, from the first channel's
// Transport/Security. It returns RTSPCertificate's own outcome, which
// decides the rtsp_certificate feature; a real failure of the fallback is
// kept in r.fallbackErr, and a channel the device lacks means no mode.
func svcFetchRTSP(ctx context.Context, d *Probe, ttl time.Duration, r *svcRTSP) error {
	var cert isapi.RTSPCertificate
	err := d.Client.GetCachedXML(ctx, isapi.PathRTSPCertificate, ttl, &cert)
	if err == nil {
		r.basic = cert.BasicAllowed()
		return nil
	}
	if !isapi.IsNotSupported(err) {
		return err
	}
	var ch isapi.StreamingChannel
	switch ferr := d.Client.GetCachedXML(ctx, isapi.PathStreamingChannel101, ttl, &ch); {
	case ferr == nil:
		r.basic = ch.Security.BasicAllowed()
	case !isapi.IsNotSupported(ferr):
		r.fallbackErr = fmt.Errorf("RTSP auth fallback: %w", ferr)
	}
	return err
}

// svcEmitter writes service series, each service name once.
type svcEmitter struct {
	m    *Metrics
	seen map[string]bool
}

func (e *svcEmitter) service(name string, enabled isapi.OptionalBool) bool {
	if e.seen[name] {
		return false
	}
	e.seen[name] = true
	e.m.Bool(svcEnabledDesc, enabled, name)
	return true
}

func (e *svcEmitter) adminAccesses(l *isapi.AdminAccessList) {
	for _, s := range l.Services() {
		if e.service(s.Name, s.Enabled) {
			e.m.Int(svcPortDesc, s.Port, s.Name)
		}
	}
	https, ok := l.HTTPS()
	if !ok {
		return
	}
	e.m.Bool(svcHTTPSRedirectDesc, https.RedirectToHTTPS)
	e.m.Bool(svcTLSVersionDesc, https.TLS11, "1.1")
	e.m.Bool(svcTLSVersionDesc, https.TLS12, "1.2")
	e.m.Bool(svcTLSVersionDesc, https.TLS13, "1.3")
}
