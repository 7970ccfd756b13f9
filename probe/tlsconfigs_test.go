package probe

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

func TestTLSConfigIsParsedOncePerModule(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	writeCA := func(devs ...*simulator.Device) {
		t.Helper()
		var b []byte
		for _, d := range devs {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.Certificate().Raw})...)
		}
		if err := os.WriteFile(caFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithTLS())
	b := simulator.Start(t, simulator.CaptureProfile("DS-2CD2146G2-ISU"), simulator.WithTLS())
	writeCA(a)
	var cache tlsConfigs
	conf := promconfig.TLSConfig{CAFile: caFile}
	first, err := cache.get("https", &conf)
	if err != nil {
		t.Fatal(err)
	}
	second, err := cache.get("https", &conf)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("two clients of one module got two configurations: the ca_file was parsed twice")
	}
	if first.ClientSessionCache == nil || first.ServerName != "" {
		t.Errorf("session cache %v, server name %q: want a shared cache, and net/http naming each device", first.ClientSessionCache, first.ServerName)
	}
	// An edited file is read again for the clients built after it.
	writeCA(a, b)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(caFile, later, later); err != nil {
		t.Fatal(err)
	}
	third, err := cache.get("https", &conf)
	if err != nil {
		t.Fatal(err)
	}
	if third == first || third.RootCAs.Equal(first.RootCAs) {
		t.Error("a changed ca_file was not read again")
	}
	if plain, err := cache.get("http", &conf); plain != nil || err != nil {
		t.Errorf("http: %v, %v; want no TLS configuration", plain, err)
	}
}
