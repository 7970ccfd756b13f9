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
// TestRequestCounts probes one simulated device with each collector alone
// and with all of them, once a minute on the exporter's clock for a quarter
// of an hour, reports the device requests of each probe, and checks that a
// warm probe makes no 401 round trip and opens no connection.
package bench
