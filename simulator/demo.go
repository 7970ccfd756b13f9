package simulator

import (
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Fleet is the set of simulated devices behind `hikvision_exporter --demo`,
// the end-to-end tests and the alert-rule tests.
type Fleet struct {
	Devices []*FleetDevice
}

// FleetDevice is one device of the demo fleet.
type FleetDevice struct {
	Name, Module, Description string
	Device                    *Device
	// Username and Password are what ConfigYAML gives the exporter (for
	// wrong-password they differ from the device's own password).
	Username, Password string
}

// demoUser is the exporter account on every demo device.
const demoUser = "exporter"

// StartDemoFleet starts the demo devices, all locking after 5 wrong logins:
//
//   - hardened-cam: recent G5 camera with every posture check passing.
//   - weak-cam: old firmware in the CVE-2017-7921 range, default password,
//     every risky service on, no lockout, a brute force in progress (25
//     failed logins in the last hour, one more every 2 minutes while the
//     demo runs), a clock 7 minutes off.
//   - nvr-isapiorg: isapi.org-namespace NVR with a middling posture; some
//     endpoints answer 403 notSupport, others plain 404.
//   - wrong-password: the exporter's password is wrong, so it is rejected
//     (and locks the account if it keeps trying).
//
// The options apply to every device (so WithListenAddr needs port 0); the
// log history is placed relative to the clock (WithClock) at start.
func StartDemoFleet(opts ...Option) (*Fleet, error) {
	now := buildOptions(opts).now()
	f := &Fleet{}
	for _, def := range demoDevices(now) {
		d, err := New(def.profile, opts...)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("simulator: starting %s: %w", def.name, err)
		}
		f.Devices = append(f.Devices, &FleetDevice{
			Name: def.name, Module: def.name, Description: def.description,
			Device: d, Username: demoUser, Password: def.configPassword,
		})
	}
	return f, nil
}

// Device returns the fleet device with this name, or nil.
func (f *Fleet) Device(name string) *FleetDevice {
	for _, d := range f.Devices {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Close stops every device.
func (f *Fleet) Close() {
	for _, d := range f.Devices {
		d.Device.Close()
	}
}

// ConfigYAML returns an exporter configuration naming every device, one
// module per device (modules carry the credentials), passwords inline.
// With WithTLS each module trusts its device's certificate inline.
func (f *Fleet) ConfigYAML() string {
	var b strings.Builder
	b.WriteString("# hikvision_exporter demo configuration: simulated devices (simulator.StartDemoFleet).\n")
	b.WriteString("modules:\n")
	for _, d := range f.Devices {
		fmt.Fprintf(&b, "  %s:\n", d.Module)
		fmt.Fprintf(&b, "    username: %s\n", d.Username)
		fmt.Fprintf(&b, "    password: %q\n", d.Password)
		cert := d.Device.Certificate()
		if cert == nil {
			b.WriteString("    scheme: http\n")
		} else {
			b.WriteString("    scheme: https\n    tls_config:\n      ca: |\n")
			for _, line := range strings.SplitAfter(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})), "\n") {
				if line != "" {
					b.WriteString("        " + line)
				}
			}
		}
		b.WriteString("    timeout: 10s\n")
	}
	b.WriteString("devices:\n")
	for _, d := range f.Devices {
		fmt.Fprintf(&b, "  - name: %s\n    address: %s\n    module: %s\n", d.Name, d.Device.Addr(), d.Module)
	}
	return b.String()
}

type demoDevice struct {
	name, description string
	configPassword    string
	profile           Profile
}

func demoDevices(now time.Time) []demoDevice {
	devices := []demoDevice{hardenedCam(now), weakCam(now), nvrISAPIOrg(now), wrongPassword()}
	devices = append(devices, siteDemoDevices(now)...)
	return append(devices, panelDemoDevices(now)...)
}

