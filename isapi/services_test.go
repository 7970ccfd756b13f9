package isapi_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// svcBool and svcInt print optional values for table comparisons; "-" is
// an element the device did not send.
func svcBool(b isapi.OptionalBool) string {
	if !b.Set {
		return "-"
	}
	return fmt.Sprint(b.V)
}

func svcInt(i isapi.OptionalInt) string {
	if !i.Set {
		return "-"
	}
	return fmt.Sprint(i.V)
}

// svcRaw renders the decoded entries as "id/protocol/enabled/port".
func svcRaw(l *isapi.AdminAccessList) string {
	var parts []string
	for _, p := range l.Protocols {
		parts = append(parts, fmt.Sprintf("%s/%s/%s/%s", svcInt(p.ID), p.Protocol, svcBool(p.Enabled), svcInt(p.PortNo)))
	}
	return strings.Join(parts, " ")
}

// svcServices renders Services() as "name=enabled:port".
func svcServices(l *isapi.AdminAccessList) string {
	var parts []string
	for _, s := range l.Services() {
		parts = append(parts, fmt.Sprintf("%s=%s:%s", s.Name, svcBool(s.Enabled), svcInt(s.Port)))
	}
	return strings.Join(parts, " ")
}

// svcHTTPS renders the HTTPS entry's redirect and TLS switches.
func svcHTTPS(l *isapi.AdminAccessList) string {
	h, ok := l.HTTPS()
	if !ok {
		return "none"
	}
	return fmt.Sprintf("redirect=%s tls1.1=%s tls1.2=%s tls1.3=%s",
		svcBool(h.RedirectToHTTPS), svcBool(h.TLS11), svcBool(h.TLS12), svcBool(h.TLS13))
}

// svcAdminCaptures is every adminAccesses capture with the values read off
// the file by hand.
var svcAdminCaptures = map[string]struct{ raw, services, https string }{
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
	if len(files) != 11 || len(files) != len(svcAdminCaptures) {
		t.Fatalf("adminAccesses captures = %d (%v), table has %d; keep them in step", len(files), files, len(svcAdminCaptures))
	}
	for _, name := range files {
		want, ok := svcAdminCaptures[name]
		if !ok {
			t.Errorf("%s: no expectations in the table", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			var l isapi.AdminAccessList
			if err := isapi.Decode(simulator.Capture(name), &l); err != nil {
				t.Fatal(err)
			}
			if got := svcRaw(&l); got != want.raw {
				t.Errorf("entries\n got %s\nwant %s", got, want.raw)
			}
			if got := svcServices(&l); got != want.services {
				t.Errorf("services\n got %s\nwant %s", got, want.services)
			}
			if got := svcHTTPS(&l); got != want.https {
				t.Errorf("https\n got %s\nwant %s", got, want.https)
			}
		})
	}
}

func TestServicesK1A340FWXCaptures(t *testing.T) {
	var ssh isapi.SSH
	if err := isapi.Decode(simulator.Capture("ssh__k1a340fwx-doc.xml"), &ssh); err != nil {
		t.Fatal(err)
	}
	if ssh.Enabled != (isapi.OptionalBool{V: false, Set: true}) {
		t.Errorf("ssh enabled = %+v, want false", ssh.Enabled)
	}
	var ez isapi.EZVIZ
	if err := isapi.Decode(simulator.Capture("ezviz__k1a340fwx-doc.xml"), &ez); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("enabled=%s registered=%s bindStatus=%s bound=%s encrypt=%s",
		svcBool(ez.Enabled), svcBool(ez.RegisterStatus), ez.BindStatus, svcBool(ez.Bound()), svcBool(ez.StreamEncrypteEnabled))
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
		var ch isapi.StreamingChannel
		if err := isapi.Decode(simulator.Capture(name), &ch); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ch.ID != (isapi.OptionalInt{V: 101, Set: true}) {
			t.Errorf("%s: id = %+v", model, ch.ID)
		}
		s := ch.Security
		got := fmt.Sprintf("enabled=%s type=%s alg=%s basic=%s", svcBool(s.Enabled), s.Type(), s.AlgorithmType, svcBool(s.BasicAllowed()))
		if got != want[model] {
			t.Errorf("%s\n got %s\nwant %s", model, got, want[model])
		}
	}
	if n != len(want) {
		t.Errorf("decoded %d channel captures, table has %d", n, len(want))
	}
}

