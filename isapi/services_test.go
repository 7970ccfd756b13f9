package isapi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// adminAccessCaptures is every adminAccesses capture with the values read off
// the file by hand.
var adminAccessCaptures = map[string]struct{ raw, services, https string }{
	"adminAccesses__hikvision_next_DS-2CD2146G2-ISU.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/false/7682 8/SRTP/false/322 10/Bonjour/true/-",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=false:7682 srtp=false:322 bonjour=true:-",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=true",
	},
	"adminAccesses__hikvision_next_DS-2CD2346G2-ISU.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/true/7682 8/SRTP/false/322 10/Bonjour/true/-",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=true:7682 srtp=false:322 bonjour=true:-",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=true",
	},
	"adminAccesses__hikvision_next_DS-2CD2443G0-IW.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/false/7682",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=false:7682",
		https:    "redirect=false tls1.1=true tls1.2=true tls1.3=-",
	},
	"adminAccesses__hikvision_next_DS-2CD2T46G2-ISU.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/true/7682 8/SRTP/false/322 10/Bonjour/true/-",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=true:7682 srtp=false:322 bonjour=true:-",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=true",
	},
	"adminAccesses__hikvision_next_DS-2CD2T86G2-ISU.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/true/7682 8/SRTP/false/322 10/Bonjour/true/-",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=true:7682 srtp=false:322 bonjour=true:-",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=true",
	},
	"adminAccesses__hikvision_next_DS-2SE4C425MWG-E-26.xml": {
		raw:      "1/HTTP/true/80 2/HTTPS/true/443 3/DEV_MANAGE/true/8000 4/RTSP/true/554 5/SDK_OVER_TLS/true/8443 6/WebSocket/true/7681 7/WebSocketS/false/7682 8/SRTP/false/322 10/Bonjour/true/-",
		services: "http=true:80 https=true:443 sdk=true:8000 rtsp=true:554 sdk_tls=true:8443 websocket=true:7681 websockets=false:7682 srtp=false:322 bonjour=true:-",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=true",
	},
	"adminAccesses__hikvision_next_DS-7608NXI-I2.xml": {
		raw:      "1/HTTP/true/80 2/RTSP/true/10554 3/HTTPS/true/443 4/DEV_MANAGE/true/8000 5/WebSocket/false/7681 6/IOT/false/30999 7/SDK_OVER_TLS/true/8443",
		services: "http=true:80 rtsp=true:10554 https=true:443 sdk=true:8000 websocket=false:7681 iot=false:30999 sdk_tls=true:8443",
		https:    "redirect=false tls1.1=false tls1.2=true tls1.3=-",
	},
	"adminAccesses__hikvision_next_DS-7616NI-K2.xml": {
		raw:      "1/HTTP/true/80 2/RTSP/true/554 3/HTTPS/true/443 4/DEV_MANAGE/-/8000",
		services: "http=true:80 rtsp=true:554 https=true:443 sdk=true:8000",
		https:    "redirect=- tls1.1=- tls1.2=- tls1.3=-",
	},
	"adminAccesses__hikvision_next_DS-7616NI-Q2.xml": {
		raw:      "1/HTTP/true/80 2/RTSP/true/554 3/HTTPS/true/443 4/DEV_MANAGE/-/8000",
		services: "http=true:80 rtsp=true:554 https=true:443 sdk=true:8000",
		https:    "redirect=- tls1.1=- tls1.2=- tls1.3=-",
	},
	"adminAccesses__hikvision_next_iDS-7208HQHI-M1.xml": {
		raw:      "1/HTTP/true/80 2/RTSP/true/554 3/HTTPS/false/443 4/DEV_MANAGE/-/8000 5/WebSocket/true/7681",
		services: "http=true:80 rtsp=true:554 https=false:443 sdk=true:8000 websocket=true:7681",
		https:    "redirect=false tls1.1=- tls1.2=- tls1.3=-",
	},
	"adminAccesses__k1a340fwx-doc.xml": {
		raw:      "1/HTTP/true/80 2/DEV_MANAGE/-/8000 4/HTTPS/true/443",
		services: "http=true:80 sdk=true:8000 https=true:443",
		https:    "redirect=- tls1.1=- tls1.2=- tls1.3=-",
	},
}

