package isapi

import (
	"strings"
)

// Paths of the exposed-service and authentication-mode endpoints (docs/isapi.md §5).
const (
	PathAdminAccesses       = "/ISAPI/Security/adminAccesses"
	PathSSH                 = "/ISAPI/System/Network/ssh"
	PathTelnetd             = "/ISAPI/System/Network/telnetd"
	PathUPnP                = "/ISAPI/System/Network/UPnP"
	PathUPnPPorts           = "/ISAPI/System/Network/UPnP/ports"
	PathIntegrate           = "/ISAPI/System/Network/Integrate"
	PathEZVIZ               = "/ISAPI/System/Network/EZVIZ"
	PathIPFilter            = "/ISAPI/System/Network/ipFilter"
	PathWebCertificate      = "/ISAPI/Security/webCertificate"
	PathRTSPCertificate     = "/ISAPI/Security/RTSPCertificate"
	PathStreamingChannel101 = "/ISAPI/Streaming/channels/101"
)

// AdminAccessList is GET /ISAPI/Security/adminAccesses: the protocols the
// device serves and their ports (docs/isapi.md §5.1, real on 16 devices). The
// redirect and TLS elements appear only on the HTTPS entry, and not on all
// firmware.
type AdminAccessList struct {
	Protocols []AdminAccessProtocol `xml:"AdminAccessProtocol"`
}

// AdminAccessesEndpoint reads the protocol list, cached.
var AdminAccessesEndpoint = XML[AdminAccessList](PathAdminAccesses, true)

// AdminAccessProtocol is one AdminAccessProtocol entry.
type AdminAccessProtocol struct {
	ID              OptionalInt  `xml:"id"`
	Enabled         OptionalBool `xml:"enabled"`
	Protocol        string       `xml:"protocol"`
	PortNo          OptionalInt  `xml:"portNo"`
	RedirectToHTTPS OptionalBool `xml:"redirectToHttps"`
	TLS11           OptionalBool `xml:"TLS1_1Enable"`
	TLS12           OptionalBool `xml:"TLS1_2Enable"`
	TLS13           OptionalBool `xml:"TLS1_3Enable"`
}

// AdminService is one protocol of an AdminAccessList under the exporter's
// service name.
type AdminService struct {
	Name     string // ServiceName of the protocol
	Protocol string // as the device spelled it
	Enabled  OptionalBool
	Port     OptionalInt
}

// Services returns the listed protocols in document order, named by
// ServiceName. An entry without a protocol is skipped, and a service listed
// twice keeps its first entry. DEV_MANAGE (the SDK port) without an
// <enabled> element counts as enabled: NVRs, DVRs and the DS-K1A340FWX list
// it that way, and it cannot be switched off there (docs/isapi.md §5.1). Other
// protocols without <enabled> are left unset.
func (l *AdminAccessList) Services() []AdminService {
	out := make([]AdminService, 0, len(l.Protocols))
	seen := make(map[string]bool, len(l.Protocols))
	for _, p := range l.Protocols {
		name := ServiceName(p.Protocol)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		s := AdminService{Name: name, Protocol: strings.TrimSpace(p.Protocol), Enabled: p.Enabled, Port: p.PortNo}
		if name == "sdk" && !s.Enabled.Set {
			s.Enabled = OptionalBool{V: true, Set: true}
		}
		out = append(out, s)
	}
	return out
}

// HTTPS returns the first HTTPS entry, which carries redirectToHttps and
// the TLS version switches.
func (l *AdminAccessList) HTTPS() (AdminAccessProtocol, bool) {
	for _, p := range l.Protocols {
		if ServiceName(p.Protocol) == "https" {
			return p, true
		}
	}
	return AdminAccessProtocol{}, false
}

// ServiceName maps an adminAccesses protocol to the exporter's service
// label: HTTP http, HTTPS https, RTSP rtsp, DEV_MANAGE sdk, SDK_OVER_TLS
// sdk_tls, WebSocket websocket, WebSocketS websockets, SRTP srtp, Bonjour
// bonjour; anything else lower-cased with every character outside
// [a-z0-9_] replaced by "_" (IOT iot, modbusTCP modbustcp). Empty in, empty out.
func ServiceName(protocol string) string {
	p := strings.TrimSpace(protocol)
	switch strings.ToUpper(p) {
	case "DEV_MANAGE":
		return "sdk"
	case "SDK_OVER_TLS":
		return "sdk_tls"
	}
	// HTTP, HTTPS, RTSP, WebSocket, WebSocketS, SRTP and Bonjour are
	// exactly their lower-case spellings.
	b := []byte(strings.ToLower(p))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			b[i] = '_'
		}
	}
	return string(b)
}

// SSH is GET /ISAPI/System/Network/ssh (docs/isapi.md §5.4). Real shape:
// captures/ssh__k1a340fwx-doc.xml.
type SSH struct {
	Enabled OptionalBool `xml:"enabled"`
}

// SSHEndpoint reads the SSH switch, cached.
var SSHEndpoint = XML[SSH](PathSSH, true)

