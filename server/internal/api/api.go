// Package api is the server's HTTP face: the REST API under /api/v1 for the
// console and scripts (see docs/api.md), enrolment, the device and console
// WebSocket endpoints, /healthz and /metrics. It turns requests into store
// calls and hands what must reach a desk or a console to the hub.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// Options wires the API to its collaborators. Zero values take defaults.
type Options struct {
	Store store.Store
	Hub   *hub.Hub
	Log   *slog.Logger
	// Console serves the web console at "/".
	Console http.Handler
	// ServerName is how the help desk calls itself ("Acme IT").
	ServerName string
	// AllowedOrigins may open the console WebSocket besides the server's own host.
	AllowedOrigins []string
	// Pin is the SHA-256 of the server's self-signed certificate, added to
	// enrolment tokens; nil with a CA-signed certificate or plain HTTP.
	Pin []byte
	// SecureCookies marks the session cookie Secure (under TLS).
	SecureCookies bool
	// DeviceRate and DeviceBurst limit frames per second per device link.
	DeviceRate  rate.Limit
	DeviceBurst int
	// HelloTimeout is how long a device has to send hello after the upgrade.
	HelloTimeout time.Duration
	// SessionTTL is how long a technician stays signed in.
	SessionTTL time.Duration
	// SSO turns on single sign-on with the company's identity provider
	// (nil: off); checked with sso.Config.Check.
	SSO *sso.Config
}

// API serves HTTP. Create with New.
type API struct {
	opt     Options
	st      store.Store
	hub     *hub.Hub
	log     *slog.Logger
	mux     *http.ServeMux
	logins  *auth.Limiter
	metrics *metrics
	updates Updates // nil: no release service
	linked  linked  // connected devices' hello, for rollout nudges
	cursors *cursors
	seen    *seen
	sso     *sso.Service // nil: single sign-on is off
}

// New builds the API and registers its metrics on reg.
func New(opt Options, reg *prometheus.Registry) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.DeviceRate == 0 {
		opt.DeviceRate = 20
	}
	if opt.DeviceBurst == 0 {
		opt.DeviceBurst = 50
	}
	if opt.HelloTimeout == 0 {
		opt.HelloTimeout = 15 * time.Second
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.ServerName == "" {
		opt.ServerName = "IT help desk"
	}
	a := &API{opt: opt, st: opt.Store, hub: opt.Hub, log: opt.Log, mux: http.NewServeMux(),
		logins: auth.NewLimiter(5, 15*time.Minute), metrics: newMetrics(reg, opt.Hub)}
	a.cursors = newCursors(opt.Store, opt.Log, cursorInterval)
	a.seen = newSeen(opt.Store, opt.Log, seenInterval)
	a.routes(reg)
	return a
}