func TestServicesAdminAccessesCaptures(t *testing.T) {
	var files []string
	for _, n := range simulator.CaptureNames() {
		if strings.HasPrefix(n, "adminAccesses__") {
			files = append(files, n)
		}
	}
	if len(files) != 11 || len(files) != len(adminAccessCaptures) {
		t.Fatalf("adminAccesses captures = %d (%v), table has %d; keep them in step", len(files), files, len(adminAccessCaptures))
	}
	for _, name := range files {
		want, ok := adminAccessCaptures[name]
		if !ok {
			t.Errorf("%s: no expectations in the table", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			var l AdminAccessList
			if err := Decode(simulator.Capture(name), &l); err != nil {
				t.Fatal(err)
			}
			if got := adminEntries(&l); got != want.raw {
				t.Errorf("entries\n got %s\nwant %s", got, want.raw)
			}
			if got := adminServices(&l); got != want.services {
				t.Errorf("services\n got %s\nwant %s", got, want.services)
			}
			if got := adminHTTPS(&l); got != want.https {
				t.Errorf("https\n got %s\nwant %s", got, want.https)
			}
		})
	}
}

func TestServicesK1A340FWXCaptures(t *testing.T) {
	var ssh SSH
	if err := Decode(simulator.Capture("ssh__k1a340fwx-doc.xml"), &ssh); err != nil {
		t.Fatal(err)
	}
	if ssh.Enabled != (OptionalBool{V: false, Set: true}) {
		t.Errorf("ssh enabled = %+v, want false", ssh.Enabled)
	}
	var ez EZVIZ
	if err := Decode(simulator.Capture("ezviz__k1a340fwx-doc.xml"), &ez); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("enabled=%s registered=%s bindStatus=%s bound=%s encrypt=%s",
		showBool(ez.Enabled), showBool(ez.RegisterStatus), ez.BindStatus, showBool(ez.Bound()), showBool(ez.StreamEncrypteEnabled))
	if want := "enabled=false registered=false bindStatus=unbind bound=false encrypt=-"; got != want {
		t.Errorf("EZVIZ\n got %s\nwant %s", got, want)
	}
}

func TestServicesStreamingChannelCaptures(t *testing.T) {
	// Transport/Security of channel 101 per model, read off the files.
	want := map[string]string{
		"DS-2CD2146G2-ISU":    "enabled=true type=digest/basic alg=MD5 basic=true",
		"DS-2CD2346G2-ISU":    "enabled=true type=digest alg=MD5 basic=false",
		"DS-2CD2443G0-IW":     "enabled=true type=digest/basic alg= basic=true",
		"DS-2CD2T46G2-ISU":    "enabled=true type=digest alg=MD5 basic=false",
		"DS-2CD2T86G2-ISU":    "enabled=true type=digest alg=MD5 basic=false",
		"DS-2SE4C425MWG-E-26": "enabled=true type=digest alg=MD5 basic=false",
		"DS-7608NXI-I2":       "enabled=- type= alg= basic=-",
		"DS-7616NI-K2":        "enabled=- type= alg= basic=-",
		"DS-7616NI-Q2":        "enabled=- type= alg= basic=-",
		"iDS-7208HQHI-M1":     "enabled=- type= alg= basic=-",
	}
	n := 0
	for _, name := range simulator.CaptureNames() {
		model, ok := strings.CutPrefix(name, "streamingChannel101__hikvision_next_")
		if !ok {
			continue
		}
		model = strings.TrimSuffix(model, ".xml")
		n++
		var ch StreamingChannel
		if err := Decode(simulator.Capture(name), &ch); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ch.ID != (OptionalInt{V: 101, Set: true}) {
			t.Errorf("%s: id = %+v", model, ch.ID)
		}
		s := ch.Security
		got := fmt.Sprintf("enabled=%s type=%s alg=%s basic=%s", showBool(s.Enabled), s.Type(), s.AlgorithmType, showBool(s.BasicAllowed()))
		if got != want[model] {
			t.Errorf("%s\n got %s\nwant %s", model, got, want[model])
		}
	}
	if n != len(want) {
		t.Errorf("decoded %d channel captures, table has %d", n, len(want))
	}
}

