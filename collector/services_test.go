package collector

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// The ten services features (upnp_ports is asked only when UPnP is on);
// capture profiles serve only adminAccesses (and, for the DS-K1A340FWX,
// ssh and EZVIZ), the rest answer 404.
const noExtraFeatures = "-ssh -telnet -upnp -integrate -cloud -ip_filter -snmp -web_certificate -rtsp_certificate "

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
	"k1a340fwx": "+admin_accesses +ssh -telnet -upnp -integrate +cloud -ip_filter -snmp -web_certificate -rtsp_certificate " +
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
	wantCached(t, sim, servicesCollector{}, d, first, "answers and 404s are cached")
}

const allServicesFeatures = "+admin_accesses +ssh +telnet +upnp +integrate +cloud +ip_filter +snmp +web_certificate +rtsp_certificate "

var (
	weakServices = servicesState{telnet: true, ssh: true, upnp: true, cloud: true, bound: true, onvif: true,
		webAuth: "digest/basic", rtspAuth: "digest/basic", tls11: true}
	// weakSNMP is a factory SNMP agent switched on: v1 and v2c with public
	// and private, v3 off with its two unused user slots (docs/isapi.md §5.16).
	weakSNMP = simulator.SNMP{
		V1:         &simulator.SNMPCommunity{Enabled: true, Read: "public", Write: "private", Traps: []string{"public"}},
		V2c:        &simulator.SNMPCommunity{Enabled: true, Read: "public", Write: "private", Traps: []string{"public"}},
		V3:         &simulator.SNMPv3{Users: []simulator.SNMPUser{{Auth: "none", Privacy: "none"}, {Auth: "none", Privacy: "none"}}},
		ListenPort: 161,
	}
	// weakPorts: UPnP asks the router for the web, RTSP and SDK ports.
	weakPorts = simulator.UPnPPortMapping{Enabled: true, MapMode: "auto", Ports: []simulator.UPnPPort{
		{ID: 1, Enabled: true, Internal: "http", External: 80}, {ID: 2, Enabled: true, Internal: "rtsp", External: 554},
		{ID: 3, Enabled: true, Internal: "admin", External: 8000}, {ID: 4, Enabled: false, Internal: "https", External: 443}}}
	weakWant = allServicesFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 " +
		"telnet=1 ssh=1 upnp=1 cloud=1 bound=1 onvif=1 ip_filter=0 web_basic=1 rtsp_basic=1 " +
		"snmpv1=1 snmpv2c=1 snmpv3=0 snmp_port=161 community.v1=111 community.v2c=111 v3_noauth=0 " +
		"+upnp_ports upnp_mapping=1 upnp_mapped=3"
	hardenedServices = servicesState{ipFilter: true, webAuth: "digest", rtspAuth: "digest", redirect: true, tls13: true}
	// hardenedSNMP: v3 only, every user authenticating.
	hardenedSNMP = simulator.SNMP{
		V1:  &simulator.SNMPCommunity{Read: "public", Write: "private"},
		V2c: &simulator.SNMPCommunity{Read: "public", Write: "private"},
		V3: &simulator.SNMPv3{Enabled: true, Users: []simulator.SNMPUser{
			{Name: "monitor", Auth: "SHA", Privacy: "AES"}, {Name: "admin", Auth: "MD5", Privacy: "none"}}},
		ListenPort: 161,
	}
	hardenedWant = allServicesFeatures + "http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=1 tls1.1=0 tls1.2=1 tls1.3=1 " +
		"telnet=0 ssh=0 upnp=0 cloud=0 bound=0 onvif=0 ip_filter=1 web_basic=0 rtsp_basic=0 " +
		"snmpv1=0 snmpv2c=0 snmpv3=1 snmp_port=161 v3_noauth=0 upnp_mapped=0"
)

// weakProfile and hardenedProfile are servicesProfile with the SNMP agent
// and, when UPnP is on, the port mapping at /UPnP/ports.
func weakProfile(ns string) simulator.Profile {
	p := servicesProfile(ns, weakServices)
	p.Endpoints["GET "+isapi.PathSNMP] = simulator.Endpoint{Body: simulator.SNMPXML(ns, weakSNMP)}
	p.Endpoints[upnpPortsKey] = simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, weakPorts)}
	return p
}

