package bench

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/simulator"
)

// ChildEnv selects what a re-executed test binary does: "sim" runs
// simulated devices, "load" the load generator. Unset: the normal tests.
const ChildEnv = "HIKBENCH_CHILD"

// RunChild runs the child role named by ChildEnv and returns the exit
// code; TestMain calls it before m.Run when ChildEnv is set.
func RunChild() int {
	_, _ = RaiseFileLimit() // best effort: a child with the default limit still runs small fleets
	var err error
	switch role := os.Getenv(ChildEnv); role {
	case "sim":
		err = runSimChild(os.Stdin, os.Stdout)
	case "load":
		err = runLoadChild(os.Stdout)
	default:
		err = fmt.Errorf("unknown %s=%q", ChildEnv, role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	return 0
}

// RaiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit: every
// device is a listener and several connections.
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}

// SimStats is what a simulator child reports: its devices' counters summed,
// and the child's own CPU time.
type SimStats struct {
	Requests, Unauthorized, FailedLogins, Connections int
	MaxInFlight                                       int // the highest of any one device
	ByPath                                            map[string]int
	CPU                                               time.Duration
}

func (s *SimStats) add(o SimStats) {
	s.Requests += o.Requests
	s.Unauthorized += o.Unauthorized
	s.FailedLogins += o.FailedLogins
	s.Connections += o.Connections
	s.MaxInFlight = max(s.MaxInFlight, o.MaxInFlight)
	s.CPU += o.CPU
	if s.ByPath == nil {
		s.ByPath = map[string]int{}
	}
	for k, v := range o.ByPath {
		s.ByPath[k] += v
	}
}

// runSimChild starts the devices HIKBENCH_SIM_FIRST .. +HIKBENCH_SIM_COUNT,
// prints "ADDR <index> <host:port>" for each and then "READY", and answers
// commands on stdin, one line each: "stats" (a JSON SimStats), "reset"
// (zero the per-device in-flight maximum), "latency <duration>".
// It exits when stdin closes.
//
// With HIKBENCH_SIM_CERTDIR set the devices serve HTTPS, each with its own
// self-signed certificate, even indexes up to TLS 1.2 and odd ones up to
// TLS 1.3 (deviceTLS), and the child writes their certificates as PEM to
// simCertFile in that directory before READY.
func runSimChild(in io.Reader, out io.Writer) error {
	first, err1 := strconv.Atoi(os.Getenv("HIKBENCH_SIM_FIRST"))
	count, err2 := strconv.Atoi(os.Getenv("HIKBENCH_SIM_COUNT"))
	latency, err3 := time.ParseDuration(os.Getenv("HIKBENCH_SIM_LATENCY"))
	if err := firstErr(err1, err2, err3); err != nil {
		return fmt.Errorf("sim child environment: %w", err)
	}
	certDir := os.Getenv("HIKBENCH_SIM_CERTDIR")
	if path := os.Getenv("HIKBENCH_SIM_CPUPROFILE"); path != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", path, first))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	w := bufio.NewWriter(out)
	now := time.Now()
	devs := make([]*simulator.Device, count)
	var wg sync.WaitGroup
	errs := make([]error, count)
	sem := make(chan struct{}, 16)
	for j := range count {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			i := first + j
			opts := []simulator.Option{simulator.WithListenAddr(DeviceAddr(i))}
			if certDir != "" {
				opts = append(opts, simulator.WithTLSMaxVersion(deviceTLS(i)))
			}
			d, err := simulator.New(DeviceProfile(i, now), opts...)
			if err != nil {
				errs[j] = err
				return
			}
			d.SetLatency(latency)
			devs[j] = d
		}()
	}
	wg.Wait()
	defer func() {
		for _, d := range devs {
			if d != nil {
				d.Close()
			}
		}
	}()
	if err := firstErr(errs...); err != nil {
		return err
	}
	if certDir != "" {
		var pems bytes.Buffer
		for _, d := range devs {
			if err := pem.Encode(&pems, &pem.Block{Type: "CERTIFICATE", Bytes: d.Certificate().Raw}); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(certDir, simCertFile(first)), pems.Bytes(), 0o600); err != nil {
			return err
		}
	}
	for j, d := range devs {
		fmt.Fprintf(w, "ADDR %d %s\n", first+j, d.Addr())
	}
	fmt.Fprintln(w, "READY")
	w.Flush()

	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch cmd {
		case "stats":
			var s SimStats
			for _, d := range devs {
				ds := d.Stats()
				s.add(SimStats{Requests: ds.Requests, Unauthorized: ds.Unauthorized, FailedLogins: ds.FailedLogins,
					Connections: ds.Connections, MaxInFlight: ds.MaxInFlight, ByPath: ds.ByPath})
			}
			s.CPU = selfCPU()
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, "%s\n", b)
		case "reset":
			for _, d := range devs {
				d.ResetStats()
			}
			fmt.Fprintln(w, "{}")
		case "latency":
			l, err := time.ParseDuration(arg)
			if err != nil {
				fmt.Fprintf(w, "ERR %v\n", err)
				break
			}
			for _, d := range devs {
				d.SetLatency(l)
			}
			fmt.Fprintln(w, "{}")
		default:
			fmt.Fprintf(w, "ERR unknown command %q\n", cmd)
		}
		w.Flush()
	}
	return sc.Err()
}