func TestServicesSyntheticShapes(t *testing.T) {
	telnetd := func(v *Telnetd) string { return showBool(v.Enabled) }
	mode := func(c interface {
		Type() string
		BasicAllowed() OptionalBool
	}) string {
		return c.Type() + " " + showBool(c.BasicAllowed())
	}
	rtsp := func(v *RTSPCertificate) string { return mode(v) }
	cases := map[string]shownDoc{
		"telnetd on":    showDoc("Telnetd", "<enabled>true</enabled>", telnetd, "true"),
		"telnetd off":   showDoc("Telnetd", "<enabled>false</enabled>", telnetd, "false"),
		"telnetd empty": showDoc("Telnetd", "<enabled/>", telnetd, "-"),
		"ssh on":        showDoc("SSH", "<enabled>true</enabled>", func(v *SSH) string { return showBool(v.Enabled) }, "true"),
		"upnp": showDoc("UPnP", "<enabled>true</enabled><name>cam-7</name>",
			func(v *UPnP) string { return showBool(v.Enabled) + " " + v.Name }, "true cam-7"),
		"integrate": showDoc("Integrate", "<CGI><enable>true</enable><certificateType>digest</certificateType></CGI><ONVIF><enable>false</enable><certificateType>digest/wsse</certificateType></ONVIF>",
			func(v *Integrate) string {
				return fmt.Sprintf("cgi=%s/%s onvif=%s/%s", showBool(v.CGI.On()), v.CGI.CertificateType, showBool(v.ONVIF.On()), v.ONVIF.CertificateType)
			}, "cgi=true/digest onvif=false/digest/wsse"),
		"integrate enabled spelling": showDoc("Integrate", "<ONVIF><enabled>true</enabled></ONVIF>",
			func(v *Integrate) string { return "cgi=" + showBool(v.CGI.On()) + " onvif=" + showBool(v.ONVIF.On()) }, "cgi=- onvif=true"),
		"ezviz bound": showDoc("EZVIZ", "<enabled>true</enabled><registerStatus>true</registerStatus><bindStatus>bind</bindStatus><streamEncrypteEnabled>false</streamEncrypteEnabled>",
			func(v *EZVIZ) string {
				return showBool(v.Enabled) + " " + showBool(v.RegisterStatus) + " " + showBool(v.Bound()) + " " + showBool(v.StreamEncrypteEnabled)
			}, "true true true false"),
		"ezviz no bindStatus": showDoc("EZVIZ", "<enabled>true</enabled>",
			func(v *EZVIZ) string { return showBool(v.Enabled) + " " + showBool(v.Bound()) }, "true -"),
		"ip filter": showDoc("IPFilter", "<enabled>true</enabled><permissionType>deny</permissionType><IPFilterAddressList/>",
			func(v *IPFilter) string { return showBool(v.Enabled) + " " + v.PermissionType }, "true deny"),
		"web certificate digest/basic": showDoc("WebCertificate", "<CertificateType>digest/basic</CertificateType><SecurityAlgorithm><algorithmType>MD5/SHA256</algorithmType></SecurityAlgorithm>",
			func(v *WebCertificate) string {
				return v.Type() + " " + v.AlgorithmType + " " + showBool(v.BasicAllowed())
			}, "digest/basic MD5/SHA256 true"),
		"web certificate lower-case element, upper-case value": showDoc("WebCertificate", "<certificateType>DIGEST</certificateType>",
			func(v *WebCertificate) string { return mode(v) }, "DIGEST false"),
		"web certificate missing": showDoc("WebCertificate", "<SecurityAlgorithm><algorithmType>SHA256</algorithmType></SecurityAlgorithm>",
			func(v *WebCertificate) string { return "[" + v.Type() + "] " + showBool(v.BasicAllowed()) }, "[] -"),
		"rtsp certificate digest":             showDoc("RTSPCertificate", "<certificateType>digest</certificateType>", rtsp, "digest false"),
		"rtsp certificate upper-case element": showDoc("RTSPCertificate", "<CertificateType>Digest/Basic</CertificateType>", rtsp, "Digest/Basic true"),
		"admin accesses duplicate and odd protocols": showDoc("AdminAccessProtocolList",
			"<AdminAccessProtocol><id>1</id><enabled>true</enabled><protocol>HTTP</protocol><portNo>80</portNo></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>2</id><enabled>false</enabled><protocol>HTTP</protocol><portNo>8080</portNo></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>3</id><enabled>false</enabled><protocol>DEV_MANAGE</protocol><portNo>8000</portNo></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>4</id><enabled>true</enabled><protocol>modbusTCP</protocol><portNo>502</portNo></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>5</id><protocol>Some-Proto 2</protocol></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>6</id><enabled>true</enabled><protocol> </protocol><portNo>1</portNo></AdminAccessProtocol>"+
				"<AdminAccessProtocol><id>7</id><enabled>yes</enabled><protocol>HTTPS</protocol><portNo>x</portNo><TLS1_3Enable>true</TLS1_3Enable></AdminAccessProtocol>",
			func(v *AdminAccessList) string { return adminServices(v) + " | " + adminHTTPS(v) },
			"http=true:80 sdk=false:8000 modbustcp=true:502 some_proto_2=-:- https=true:- | redirect=- tls1.1=- tls1.2=- tls1.3=true"),
	}
	checkShownDocs(t, cases)
}