func hardenedProfile(ns string) simulator.Profile {
	p := servicesProfile(ns, hardenedServices)
	p.Endpoints["GET "+isapi.PathSNMP] = simulator.Endpoint{Body: simulator.SNMPXML(ns, hardenedSNMP)}
	return p
}

// servicesWant is servicesSeries with the SNMP and UPnP mapping series:
//
//	snmp_port=P           hikvision_service_port{service="snmp"} P
//	community.V=RWT       hikvision_snmp_community_default{version=V} for
//	                      access read, write, trap: 1, 0, or - (absent)
//	v3_noauth=N           hikvision_snmp_v3_users_without_auth N
//	upnp_mapping=V        hikvision_upnp_port_mapping_enabled V
//	upnp_mapped=N         hikvision_upnp_mapped_ports N
//
// (snmpv1=E and the like are service_enabled, as in servicesSeries.)
func servicesWant(t *testing.T, spec string) map[string]float64 {
	t.Helper()
	extra := map[string]float64{}
	var rest []string
	for _, tok := range strings.Fields(spec) {
		k, v, _ := strings.Cut(tok, "=")
		num := func() float64 {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("spec token %q: %v", tok, err)
			}
			return n
		}
		switch {
		case k == "snmp_port":
			extra[promtest.Key("hikvision_service_port", "service", "snmp")] = num()
		case strings.HasPrefix(k, "community."):
			if len(v) != 3 {
				t.Fatalf("spec token %q: want three of 1, 0, -", tok)
			}
			for i, access := range []string{"read", "write", "trap"} {
				if v[i] != '-' {
					extra[promtest.Key("hikvision_snmp_community_default", "version", strings.TrimPrefix(k, "community."), "access", access)] = float64(v[i] - '0')
				}
			}
		case k == "v3_noauth":
			extra["hikvision_snmp_v3_users_without_auth"] = num()
		case k == "upnp_mapping":
			extra["hikvision_upnp_port_mapping_enabled"] = num()
		case k == "upnp_mapped":
			extra["hikvision_upnp_mapped_ports"] = num()
		default:
			rest = append(rest, tok)
		}
	}
	return mergeSeries(servicesSeries(t, strings.Join(rest, " ")), extra)
}

const upnpPortsKey = "GET " + isapi.PathUPnPPorts

func TestServicesSyntheticStates(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		for name, c := range map[string]struct {
			profile simulator.Profile
			want    string
		}{
			"weak":     {weakProfile(ns), weakWant},
			"hardened": {hardenedProfile(ns), hardenedWant},
		} {
			t.Run(name+"/"+ns, func(t *testing.T) {
				sim, d := startProbe(t, c.profile, nil, "")
				got, err := collect(t, servicesCollector{}, d, nil)
				if err != nil {
					t.Fatal(err)
				}
				promtest.Diff(t, "", got, servicesWant(t, c.want))
				// RTSPCertificate answered, so no fallback request.
				if n := sim.Stats().ByPath[channel101Key]; n != 0 {
					t.Errorf("channel 101 requested %d times, want 0", n)
				}
			})
		}
	}
}

func TestServicesUnsupportedIs403Or404(t *testing.T) {
	p := weakProfile(simulator.NamespaceISAPIOrg20)
	// 403 notSupport for three, plain 404 for three more; the channel
	// fallback serves the real DS-2CD2443G0-IW channel (digest/basic).
	p.NotSupported = []string{"GET /ISAPI/System/Network/telnetd", "GET /ISAPI/System/Network/ssh", rtspCertificateKey, "GET " + isapi.PathSNMP}
	delete(p.Endpoints, "GET /ISAPI/System/Network/ipFilter")
	delete(p.Endpoints, "GET /ISAPI/Security/webCertificate")
	delete(p.Endpoints, upnpPortsKey)
	p.Endpoints[channel101Key] = simulator.Endpoint{Body: simulator.Capture("streamingChannel101__hikvision_next_DS-2CD2443G0-IW.xml")}
	sim, d := startProbe(t, p, nil, "")
	got, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatalf("unsupported endpoints must not fail the collector: %v", err)
	}
	promtest.Diff(t, "", got, servicesSeries(t, "+admin_accesses -ssh -telnet +upnp -upnp_ports +integrate +cloud -ip_filter -snmp -web_certificate -rtsp_certificate "+
		"http=1:80 https=1:443 sdk=0:8000 rtsp=1:10554 redirect=0 tls1.1=1 tls1.2=1 tls1.3=0 upnp=1 cloud=1 bound=1 onvif=1 rtsp_basic=1"))
	if n := sim.Stats().ByPath[channel101Key]; n != 1 {
		t.Errorf("channel 101 requested %d times, want 1", n)
	}
}

