package simulator

import (
	"io"
	"log"
	"maps"
	"net"
	"net/http"
)

// Stats counts what the device saw, so tests can check how hard a client
// leans on a camera (extra 401 round trips, wasted logins, parallelism).
type Stats struct {
	Requests      int            // every HTTP request received
	Unauthorized  int            // 401 answers sent (challenges + rejections)
	FailedLogins  int            // requests carrying wrong credentials (these count toward the lock)
	Connections   int            // TCP connections accepted
	ByPath        map[string]int // "METHOD /path" -> requests
	Authenticated map[string]int // "METHOD /path" -> requests that passed the login check
	MaxInFlight   int            // highest number of requests being handled at once
}

// Stats returns a snapshot of the counters.
func (d *Device) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stats
	s.ByPath = maps.Clone(d.stats.ByPath)
	s.Authenticated = maps.Clone(d.stats.Authenticated)
	return s
}

// ResetStats zeroes the counters.
func (d *Device) ResetStats() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stats = Stats{ByPath: map[string]int{}, Authenticated: map[string]int{}}
	// Requests still running keep counting toward the new MaxInFlight.
	d.stats.MaxInFlight = d.inFlight
}

// connState counts new connections, so keep-alive reuse shows up as
// Connections staying below Requests.
func (d *Device) connState(_ net.Conn, s http.ConnState) {
	if s != http.StateNew {
		return
	}
	d.mu.Lock()
	d.stats.Connections++
	d.mu.Unlock()
}

// authenticated counts a request that passed the login check.
func (d *Device) authenticated(key string) {
	d.mu.Lock()
	d.stats.Authenticated[key]++
	d.mu.Unlock()
}

// begin registers a request; it returns false once the device is closing.
func (d *Device) begin(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.isClosed {
		return false
	}
	// Add under mu while open, so Close's Wait never races an Add.
	d.handlers.Add(1)
	d.stats.Requests++
	d.stats.ByPath[key]++
	d.inFlight++
	if d.inFlight > d.stats.MaxInFlight {
		d.stats.MaxInFlight = d.inFlight
	}
	return true
}

func (d *Device) end() {
	d.mu.Lock()
	d.inFlight--
	d.mu.Unlock()
	d.handlers.Done()
}

// discardLogger silences http.Server's own messages (TLS handshake noise
// from clients that reject the self-signed certificate, reset connections).
var discardLogger = log.New(io.Discard, "", 0)
