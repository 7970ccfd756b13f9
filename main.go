// Command hikvision_exporter reports the security posture of Hikvision IP
// cameras, NVRs and DVRs to Prometheus, probing each device over ISAPI when
// Prometheus scrapes /probe.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/hikvision-exporter/hikvision_exporter/collector"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/probe"
	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// defaultAddress: 10729 is outside the fully allocated 9100-9999 exporter
// range and not used by any well-known exporter.
const defaultAddress = ":10729"

func main() {
	var (
		configFile    = kingpin.Flag("config.file", "Exporter configuration file.").Default("hikvision.yml").String()
		configCheck   = kingpin.Flag("config.check", "Validate the configuration file, print the errors or OK, and exit.").Bool()
		demo          = kingpin.Flag("demo", "Start simulated devices on loopback and probe them; needs no configuration file.").Bool()
		timeoutOffset = kingpin.Flag("timeout-offset", "Subtracted from Prometheus' scrape timeout to leave time to answer.").Default("0.5s").Duration()
		maxInFlight   = kingpin.Flag("probe.max-concurrent", "Probes served at once across all devices; more are answered 503.").Default(strconv.Itoa(probe.DefaultMaxInFlight)).Int()
		storagePath   = kingpin.Flag("storage.path", "Directory for state that must survive restarts (lockout hold-offs, log cursors); empty disables persistence.").Default("data/").String()
		webConfig     = kingpinflag.AddFlags(kingpin.CommandLine, defaultAddress)
		logConfig     = &promslog.Config{}
	)
	promslogflag.AddFlags(kingpin.CommandLine, logConfig)
	kingpin.Version(version.Print("hikvision_exporter"))
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	logger := promslog.New(logConfig)
	if *maxInFlight <= 0 {
		kingpin.Fatalf("--probe.max-concurrent must be positive, got %d", *maxInFlight)
	}

	if *configCheck {
		cfg, err := config.Load(*configFile, config.WithCollectors(collector.Names()))
		if err == nil {
			err = cfg.CheckFiles()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, w := range cfg.Warnings() {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
		fmt.Println("OK")
		return
	}

	if *demo {
		path, stop, err := startDemo(logger, (*webConfig.WebListenAddresses)[0])
		if err != nil {
			logger.Error("Cannot start the demo fleet", "err", err)
			os.Exit(1)
		}
		defer stop()
		*configFile = path
		*storagePath = filepath.Dir(path) // the demo's state is thrown away with it
	}

	cfg, err := config.Load(*configFile, config.WithCollectors(collector.Names()))
	if err != nil {
		logger.Error("Cannot load configuration", "err", err)
		os.Exit(1)
	}
	logger.Info("Starting hikvision_exporter", "version", version.Info(), "devices", len(cfg.Devices))
	for _, w := range cfg.Warnings() {
		logger.Warn("Risky configuration", "warning", w)
	}
	prometheus.MustRegister(versioncollector.NewCollector("hikvision_exporter"))
	store := config.NewStore(*configFile, cfg, prometheus.DefaultRegisterer, config.WithCollectors(collector.Names()))
	probes := probe.NewHandler(probe.HandlerOptions{
		Config: store.Get, Logger: logger, Resolver: net.DefaultResolver,
		TimeoutOffset: *timeoutOffset, MaxInFlight: *maxInFlight,
		Registerer: prometheus.DefaultRegisterer, StoragePath: *storagePath,
	})
	probes.WarnDuplicates(context.Background(), cfg)
	reload := reloader(store, logger, func(c *config.Config) { probes.WarnDuplicates(context.Background(), c) })

	mux := http.NewServeMux()
	mux.Handle("/probe", probes)
	mux.Handle("/metrics", promhttp.Handler())
	mux.HandleFunc("/config", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(store.Get().String()))
	})
	mux.HandleFunc("/sd", func(w http.ResponseWriter, _ *http.Request) {
		b, err := store.Get().SDJSON()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Healthy\n")) })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("Ready\n")) })
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST to reload", http.StatusMethodNotAllowed)
			return
		}
		if err := reload(); err != nil {
			http.Error(w, "reload failed, keeping the old configuration: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("Reloaded\n"))
	})
	landing, err := web.NewLandingPage(landingConfig())
	if err != nil {
		logger.Error("Cannot build the landing page", "err", err)
		os.Exit(1)
	}
	mux.Handle("/", landing)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, webConfig, logger) }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-served:
		probes.Close()
		logger.Error("HTTP server stopped", "err", err)
		os.Exit(1)
	case sig := <-stop:
		logger.Info("Shutting down; letting probes in flight finish", "signal", sig.String())
	}
	// In-flight probes end by their own deadlines, at most a module timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("Probes still running at shutdown", "err", err)
	}
	probes.Close() // saves hold-offs and log cursors
	logger.Info("Stopped")
}

// reloader serialises reloads from SIGHUP and POST /-/reload through one
// goroutine and returns the function the HTTP handler calls.
func reloader(store *config.Store, logger *slog.Logger, loaded func(*config.Config)) func() error {
	requests := make(chan chan error)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for {
			var reply chan error
			select {
			case <-hup:
			case reply = <-requests:
			}
			err := store.Reload()
			if err != nil {
				logger.Error("Reload failed; keeping the old configuration", "err", err)
			} else {
				logger.Info("Configuration reloaded")
				for _, w := range store.Get().Warnings() {
					logger.Warn("Risky configuration", "warning", w)
				}
				loaded(store.Get())
			}
			if reply != nil {
				reply <- err
			}
		}
	}()
	return func() error {
		reply := make(chan error)
		requests <- reply
		return <-reply
	}
}

func landingConfig() web.LandingConfig {
	return web.LandingConfig{
		Name:        "Hikvision Exporter",
		Description: "Security posture of Hikvision IP cameras, NVRs and DVRs over ISAPI",
		Version:     version.Info(),
		Form: web.LandingForm{
			Action: "/probe",
			Inputs: []web.LandingFormInput{
				{Label: "Target", Type: "text", Name: "target", Placeholder: "device name or address"},
				{Label: "Module", Type: "text", Name: "module", Placeholder: "module (for unconfigured addresses)"},
			},
		},
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics", Description: "The exporter's own metrics"},
			{Address: "/config", Text: "Configuration", Description: "The loaded configuration, secrets redacted"},
			{Address: "/sd", Text: "Service discovery", Description: "Configured devices in Prometheus HTTP SD format"},
		},
	}
}

// startDemo starts the simulated fleet, writes its configuration to a
// temporary file (so /-/reload works as usual) and prints URLs to try.
func startDemo(logger *slog.Logger, listen string) (string, func(), error) {
	fleet, err := simulator.StartDemoFleet()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "hikvision-demo-")
	if err != nil {
		fleet.Close()
		return "", nil, err
	}
	path := filepath.Join(dir, "hikvision.yml")
	if err := os.WriteFile(path, []byte(fleet.ConfigYAML()), 0o600); err != nil {
		fleet.Close()
		return "", nil, err
	}
	host, port, _ := net.SplitHostPort(listen)
	if host == "" {
		host = "localhost"
	}
	fmt.Printf("Demo fleet running; configuration in %s\nTry:\n", path)
	for _, d := range fleet.Devices {
		fmt.Printf("  http://%s/probe?target=%s\t(%s)\n", net.JoinHostPort(host, port), d.Name, d.Description)
	}
	logger.Info("Demo fleet started", "devices", len(fleet.Devices), "config", path)
	stop := func() { fleet.Close(); _ = os.RemoveAll(dir) }
	return path, stop, nil
}