func TestServicesMalformedEndpoint(t *testing.T) {
	sim, d := startProbe(t, weakProfile(simulator.NamespaceHikvision20), nil, "")
	sim.SetFault("GET "+isapi.PathUPnP, simulator.Fault{Malformed: true})
	got, err := collect(t, servicesCollector{}, d, nil)
	if err == nil || !strings.Contains(err.Error(), isapi.PathUPnP) {
		t.Fatalf("error = %v, want one naming %s", err, isapi.PathUPnP)
	}
	// Everything but UPnP is still there; UPnP has neither a value nor a
	// feature verdict, and its port mapping is not asked for.
	want := servicesWant(t, weakWant)
	for _, k := range []string{`hikvision_service_enabled{service="upnp"}`, `hikvision_feature_supported{feature="upnp"}`,
		`hikvision_feature_supported{feature="upnp_ports"}`, "hikvision_upnp_port_mapping_enabled", "hikvision_upnp_mapped_ports"} {
		delete(want, k)
	}
	promtest.Diff(t, "", got, want)
	if n := sim.Stats().ByPath[upnpPortsKey]; n != 0 {
		t.Errorf("UPnP ports requested %d times after a malformed UPnP answer, want 0", n)
	}
}

func TestServicesServerErrors(t *testing.T) {
	t.Run("RTSPCertificate 500 does not fall back", func(t *testing.T) {
		sim, d := startProbe(t, weakProfile(simulator.NamespaceHikvision20), nil, "")
		sim.SetFault(rtspCertificateKey, simulator.Fault{Status: 500})
		got, err := collect(t, servicesCollector{}, d, nil)
		if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("error = %v, want HTTP 500", err)
		}
		want := servicesWant(t, weakWant)
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		delete(want, `hikvision_feature_supported{feature="rtsp_certificate"}`)
		promtest.Diff(t, "", got, want)
		if n := sim.Stats().ByPath[channel101Key]; n != 0 {
			t.Errorf("channel 101 requested %d times after a 500, want 0", n)
		}
	})
	t.Run("fallback 500", func(t *testing.T) {
		p := weakProfile(simulator.NamespaceHikvision20)
		delete(p.Endpoints, rtspCertificateKey)
		sim, d := startProbe(t, p, nil, "")
		sim.SetFault(channel101Key, simulator.Fault{Status: 500})
		got, err := collect(t, servicesCollector{}, d, nil)
		if err == nil || !strings.Contains(err.Error(), "RTSP auth fallback") {
			t.Fatalf("error = %v, want the fallback's failure", err)
		}
		want := servicesWant(t, weakWant+" -rtsp_certificate")
		delete(want, `hikvision_auth_basic_allowed{interface="rtsp"}`)
		promtest.Diff(t, "", got, want)
	})
}

