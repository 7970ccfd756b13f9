package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// Credentials of the exporter account on every simulated device.
const (
	Username = "bench"
	Password = "Bench-Pa55-w0rd!"
)

// models are the real-capture cameras and NVRs the fleet cycles through, so
// that a fleet has the namespaces and answer sizes of real firmware.
var models = func() []string {
	var out []string
	for _, m := range simulator.CaptureModels() {
		if m != "k1a340fwx" { // an access terminal, not a camera or recorder
			out = append(out, m)
		}
	}
	return out
}()

// DeviceProfile is the simulated device number i: the captures of one of
// the real models, every posture endpoint the collectors read filled in
// with the simulator's builders where no capture exists (shaped like the
// demo's hardened camera), and a short log history relative to now.
func DeviceProfile(i int, now time.Time) simulator.Profile {
	p := simulator.CaptureProfile(models[i%len(models)])
	ns := p.Namespace
	p.Name = DeviceName(i)
	p.Username, p.Password = Username, Password
	p.Account = simulator.Account{ResidualValidity: simulator.Days(60)}
	p.LockAfter, p.LockDuration = 5, 30*time.Minute
	fill := func(key string, body []byte) {
		if _, ok := p.Endpoints[key]; !ok {
			p.Endpoints[key] = simulator.Endpoint{Body: body}
		}
	}
	fill("GET /ISAPI/System/Network/telnetd", simulator.TelnetdXML(ns, false))
	fill("GET /ISAPI/System/Network/ssh", simulator.SSHXML(ns, false))
	fill("GET /ISAPI/System/Network/UPnP", simulator.UPnPXML(ns, false, p.Name))
	fill("GET /ISAPI/System/Network/EZVIZ", simulator.EZVIZXML(ns, false, false, false))
	fill("GET /ISAPI/System/Network/Integrate", simulator.IntegrateXML(ns, true, "digest", false, "digest/wsse"))
	fill("GET /ISAPI/System/Network/ipFilter", simulator.IPFilterXML(ns, true, "allow"))
	fill("GET /ISAPI/Security/webCertificate", simulator.WebCertificateXML(ns, "digest", "MD5"))
	fill("GET /ISAPI/Security/RTSPCertificate", simulator.RTSPCertificateXML(ns, "digest"))
	fill("GET /ISAPI/Security/illegalLoginLock", simulator.IllegalLoginLockXML(ns, true, 5, 30))
	fill("GET /ISAPI/Event/triggers", simulator.EventTriggersXML(ns, "center", "email"))
	fill("GET /ISAPI/Security/users", simulator.UsersXML(ns,
		simulator.User{ID: 1, Name: "admin", Level: "Administrator"},
		simulator.User{ID: 2, Name: Username, Level: "Operator", BondIPs: []string{"10.0.0.20"}}))
	fill("GET /ISAPI/Security/adminAccesses", simulator.AdminAccessesXML(ns,
		simulator.AdminAccess{ID: 1, Protocol: "HTTP", Enabled: true, Port: 80},
		simulator.AdminAccess{ID: 2, Protocol: "HTTPS", Enabled: true, Port: 443, RedirectToHTTPS: true, TLS12: true, TLS13: true},
		simulator.AdminAccess{ID: 3, Protocol: "DEV_MANAGE", Enabled: false, Port: 8000},
		simulator.AdminAccess{ID: 4, Protocol: "RTSP", Enabled: true, Port: 554}))
	for k, e := range extraEndpoints(ns) {
		fill(k, e)
	}
	for h := range 6 {
		p.Log = append(p.Log, simulator.LogEvent{Time: now.Add(-time.Duration(6-h) * time.Hour),
			Major: "Operation", Minor: "remoteLogin", User: Username, IP: "10.0.0.20"})
	}
	p.Log = append(p.Log,
		simulator.LogEvent{Time: now.Add(-90 * time.Minute), Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: "203.0.113.7"},
		simulator.LogEvent{Time: now.Add(-89 * time.Minute), Major: "Exception", Minor: "illlegealAccess", User: "admin", IP: "203.0.113.7"})
	slices.SortFunc(p.Log, func(a, b simulator.LogEvent) int { return a.Time.Compare(b.Time) })
	return p
}

// DeviceName names device i in the fleet config.
func DeviceName(i int) string { return fmt.Sprintf("dev-%05d", i) }

// DeviceAddr is the loopback address device i listens on (any port).
// Every address in 127.0.0.0/8 reaches this machine; 127.20.0.0/16 and up
// keep clear of 127.0.0.1.
func DeviceAddr(i int) string {
	return fmt.Sprintf("127.%d.%d.%d:0", 20+i/(254*254), (i/254)%254+1, i%254+1)
}