// Close applies the delivery cursors and hellos still in memory; call it
// after the hub is closed and before the store is. Safe to call twice.
func (a *API) Close() error { return errors.Join(a.cursors.Close(), a.seen.Close()) }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) routes(reg *prometheus.Registry) {
	m := a.mux
	m.HandleFunc("GET /healthz", a.healthz)
	m.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m.HandleFunc("GET "+protocol.DevicePath, a.deviceWS)
	m.HandleFunc("GET "+protocol.ConsolePath, a.consoleWS)

	m.HandleFunc("POST /api/v1/setup", a.setup)
	m.HandleFunc("POST /api/v1/login", a.login)
	m.HandleFunc("POST /api/v1/logout", a.tech(a.logout, false))
	m.HandleFunc("GET /api/v1/session", a.tech(a.session, false))
	m.HandleFunc("PATCH /api/v1/me", a.tech(a.patchMe, false))
	m.HandleFunc("GET /api/v1/technicians", a.tech(a.listTechs, true))
	m.HandleFunc("POST /api/v1/technicians", a.tech(a.createTech, true))
	m.HandleFunc("PATCH /api/v1/technicians/{id}", a.tech(a.patchTech, true))

	m.HandleFunc("GET /api/v1/tokens", a.tech(a.listTokens, true))
	m.HandleFunc("POST /api/v1/tokens", a.tech(a.createToken, true))
	m.HandleFunc("DELETE /api/v1/tokens/{id}", a.tech(a.revokeToken, true))
	m.HandleFunc("POST "+protocol.EnrollPath, a.enroll)

	m.HandleFunc("GET /api/v1/devices", a.tech(a.listDevices, false))
	m.HandleFunc("GET /api/v1/devices/{id}", a.tech(a.getDevice, false))
	m.HandleFunc("POST /api/v1/devices/{id}/snapshot", a.tech(a.wantSnapshot, false))
	m.HandleFunc("POST /api/v1/devices/{id}/telemetry", a.tech(a.telemetry, false))
	m.HandleFunc("POST /api/v1/devices/{id}/messages", a.tech(a.directMessage, false))
	m.HandleFunc("POST /api/v1/devices/{id}/revoke", a.tech(a.revokeDevice, true))

	m.HandleFunc("GET /api/v1/requests", a.tech(a.listRequests, false))
	m.HandleFunc("GET /api/v1/requests/{id}", a.tech(a.getRequest, false))
	m.HandleFunc("GET /api/v1/requests/{id}/screenshot", a.tech(a.screenshot, false))
	m.HandleFunc("PATCH /api/v1/requests/{id}", a.tech(a.patchRequest, false))
	m.HandleFunc("POST /api/v1/requests/{id}/messages", a.tech(a.techMessage, false))
	m.HandleFunc("POST /api/v1/requests/{id}/notes", a.tech(a.addNote, false))

	m.HandleFunc("GET /api/v1/announcements", a.tech(a.listAnnouncements, false))
	m.HandleFunc("POST /api/v1/announcements", a.tech(a.announce, false))
	m.HandleFunc("GET /api/v1/audit", a.tech(a.listAudit, true))
	if err := a.ssoRoutes(m); err != nil {
		a.log.Error("single sign-on is off", "err", err)
	}

	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "There is no such API endpoint; see docs/api.md.")
	})
	if a.opt.Console != nil {
		m.Handle("/", a.opt.Console)
	}
}

// Mount adds a handler owned by another package (e.g. "/api/v1/releases/"
// for updates); it authenticates callers with DeviceAuth and StaffAuth.
func (a *API) Mount(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// DeviceAuth authenticates a device's plain HTTP request by the same
// Authorization header as its WebSocket; revoked devices are refused.
func (a *API) DeviceAuth(r *http.Request) (deviceID string, ok bool) {
	id, secret, err := protocol.ParseDeviceAuth(r.Header.Get("Authorization"))
	if err != nil {
		return "", false
	}
	d, err := a.st.Device(r.Context(), id)
	if err != nil || d.Revoked || !auth.Equal(d.SecretHash, auth.Hash(secret)) {
		return "", false
	}
	return id, true
}

// StaffAuth authenticates a technician by session cookie and, for methods
// other than GET and HEAD, the X-CSRF-Token header. actor is the email.
func (a *API) StaffAuth(r *http.Request) (actor string, admin, ok bool) {
	ac, ok := a.authenticate(r)
	if !ok {
		return "", false, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !auth.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(ac.csrf)) {
		return "", false, false
	}
	return ac.Email, ac.Role == "admin", true
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.st.Ping(ctx); err != nil {
		a.log.Error("health check: store unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable", "version": version.Version})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version.Version})
}

// audit records an action; a failure is logged, never shown to the caller.
func (a *API) audit(ctx context.Context, actor, action, target, detail string) {
	if err := a.st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		a.log.Error("audit", "action", action, "target", target, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, protocol.APIError{Error: code, Msg: msg})
}

// internal reports an unexpected failure without leaking its details.
func (a *API) internal(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeErr(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged. Please try again.")
}

// storeErr maps store errors to answers.
func (a *API) storeErr(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", "There is no such "+what+".")
	case errors.Is(err, store.ErrConflict):
		writeErr(w, http.StatusConflict, "conflict", "That "+what+" already exists.")
	default:
		a.internal(w, r, err)
	}
}

const maxJSONBody = 1 << 20

// decode reads a JSON body into v, refusing unknown fields and oversize bodies.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeErr(w, http.StatusBadRequest, "bad_body", fmt.Sprintf("The request body is not what this endpoint expects: %v.", err))
		return false
	}
	return true
}

func trimmed(s string) string { return strings.TrimSpace(s) }
