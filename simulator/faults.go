package simulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault makes the device misbehave the way broken or hostile devices do,
// so tests can check the client's timeouts, size limits and parsing.
// Latency, Hang, Reset and NoChallenge act before authentication; the others replace
// the answer of an authenticated request.
type Fault struct {
	Latency time.Duration // real time added before answering anything
	// AnswerLatency is real time added after the login was checked (and a
	// failed one counted, as firmware does), before the answer is sent.
	AnswerLatency time.Duration
	Hang          bool   // never answer (until the client gives up or the device closes)
	Malformed     bool   // truncated / broken XML with status 200
	HTML          bool   // 200 with an HTML error page, Content-Type text/html
	Oversize      int64  // answer with this many bytes of valid-looking XML padding
	Reset         bool   // close the TCP connection with RST without answering
	NoChallenge   bool   // answer 401 with no WWW-Authenticate header, before any login check
	RedirectTo    string // 302 to this URL
	Status        int    // answer this status with a short body
	ContentType   string // override the content type
}

// faultFor merges the device-wide fault with the one for key: latencies
// add up, flags combine, and the key's own values win.
func (d *Device) faultFor(key string) (Fault, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, k := d.faults[""], d.faults[key]
	f := Fault{
		Latency:       g.Latency + k.Latency,
		AnswerLatency: g.AnswerLatency + k.AnswerLatency,
		Hang:          g.Hang || k.Hang,
		Malformed:     g.Malformed || k.Malformed,
		HTML:          g.HTML || k.HTML,
		Reset:         g.Reset || k.Reset,
		NoChallenge:   g.NoChallenge || k.NoChallenge,
		Oversize:      pick(k.Oversize, g.Oversize),
		RedirectTo:    pick(k.RedirectTo, g.RedirectTo),
		Status:        pick(k.Status, g.Status),
		ContentType:   pick(k.ContentType, g.ContentType),
	}
	return f, d.latency
}

func pick[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// sleep waits for dur of real time; false if the client left or the
// device closed first.
func (d *Device) sleep(ctx context.Context, dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-d.closed:
	}
	return false
}

// resetConn drops the connection with an RST (SO_LINGER 0), as a camera
// whose web server crashed mid-request does. Under TLS the raw TCP
// connection is closed so no close_notify alert is sent first.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // best effort: a plain close is a reset too, only later
	}
	conn.Close()
}

// applyFault rewrites an authenticated answer according to f.
func applyFault(rep reply, f Fault, ns, path string) reply {
	switch {
	case f.RedirectTo != "":
		rep = reply{status: http.StatusFound, location: f.RedirectTo, ctype: "text/html",
			body: []byte("<html><body>302 Found</body></html>\n")}
	case f.Status != 0:
		rep = reply{status: f.Status, body: ResponseStatusXML(ns, path, 3, "Device Error", "deviceError")}
	case f.HTML:
		rep = reply{status: http.StatusOK, ctype: "text/html", body: []byte("<!DOCTYPE html>\n<html><head><title>Error</title></head>" +
			"<body><h1>500 Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>\n")}
	case f.Malformed:
		rep = reply{status: http.StatusOK, body: brokenXML(rep, ns)}
	case f.Oversize > 0:
		rep = reply{status: http.StatusOK, oversize: f.Oversize, ns: ns}
	}
	if f.ContentType != "" {
		rep.ctype = f.ContentType
	}
	return rep
}

// brokenXML truncates a real answer mid-document, like a dropped transfer;
// an answer too short to cut gets a fixed broken document.
func brokenXML(rep reply, ns string) []byte {
	if rep.status == 0 || rep.status == http.StatusOK {
		if len(rep.body) >= 64 {
			return rep.body[:len(rep.body)/2]
		}
	}
	return []byte(xmlDecl + `<ResponseStatus version="2.0" xmlns="` + ns + `"><statusCode>1</statusCo`)
}

// writeOversize streams n bytes of well-formed-looking XML: a root element
// padded with repeated elements, closed only if it fits.
func writeOversize(w http.ResponseWriter, n int64, ns string) {
	head := []byte(xmlDecl + `<PaddedResponse version="2.0" xmlns="` + ns + `">` + "\n")
	tail := []byte("</PaddedResponse>\n")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	if n <= int64(len(head)+len(tail)) {
		w.Write(append(head, tail...)[:n])
		return
	}
	line := []byte("<padding>" + string(bytes.Repeat([]byte("x"), 100)) + "</padding>\n")
	chunk := bytes.Repeat(line, 256)
	if _, err := w.Write(head); err != nil {
		return
	}
	left := n - int64(len(head)) - int64(len(tail))
	for left > 0 {
		c := chunk
		if int64(len(c)) > left {
			c = bytes.Repeat([]byte(" "), int(left)) // whitespace keeps it well formed
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		left -= int64(len(c))
	}
	w.Write(tail)
}
