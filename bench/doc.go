// Package bench measures the exporter against a fleet of simulated devices.
//
// The fleet benchmark (TestFleet) runs three kinds of process, all of them
// the test binary itself:
//
//   - the exporter: the test process. It serves probe.NewHandler's
//     /probe (and the naive prober's /naive) on a loopback HTTP server, so
//     its getrusage and heap figures are the exporter's alone;
//   - simulator children, re-executed with HIKBENCH_CHILD=sim, each running
//     up to -fleet.per-child simulated devices on distinct loopback
//     addresses (127.20.x.y), so connection reuse and Digest state are per
//     device as in a real fleet, and the simulators' CPU is not billed to
//     the exporter;
//   - a load-generator child (HIKBENCH_CHILD=load) that sends
//     GET /probe?target=NAME for every device once per interval, the
//     arrivals spread evenly over the interval as Prometheus spreads its
//     targets, with X-Prometheus-Scrape-Timeout-Seconds, and measures the
//     latency each probe had as Prometheus would see it.
//
// Without flags TestFleet is a smoke run of a few seconds with ten devices
// that only checks every probe answered hikvision_up 1; the figures in
// BENCHMARKS.md come from runs with flags, e.g.
//
//	go test ./bench -run 'TestFleet$' -timeout 60m -v \
//	    -fleet.devices=5000 -fleet.interval=60s -fleet.latency=20ms \
//	    -fleet.warmup=120s -fleet.duration=6m -fleet.naive-duration=60s
//
// -fleet.scheme=https makes every simulated device serve HTTPS with its
// own self-signed certificate (even devices up to TLS 1.2, odd ones 1.3),
// as real devices do; -fleet.tls says how the exporter and the naive
// prober trust them: ca_file (the default: one file with every device's
// certificate, as the module's tls_config.ca_file) or insecure
// (insecure_skip_verify). TestFleetHTTPS is the smoke run over HTTPS; it
// is skipped when -fleet.devices is set, so a measurement runs once.
//
// TestRequestCounts probes one simulated device with each collector alone
// and with all of them, once a minute on the exporter's clock for a quarter
// of an hour, reports the device requests of each probe, and checks that a
// warm probe makes no 401 round trip and opens no connection.
package bench