// Telnetd is GET /ISAPI/System/Network/telnetd (docs/isapi.md §5.4). No real
// capture exists (§10): the URL is in Hikvision's web-UI map and the body
// is presumed to be <Telnetd><enabled>.
type Telnetd struct {
	Enabled OptionalBool `xml:"enabled"`
}

// TelnetdEndpoint reads the telnet switch, cached.
var TelnetdEndpoint = XML[Telnetd](PathTelnetd, true)

// UPnP is GET /ISAPI/System/Network/UPnP (docs/isapi.md §5.5), shape from client
// code; no real capture. Some firmware nests the port mapping in it
// (UPnP/ports, seen in a client's test fixture); others serve it only at
// /ISAPI/System/Network/UPnP/ports.
type UPnP struct {
	Enabled OptionalBool `xml:"enabled"`
	Name    string       `xml:"name"`
	Ports   *UPnPPorts   `xml:"ports"` // nil when the answer has no port mapping
}

// UPnPEndpoint reads the UPnP switch, cached.
var UPnPEndpoint = XML[UPnP](PathUPnP, true)

// UPnPPorts is the UPnP port mapping: GET /ISAPI/System/Network/UPnP/ports,
// or the ports block of the UPnP answer (docs/isapi.md §5.5):
// ports/{enabled, mapmode, portList/port/{id, enabled, internalPort,
// externalPort}}. Shape from client code and Hikvision's changelog; no
// real capture.
type UPnPPorts struct {
	Enabled OptionalBool  `xml:"enabled"`
	MapMode string        `xml:"mapmode"` // auto | manual
	List    *UPnPPortList `xml:"portList"`
}

// UPnPPortsEndpoint reads the port mapping, cached. Collectors ask for it
// only when UPnP is on and its answer carries no ports block.
var UPnPPortsEndpoint = XML[UPnPPorts](PathUPnPPorts, true)

// UPnPPortList is ports/portList.
type UPnPPortList struct {
	Ports []UPnPPort `xml:"port"`
}

// UPnPPort is one port the device may ask the router to forward.
type UPnPPort struct {
	ID           OptionalInt  `xml:"id"`
	Enabled      OptionalBool `xml:"enabled"`
	InternalPort string       `xml:"internalPort"` // the service: http, https, rtsp, admin, srtp, ...
	ExternalPort OptionalInt  `xml:"externalPort"`
}

// MappedPorts is how many ports a device asks its router to open: none
// when UPnP or the port mapping is off, else the portList entries not
// switched off (an entry without enabled counts). upnp is the UPnP
// switch; p is the mapping, nil when not read. Unset when that cannot be
// told: the mapping is on, or not known to be off, and no portList was sent.
func MappedPorts(upnp OptionalBool, p *UPnPPorts) OptionalInt {
	switch {
	case upnp.Set && !upnp.V:
		return OptionalInt{V: 0, Set: true}
	case p == nil:
		return OptionalInt{}
	case p.Enabled.Set && !p.Enabled.V:
		return OptionalInt{V: 0, Set: true}
	case p.List == nil:
		return OptionalInt{}
	}
	var n int64
	for _, port := range p.List.Ports {
		if !port.Enabled.Set || port.Enabled.V {
			n++
		}
	}
	return OptionalInt{V: n, Set: true}
}

// Integrate is GET /ISAPI/System/Network/Integrate: the CGI/ISAPI and ONVIF
// switches (docs/isapi.md §3, §5.7), shape from client notes; no real capture.
type Integrate struct {
	CGI   IntegrateProtocol `xml:"CGI"`
	ONVIF IntegrateProtocol `xml:"ONVIF"`
}

// IntegrateEndpoint reads the CGI and ONVIF switches, cached.
var IntegrateEndpoint = XML[Integrate](PathIntegrate, true)

// IntegrateProtocol is the CGI or ONVIF block of Integrate. Firmware is
// documented with <enable>; <enabled> is read too, in case a build
// spells it like every other switch.
type IntegrateProtocol struct {
	Enable          OptionalBool `xml:"enable"`
	EnabledAlt      OptionalBool `xml:"enabled"`
	CertificateType string       `xml:"certificateType"`
}

// On returns <enable>, or <enabled> when only that was sent.
func (p IntegrateProtocol) On() OptionalBool {
	if p.Enable.Set {
		return p.Enable
	}
	return p.EnabledAlt
}

// EZVIZ is GET /ISAPI/System/Network/EZVIZ, the Hik-Connect cloud link
// (docs/isapi.md §5.6). Real shape: captures/ezviz__k1a340fwx-doc.xml.
type EZVIZ struct {
	Enabled               OptionalBool `xml:"enabled"`
	RegisterStatus        OptionalBool `xml:"registerStatus"`
	BindStatus            string       `xml:"bindStatus"`
	StreamEncrypteEnabled OptionalBool `xml:"streamEncrypteEnabled"`
}

// EZVIZEndpoint reads the cloud link, cached.
var EZVIZEndpoint = XML[EZVIZ](PathEZVIZ, true)