func TestServicesConcurrentRequests(t *testing.T) {
	sim, d := startProbe(t, weakProfile(simulator.NamespaceHikvision20), nil, "")
	sim.SetLatency(100 * time.Millisecond)
	if _, err := collect(t, servicesCollector{}, d, nil); err != nil {
		t.Fatal(err)
	}
	// The ten endpoints go out together, up to the client's limit of 4.
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

// snmpCanary is a community the operator chose: it must not show in any
// series, label or error.
const snmpCanary = "Snmp-Canary-Collector-0d5f"

func TestServicesSNMP(t *testing.T) {
	community := func(enabled bool, read, write string, traps ...string) *simulator.SNMPCommunity {
		return &simulator.SNMPCommunity{Enabled: enabled, Read: read, Write: write, Traps: traps}
	}
	users := func(us ...simulator.SNMPUser) *simulator.SNMPv3 { return &simulator.SNMPv3{Enabled: true, Users: us} }
	for name, c := range map[string]struct {
		snmp simulator.SNMP
		want string
	}{
		"factory communities on v1 and v2c": {simulator.SNMP{V1: community(true, "public", "private", "public"), V2c: community(true, "public", "private", "public"), ListenPort: 161},
			"+snmp snmpv1=1 snmpv2c=1 snmp_port=161 community.v1=111 community.v2c=111"},
		"custom communities": {simulator.SNMP{V1: community(false, "public", "private"), V2c: community(true, snmpCanary, snmpCanary+"-w", snmpCanary+"-t")},
			"+snmp snmpv1=0 snmpv2c=1 community.v2c=000"},
		"empty communities": {simulator.SNMP{V2c: community(true, "", "", "")},
			"+snmp snmpv2c=1 community.v2c=111"},
		"read default, write custom, no trap receiver": {simulator.SNMP{V2c: community(true, "public", snmpCanary)},
			"+snmp snmpv2c=1 community.v2c=10-"},
		"v1 only, sharing v2c's communities": {simulator.SNMP{V1: &simulator.SNMPCommunity{Enabled: true, NoCommunities: true}, V2c: community(false, "private", snmpCanary)},
			"+snmp snmpv1=1 snmpv2c=0 community.v1=10-"},
		"disabled v1/v2c report no community": {simulator.SNMP{V1: community(false, "public", "private", "public"), V2c: community(false, "public", "private", "public"), ListenPort: 161},
			"+snmp snmpv1=0 snmpv2c=0 snmp_port=161"},
		"v3 users without authentication": {simulator.SNMP{V2c: community(false, "", ""), V3: users(
			simulator.SNMPUser{Name: "ro", Auth: "none", Privacy: "none"}, simulator.SNMPUser{Name: "rw", Auth: "SHA", Privacy: "AES"},
			simulator.SNMPUser{Auth: "none", Privacy: "none"})},
			"+snmp snmpv2c=0 snmpv3=1 v3_noauth=1"},
		"v3 block without users": {simulator.SNMP{V3: &simulator.SNMPv3{Enabled: false}},
			"+snmp snmpv3=0"},
		"v1, v2c and v3": {simulator.SNMP{V1: community(true, "public", snmpCanary), V2c: community(true, snmpCanary, "private", snmpCanary, "public"),
			V3: users(simulator.SNMPUser{Name: "a", Auth: "MD5", Privacy: "DES"}), ListenPort: 1161},
			// v1 has no trap receiver of its own: it shares v2c's.
			"+snmp snmpv1=1 snmpv2c=1 snmpv3=1 snmp_port=1161 community.v1=101 community.v2c=011 v3_noauth=0"},
		"nothing sent": {simulator.SNMP{}, "+snmp"},
	} {
		for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20} {
			t.Run(name+"/"+ns, func(t *testing.T) {
				p := servicesProfile(ns, hardenedServices)
				p.Endpoints["GET "+isapi.PathSNMP] = simulator.Endpoint{Body: simulator.SNMPXML(ns, c.snmp)}
				_, got, err := collectOnce(t, servicesCollector{}, p)
				if err != nil {
					t.Fatal(err)
				}
				promtest.Diff(t, "", seriesContaining(got, "snmp"), seriesContaining(servicesWant(t, c.want), "snmp"))
				for k := range got {
					if strings.Contains(k, "Canary") {
						t.Errorf("series %s holds the community", k)
					}
				}
			})
		}
	}
}

