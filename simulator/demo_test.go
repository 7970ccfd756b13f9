package simulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDemoFleet(t *testing.T) {
	clk := newClock()
	f, cfg := startFleet(t, WithClock(clk.Now))
	names := []string{"hardened-cam", "weak-cam", "nvr-isapiorg", "wrong-password"}
	if len(cfg.Devices) != len(f.Devices) || len(f.Devices) < len(names) {
		t.Fatalf("config names %d devices, fleet has %d", len(cfg.Devices), len(f.Devices))
	}
	passwords := map[string]bool{}
	for i, name := range names {
		fd, cd := f.Devices[i], cfg.Devices[i]
		m := cfg.Modules[cd.Module]
		if fd.Name != name || cd.Name != name || cd.Address != fd.Device.Addr() || cd.Module != name ||
			m.Username != "exporter" || m.Scheme != "http" || m.Timeout != "10s" || fd.Description == "" {
			t.Fatalf("device %d: %+v / %+v / %+v", i, fd, cd, m)
		}
		if fd.Device.Profile().LockAfter != 5 {
			t.Errorf("%s: LockAfter %d", name, fd.Device.Profile().LockAfter)
		}
		passwords[m.Password] = true
		// The configured credentials work everywhere except on wrong-password.
		c := digestClient(t, m.Username, m.Password, false)
		a := get(t, c, "http://"+cd.Address+"/ISAPI/Security/userCheck")
		if want := map[bool]int{true: 401, false: 200}[name == "wrong-password"]; a.status != want {
			t.Errorf("%s: userCheck %d, want %d", name, a.status, want)
		}
	}
	if len(passwords) != 4 {
		t.Errorf("passwords not distinct")
	}
	if f.Device("nope") != nil || f.Device("weak-cam") == nil {
		t.Error("Fleet.Device lookup")
	}

	hard := digestClient(t, "exporter", cfg.Modules["hardened-cam"].Password, false)
	hURL := f.Device("hardened-cam").Device.URL()
	for path, want := range map[string]string{
		"/ISAPI/System/Network/telnetd":    "<enabled>false</enabled>",
		"/ISAPI/Security/adminAccesses":    "<redirectToHttps>true</redirectToHttps>",
		"/ISAPI/Security/illegalLoginLock": "<maxIllegalLoginTimes>5</maxIllegalLoginTimes>",
		"/ISAPI/Security/userCheck":        "<residualValidity>60</residualValidity>",
		"/ISAPI/Streaming/channels/101":    "<certificateType>digest</certificateType>",
		"/ISAPI/System/time":               "<localTime>2026-11-26T11:15:40+08:00</localTime>",
	} {
		if a := get(t, hard, hURL+path); a.status != 200 || !strings.Contains(a.body, want) {
			t.Errorf("hardened-cam %s: %d %q", path, a.status, a.body)
		}
	}

	weak := digestClient(t, "exporter", cfg.Modules["weak-cam"].Password, false)
	wd := f.Device("weak-cam").Device
	a := get(t, weak, wd.URL()+"/ISAPI/System/deviceInfo")
	var info struct {
		Model, FirmwareVersion, FirmwareReleasedDate, FirmwareVersionInfo string
	}
	if err := xml.Unmarshal([]byte(strings.NewReplacer("<model>", "<Model>", "</model>", "</Model>",
		"firmwareVersion>", "FirmwareVersion>", "firmwareReleasedDate>", "FirmwareReleasedDate>",
		"firmwareVersionInfo>", "FirmwareVersionInfo>").Replace(a.body)), &info); err != nil {
		t.Fatal(err)
	}
	if info.Model != "DS-2CD2132F-IS" || info.FirmwareVersion != "V5.3.0" || info.FirmwareReleasedDate != "build 150410" || info.FirmwareVersionInfo != "" {
		t.Errorf("weak-cam deviceInfo %+v\n%s", info, a.body)
	}
	r := search(t, weak, wd, searchBody("w", "log.std-cgi.com/Exception", clk.Now().Add(-time.Hour), clk.Now(), 100, 0))
	if r.NumMatches != 25 {
		t.Errorf("weak-cam illegal logins in the last hour: %d", r.NumMatches)
	}
	u := parseUserCheck(t, get(t, weak, wd.URL()+"/ISAPI/Security/userCheck").body)
	if !*u.IsDefault || !*u.IsRisk || *u.ResidualValidity != -3 {
		t.Errorf("weak-cam account %+v", u)
	}
	if a := get(t, weak, wd.URL()+"/ISAPI/System/time"); !strings.Contains(a.body, "11:22:40+08:00") || !strings.Contains(a.body, "manual") {
		t.Errorf("weak-cam time %q", a.body)
	}

	nvr := digestClient(t, "exporter", cfg.Modules["nvr-isapiorg"].Password, false)
	nURL := f.Device("nvr-isapiorg").Device.URL()
	if a := get(t, nvr, nURL+"/ISAPI/System/Network/telnetd"); a.status != 403 {
		t.Errorf("nvr telnetd %d", a.status)
	}
	if a := get(t, nvr, nURL+"/ISAPI/Security/RTSPCertificate"); a.status != 404 {
		t.Errorf("nvr RTSPCertificate %d", a.status)
	}

	// The exporter's retries against wrong-password lock it, for 30 minutes, extended.
	wp := f.Device("wrong-password").Device
	bad := digestClient(t, "exporter", cfg.Modules["wrong-password"].Password, true)
	for range 5 {
		get(t, bad, wp.URL()+"/ISAPI/Security/userCheck")
	}
	if !wp.Locked() {
		t.Error("wrong-password not locked after 5 failures")
	}
}

func TestDemoFleetTLS(t *testing.T) {
	f, cfg := startFleet(t, WithTLS())
	for _, d := range cfg.Devices {
		m := cfg.Modules[d.Module]
		pool := x509.NewCertPool()
		if m.Scheme != "https" || !pool.AppendCertsFromPEM([]byte(m.TLSConfig.CA)) {
			t.Fatalf("%s: scheme %q, ca %q", d.Name, m.Scheme, m.TLSConfig.CA)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get("https://" + d.Address + "/")
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		resp.Body.Close()
	}
	if len(f.Devices) != len(cfg.Devices) {
		t.Fatal("device count")
	}
}