// svcNamespaces are the root-element openings seen on firmware (isapi.md
// §0); %s is the root name. "prefixed" writes every element with a prefix.
var svcNamespaces = map[string]string{
	"hikvision-ver20": `<%s version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">`,
	"hikvision-ver10": `<%s version="1.0" xmlns="http://www.hikvision.com/ver10/XMLSchema">`,
	"isapi.org-ver20": `<%s version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">`,
	"psialliance":     `<%s version="1.0" xmlns="urn:psialliance-org">`,
	"std-cgi":         `<%s version="2.0" xmlns="http://www.std-cgi.com/ver20/XMLSchema">`,
	"none":            `<%s>`,
	"prefixed":        `<%s version="2.0" xmlns:hik="http://www.hikvision.com/ver20/XMLSchema">`,
}

var svcTagRE = regexp.MustCompile(`<(/?)([A-Za-z])`)

// svcDoc builds a document with root around inner in the given namespace style.
func svcDoc(style, root, inner string) []byte {
	open := fmt.Sprintf(svcNamespaces[style], root)
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + open + "\n" + inner + "\n</" + root + ">\n"
	if style == "prefixed" {
		doc = svcTagRE.ReplaceAllString(doc, "<${1}hik:$2")
	}
	return []byte(doc)
}

