// Command hikvision_exporter reports the security posture of Hikvision IP
// cameras, NVRs and DVRs to Prometheus, probing each device over ISAPI when
// Prometheus scrapes /probe.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
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
		configFile    = kingpin.Flag("config.file", "Exporter configuration file; relative paths in it are taken from its directory.").Default("hikvision.yml").String()
		configCheck   = kingpin.Flag("config.check", "Validate the configuration file and the files it names, print the errors or OK, and exit.").Bool()
		demo          = kingpin.Flag("demo", "Start simulated devices on loopback and probe them; needs no configuration file.").Bool()
		timeoutOffset secondsOrDuration
		maxInFlight   = kingpin.Flag("probe.max-concurrent", "Probes served at once across all devices; more wait for up to half their timeout, then are answered 503.").Default(strconv.Itoa(probe.DefaultMaxInFlight)).Int()
		storagePath   = kingpin.Flag("storage.path", "Directory for state that must survive restarts (lockout hold-offs, log cursors); empty disables persistence.").Default("data/").String()
		enablePprof   = kingpin.Flag("web.enable-pprof", "Serve Go profiling at /debug/pprof/ and link it from the landing page.").Bool()
		webConfig     = kingpinflag.AddFlags(kingpin.CommandLine, defaultAddress)
		logConfig     = &promslog.Config{}
	)
	kingpin.Flag("timeout-offset", "Subtracted from Prometheus' scrape timeout to leave time to answer: seconds (0.5) or a duration (500ms).").Default("0.5s").SetValue(&timeoutOffset)
	promslogflag.AddFlags(kingpin.CommandLine, logConfig)
	kingpin.Version(version.Print("hikvision_exporter"))
	kingpin.HelpFlag.Short('h')
	kingpin.Parse()
	logger := promslog.New(logConfig)
	if *maxInFlight <= 0 {
		kingpin.Fatalf("--probe.max-concurrent must be positive, got %d", *maxInFlight)
	}
	if *configCheck {
		os.Exit(checkConfig(*configFile))
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
		TimeoutOffset: time.Duration(timeoutOffset), MaxInFlight: *maxInFlight,
		Registerer: prometheus.DefaultRegisterer, StoragePath: *storagePath,
	})
	probes.WarnDuplicates(context.Background(), cfg)
	reload := reloader(store, logger, func(c *config.Config) { probes.WarnDuplicates(context.Background(), c) })

	mux, err := routes(store, probes, reload, *enablePprof)
	if err != nil {
		logger.Error("Cannot build the landing page", "err", err)
		os.Exit(1)
	}
	serve(mux, webConfig, logger, probes)
}

