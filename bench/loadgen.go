package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadSpec tells the load generator what to send.
type LoadSpec struct {
	URL           string // the exporter, http://host:port
	Path          string // "/probe" or "/naive"
	Devices       int    // targets DeviceName(0 .. Devices-1)
	Interval      time.Duration
	Warmup        time.Duration // arrivals before this are not measured
	Duration      time.Duration // measured arrivals: [Warmup, Warmup+Duration)
	ScrapeTimeout time.Duration // sent as X-Prometheus-Scrape-Timeout-Seconds
	SlowOver      time.Duration // record measured probes slower than this (0: none)
}

// LoadResult is what the load generator saw of the measured probes.
type LoadResult struct {
	Probes      int           // measured probes sent
	Failed      int           // transport errors or non-200 answers
	NotUp       int           // 200 answers without hikvision_up 1
	Errors      []string      // the first few failures
	Window      time.Duration // first measured arrival to last measured answer
	P50, P90    time.Duration
	P99, Max    time.Duration
	Mean        time.Duration
	MaxInFlight int // the most probes outstanding at once
	WarmProbes  int
	WarmFailed  int      // warm-up probes that failed or were not up
	WarmErrors  []string // the first few of them
	// Slowest are the measured probes over 3·L + 50 ms (at most 20, the
	// slowest), to tell where a tail comes from: At is the arrival within
	// the window, Exporter the hikvision_probe_duration_seconds the
	// exporter itself reported (0 when absent).
	Slowest []SlowProbe `json:",omitempty"`
	SlowAt  []int       `json:",omitempty"` // probes over that bound, by 10-second bucket of arrival
}

// SlowProbe is one slow measured probe.
type SlowProbe struct {
	Device                string
	At, Latency, Exporter time.Duration
}

// prometheusAccept is the Accept header Prometheus 3 sends by default.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"

func runLoadChild(out io.Writer) error {
	var spec LoadSpec
	if err := json.Unmarshal([]byte(os.Getenv("HIKBENCH_LOAD")), &spec); err != nil {
		return fmt.Errorf("load child environment: %w", err)
	}
	w := bufio.NewWriter(out)
	var wmu sync.Mutex
	say := func(format string, a ...any) {
		wmu.Lock()
		defer wmu.Unlock()
		fmt.Fprintf(w, format+"\n", a...)
		w.Flush()
	}
	res := generateLoad(spec, func() { say("PHASE measure") })
	say("PHASE done")
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	say("RESULT %s", b)
	return nil
}