// The simulator's synthesized documents must read the same as real ones.
func TestServicesSimulatorShapes(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		var (
			tel Telnetd
			ssh SSH
			up  UPnP
			ez  EZVIZ
			in  Integrate
			ipf IPFilter
			web WebCertificate
			rc  RTSPCertificate
			aa  AdminAccessList
		)
		for _, d := range []struct {
			b []byte
			v any
		}{
			{simulator.TelnetdXML(ns, true), &tel},
			{simulator.SSHXML(ns, true), &ssh},
			{simulator.UPnPXML(ns, true, "cam"), &up},
			{simulator.EZVIZXML(ns, true, true, true), &ez},
			{simulator.IntegrateXML(ns, true, "digest", true, "digest/wsse"), &in},
			{simulator.IPFilterXML(ns, false, "allow"), &ipf},
			{simulator.WebCertificateXML(ns, "digest/basic", "MD5"), &web},
			{simulator.RTSPCertificateXML(ns, "digest"), &rc},
			{simulator.AdminAccessesXML(ns,
				simulator.AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
				simulator.AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, TLS11: true, TLS12: true}), &aa},
		} {
			if err := Decode(d.b, d.v); err != nil {
				t.Fatalf("ns %q: %T: %v", ns, d.v, err)
			}
		}
		got := strings.Join([]string{
			showBool(tel.Enabled), showBool(ssh.Enabled), showBool(up.Enabled), up.Name,
			showBool(ez.Enabled), showBool(ez.Bound()), showBool(in.ONVIF.On()), showBool(ipf.Enabled), ipf.PermissionType,
			showBool(web.BasicAllowed()), showBool(rc.BasicAllowed()), adminServices(&aa), adminHTTPS(&aa),
		}, " ")
		want := "true true true cam true true true false allow true false http=true:80 https=true:443 redirect=false tls1.1=true tls1.2=true tls1.3=false"
		if got != want {
			t.Errorf("ns %q\n got %s\nwant %s", ns, got, want)
		}
	}
}

