package collector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// svcStart runs a simulated device for the test.
func svcStart(t *testing.T, p simulator.Profile, opts ...simulator.Option) *simulator.Device {
	t.Helper()
	sim, err := simulator.New(p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// svcNewDevice is what the prober hands a collector for a simulated device:
// a real client (Digest, cache, concurrency limit) and a module with the
// config defaults applied. Over https the client trusts the device's own
// certificate.
func svcNewDevice(t *testing.T, sim *simulator.Device) *Probe {
	t.Helper()
	p := sim.Profile()
	scheme := "http"
	var tlsConf *tls.Config
	if cert := sim.Certificate(); cert != nil {
		scheme = "https"
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		tlsConf = &tls.Config{RootCAs: pool}
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf("modules:\n  default:\n    username: %q\n    password: %q\n    scheme: %s\n", p.Username, p.Password, scheme)))
	if err != nil {
		t.Fatal(err)
	}
	client := isapi.New(isapi.Options{
		Scheme: scheme, Address: sim.Addr(), Username: p.Username, Password: p.Password, TLSConfig: tlsConf,
		MaxConcurrent: 4, Backoff: time.Minute, BackoffMax: time.Hour,
		CacheTTL: time.Duration(cfg.Modules["default"].CacheTTL),
	})
	t.Cleanup(client.Close)
	return &Probe{
		Module: cfg.Modules["default"], Config: cfg, Client: client,
		Logger: slog.New(slog.DiscardHandler), Now: time.Now(),
	}
}

// svcCollect runs one collector and returns its series as
// `name{label="value",...}` -> value, with the collector's error. It fails
// the test on a metric the registry rejects (bad labels, a repeated
// series) or one the linter objects to.
func svcCollect(t *testing.T, c Collector, d *Probe) (map[string]float64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m Metrics
	err := c.Collect(ctx, d, &m)
	if len(m.err) > 0 {
		t.Fatalf("building metrics: %v", m.err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(ConstMetrics(m.out))
	mfs, gerr := reg.Gather()
	if gerr != nil {
		t.Fatalf("gather: %v", gerr)
	}
	problems, lerr := testutil.CollectAndLint(ConstMetrics(m.out))
	if lerr != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", lerr, problems)
	}
	series := map[string]float64{}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			var labels []string
			for _, l := range metric.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			series[key] = metric.GetGauge().GetValue()
		}
	}
	return series, err
}

// svcSpec expands a compact expectation into series:
//
//	+feature / -feature   hikvision_feature_supported{feature} 1 / 0
//	name=E[:P]            hikvision_service_enabled{service=name} E, and
//	                      hikvision_service_port{service=name} P when given
//	redirect=V            hikvision_https_redirect_enabled V
//	tls1.1=V ...          hikvision_tls_version_enabled{version="1.1"} V
//	web_basic=V           hikvision_auth_basic_allowed{interface="web"} V
//	rtsp_basic=V          hikvision_auth_basic_allowed{interface="rtsp"} V
//	bound=V               hikvision_cloud_bound V
func svcSpec(t *testing.T, spec string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("spec %q: %v", spec, err)
		}
		return v
	}
	for _, tok := range strings.Fields(spec) {
		switch tok[0] {
		case '+', '-':
			out[fmt.Sprintf("hikvision_feature_supported{feature=%q}", tok[1:])] = map[byte]float64{'+': 1, '-': 0}[tok[0]]
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			t.Fatalf("spec token %q", tok)
		}
		switch {
		case k == "redirect":
			out["hikvision_https_redirect_enabled"] = num(v)
		case strings.HasPrefix(k, "tls1."):
			out[fmt.Sprintf("hikvision_tls_version_enabled{version=%q}", strings.TrimPrefix(k, "tls"))] = num(v)
		case k == "web_basic" || k == "rtsp_basic":
			out[fmt.Sprintf("hikvision_auth_basic_allowed{interface=%q}", strings.TrimSuffix(k, "_basic"))] = num(v)
		case k == "bound":
			out["hikvision_cloud_bound"] = num(v)
		default:
			e, p, hasPort := strings.Cut(v, ":")
			out[fmt.Sprintf("hikvision_service_enabled{service=%q}", k)] = num(e)
			if hasPort {
				out[fmt.Sprintf("hikvision_service_port{service=%q}", k)] = num(p)
			}
		}
	}
	return out
}

