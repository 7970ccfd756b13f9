package config

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Store holds the config in force and replaces it on reload only when the
// new file is valid, so that a bad edit never stops the exporter.
type Store struct {
	path string
	opts []Option

	mu  sync.RWMutex
	cfg *Config

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

// NewStore wraps an already loaded config read from path.
func NewStore(path string, cfg *Config, reg prometheus.Registerer, opts ...Option) *Store {
	s := &Store{
		path: path,
		opts: opts,
		cfg:  cfg,
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hikvision_exporter", Name: "config_last_reload_successful",
			Help: "1 when the last configuration reload succeeded.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "hikvision_exporter", Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully.",
		}),
	}
	s.reloadOK.Set(1)
	s.reloadTime.SetToCurrentTime()
	if reg != nil {
		reg.MustRegister(s.reloadOK, s.reloadTime)
	}
	return s
}

// Get returns the config in force.
func (s *Store) Get() *Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

// Reload reads the file again; on error the old config stays in force.
func (s *Store) Reload() error {
	cfg, err := Load(s.path, s.opts...)
	if err != nil {
		s.reloadOK.Set(0)
		return err
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.reloadOK.Set(1)
	s.reloadTime.Set(float64(time.Now().UnixNano()) / 1e9)
	return nil
}

// sdGroup is one entry of Prometheus' HTTP service discovery format.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// SDJSON lists the configured devices in Prometheus' HTTP SD format, one
// group per device so each carries its own labels.
func (c *Config) SDJSON() ([]byte, error) {
	groups := make([]sdGroup, 0, len(c.Devices))
	for _, d := range c.Devices {
		labels := map[string]string{
			"__meta_hikvision_device": d.Name,
			"__meta_hikvision_module": d.Module,
			"__meta_hikvision_scheme": c.Modules[d.Module].Scheme,
		}
		keys := make([]string, 0, len(d.Labels))
		for k := range d.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			labels["__meta_hikvision_label_"+k] = d.Labels[k]
		}
		groups = append(groups, sdGroup{Targets: []string{d.Name}, Labels: labels})
	}
	return json.MarshalIndent(groups, "", "  ")
}
