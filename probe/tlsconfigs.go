package probe

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"sync"

	promconfig "github.com/prometheus/common/config"
)

// tlsConfigs builds each module's TLS configuration once and shares it
// between the clients of its devices. A ca_file that trusts every device
// of a large site lists thousands of certificates: parsed once per client,
// it would cost seconds and megabytes per device. A changed file (its size
// or modification time) is read again for the clients built after it.
type tlsConfigs struct {
	mu    sync.Mutex
	built map[[32]byte]*tls.Config
}

// get returns the TLS configuration of a client of host, or nil for http.
func (t *tlsConfigs) get(scheme string, c *promconfig.TLSConfig, host string) (*tls.Config, error) {
	if scheme != "https" {
		return nil, nil
	}
	key := tlsKey(c)
	t.mu.Lock()
	base, ok := t.built[key]
	t.mu.Unlock()
	if !ok {
		var err error
		if base, err = promconfig.NewTLSConfig(c); err != nil {
			return nil, fmt.Errorf("tls_config: %w", err)
		}
		t.mu.Lock()
		if t.built == nil || len(t.built) >= maxTLSConfigs {
			t.built = map[[32]byte]*tls.Config{}
		}
		t.built[key] = base
		t.mu.Unlock()
	}
	tc := base.Clone() // the pool of roots is shared, not copied
	if tc.ServerName == "" {
		if _, err := netip.ParseAddr(host); err != nil {
			tc.ServerName = host
		}
	}
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
