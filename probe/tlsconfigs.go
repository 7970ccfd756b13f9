package probe

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"os"
	"sync"

	promconfig "github.com/prometheus/common/config"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// tlsConfigs builds each module's TLS configuration once and shares it
// between the clients of its devices. A ca_file that trusts every device
// of a large site lists thousands of certificates: parsed once per client,
// it would cost seconds and megabytes per device. A changed file (its size
// or modification time) is read again for the clients built after it.
// Building one holds the lock: the first probes of a large fleet wait for
// one parse instead of each parsing the file.
type tlsConfigs struct {
	mu    sync.Mutex
	built map[[32]byte]*tls.Config
}

// get returns the TLS configuration of a module's clients, or nil for
// http. The clients share it, and its session cache (isapi.DeviceTLS):
// net/http names each connection's server after its device's host.
func (t *tlsConfigs) get(scheme string, c *promconfig.TLSConfig) (*tls.Config, error) {
	if scheme != "https" {
		return nil, nil
	}
	key := tlsKey(c)
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc, ok := t.built[key]; ok {
		return tc, nil
	}
	base, err := promconfig.NewTLSConfig(c)
	if err != nil {
		return nil, fmt.Errorf("tls_config: %w", err)
	}
	if t.built == nil || len(t.built) >= maxTLSConfigs {
		t.built = map[[32]byte]*tls.Config{}
	}
	tc := isapi.DeviceTLS(base)
	t.built[key] = tc
	return tc, nil
}

// maxTLSConfigs bounds the cache: a config has few distinct tls_configs,
// and reloads with edited files add one each.
const maxTLSConfigs = 64

// tlsKey identifies a tls_config and the files it names, as they are now.
func tlsKey(c *promconfig.TLSConfig) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%#v", *c)
	for _, f := range []string{c.CAFile, c.CertFile, c.KeyFile} {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(h, "|%s %d %d", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}