// svcCompare reports every difference between two series sets.
func svcCompare(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s (want %v)", k, want[k])
		case g != want[k]:
			t.Errorf("%s = %v, want %v", k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, got[k])
		}
	}
}

// The nine services features; capture profiles serve only adminAccesses
// (and, for the DS-K1A340FWX, ssh and EZVIZ), the rest answer 404.
const svcNoExtras = "-ssh -telnet -upnp -integrate -cloud -ip_filter -web_certificate -rtsp_certificate "

// svcCaptureWant is what the services collector reports for each capture
// profile, read off the captures by hand.
var svcCaptureWant = map[string]string{
	"DS-2CD2146G2-ISU": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=1",
	"DS-2CD2346G2-ISU": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2CD2443G0-IW": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 " +
		"redirect=0 tls1.1=1 tls1.2=1 rtsp_basic=1",
	"DS-2CD2T46G2-ISU": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2CD2T86G2-ISU": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2SE4C425MWG-E-26": "+admin_accesses " + svcNoExtras +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-7608NXI-I2": "+admin_accesses " + svcNoExtras +
		"http=1:80 rtsp=1:10554 https=1:443 sdk=1:8000 websocket=0:7681 iot=0:30999 sdk_tls=1:8443 " +
		"redirect=0 tls1.1=0 tls1.2=1",
	"DS-7616NI-K2":    "+admin_accesses " + svcNoExtras + "http=1:80 rtsp=1:554 https=1:443 sdk=1:8000",
	"DS-7616NI-Q2":    "+admin_accesses " + svcNoExtras + "http=1:80 rtsp=1:554 https=1:443 sdk=1:8000",
	"iDS-7208HQHI-M1": "+admin_accesses " + svcNoExtras + "http=1:80 rtsp=1:554 https=0:443 sdk=1:8000 websocket=1:7681 redirect=0",
	"k1a340fwx": "+admin_accesses +ssh -telnet -upnp -integrate +cloud -ip_filter -web_certificate -rtsp_certificate " +
		"http=1:80 sdk=1:8000 https=1:443 ssh=0 cloud=0 bound=0",
}

const (
	svcChannelKey  = "GET " + isapi.PathStreamingChannel101
	svcRTSPCertKey = "GET " + isapi.PathRTSPCertificate
)

func TestServicesCaptureProfiles(t *testing.T) {
	if got := simulator.CaptureModels(); !slices.Equal(got, slices.Sorted(maps.Keys(svcCaptureWant))) {
		t.Fatalf("capture models %v; the table needs one row per model", got)
	}
	for _, model := range simulator.CaptureModels() {
		t.Run(model, func(t *testing.T) {
			sim := svcStart(t, simulator.CaptureProfile(model))
			d := svcNewDevice(t, sim)
			got, err := svcCollect(t, servicesCollector{}, d)
			if err != nil {
				t.Fatalf("collector failed: %v", err)
			}
			svcCompare(t, got, svcSpec(t, svcCaptureWant[model]))
			// RTSPCertificate is unsupported on all of them, so the
			// channel is asked exactly once.
			if n := sim.Stats().ByPath[svcChannelKey]; n != 1 {
				t.Errorf("channel 101 requested %d times, want 1", n)
			}
		})
	}
}

func TestServicesCachedBetweenProbes(t *testing.T) {
	sim := svcStart(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"))
	d := svcNewDevice(t, sim)
	first, err := svcCollect(t, servicesCollector{}, d)
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	second, err := svcCollect(t, servicesCollector{}, d)
	if err != nil {
		t.Fatal(err)
	}
	svcCompare(t, second, first)
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("second probe within cache_ttl sent %d requests (%v), want 0: answers and 404s are cached", s.Requests, s.ByPath)
	}
}

// svcProfile builds a device whose every services endpoint answers.
type svcState struct {
	telnet, ssh, upnp, cloud, bound, onvif, ipFilter bool
	webAuth, rtspAuth                                string
	redirect, tls11, tls13                           bool
}

