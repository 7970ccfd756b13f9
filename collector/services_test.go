package collector

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// The nine services features; capture profiles serve only adminAccesses
// (and, for the DS-K1A340FWX, ssh and EZVIZ), the rest answer 404.
const noExtraFeatures = "-ssh -telnet -upnp -integrate -cloud -ip_filter -web_certificate -rtsp_certificate "

// servicesCaptureWant is what the services collector reports for each capture
// profile, read off the captures by hand.
var servicesCaptureWant = map[string]string{
	"DS-2CD2146G2-ISU": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=1",
	"DS-2CD2346G2-ISU": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2CD2443G0-IW": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 " +
		"redirect=0 tls1.1=1 tls1.2=1 rtsp_basic=1",
	"DS-2CD2T46G2-ISU": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2CD2T86G2-ISU": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=1:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-2SE4C425MWG-E-26": "+admin_accesses " + noExtraFeatures +
		"http=1:80 https=1:443 sdk=1:8000 rtsp=1:554 sdk_tls=1:8443 websocket=1:7681 websockets=0:7682 srtp=0:322 bonjour=1 " +
		"redirect=0 tls1.1=0 tls1.2=1 tls1.3=1 rtsp_basic=0",
	"DS-7608NXI-I2": "+admin_accesses " + noExtraFeatures +
		"http=1:80 rtsp=1:10554 https=1:443 sdk=1:8000 websocket=0:7681 iot=0:30999 sdk_tls=1:8443 " +
		"redirect=0 tls1.1=0 tls1.2=1",
	"DS-7616NI-K2":    "+admin_accesses " + noExtraFeatures + "http=1:80 rtsp=1:554 https=1:443 sdk=1:8000",
	"DS-7616NI-Q2":    "+admin_accesses " + noExtraFeatures + "http=1:80 rtsp=1:554 https=1:443 sdk=1:8000",
	"iDS-7208HQHI-M1": "+admin_accesses " + noExtraFeatures + "http=1:80 rtsp=1:554 https=0:443 sdk=1:8000 websocket=1:7681 redirect=0",
	"k1a340fwx": "+admin_accesses +ssh -telnet -upnp -integrate +cloud -ip_filter -web_certificate -rtsp_certificate " +
		"http=1:80 sdk=1:8000 https=1:443 ssh=0 cloud=0 bound=0",
}

const (
	channel101Key      = "GET " + isapi.PathStreamingChannel101
	rtspCertificateKey = "GET " + isapi.PathRTSPCertificate
)

func TestServicesCaptureProfiles(t *testing.T) {
	if got := simulator.CaptureModels(); !slices.Equal(got, slices.Sorted(maps.Keys(servicesCaptureWant))) {
		t.Fatalf("capture models %v; the table needs one row per model", got)
	}
	for _, model := range simulator.CaptureModels() {
		t.Run(model, func(t *testing.T) {
			sim, d := startProbe(t, simulator.CaptureProfile(model), nil, "")
			got, err := collect(t, servicesCollector{}, d, nil)
			if err != nil {
				t.Fatalf("collector failed: %v", err)
			}
			promtest.Diff(t, "", got, servicesSeries(t, servicesCaptureWant[model]))
			// RTSPCertificate is unsupported on all of them, so the
			// channel is asked exactly once.
			if n := sim.Stats().ByPath[channel101Key]; n != 1 {
				t.Errorf("channel 101 requested %d times, want 1", n)
			}
		})
	}
}

func TestServicesCachedBetweenProbes(t *testing.T) {
	sim, d := startProbe(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), nil, "")
	first, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetStats()
	second, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "", second, first)
	if s := sim.Stats(); s.Requests != 0 {
		t.Errorf("second probe within cache_ttl sent %d requests (%v), want 0: answers and 404s are cached", s.Requests, s.ByPath)
	}
}

const allServicesFeatures = "+admin_accesses +ssh +telnet +upnp +integrate +cloud +ip_filter +web_certificate +rtsp_certificate "

var (
	weakServices = servicesState{telnet: true, ssh: true, upnp: true, cloud: true, bound: true, onvif: true,
		webAuth: "digest/basic", rtspAuth: "digest/basic", tls11: true}
	weakWant = allServicesFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 " +
		"telnet=1 ssh=1 upnp=1 cloud=1 bound=1 onvif=1 ip_filter=0 web_basic=1 rtsp_basic=1"
	hardenedServices = servicesState{ipFilter: true, webAuth: "digest", rtspAuth: "digest", redirect: true, tls13: true}
	hardenedWant     = allServicesFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=1 tls1.1=0 tls1.2=1 tls1.3=1 " +
		"telnet=0 ssh=0 upnp=0 cloud=0 bound=0 onvif=0 ip_filter=1 web_basic=0 rtsp_basic=0"
)

func TestServicesSyntheticStates(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		for name, c := range map[string]struct {
			state servicesState
			want  string
		}{
			"weak":     {weakServices, weakWant},
			"hardened": {hardenedServices, hardenedWant},
		} {
			t.Run(name+"/"+ns, func(t *testing.T) {
				sim, d := startProbe(t, servicesProfile(ns, c.state), nil, "")
				got, err := collect(t, servicesCollector{}, d, nil)
				if err != nil {
					t.Fatal(err)
				}
				promtest.Diff(t, "", got, servicesSeries(t, c.want))
				// RTSPCertificate answered, so no fallback request.
				if n := sim.Stats().ByPath[channel101Key]; n != 0 {
					t.Errorf("channel 101 requested %d times, want 0", n)
				}
			})
		}
	}
}

