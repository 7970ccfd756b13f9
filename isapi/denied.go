package isapi

import (
	"net/http"
	"sync"
	"time"
)

// deniedPaths remembers endpoints the device refused to this account
// although it accepted its credentials (a 401 that was a permission
// problem). Such a path is not asked for again with credentials before its
// time: a device may count even that 401 toward a lock.
type deniedPaths struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (d *deniedPaths) add(path string, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.until == nil {
		d.until = map[string]time.Time{}
	}
	d.until[path] = until
}

// check returns the permission error of a path still denied at now.
func (d *deniedPaths) check(method, path string, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.until[path]
	if !ok {
		return nil
	}
	if !now.Before(until) {
		delete(d.until, path)
		return nil
	}
	return &StatusError{Method: method, Path: path, HTTPStatus: http.StatusUnauthorized, Permission: true}
}