func TestServicesSyntheticShapes(t *testing.T) {
	type tc struct {
		root, inner string
		decode      func([]byte) (string, error)
		want        string
	}
	dec := func(v any, show func() string) func([]byte) (string, error) {
		return func(b []byte) (string, error) {
			if err := isapi.Decode(b, v); err != nil {
				return "", err
			}
			return show(), nil
		}
	}
	cases := map[string]func() tc{
		"telnetd on": func() tc {
			var v isapi.Telnetd
			return tc{"Telnetd", "<enabled>true</enabled>", dec(&v, func() string { return svcBool(v.Enabled) }), "true"}
		},
		"telnetd off": func() tc {
			var v isapi.Telnetd
			return tc{"Telnetd", "<enabled>false</enabled>", dec(&v, func() string { return svcBool(v.Enabled) }), "false"}
		},
		"telnetd empty": func() tc {
			var v isapi.Telnetd
			return tc{"Telnetd", "<enabled/>", dec(&v, func() string { return svcBool(v.Enabled) }), "-"}
		},
		"ssh on": func() tc {
			var v isapi.SSH
			return tc{"SSH", "<enabled>true</enabled>", dec(&v, func() string { return svcBool(v.Enabled) }), "true"}
		},
		"upnp": func() tc {
			var v isapi.UPnP
			return tc{"UPnP", "<enabled>true</enabled><name>cam-7</name>", dec(&v, func() string { return svcBool(v.Enabled) + " " + v.Name }), "true cam-7"}
		},
		"integrate": func() tc {
			var v isapi.Integrate
			return tc{"Integrate", "<CGI><enable>true</enable><certificateType>digest</certificateType></CGI><ONVIF><enable>false</enable><certificateType>digest/wsse</certificateType></ONVIF>",
				dec(&v, func() string {
					return fmt.Sprintf("cgi=%s/%s onvif=%s/%s", svcBool(v.CGI.On()), v.CGI.CertificateType, svcBool(v.ONVIF.On()), v.ONVIF.CertificateType)
				}), "cgi=true/digest onvif=false/digest/wsse"}
		},
		"integrate enabled spelling": func() tc {
			var v isapi.Integrate
			return tc{"Integrate", "<ONVIF><enabled>true</enabled></ONVIF>",
				dec(&v, func() string { return "cgi=" + svcBool(v.CGI.On()) + " onvif=" + svcBool(v.ONVIF.On()) }), "cgi=- onvif=true"}
		},
		"ezviz bound": func() tc {
			var v isapi.EZVIZ
			return tc{"EZVIZ", "<enabled>true</enabled><registerStatus>true</registerStatus><bindStatus>bind</bindStatus><streamEncrypteEnabled>false</streamEncrypteEnabled>",
				dec(&v, func() string {
					return svcBool(v.Enabled) + " " + svcBool(v.RegisterStatus) + " " + svcBool(v.Bound()) + " " + svcBool(v.StreamEncrypteEnabled)
				}), "true true true false"}
		},
		"ezviz no bindStatus": func() tc {
			var v isapi.EZVIZ
			return tc{"EZVIZ", "<enabled>true</enabled>", dec(&v, func() string { return svcBool(v.Enabled) + " " + svcBool(v.Bound()) }), "true -"}
		},
		"ip filter": func() tc {
			var v isapi.IPFilter
			return tc{"IPFilter", "<enabled>true</enabled><permissionType>deny</permissionType><IPFilterAddressList/>",
				dec(&v, func() string { return svcBool(v.Enabled) + " " + v.PermissionType }), "true deny"}
		},
		"web certificate digest/basic": func() tc {
			var v isapi.WebCertificate
			return tc{"WebCertificate", "<CertificateType>digest/basic</CertificateType><SecurityAlgorithm><algorithmType>MD5/SHA256</algorithmType></SecurityAlgorithm>",
				dec(&v, func() string { return v.Type() + " " + v.AlgorithmType + " " + svcBool(v.BasicAllowed()) }), "digest/basic MD5/SHA256 true"}
		},
		"web certificate lower-case element, upper-case value": func() tc {
			var v isapi.WebCertificate
			return tc{"WebCertificate", "<certificateType>DIGEST</certificateType>",
				dec(&v, func() string { return v.Type() + " " + svcBool(v.BasicAllowed()) }), "DIGEST false"}
		},
		"web certificate missing": func() tc {
			var v isapi.WebCertificate
			return tc{"WebCertificate", "<SecurityAlgorithm><algorithmType>SHA256</algorithmType></SecurityAlgorithm>",
				dec(&v, func() string { return "[" + v.Type() + "] " + svcBool(v.BasicAllowed()) }), "[] -"}
		},
		"rtsp certificate digest": func() tc {
			var v isapi.RTSPCertificate
			return tc{"RTSPCertificate", "<certificateType>digest</certificateType>",
				dec(&v, func() string { return v.Type() + " " + svcBool(v.BasicAllowed()) }), "digest false"}
		},
		"rtsp certificate upper-case element": func() tc {
			var v isapi.RTSPCertificate
			return tc{"RTSPCertificate", "<CertificateType>Digest/Basic</CertificateType>",
				dec(&v, func() string { return v.Type() + " " + svcBool(v.BasicAllowed()) }), "Digest/Basic true"}
		},
		"admin accesses duplicate and odd protocols": func() tc {
			var v isapi.AdminAccessList
			return tc{"AdminAccessProtocolList",
				"<AdminAccessProtocol><id>1</id><enabled>true</enabled><protocol>HTTP</protocol><portNo>80</portNo></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>2</id><enabled>false</enabled><protocol>HTTP</protocol><portNo>8080</portNo></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>3</id><enabled>false</enabled><protocol>DEV_MANAGE</protocol><portNo>8000</portNo></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>4</id><enabled>true</enabled><protocol>modbusTCP</protocol><portNo>502</portNo></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>5</id><protocol>Some-Proto 2</protocol></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>6</id><enabled>true</enabled><protocol> </protocol><portNo>1</portNo></AdminAccessProtocol>" +
					"<AdminAccessProtocol><id>7</id><enabled>yes</enabled><protocol>HTTPS</protocol><portNo>x</portNo><TLS1_3Enable>true</TLS1_3Enable></AdminAccessProtocol>",
				dec(&v, func() string { return svcServices(&v) + " | " + svcHTTPS(&v) }),
				"http=true:80 sdk=false:8000 modbustcp=true:502 some_proto_2=-:- https=true:- | redirect=- tls1.1=- tls1.2=- tls1.3=true"}
		},
	}
	for name, mk := range cases {
		for style := range svcNamespaces {
			t.Run(name+"/"+style, func(t *testing.T) {
				c := mk()
				got, err := c.decode(svcDoc(style, c.root, c.inner))
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("got %q, want %q", got, c.want)
				}
			})
		}
	}
}