func hardenedCam(now time.Time) demoDevice {
	p := CaptureProfile("DS-2CD2T86G2-ISU")
	ns := p.Namespace
	p.Name, p.Username, p.Password = "hardened-cam", demoUser, "Hx9!vQ2#mR7-hardened"
	p.Account = Account{ResidualValidity: Days(60)}
	p.LockAfter, p.LockDuration = 5, 30*time.Minute
	// Current firmware whatever the date: a build 90 days before the demo starts.
	p.Endpoints["GET /ISAPI/System/deviceInfo"] = Endpoint{Body: SetElement(p.Endpoints["GET /ISAPI/System/deviceInfo"].Body,
		"firmwareReleasedDate", "build "+now.AddDate(0, 0, -90).UTC().Format("060102"))}
	set(p.Endpoints, map[string][]byte{
		"GET /ISAPI/System/Network/telnetd":    TelnetdXML(ns, false),
		"GET /ISAPI/System/Network/ssh":        SSHXML(ns, false),
		"GET /ISAPI/System/Network/UPnP":       UPnPXML(ns, false, "hardened-cam"),
		"GET /ISAPI/System/Network/EZVIZ":      EZVIZXML(ns, false, false, false),
		"GET /ISAPI/System/Network/Integrate":  IntegrateXML(ns, true, "digest", false, "digest/wsse"),
		"GET /ISAPI/System/Network/ipFilter":   IPFilterXML(ns, true, "allow"),
		"GET /ISAPI/Security/webCertificate":   WebCertificateXML(ns, "digest", "MD5"),
		"GET /ISAPI/Security/RTSPCertificate":  RTSPCertificateXML(ns, "digest"),
		"GET /ISAPI/Security/illegalLoginLock": IllegalLoginLockXML(ns, true, 5, 30),
		"GET /ISAPI/Event/triggers":            EventTriggersXML(ns, "center", "email"),
		"GET /ISAPI/Security/users": UsersXML(ns,
			User{ID: 1, Name: "admin", Level: "Administrator"},
			User{ID: 2, Name: demoUser, Level: "Operator", BondIPs: []string{"10.0.0.20"}}),
		"GET /ISAPI/Security/adminAccesses": AdminAccessesXML(ns,
			AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
			AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, RedirectToHTTPS: true, TLS12: true, TLS13: true},
			AdminAccess{ID: 3, Protocol: "DEV_MANAGE", Enabled: false, Port: 8000},
			AdminAccess{ID: 4, Protocol: "RTSP", Enabled: true, Port: 554},
			AdminAccess{ID: 5, Protocol: "SDK_OVER_TLS", Enabled: true, Port: 8443},
			AdminAccess{ID: 6, Protocol: "WebSocket", Enabled: false, Port: 7681},
			AdminAccess{ID: 7, Protocol: "WebSocketS", Enabled: true, Port: 7682}),
	})
	for i := range 6 {
		p.Log = append(p.Log, LogEvent{Time: now.Add(-time.Duration(6-i) * time.Hour), Major: "Operation", Minor: "remoteLogin", User: demoUser, IP: "10.0.0.20"})
	}
	return demoDevice{name: "hardened-cam", configPassword: p.Password, profile: p,
		description: "G5 camera, current firmware, Operator account with a strong password, every service locked down"}
}