// Bound reads bindStatus: "bind" true, "unbind" false, anything else unset.
func (e *EZVIZ) Bound() OptionalBool {
	switch strings.ToLower(strings.TrimSpace(e.BindStatus)) {
	case "bind", "bound":
		return OptionalBool{V: true, Set: true}
	case "unbind", "unbound":
		return OptionalBool{V: false, Set: true}
	}
	return OptionalBool{}
}

// IPFilter is GET /ISAPI/System/Network/ipFilter (docs/isapi.md §5.9), shape
// from client code; no real capture.
type IPFilter struct {
	Enabled        OptionalBool `xml:"enabled"`
	PermissionType string       `xml:"permissionType"` // allow | deny
}

// IPFilterEndpoint reads the IP filter switch, cached.
var IPFilterEndpoint = XML[IPFilter](PathIPFilter, true)

// WebCertificate is GET /ISAPI/Security/webCertificate, the web (ISAPI)
// authentication mode (docs/isapi.md §5.2). No real capture exists (§10): the
// element is CertificateType in SecurityCap/WebCertificateCap, while
// clients also read certificateType, so both spellings are accepted.
type WebCertificate struct {
	CertificateType      string `xml:"CertificateType"`
	CertificateTypeLower string `xml:"certificateType"`
	AlgorithmType        string `xml:"SecurityAlgorithm>algorithmType"`
}

// WebCertificateEndpoint reads the web authentication mode, cached.
var WebCertificateEndpoint = XML[WebCertificate](PathWebCertificate, true)

// Type returns the authentication mode as sent, whichever spelling carried it.
func (w *WebCertificate) Type() string {
	return firstNonEmpty(w.CertificateType, w.CertificateTypeLower)
}

// BasicAllowed reports whether the mode accepts HTTP Basic.
func (w *WebCertificate) BasicAllowed() OptionalBool { return CertificateBasicAllowed(w.Type()) }

// RTSPCertificate is GET /ISAPI/Security/RTSPCertificate, the RTSP
// authentication mode on newer firmware (docs/isapi.md §5.3). No real capture
// (§10); both spellings of the element are accepted.
type RTSPCertificate struct {
	CertificateTypeLower string `xml:"certificateType"`
	CertificateType      string `xml:"CertificateType"`
}

// RTSPCertificateEndpoint reads the RTSP authentication mode, cached.
var RTSPCertificateEndpoint = XML[RTSPCertificate](PathRTSPCertificate, true)

// Type returns the authentication mode as sent.
func (r *RTSPCertificate) Type() string {
	return firstNonEmpty(r.CertificateTypeLower, r.CertificateType)
}

// BasicAllowed reports whether the mode accepts RTSP Basic.
func (r *RTSPCertificate) BasicAllowed() OptionalBool { return CertificateBasicAllowed(r.Type()) }

// StreamingChannel is the part of GET /ISAPI/Streaming/channels/101 that
// tells the RTSP authentication mode: Transport/Security (docs/isapi.md §5.3,
// real). IPCs send it (digest or digest/basic); NVRs and DVRs send no
// Security block, and DS-2CD2532F-IWS sends only <enabled>.
type StreamingChannel struct {
	ID       OptionalInt     `xml:"id"`
	Security ChannelSecurity `xml:"Transport>Security"`
}

// StreamingChannel101Endpoint reads the first channel, for its RTSP
// authentication mode, cached.
var StreamingChannel101Endpoint = XML[StreamingChannel](PathStreamingChannel101, true)

// ChannelSecurity is StreamingChannel/Transport/Security.
type ChannelSecurity struct {
	Enabled              OptionalBool `xml:"enabled"`
	CertificateTypeLower string       `xml:"certificateType"`
	CertificateType      string       `xml:"CertificateType"`
	AlgorithmType        string       `xml:"SecurityAlgorithm>algorithmType"`
}

// Type returns the RTSP authentication mode as sent, "" when absent.
func (s *ChannelSecurity) Type() string {
	return firstNonEmpty(s.CertificateTypeLower, s.CertificateType)
}

// BasicAllowed reports whether RTSP accepts Basic; unset without a mode.
func (s *ChannelSecurity) BasicAllowed() OptionalBool { return CertificateBasicAllowed(s.Type()) }

// CertificateBasicAllowed reads a certificateType authentication mode
// case-insensitively: "digest/basic" (or "basic") allows Basic, "digest"
// does not. Anything else, including an empty value, is unknown.
func CertificateBasicAllowed(mode string) OptionalBool {
	var digest, basic bool
	for _, part := range strings.FieldsFunc(strings.ToLower(mode), func(r rune) bool {
		return r == '/' || r == ',' || r == '+' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		switch part {
		case "basic":
			basic = true
		case "digest":
			digest = true
		}
	}
	switch {
	case basic:
		return OptionalBool{V: true, Set: true}
	case digest:
		return OptionalBool{V: false, Set: true}
	}
	return OptionalBool{}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