func svcProfile(ns string, s svcState) simulator.Profile {
	body := map[string][]byte{
		"GET /ISAPI/System/Network/telnetd":   simulator.TelnetdXML(ns, s.telnet),
		"GET /ISAPI/System/Network/ssh":       simulator.SSHXML(ns, s.ssh),
		"GET /ISAPI/System/Network/UPnP":      simulator.UPnPXML(ns, s.upnp, "cam"),
		"GET /ISAPI/System/Network/EZVIZ":     simulator.EZVIZXML(ns, s.cloud, s.cloud, s.bound),
		"GET /ISAPI/System/Network/Integrate": simulator.IntegrateXML(ns, true, "digest", s.onvif, "digest/wsse"),
		"GET /ISAPI/System/Network/ipFilter":  simulator.IPFilterXML(ns, s.ipFilter, "allow"),
		"GET /ISAPI/Security/webCertificate":  simulator.WebCertificateXML(ns, s.webAuth, "MD5"),
		"GET /ISAPI/Security/RTSPCertificate": simulator.RTSPCertificateXML(ns, s.rtspAuth),
		"GET /ISAPI/Security/adminAccesses": simulator.AdminAccessesXML(ns,
			simulator.AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
			simulator.AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, RedirectToHTTPS: s.redirect, TLS11: s.tls11, TLS12: true, TLS13: s.tls13},
			simulator.AdminAccess{ID: 3, Protocol: "DEV_MANAGE", Enabled: false, Port: 8000},
			simulator.AdminAccess{ID: 4, Protocol: "RTSP", Enabled: true, Port: 10554}),
	}
	p := simulator.Profile{Name: "services " + ns, Namespace: ns, Endpoints: map[string]simulator.Endpoint{}}
	for k, b := range body {
		p.Endpoints[k] = simulator.Endpoint{Body: b}
	}
	return p
}

const svcAllFeatures = "+admin_accesses +ssh +telnet +upnp +integrate +cloud +ip_filter +web_certificate +rtsp_certificate "

var (
	svcWeak = svcState{telnet: true, ssh: true, upnp: true, cloud: true, bound: true, onvif: true,
		webAuth: "digest/basic", rtspAuth: "digest/basic", tls11: true}
	svcWeakWant = svcAllFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 " +
		"telnet=1 ssh=1 upnp=1 cloud=1 bound=1 onvif=1 ip_filter=0 web_basic=1 rtsp_basic=1"
	svcHardened = svcState{ipFilter: true, webAuth: "digest", rtspAuth: "digest", redirect: true, tls13: true}
	svcHardWant = svcAllFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=1 tls1.1=0 tls1.2=1 tls1.3=1 " +
		"telnet=0 ssh=0 upnp=0 cloud=0 bound=0 onvif=0 ip_filter=1 web_basic=0 rtsp_basic=0"
)

func TestServicesSyntheticStates(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		for name, c := range map[string]struct {
			state svcState
			want  string
		}{
			"weak":     {svcWeak, svcWeakWant},
			"hardened": {svcHardened, svcHardWant},
		} {
			t.Run(name+"/"+ns, func(t *testing.T) {
				sim := svcStart(t, svcProfile(ns, c.state))
				got, err := svcCollect(t, servicesCollector{}, svcNewDevice(t, sim))
				if err != nil {
					t.Fatal(err)
				}
				svcCompare(t, got, svcSpec(t, c.want))
				// RTSPCertificate answered, so no fallback request.
				if n := sim.Stats().ByPath[svcChannelKey]; n != 0 {
					t.Errorf("channel 101 requested %d times, want 0", n)
				}
			})
		}
	}
}

func TestServicesUnsupportedIs403Or404(t *testing.T) {
	p := svcProfile(simulator.NamespaceISAPIOrg20, svcWeak)
	// 403 notSupport for two, plain 404 for two more; the channel fallback
	// serves the real DS-2CD2443G0-IW channel (digest/basic).
	p.NotSupported = []string{"GET /ISAPI/System/Network/telnetd", "GET /ISAPI/System/Network/ssh", svcRTSPCertKey}
	delete(p.Endpoints, "GET /ISAPI/System/Network/ipFilter")
	delete(p.Endpoints, "GET /ISAPI/Security/webCertificate")
	p.Endpoints[svcChannelKey] = simulator.Endpoint{Body: simulator.Capture("streamingChannel101__hikvision_next_DS-2CD2443G0-IW.xml")}
	sim := svcStart(t, p)
	got, err := svcCollect(t, servicesCollector{}, svcNewDevice(t, sim))
	if err != nil {
		t.Fatalf("unsupported endpoints must not fail the collector: %v", err)
	}
	svcCompare(t, got, svcSpec(t, "+admin_accesses -ssh -telnet +upnp +integrate +cloud -ip_filter -web_certificate -rtsp_certificate "+
		"http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 upnp=1 cloud=1 bound=1 onvif=1 rtsp_basic=1"))
	if n := sim.Stats().ByPath[svcChannelKey]; n != 1 {
		t.Errorf("channel 101 requested %d times, want 1", n)
	}
}

