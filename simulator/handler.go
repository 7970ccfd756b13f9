package simulator

import (
	"net/http"
)

// reply is an answer before it is written, so faults can rewrite it.
type reply struct {
	status   int
	body     []byte
	ctype    string
	location string
	oversize int64
	ns       string
}

// ServeHTTP answers one request: latency and the pre-auth faults, then
// authentication (a real device challenges every /ISAPI path before
// looking at it), then routing and the remaining faults.
func (d *Device) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	if !d.begin(key) {
		http.Error(w, "device closing", http.StatusServiceUnavailable)
		return
	}
	defer d.end()

	f, latency := d.faultFor(key)
	if wait := latency + f.Latency; wait > 0 && !d.sleep(r.Context(), wait) {
		// Client gone or device closing: drop the connection unanswered
		// rather than let net/http send an empty 200.
		panic(http.ErrAbortHandler)
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-d.closed:
		}
		panic(http.ErrAbortHandler)
	}
	if f.Reset {
		resetConn(w)
		return
	}
	if f.NoChallenge {
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	if !d.authenticate(w, r, f.AnswerLatency) {
		return
	}
	d.authenticated(key)
	rep := d.route(r, key)
	d.mu.Lock()
	ns, nesting := d.prof.Namespace, d.prof.Nesting
	d.mu.Unlock()
	rep = nestReply(rep, nesting, ns)
	rep = applyFault(rep, f, ns, r.URL.Path)
	d.write(w, rep)
}

func (d *Device) write(w http.ResponseWriter, rep reply) {
	ctype := rep.ctype
	if ctype == "" {
		ctype = "application/xml"
	}
	w.Header().Set("Content-Type", ctype)
	if rep.oversize > 0 {
		writeOversize(w, rep.oversize, rep.ns)
		return
	}
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(rep.body)
}

// route finds the answer for an authenticated request: NotSupported, then
// the profile's endpoints, then the built-in ones, else a plain 404.
func (d *Device) route(r *http.Request, key string) reply {
	d.mu.Lock()
	ns := d.prof.Namespace
	if d.notSupported[key] {
		d.mu.Unlock()
		return reply{status: http.StatusForbidden, body: NotSupportedXML(ns, r.URL.Path)}
	}
	if e, ok := d.prof.Endpoints[key]; ok {
		d.mu.Unlock()
		return reply{status: e.Status, body: e.Body, ctype: e.ContentType}
	}
	switch key {
	case "GET /ISAPI/Security/userCheck":
		body := UserCheckXML(ns, d.prof.Account)
		d.mu.Unlock()
		return reply{body: body}
	case "GET /ISAPI/System/time":
		p := d.prof
		d.mu.Unlock()
		return reply{body: TimeXML(ns, p.TimeMode, d.now().Add(p.ClockSkew))}
	case "POST /ISAPI/ContentMgmt/logSearch":
		d.mu.Unlock()
		return d.logSearch(r)
	}
	d.mu.Unlock()
	return reply{status: http.StatusNotFound, ctype: "text/plain; charset=utf-8", body: []byte("404 Not Found\n")}
}