func TestServicesSNMPUnsupportedOrBroken(t *testing.T) {
	withSNMP := func(e *simulator.Endpoint) simulator.Profile {
		p := servicesProfile(simulator.NamespaceHikvision20, hardenedServices)
		if e != nil {
			p.Endpoints["GET "+isapi.PathSNMP] = *e
		}
		return p
	}
	for name, p := range map[string]simulator.Profile{
		"404": withSNMP(nil),
		"403 notSupport": func() simulator.Profile {
			p := withSNMP(nil)
			p.NotSupported = []string{"GET " + isapi.PathSNMP}
			return p
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			_, got, err := collectOnce(t, servicesCollector{}, p)
			if err != nil {
				t.Fatalf("a device without SNMP must not fail the collector: %v", err)
			}
			promtest.Diff(t, "", seriesContaining(got, "snmp"), map[string]float64{featureSeries("snmp"): 0})
		})
	}

	// Broken answers that carry the community where a careless error would
	// quote it: the collector fails, names the path, and says nothing else.
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<SNMP><SNMPv2c><enabled>true</enabled><readCommunity>" + snmpCanary
	for name, body := range map[string]string{
		"truncated":          head + "</readCommunity><writeComm",
		"community first":    "<SNMP><readCommunity>" + snmpCanary + "</readCommunity>",
		"entity":             head + "&" + snmpCanary + ";</readCommunity></SNMPv2c></SNMP>",
		"closing tag":        head + "</" + snmpCanary + "></SNMPv2c></SNMP>",
		"another document":   "<" + snmpCanary + "><readCommunity>public</readCommunity></" + snmpCanary + ">",
		"ResponseStatus 200": string(simulator.NotSupportedXML(simulator.NamespaceHikvision20, isapi.PathSNMP)),
	} {
		t.Run(name, func(t *testing.T) {
			e := simulator.Endpoint{Body: []byte(body)}
			_, got, err := collectOnce(t, servicesCollector{}, withSNMP(&e))
			if err == nil || !strings.Contains(err.Error(), isapi.PathSNMP) {
				t.Fatalf("error = %v, want one naming %s", err, isapi.PathSNMP)
			}
			if strings.Contains(err.Error(), "Canary") {
				t.Errorf("error quotes the community: %v", err)
			}
			// No SNMP series and no feature verdict; the rest is there.
			promtest.Diff(t, "", seriesContaining(got, "snmp"), map[string]float64{})
			if _, ok := got[`hikvision_service_enabled{service="telnet"}`]; !ok {
				t.Error("a broken SNMP answer hid the other services")
			}
		})
	}

	// The simulator's own broken answer (a truncated document).
	t.Run("malformed fault", func(t *testing.T) {
		e := simulator.Endpoint{Body: simulator.SNMPXML("", weakSNMP)}
		clk := newClock()
		sim, d := startProbe(t, withSNMP(&e), clk, "")
		sim.SetFault("GET "+isapi.PathSNMP, simulator.Fault{Malformed: true})
		_, err := collect(t, servicesCollector{}, d, clk)
		if err == nil || !strings.Contains(err.Error(), isapi.PathSNMP) || !strings.Contains(err.Error(), "malformed XML answer") {
			t.Fatalf("error = %v, want a malformed answer of %s", err, isapi.PathSNMP)
		}
	})
}