// generateLoad sends one probe per device per interval, arrivals evenly
// spread over the interval in a fixed shuffled device order, and calls
// measuring just before the first measured arrival.
func generateLoad(spec LoadSpec, measuring func()) LoadResult {
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     5 * time.Minute,
		},
		Timeout: spec.ScrapeTimeout + 5*time.Second,
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(spec.Devices)
	timeout := strconv.FormatFloat(spec.ScrapeTimeout.Seconds(), 'f', -1, 64)

	var (
		mu          sync.Mutex
		res         LoadResult
		latencies   []time.Duration
		slow        []SlowProbe
		lastAnswer  time.Time
		windowStart time.Time
		inFlight    atomic.Int64
		wg          sync.WaitGroup
	)
	probe := func(device int, measured bool) {
		defer wg.Done()
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		u := spec.URL + spec.Path + "?target=" + url.QueryEscape(DeviceName(device))
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", prometheusAccept)
		req.Header.Set("User-Agent", "Prometheus/3.0.0 (hikvision_exporter bench)")
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
		start := time.Now()
		var failure string
		r, err := client.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(r.Body)
			r.Body.Close()
		}
		end := time.Now()
		switch {
		case err != nil:
			failure = err.Error()
		case r.StatusCode != http.StatusOK:
			failure = fmt.Sprintf("%s: HTTP %d: %s", DeviceName(device), r.StatusCode, bytes.TrimSpace(body))
		case !isUp(body):
			failure = fmt.Sprintf("%s: not up: %s", DeviceName(device), upLine(body))
		}
		mu.Lock()
		defer mu.Unlock()
		if !measured {
			res.WarmProbes++
			if failure != "" {
				res.WarmFailed++
				if len(res.WarmErrors) < 5 {
					res.WarmErrors = append(res.WarmErrors, failure)
				}
			}
			return
		}
		res.Probes++
		res.MaxInFlight = max(res.MaxInFlight, int(n))
		latencies = append(latencies, end.Sub(start))
		if spec.SlowOver > 0 && end.Sub(start) > spec.SlowOver {
			slow = append(slow, SlowProbe{Device: DeviceName(device), At: start.Sub(windowStart), Latency: end.Sub(start), Exporter: probeDuration(body)})
		}
		if end.After(lastAnswer) {
			lastAnswer = end
		}
		if failure != "" {
			if err != nil || r.StatusCode != http.StatusOK {
				res.Failed++
			} else {
				res.NotUp++
			}
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, failure)
			}
		}
	}

	start := time.Now()
	var warm atomic.Int64 // warm-up probes not answered yet
	for k := 0; ; k++ {
		at := time.Duration(float64(k) * float64(spec.Interval) / float64(spec.Devices))
		if at >= spec.Warmup+spec.Duration {
			break
		}
		time.Sleep(time.Until(start.Add(at)))
		// The window opens once the warm-up's probes have all answered, so
		// no cold probe's work spills into it; arrivals keep their schedule
		// meanwhile and are sent, but not measured.
		if at >= spec.Warmup && windowStart.IsZero() && warm.Load() == 0 {
			measuring()
			mu.Lock()
			windowStart = time.Now()
			mu.Unlock()
		}
		wg.Add(1)
		switch {
		case !windowStart.IsZero():
			go probe(order[k%spec.Devices], true)
		case at < spec.Warmup:
			warm.Add(1)
			go func() { defer warm.Add(-1); probe(order[k%spec.Devices], false) }()
		default:
			go probe(order[k%spec.Devices], false)
		}
	}
	if windowStart.IsZero() { // nothing measured; still tell the parent
		measuring()
		windowStart = time.Now()
	}
	wg.Wait()
	client.CloseIdleConnections()

	slices.Sort(latencies)
	if len(latencies) > 0 {
		var sum time.Duration
		for _, l := range latencies {
			sum += l
		}
		res.Mean = sum / time.Duration(len(latencies))
		res.P50 = percentile(latencies, 50)
		res.P90 = percentile(latencies, 90)
		res.P99 = percentile(latencies, 99)
		res.Max = latencies[len(latencies)-1]
		res.Window = lastAnswer.Sub(windowStart)
	}
	slices.SortFunc(slow, func(a, b SlowProbe) int { return int(b.Latency - a.Latency) })
	for _, p := range slow {
		b := int(p.At / (10 * time.Second))
		for len(res.SlowAt) <= b {
			res.SlowAt = append(res.SlowAt, 0)
		}
		res.SlowAt[b]++
	}
	res.Slowest = slow[:min(len(slow), 20)]
	return res
}

// probeDuration reads hikvision_probe_duration_seconds from a probe's answer.
func probeDuration(body []byte) time.Duration {
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "hikvision_probe_duration_seconds "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return time.Duration(f * float64(time.Second))
		}
	}
	return 0
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func isUp(body []byte) bool {
	return bytes.HasPrefix(body, []byte("hikvision_up 1\n")) || bytes.Contains(body, []byte("\nhikvision_up 1\n"))
}

func upLine(body []byte) string {
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "hikvision_up ") {
			return strings.TrimSpace(line)
		}
	}
	return "no hikvision_up line"
}

// runLoad runs the load generator in a child process, calling measuring
// and done as it enters and leaves the measured window. Cancelling ctx
// kills the child, which ends the run with an error.
func runLoad(ctx context.Context, spec LoadSpec, measuring, done func()) (LoadResult, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return LoadResult{}, err
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(childEnv(), ChildEnv+"=load", "HIKBENCH_LOAD="+string(b))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return LoadResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return LoadResult{}, err
	}
	var res LoadResult
	var got bool
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "PHASE measure":
			measuring()
		case line == "PHASE done":
			done()
		case strings.HasPrefix(line, "RESULT "):
			if err := json.Unmarshal([]byte(line[len("RESULT "):]), &res); err != nil {
				return res, err
			}
			got = true
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("load generator stopped before the run's end: %w", context.Cause(ctx))
		}
		return res, fmt.Errorf("load generator: %w", err)
	}
	if !got {
		return res, fmt.Errorf("load generator printed no result")
	}
	return res, nil
}
