package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

// The panel devices serve what their dashboard panels need: https-cam over
// HTTPS with a certificate expiring in 45 days, trusted by its module, a
// password policy and password recovery; verified-dvr double verification
// and SNMP v3 with an authenticated user. The rest of the fleet stays on
// plain HTTP.
func TestPanelDemoDevices(t *testing.T) {
	f, cfg := startFleet(t)
	modules := map[string]string{}
	for _, d := range cfg.Devices {
		modules[d.Name] = cfg.Modules[d.Module].Scheme
	}
	for name, scheme := range modules {
		if want := map[bool]string{true: "https", false: "http"}[name == "https-cam"]; scheme != want {
			t.Errorf("%s: scheme %q, want %s", name, scheme, want)
		}
	}

	cam := f.Device("https-cam")
	if cam == nil || f.Device("verified-dvr") == nil {
		t.Fatal("the fleet lacks https-cam or verified-dvr")
	}
	cert := cam.Device.Certificate()
	if left := time.Until(cert.NotAfter); left < httpsCamCertificateValidity-time.Hour || left > httpsCamCertificateValidity {
		t.Errorf("https-cam certificate expires in %s, want %s", left, httpsCamCertificateValidity)
	}
	var ca string
	for _, d := range cfg.Devices {
		if d.Name == "https-cam" {
			ca = cfg.Modules[d.Module].TLSConfig.CA
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca)) {
		t.Fatalf("https-cam's module trusts no certificate: %q", ca)
	}
	c := digestClientTr(t, demoUser, cam.Password, false, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	wantAnswers(t, "https-cam", c, cam.Device.URL(), map[string]string{
		"/ISAPI/Security/userCheck":             "<residualValidity>30</residualValidity>",
		"/ISAPI/System/capabilities":            "<isSupportSecurityEmail>true</isSupportSecurityEmail>",
		"/ISAPI/Security/questionConfiguration": "<id>4</id>",
		"/ISAPI/Security/email/parameter":       "security@example.com",
		"/ISAPI/System/deviceInfo":              "<deviceName>https-cam</deviceName>",
	})

	dvr := f.Device("verified-dvr")
	d := digestClient(t, demoUser, dvr.Password, false)
	wantAnswers(t, "verified-dvr", d, dvr.Device.URL(), map[string]string{
		"/ISAPI/System/capabilities":         "<DoubleVerificationCap>",
		"/ISAPI/Security/doubleVerification": "<enabled>true</enabled>",
		"/ISAPI/System/Network/SNMP":         "<snmpAuthenticationMethod>SHA</snmpAuthenticationMethod>",
		"/ISAPI/System/deviceInfo":           "<deviceType>DVR</deviceType>",
	})
}