func weakCam(now time.Time) demoDevice {
	p := CaptureProfile("DS-2CD2443G0-IW")
	ns := p.Namespace
	p.Name, p.Username, p.Password = "weak-cam", demoUser, "exporter123"
	p.Account = Account{DefaultPassword: true, RiskPassword: true, ResidualValidity: Days(-3)}
	p.LockAfter, p.LockDuration = 5, 30*time.Minute
	p.AcceptBasic = true // matches its webCertificate digest/basic
	p.TimeMode, p.ClockSkew = "manual", 7*time.Minute
	set(p.Endpoints, map[string][]byte{
		"GET /ISAPI/System/deviceInfo":         oldFirmwareDeviceInfo(p.Endpoints["GET /ISAPI/System/deviceInfo"].Body),
		"GET /ISAPI/System/Network/telnetd":    TelnetdXML(ns, true),
		"GET /ISAPI/System/Network/ssh":        SSHXML(ns, true),
		"GET /ISAPI/System/Network/UPnP":       UPnPXML(ns, true, "weak-cam"),
		"GET /ISAPI/System/Network/EZVIZ":      EZVIZXML(ns, true, true, true),
		"GET /ISAPI/System/Network/Integrate":  IntegrateXML(ns, true, "digest/basic", true, "digest/wsse"),
		"GET /ISAPI/System/Network/ipFilter":   IPFilterXML(ns, false, "allow"),
		"GET /ISAPI/Security/webCertificate":   WebCertificateXML(ns, "digest/basic", "MD5"),
		"GET /ISAPI/Security/RTSPCertificate":  RTSPCertificateXML(ns, "digest/basic"),
		"GET /ISAPI/Security/illegalLoginLock": IllegalLoginLockXML(ns, false, 7, 30),
		"GET /ISAPI/Event/triggers":            EventTriggersXML(ns),
		"GET /ISAPI/Security/users": UsersXML(ns,
			User{ID: 1, Name: "admin", Level: "Administrator"},
			User{ID: 2, Name: demoUser, Level: "Operator"},
			User{ID: 3, Name: "installer", Level: "Operator", BondIPs: []string{"10.0.0.5"}}),
		"GET /ISAPI/Security/adminAccesses": AdminAccessesXML(ns,
			AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
			AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, TLS11: true, TLS12: true},
			AdminAccess{ID: 3, Protocol: "DEV_MANAGE", Enabled: true, Port: 8000},
			AdminAccess{ID: 4, Protocol: "RTSP", Enabled: true, Port: 554}),
	})
	p.Log = append(p.Log, bruteForce(now)...)
	p.Log = append(p.Log,
		LogEvent{Time: now.Add(-3 * time.Hour), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.168.1.50"},
		LogEvent{Time: now.Add(-170 * time.Minute), Major: "Operation", Minor: "remoteCfgPara", User: "admin", IP: "192.168.1.50"})
	return demoDevice{name: "weak-cam", configPassword: p.Password, profile: p,
		description: "old DS-2CD2xx2F-I firmware (CVE-2017-7921 range), default password, telnet/SSH/UPnP/cloud on, no lockout, brute force in progress"}
}

// Weak-cam's brute force: a failed login every bruteForceEvery, the first
// 25 in the 50 minutes before the demo starts, then on for bruteForceFor.
const (
	bruteForceEvery = 2 * time.Minute
	bruteForceFor   = 30 * 24 * time.Hour
)

// bruteForce returns weak-cam's failed logins. It keeps going while the
// demo runs, without a goroutine: the entries after now are in the log
// from the start, and logSearch returns only entries inside the searched
// time span, which a client ends at its present, so each one shows once
// its time has come (Device.Log, which is not a search, has them all).
// The past 25 are at now-50m, now-48m ... now-2m; the ongoing ones at
// now+1m, now+3m ... (about 30 in any hour, 21,600 in all).
func bruteForce(now time.Time) []LogEvent {
	users := []string{"admin", "admin", "root", "admin", "support"}
	entry := func(i int, t time.Time) LogEvent {
		return LogEvent{Time: t, Major: "Exception", Minor: "illlegealAccess",
			User: users[i%len(users)], IP: fmt.Sprintf("203.0.113.%d", 10+i%4)}
	}
	var log []LogEvent
	for i := range 25 {
		log = append(log, entry(i, now.Add(-50*time.Minute+time.Duration(i)*bruteForceEvery)))
	}
	for i := 0; time.Duration(i)*bruteForceEvery < bruteForceFor; i++ {
		log = append(log, entry(25+i, now.Add(time.Minute+time.Duration(i)*bruteForceEvery)))
	}
	return log
}