func TestServicesServiceName(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP": "http", "HTTPS": "https", "RTSP": "rtsp", "DEV_MANAGE": "sdk", "dev_manage": "sdk",
		"SDK_OVER_TLS": "sdk_tls", "WebSocket": "websocket", "WebSocketS": "websockets", "SRTP": "srtp",
		"Bonjour": "bonjour", "IOT": "iot", "modbusTCP": "modbustcp", " RTSP\n": "rtsp", "ISUP-5.0": "isup_5_0",
		"Ünicode": "__nicode", "": "", "  ": "",
	} {
		if got := ServiceName(in); got != want {
			t.Errorf("ServiceName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServicesCertificateBasicAllowed(t *testing.T) {
	for in, want := range map[string]string{
		"digest/basic": "true", "Digest/Basic": "true", " DIGEST/BASIC ": "true", "basic": "true", "basic/digest": "true",
		"digest": "false", "DIGEST": "false", "digest/wsse": "false",
		"": "-", "none": "-", "wsse": "-", "basically": "-",
	} {
		if got := showBool(CertificateBasicAllowed(in)); got != want {
			t.Errorf("CertificateBasicAllowed(%q) = %s, want %s", in, got, want)
		}
	}
}

var serviceNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

func FuzzDecodeServicesAdminAccesses(f *testing.F) {
	for _, n := range simulator.CaptureNames() {
		if strings.HasPrefix(n, "adminAccesses__") {
			f.Add(simulator.Capture(n))
		}
	}
	f.Add(namespacedDoc("prefixed", "AdminAccessProtocolList", "<AdminAccessProtocol><protocol>HTTPS</protocol><TLS1_1Enable>true</TLS1_1Enable></AdminAccessProtocol>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l AdminAccessList
		if Decode(b, &l) != nil {
			return
		}
		var names []string
		for _, s := range l.Services() {
			if !serviceNameRE.MatchString(s.Name) {
				t.Fatalf("service name %q is not a clean label (protocol %q)", s.Name, s.Protocol)
			}
			if slices.Contains(names, s.Name) {
				t.Fatalf("service %q listed twice", s.Name)
			}
			names = append(names, s.Name)
		}
		if h, ok := l.HTTPS(); ok && ServiceName(h.Protocol) != "https" {
			t.Fatalf("HTTPS() returned %q", h.Protocol)
		}
	})
}

func FuzzDecodeServicesDocuments(f *testing.F) {
	for _, n := range []string{"ssh__k1a340fwx-doc.xml", "ezviz__k1a340fwx-doc.xml", "streamingChannel101__hikvision_next_DS-2CD2146G2-ISU.xml", "streamingChannel101__hikvision_next_DS-7608NXI-I2.xml"} {
		f.Add(simulator.Capture(n))
	}
	ns := simulator.NamespaceHikvision20
	f.Add(simulator.IntegrateXML(ns, true, "digest", true, "digest/wsse"))
	f.Add(simulator.WebCertificateXML(ns, "digest/basic", "MD5"))
	f.Add(simulator.RTSPCertificateXML("urn:psialliance-org", "digest"))
	f.Add(simulator.IPFilterXML("", true, "deny"))
	f.Add(simulator.UPnPXML(ns, true, "x"))
	f.Add(simulator.TelnetdXML(ns, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		var (
			ssh SSH
			tel Telnetd
			up  UPnP
			in  Integrate
			ez  EZVIZ
			ipf IPFilter
			web WebCertificate
			rc  RTSPCertificate
			ch  StreamingChannel
		)
		for _, v := range []any{&ssh, &tel, &up, &in, &ez, &ipf, &web, &rc, &ch} {
			_ = Decode(b, v)
		}
		_, _ = in.CGI.On(), in.ONVIF.On()
		_ = ez.Bound()
		for _, pair := range []struct {
			typ   string
			basic OptionalBool
		}{{web.Type(), web.BasicAllowed()}, {rc.Type(), rc.BasicAllowed()}, {ch.Security.Type(), ch.Security.BasicAllowed()}} {
			if pair.basic.Set && pair.typ == "" {
				t.Fatalf("a Basic verdict without a certificate type")
			}
		}
	})
}