func TestServicesUPnPPortMapping(t *testing.T) {
	ns := simulator.NamespaceISAPIOrg20
	mapping := func(enabled bool, ports ...simulator.UPnPPort) simulator.UPnPPortMapping {
		return simulator.UPnPPortMapping{Enabled: enabled, MapMode: "manual", Ports: ports}
	}
	three := []simulator.UPnPPort{{ID: 1, Enabled: true, Internal: "http", External: 8080},
		{ID: 2, Enabled: false, Internal: "rtsp", External: 554}, {ID: 3, Enabled: true, Internal: "admin", External: 8000}}
	for name, c := range map[string]struct {
		upnp      []byte // the UPnP answer
		ports     *simulator.Endpoint
		portsFeat string // "+", "-" or "" (not asked)
		want      string
		asked     int // requests to /UPnP/ports
	}{
		"nested mapping": {upnp: simulator.UPnPWithPortsXML(ns, true, "cam", mapping(true, three...)),
			want: "upnp=1 upnp_mapping=1 upnp_mapped=2"},
		"nested mapping off": {upnp: simulator.UPnPWithPortsXML(ns, true, "cam", mapping(false, three...)),
			want: "upnp=1 upnp_mapping=0 upnp_mapped=0"},
		"nested mapping without a list": {upnp: simulator.UPnPWithPortsXML(ns, true, "cam", simulator.UPnPPortMapping{Enabled: true, NoList: true}),
			want: "upnp=1 upnp_mapping=1"},
		"UPnP off with a nested mapping on": {upnp: simulator.UPnPWithPortsXML(ns, false, "cam", mapping(true, three...)),
			want: "upnp=0 upnp_mapping=1 upnp_mapped=0"},
		"mapping at /ports": {upnp: simulator.UPnPXML(ns, true, "cam"),
			ports:     &simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, mapping(true, three...))},
			portsFeat: "+", want: "upnp=1 upnp_mapping=1 upnp_mapped=2", asked: 1},
		"empty list at /ports": {upnp: simulator.UPnPXML(ns, true, "cam"),
			ports:     &simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, mapping(true))},
			portsFeat: "+", want: "upnp=1 upnp_mapping=1 upnp_mapped=0", asked: 1},
		"/ports missing": {upnp: simulator.UPnPXML(ns, true, "cam"),
			portsFeat: "-", want: "upnp=1", asked: 1},
		"/ports notSupport": {upnp: simulator.UPnPXML(ns, true, "cam"),
			ports:     &simulator.Endpoint{Status: 403, Body: simulator.NotSupportedXML(ns, isapi.PathUPnPPorts)},
			portsFeat: "-", want: "upnp=1", asked: 1},
		"UPnP off: /ports not asked": {upnp: simulator.UPnPXML(ns, false, "cam"),
			ports: &simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, mapping(true, three...))},
			want:  "upnp=0 upnp_mapped=0"},
		"UPnP switch not sent: /ports not asked": {upnp: []byte("<UPnP><name>cam</name></UPnP>"),
			ports: &simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, mapping(true, three...))},
			want:  ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := servicesProfile(ns, hardenedServices)
			p.Endpoints["GET "+isapi.PathUPnP] = simulator.Endpoint{Body: c.upnp}
			if c.ports != nil {
				p.Endpoints[upnpPortsKey] = *c.ports
			}
			sim, got, err := collectOnce(t, servicesCollector{}, p)
			if err != nil {
				t.Fatal(err)
			}
			spec := "+upnp " + c.want
			if c.portsFeat != "" {
				spec += " " + c.portsFeat + "upnp_ports"
			}
			promtest.Diff(t, "", seriesContaining(got, "upnp"), seriesContaining(servicesWant(t, spec), "upnp"))
			if n := sim.Stats().ByPath[upnpPortsKey]; n != c.asked {
				t.Errorf("/UPnP/ports requested %d times, want %d", n, c.asked)
			}
		})
	}

	t.Run("/ports broken", func(t *testing.T) {
		p := servicesProfile(ns, weakServices)
		p.Endpoints[upnpPortsKey] = simulator.Endpoint{Body: simulator.UPnPPortsXML(ns, mapping(true, three...))}
		sim, d := startProbe(t, p, nil, "")
		sim.SetFault(upnpPortsKey, simulator.Fault{Malformed: true})
		got, err := collect(t, servicesCollector{}, d, nil)
		if err == nil || !strings.Contains(err.Error(), "UPnP port mapping") || !strings.Contains(err.Error(), isapi.PathUPnPPorts) {
			t.Fatalf("error = %v, want the port mapping's failure", err)
		}
		// The UPnP switch stays; the mapping has no value and no verdict.
		promtest.Diff(t, "", seriesContaining(got, "upnp"), seriesContaining(servicesWant(t, "+upnp upnp=1"), "upnp"))
	})
}

// The SNMP answer and the port mapping are configuration: a second probe
// within cache_ttl asks for neither.
func TestServicesSNMPAndPortMappingCached(t *testing.T) {
	sim, d := startProbe(t, weakProfile(simulator.NamespaceHikvision20), nil, "")
	first, err := collect(t, servicesCollector{}, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	promtest.Diff(t, "", first, servicesWant(t, weakWant))
	wantCached(t, sim, servicesCollector{}, d, first, "SNMP and the port mapping are cached")
}