func TestServicesUnsupportedIs403Or404(t *testing.T) {
	p := servicesProfile(simulator.NamespaceISAPIOrg20, weakServices)
	// 403 notSupport for two, plain 404 for two more; the channel fallback
	// serves the real DS-2CD2443G0-IW channel (digest/basic).
	p.NotSupported = []string{"GET /ISAPI/System/Network/telnetd", "GET /ISAPI/System/Network/ssh", rtspCertificateKey}
	delete(p.Endpoints, "GET /ISAPI/System/Network/ipFilter")
	delete(p.Endpoints, "GET /ISAPI/Security/webCertificate")
	p.Endpoints[channel101Key] = simulator.Endpoint{Body: simulator.Capture("streamingChannel101__hikvision_next_DS-2CD2443G0-IW.xml")}
	sim, d := startProbe(t, p, nil, "")
	got, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatalf("unsupported endpoints must not fail the collector: %v", err)
	}
	promtest.Diff(t, "", got, servicesSeries(t, "+admin_accesses -ssh -telnet +upnp +integrate +cloud -ip_filter -web_certificate -rtsp_certificate "+
		"http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 upnp=1 cloud=1 bound=1 onvif=1 rtsp_basic=1"))
	if n := sim.Stats().ByPath[channel101Key]; n != 1 {
		t.Errorf("channel 101 requested %d times, want 1", n)
	}
}

func TestServicesMalformedEndpoint(t *testing.T) {
	sim, d := startProbe(t, servicesProfile(simulator.NamespaceHikvision20, weakServices), nil, "")
	sim.SetFault("GET "+isapi.PathUPnP, simulator.Fault{Malformed: true})
	got, err := collect(t, servicesCollector{}, d, nil)
	if err == nil || !strings.Contains(err.Error(), isapi.PathUPnP) {
		t.Fatalf("error = %v, want one naming %s", err, isapi.PathUPnP)
	}
	// Everything but UPnP is still there; UPnP has neither a value nor a
	// feature verdict.
	want := servicesSeries(t, weakWant)
	delete(want, `hikvision_service_enabled{service="upnp"}`)
	delete(want, `hikvision_feature_supported{feature="upnp"}`)
	promtest.Diff(t, "", got, want)
}

func TestServicesServerErrors(t *testing.T) {
	t.Run("RTSPCertificate 500 does not fall back", func(t *testing.T) {
		sim, d := startProbe(t, servicesProfile(simulator.NamespaceHikvision20, weakServices), nil, "")
		sim.SetFault(rtspCertificateKey, simulator.Fault{Status: 500})
		got, err := collect(t, servicesCollector{}, d, nil)
		if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("error = %v, want HTTP 500", err)
		}
		want := servicesSeries(t, weakWant)
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		delete(want, `hikvision_feature_supported{feature="rtsp_certificate"}`)
		promtest.Diff(t, "", got, want)
		if n := sim.Stats().ByPath[channel101Key]; n != 0 {
			t.Errorf("channel 101 requested %d times after a 500, want 0", n)
		}
	})
	t.Run("fallback 500", func(t *testing.T) {
		p := servicesProfile(simulator.NamespaceHikvision20, weakServices)
		delete(p.Endpoints, rtspCertificateKey)
		sim, d := startProbe(t, p, nil, "")
		sim.SetFault(channel101Key, simulator.Fault{Status: 500})
		got, err := collect(t, servicesCollector{}, d, nil)
		if err == nil || !strings.Contains(err.Error(), "RTSP auth fallback") {
			t.Fatalf("error = %v, want the fallback's failure", err)
		}
		want := servicesSeries(t, weakWant+" -rtsp_certificate")
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		promtest.Diff(t, "", got, want)
	})
}

func TestServicesConcurrentRequests(t *testing.T) {
	sim, d := startProbe(t, servicesProfile(simulator.NamespaceHikvision20, weakServices), nil, "")
	sim.SetLatency(100 * time.Millisecond)
	if _, err := collect(t, servicesCollector{}, d, nil); err != nil {
		t.Fatal(err)
	}
	// The nine endpoints go out together, up to the client's limit of 4.
	if n := sim.Stats().MaxInFlight; n < 2 || n > 4 {
		t.Errorf("device saw at most %d requests at once, want 2..4", n)
	}
}

func TestServicesHTTPSCertificateExpiry(t *testing.T) {
	sim, d := startProbe(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), nil, "", simulator.WithTLS())
	if d.Module.Scheme != "https" {
		t.Fatalf("module scheme %q", d.Module.Scheme)
	}
	got, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := servicesSeries(t, servicesCaptureWant["DS-2CD2146G2-ISU"])
	want["hikvision_tls_certificate_expiry_timestamp_seconds"] = float64(sim.Certificate().NotAfter.Unix())
	promtest.Diff(t, "", got, want)
}