func TestServicesMalformedEndpoint(t *testing.T) {
	sim := svcStart(t, svcProfile(simulator.NamespaceHikvision20, svcWeak))
	sim.SetFault("GET "+isapi.PathUPnP, simulator.Fault{Malformed: true})
	got, err := svcCollect(t, servicesCollector{}, svcNewDevice(t, sim))
	if err == nil || !strings.Contains(err.Error(), isapi.PathUPnP) {
		t.Fatalf("error = %v, want one naming %s", err, isapi.PathUPnP)
	}
	// Everything but UPnP is still there; UPnP has neither a value nor a
	// feature verdict.
	want := svcSpec(t, svcWeakWant)
	delete(want, `hikvision_service_enabled{service="upnp"}`)
	delete(want, `hikvision_feature_supported{feature="upnp"}`)
	svcCompare(t, got, want)
}

func TestServicesServerErrors(t *testing.T) {
	t.Run("RTSPCertificate 500 does not fall back", func(t *testing.T) {
		sim := svcStart(t, svcProfile(simulator.NamespaceHikvision20, svcWeak))
		sim.SetFault(svcRTSPCertKey, simulator.Fault{Status: 500})
		got, err := svcCollect(t, servicesCollector{}, svcNewDevice(t, sim))
		if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("error = %v, want HTTP 500", err)
		}
		want := svcSpec(t, svcWeakWant)
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		delete(want, `hikvision_feature_supported{feature="rtsp_certificate"}`)
		svcCompare(t, got, want)
		if n := sim.Stats().ByPath[svcChannelKey]; n != 0 {
			t.Errorf("channel 101 requested %d times after a 500, want 0", n)
		}
	})
	t.Run("fallback 500", func(t *testing.T) {
		p := svcProfile(simulator.NamespaceHikvision20, svcWeak)
		delete(p.Endpoints, svcRTSPCertKey)
		sim := svcStart(t, p)
		sim.SetFault(svcChannelKey, simulator.Fault{Status: 500})
		got, err := svcCollect(t, servicesCollector{}, svcNewDevice(t, sim))
		if err == nil || !strings.Contains(err.Error(), "RTSP auth fallback") {
			t.Fatalf("error = %v, want the fallback's failure", err)
		}
		want := svcSpec(t, svcWeakWant+" -rtsp_certificate")
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		svcCompare(t, got, want)
	})
}

func TestServicesConcurrentRequests(t *testing.T) {
	sim := svcStart(t, svcProfile(simulator.NamespaceHikvision20, svcWeak))
	sim.SetLatency(100 * time.Millisecond)
	d := svcNewDevice(t, sim)
	if _, err := svcCollect(t, servicesCollector{}, d); err != nil {
		t.Fatal(err)
	}
	// The nine endpoints go out together, up to the client's limit of 4.
	if n := sim.Stats().MaxInFlight; n < 2 || n > 4 {
		t.Errorf("device saw at most %d requests at once, want 2..4", n)
	}
}

func TestServicesHTTPSCertificateExpiry(t *testing.T) {
	sim := svcStart(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithTLS())
	d := svcNewDevice(t, sim)
	if d.Module.Scheme != "https" {
		t.Fatalf("module scheme %q", d.Module.Scheme)
	}
	got, err := svcCollect(t, servicesCollector{}, d)
	if err != nil {
		t.Fatal(err)
	}
	want := svcSpec(t, svcCaptureWant["DS-2CD2146G2-ISU"])
	want["hikvision_tls_certificate_expiry_timestamp_seconds"] = float64(sim.Certificate().NotAfter.Unix())
	svcCompare(t, got, want)
}