// checkConfig is --config.check: it loads the file as start-up would (the
// files it names included) and returns the exit status.
func checkConfig(path string) int {
	cfg, err := config.Load(path, config.WithCollectors(collector.Names()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	fmt.Println("OK")
	return 0
}

// routes builds the exporter's HTTP endpoints.
func routes(store *config.Store, probes *probe.Handler, reload func() error, enablePprof bool) (*http.ServeMux, error) {
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
	if enablePprof {
		handlePprof(mux)
	}
	landing, err := newLandingPage(landingConfig(enablePprof), probes.WriteRecentProbes)
	if err != nil {
		return nil, err
	}
	mux.Handle("/", landing)
	return mux, nil
}

// recentMarker stands in the toolkit's landing page where the list of
// recent probes goes; the page is otherwise built once.
const recentMarker = "<!-- hikvision_exporter: recent probes -->"

// landingPage is exporter-toolkit's landing page with the list of recent
// probes inserted on every request: the toolkit page is static.
type landingPage struct {
	toolkit    http.Handler // for paths other than "/": its 404
	head, tail []byte
	recent     func(io.Writer) error
}

func newLandingPage(c web.LandingConfig, recent func(io.Writer) error) (*landingPage, error) {
	c.ExtraHTML = recentMarker
	lp, err := web.NewLandingPage(c)
	if err != nil {
		return nil, fmt.Errorf("building the landing page: %w", err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	if err != nil {
		return nil, fmt.Errorf("building the landing page: %w", err)
	}
	var page pageCapture
	lp.ServeHTTP(&page, req)
	head, tail, ok := bytes.Cut(page.body.Bytes(), []byte(recentMarker))
	if !ok {
		return nil, errors.New("building the landing page: the toolkit page has no place for the recent probes")
	}
	return &landingPage{toolkit: lp, head: head, tail: tail, recent: recent}, nil
}

func (p *landingPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		p.toolkit.ServeHTTP(w, r)
		return
	}
	var b bytes.Buffer
	b.Write(p.head)
	if err := p.recent(&b); err != nil {
		http.Error(w, "rendering the recent probes: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b.Write(p.tail)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(b.Bytes())
}

// pageCapture keeps what a handler writes, to build a page once.
type pageCapture struct {
	header http.Header
	body   bytes.Buffer
}

func (c *pageCapture) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *pageCapture) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *pageCapture) WriteHeader(int)             {}

// handlePprof serves Go profiling. It is off by default: profiles show
// what the process holds and a CPU profile costs CPU while it runs.
func handlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also the named profiles, heap among them
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// serve runs the HTTP server until it fails or a signal stops it.
func serve(mux *http.ServeMux, webConfig *web.FlagConfig, logger *slog.Logger, probes *probe.Handler) {
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: serverErrorLog(logger)}
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

// serverErrorLog sends the HTTP server's own errors (failed accepts,
// panics in handlers, TLS handshakes) through the structured logger. A
// failed TLS handshake is routine, port scanners cause them all day, so it
// logs at debug; anything else the server reports is an error.
func serverErrorLog(logger *slog.Logger) *log.Logger {
	return log.New(serverErrorWriter{logger}, "", 0)
}

type serverErrorWriter struct{ logger *slog.Logger }

func (w serverErrorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	level := slog.LevelError
	if strings.Contains(msg, "TLS handshake error") {
		level = slog.LevelDebug
	}
	w.logger.Log(context.Background(), level, "HTTP server error", "err", msg)
	return len(p), nil
}

// secondsOrDuration is a flag value taking plain seconds ("0.5", the unit of
// X-Prometheus-Scrape-Timeout-Seconds) or a Go duration ("0.5s", "500ms").
type secondsOrDuration time.Duration

func (d *secondsOrDuration) Set(s string) error {
	v, err := parseSecondsOrDuration(s)
	if err != nil {
		return err
	}
	*d = secondsOrDuration(v)
	return nil
}

func (d *secondsOrDuration) String() string { return time.Duration(*d).String() }

// parseSecondsOrDuration refuses negative values: a negative offset would
// let a probe run past Prometheus' own scrape timeout.
func parseSecondsOrDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f < 0 || f >= float64(math.MaxInt64)/float64(time.Second) {
			return 0, fmt.Errorf("%q: seconds must be between 0 and %d", s, math.MaxInt64/int64(time.Second))
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither seconds (0.5) nor a duration (0.5s, 500ms): %w", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
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

// landingConfig describes the landing page; it links to profiling only when
// profiling is served, so that every link on it works.
func landingConfig(pprofLinks bool) web.LandingConfig {
	return web.LandingConfig{
		Profiling:   strconv.FormatBool(pprofLinks),
		Name:        "Hikvision Exporter",
		Description: "Security posture of Hikvision IP cameras, NVRs and DVRs over ISAPI",
		Version:     version.Info(),
		Form: web.LandingForm{
			Action: "/probe",
			Inputs: []web.LandingFormInput{
				{Label: "Target", Type: "text", Name: "target", Placeholder: "device name or address"},
				{Label: "Module", Type: "text", Name: "module", Placeholder: "module (for unconfigured addresses)"},
				{Label: "Debug report", Type: "checkbox", Name: "debug", Value: "true"},
			},
		},
		ExtraCSS: "#recent-probes th, #recent-probes td { padding: 0 0.75em 0 0; text-align: left; }",
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