// The simulator's synthesized documents must read the same as real ones.
func TestServicesSimulatorShapes(t *testing.T) {
	for _, ns := range []string{simulator.NamespaceHikvision20, simulator.NamespaceISAPIOrg20, "urn:psialliance-org", ""} {
		var (
			tel isapi.Telnetd
			ssh isapi.SSH
			up  isapi.UPnP
			ez  isapi.EZVIZ
			in  isapi.Integrate
			ipf isapi.IPFilter
			web isapi.WebCertificate
			rc  isapi.RTSPCertificate
			aa  isapi.AdminAccessList
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
			if err := isapi.Decode(d.b, d.v); err != nil {
				t.Fatalf("ns %q: %T: %v", ns, d.v, err)
			}
		}
		got := strings.Join([]string{
			svcBool(tel.Enabled), svcBool(ssh.Enabled), svcBool(up.Enabled), up.Name,
			svcBool(ez.Enabled), svcBool(ez.Bound()), svcBool(in.ONVIF.On()), svcBool(ipf.Enabled), ipf.PermissionType,
			svcBool(web.BasicAllowed()), svcBool(rc.BasicAllowed()), svcServices(&aa), svcHTTPS(&aa),
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
		if got := isapi.ServiceName(in); got != want {
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
		if got := svcBool(isapi.CertificateBasicAllowed(in)); got != want {
			t.Errorf("CertificateBasicAllowed(%q) = %s, want %s", in, got, want)
		}
	}
}

var svcServiceNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

func FuzzDecodeServicesAdminAccesses(f *testing.F) {
	for _, n := range simulator.CaptureNames() {
		if strings.HasPrefix(n, "adminAccesses__") {
			f.Add(simulator.Capture(n))
		}
	}
	f.Add(svcDoc("prefixed", "AdminAccessProtocolList", "<AdminAccessProtocol><protocol>HTTPS</protocol><TLS1_1Enable>true</TLS1_1Enable></AdminAccessProtocol>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var l isapi.AdminAccessList
		if isapi.Decode(b, &l) != nil {
			return
		}
		var names []string
		for _, s := range l.Services() {
			if !svcServiceNameRE.MatchString(s.Name) {
				t.Fatalf("service name %q is not a clean label (protocol %q)", s.Name, s.Protocol)
			}
			if slices.Contains(names, s.Name) {
				t.Fatalf("service %q listed twice", s.Name)
			}
			names = append(names, s.Name)
		}
		if h, ok := l.HTTPS(); ok && isapi.ServiceName(h.Protocol) != "https" {
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
			ssh isapi.SSH
			tel isapi.Telnetd
			up  isapi.UPnP
			in  isapi.Integrate
			ez  isapi.EZVIZ
			ipf isapi.IPFilter
			web isapi.WebCertificate
			rc  isapi.RTSPCertificate
			ch  isapi.StreamingChannel
		)
		for _, v := range []any{&ssh, &tel, &up, &in, &ez, &ipf, &web, &rc, &ch} {
			_ = isapi.Decode(b, v)
		}
		_, _ = in.CGI.On(), in.ONVIF.On()
		_ = ez.Bound()
		for _, pair := range []struct {
			typ   string
			basic isapi.OptionalBool
		}{{web.Type(), web.BasicAllowed()}, {rc.Type(), rc.BasicAllowed()}, {ch.Security.Type(), ch.Security.BasicAllowed()}} {
			if pair.basic.Set && pair.typ == "" {
				t.Fatalf("a Basic verdict without a certificate type")
			}
		}
	})
}