// deviceTLS is the highest TLS version device i offers over HTTPS: a fleet
// mixes firmware, so even devices stop at TLS 1.2 and odd ones offer 1.3.
func deviceTLS(i int) uint16 {
	if i%2 == 0 {
		return tls.VersionTLS12
	}
	return tls.VersionTLS13
}

// simCertFile is the file, in HIKBENCH_SIM_CERTDIR, where the child for
// devices first.. writes their certificates.
func simCertFile(first int) string { return fmt.Sprintf("devices-%06d.pem", first) }

// simChild is the parent's handle on one simulator child.
type simChild struct {
	first int
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	mu    sync.Mutex
	addrs map[int]string
}

// childEnv is the environment of the simulator and load generator
// children: the run's, with the Go runtime's defaults, so that a GOGC or
// GOMEMLIMIT set for the exporter (the test process) is measured on the
// exporter alone.
func childEnv() []string {
	return append(os.Environ(), "GOGC=100", "GOMEMLIMIT=off")
}

// startSimChild starts the devices first..first+count-1; certDir != ""
// makes them serve HTTPS and write their certificates there.
func startSimChild(first, count int, latency time.Duration, certDir string) (*simChild, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(childEnv(), ChildEnv+"=sim",
		"HIKBENCH_SIM_FIRST="+strconv.Itoa(first),
		"HIKBENCH_SIM_COUNT="+strconv.Itoa(count),
		"HIKBENCH_SIM_LATENCY="+latency.String(),
		"HIKBENCH_SIM_CERTDIR="+certDir,
	)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &simChild{first: first, cmd: cmd, in: in, out: bufio.NewScanner(outPipe), addrs: map[int]string{}}
	c.out.Buffer(make([]byte, 1<<20), 16<<20)
	for c.out.Scan() {
		line := c.out.Text()
		if line == "READY" {
			return c, nil
		}
		var i int
		var addr string
		if _, err := fmt.Sscanf(line, "ADDR %d %s", &i, &addr); err != nil {
			c.close()
			return nil, fmt.Errorf("sim child: unexpected line %q", line)
		}
		c.addrs[i] = addr
	}
	c.close()
	return nil, fmt.Errorf("sim child for devices %d..%d exited before READY: %w", first, first+count-1, c.out.Err())
}

func (c *simChild) call(cmd string, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return err
	}
	if !c.out.Scan() {
		return fmt.Errorf("sim child: no answer to %q: %w", cmd, c.out.Err())
	}
	line := c.out.Text()
	if strings.HasPrefix(line, "ERR ") {
		return fmt.Errorf("sim child: %s", line[4:])
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal([]byte(line), v)
}

func (c *simChild) close() {
	c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }() // its exit status says nothing the READY line did not
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill() // already gone is fine
		<-done
	}
}

// simFleet is every simulator child of a run.
type simFleet []*simChild

// startSimFleet starts the simulator children; certDir as startSimChild.
func startSimFleet(devices, perChild int, latency time.Duration, certDir string) (simFleet, error) {
	var f simFleet
	for first := 0; first < devices; first += perChild {
		c, err := startSimChild(first, min(perChild, devices-first), latency, certDir)
		if err != nil {
			f.close()
			return nil, err
		}
		f = append(f, c)
	}
	return f, nil
}

// caFile concatenates the certificates every child wrote to certDir into
// one file there, the CA file of a fleet run, and returns its path.
func (f simFleet) caFile(certDir string) (string, error) {
	var all []byte
	for _, c := range f {
		b, err := os.ReadFile(filepath.Join(certDir, simCertFile(c.first)))
		if err != nil {
			return "", err
		}
		all = append(all, b...)
	}
	path := filepath.Join(certDir, "fleet-ca.pem")
	return path, os.WriteFile(path, all, 0o600)
}

// addrs returns the device addresses by index.
func (f simFleet) addrs(devices int) []string {
	out := make([]string, devices)
	for _, c := range f {
		for i, a := range c.addrs {
			out[i] = a
		}
	}
	return out
}

func (f simFleet) stats() (SimStats, error) {
	var total SimStats
	for _, c := range f {
		var s SimStats
		if err := c.call("stats", &s); err != nil {
			return total, err
		}
		total.add(s)
	}
	return total, nil
}

func (f simFleet) each(cmd string) error {
	for _, c := range f {
		if err := c.call(cmd, nil); err != nil {
			return err
		}
	}
	return nil
}

// paths lists the endpoints ("METHOD /path") the devices have been asked for.
func (s SimStats) paths() []string {
	var out []string
	for k := range s.ByPath {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (f simFleet) close() {
	for _, c := range f {
		c.close()
	}
}

// selfCPU is the user+system CPU time of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