func nvrISAPIOrg(now time.Time) demoDevice {
	p := CaptureProfile("DS-7608NXI-I2")
	ns := p.Namespace
	p.Name, p.Username, p.Password = "nvr-isapiorg", demoUser, "Nvr-Expo7er-2024"
	p.LockAfter, p.LockDuration = 5, 30*time.Minute
	p.ClockSkew = 2 * time.Second
	p.NotSupported = []string{"GET /ISAPI/System/Network/telnetd", "GET /ISAPI/System/Network/ssh"}
	// RTSPCertificate and ipFilter are left out: this firmware answers 404.
	set(p.Endpoints, map[string][]byte{
		"GET /ISAPI/System/Network/UPnP":       UPnPXML(ns, true, "nvr"),
		"GET /ISAPI/System/Network/EZVIZ":      EZVIZXML(ns, true, true, true),
		"GET /ISAPI/System/Network/Integrate":  IntegrateXML(ns, true, "digest", true, "digest/wsse"),
		"GET /ISAPI/Security/webCertificate":   WebCertificateXML(ns, "digest", "MD5"),
		"GET /ISAPI/Security/illegalLoginLock": IllegalLoginLockXML(ns, true, 7, 30),
		"GET /ISAPI/Security/users": UsersXML(ns,
			User{ID: 1, Name: "admin", Level: "Administrator"},
			User{ID: 2, Name: demoUser, Level: "Operator"}),
	})
	p.Log = append(p.Log,
		LogEvent{Time: now.Add(-5 * time.Hour), Major: "Operation", Minor: "remoteLogin", User: "admin", IP: "192.168.1.10"},
		LogEvent{Time: now.Add(-3 * time.Hour), Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: "192.168.1.77"},
		LogEvent{Time: now.Add(-3*time.Hour + time.Minute), Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: "192.168.1.77"},
		LogEvent{Time: now.Add(-2 * time.Hour), Major: "Exception", Minor: "ipcDisconnect", User: "", IP: ""})
	return demoDevice{name: "nvr-isapiorg", configPassword: p.Password, profile: p,
		description: "isapi.org-namespace NVR, middling posture, telnet/SSH endpoints unsupported (403), RTSPCertificate/ipFilter absent (404)"}
}

func wrongPassword() demoDevice {
	p := CaptureProfile("DS-2CD2146G2-ISU")
	p.Name, p.Username, p.Password = "wrong-password", demoUser, "Rotated-Pa55-2026"
	p.LockAfter, p.LockDuration, p.ExtendLock = 5, 30*time.Minute, true
	return demoDevice{name: "wrong-password", configPassword: "Stale-Pa55-2025", profile: p,
		description: "the device password was rotated; the exporter's is wrong and must not lock the account"}
}

func set(eps map[string]Endpoint, bodies map[string][]byte) {
	for k, b := range bodies {
		eps[k] = Endpoint{Body: b}
	}
}

var firmwareVersionInfoRE = regexp.MustCompile(`\n\s*<firmwareVersionInfo>[^<]*</firmwareVersionInfo>`)

// oldFirmwareDeviceInfo turns the DS-2CD2443G0-IW capture into a
// DS-2CD2132F-IS on V5.3.0 build 150410, inside the CVE-2017-7921 window
// for DS-2CD2xx2F-I (V5.2.0 b140721 – V5.4.0 b160530, docs/isapi.md §4). Firmware
// that old predates firmwareVersionInfo, so that element goes.
func oldFirmwareDeviceInfo(capture []byte) []byte {
	_, body, _ := strings.Cut(string(capture), "\n")
	b := []byte("<!-- synthetic (simulator demo weak-cam): deviceInfo__hikvision_next_DS-2CD2443G0-IW.xml with model and firmware replaced by an old DS-2CD2xx2F-I build -->\n" + body)
	for _, kv := range [][2]string{
		{"deviceName", "weak-cam"},
		{"model", "DS-2CD2132F-IS"},
		{"serialNumber", "DS-2CD2132F-IS20150410AAWR512345678"},
		{"firmwareVersion", "V5.3.0"},
		{"firmwareReleasedDate", "build 150410"},
		{"encoderVersion", "V5.0"},
		{"encoderReleasedDate", "build 150409"},
	} {
		b = SetElement(b, kv[0], kv[1])
	}
	return firmwareVersionInfoRE.ReplaceAll(b, nil)
}
