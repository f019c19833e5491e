// Package api is the server's HTTP face: the REST API under /api/v1 for the
// console and scripts (see docs/api.md), enrolment, technician sessions,
// the console WebSocket, /healthz and /metrics, and it mounts the device
// gateway (package devicelink) at the device WebSocket. It turns requests
// into store calls and hands what must reach a desk or a console to the hub.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/devicelink"
	"github.com/deskside/deskside/server/internal/events"
	"github.com/deskside/deskside/server/internal/httpjson"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/mail"
	"github.com/deskside/deskside/server/internal/markdown"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/server/internal/targets"
	"github.com/deskside/deskside/server/internal/webhooks"
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
	// SetupTokenFile is removed once the setup token is used.
	SetupTokenFile string
	// MetricsToken, when set, is the bearer token GET /metrics asks for.
	MetricsToken string
	// SSO turns on single sign-on with the company's identity provider
	// (nil: off); checked with sso.Config.Check.
	SSO *sso.Config
	// Events hears what happened after it is stored (webhooks, chat,
	// email); nil: nobody listens.
	Events events.Sink
	// PublicURL is the server's base URL as people reach it, for links in
	// events and emails ("" leaves links out).
	PublicURL string
	// Targets is the response-target clock (nil: New makes one that is
	// not started: targets and expectations work, warnings are not sent).
	Targets *targets.Service
	// SMTP tunes the mail server connection of Admin → Email's test email
	// (tests trust their own certificate authority here).
	SMTP mail.SMTPOptions
	// Webhooks is the webhook dispatcher the API tells about changed
	// endpoints and "send again"; nil: the routes work on the store alone.
	Webhooks *webhooks.Service
}

// API serves HTTP. Create with New.
type API struct {
	opt     Options
	st      store.Store
	hub     *hub.Hub
	log     *slog.Logger
	mux     *http.ServeMux
	ids     *identity.Sessions
	metrics *metrics
	devices *devicelink.Gateway
	sso     *sso.Service // nil: single sign-on is off
	ssoFlow http.Handler // sso's start and callback; nil with sso
	md      *markdown.Renderer
	targets *targets.Service
}

// New builds the API and registers its metrics on reg.
func New(opt Options, reg *prometheus.Registry) *API {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.ServerName == "" {
		opt.ServerName = "IT help desk"
	}
	if opt.Events == nil {
		opt.Events = events.Discard
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	if opt.Targets == nil {
		opt.Targets = targets.New(targets.Options{Store: opt.Store, Hub: opt.Hub, Log: opt.Log, Events: opt.Events, PublicURL: opt.PublicURL})
	}
	a := &API{opt: opt, st: opt.Store, hub: opt.Hub, log: opt.Log, mux: http.NewServeMux(), metrics: newMetrics(reg, opt.Hub),
		md: markdown.New(), targets: opt.Targets}
	a.ids = identity.New(identity.Options{Store: opt.Store, Hub: opt.Hub, Log: opt.Log, SecureCookies: opt.SecureCookies,
		SessionTTL: opt.SessionTTL, SetupTokenFile: opt.SetupTokenFile, Registerer: reg})
	if opt.SSO != nil {
		// app checked the configuration already; a failure here leaves
		// single sign-on off rather than the server down.
		if svc, err := sso.New(*opt.SSO, ssoAccounts{a}, opt.Log); err != nil {
			a.log.Error("single sign-on is off", "err", err)
		} else {
			a.sso, a.ssoFlow = svc, svc.Handler()
		}
	}
	a.devices = devicelink.New(devicelink.Options{Store: opt.Store, Hub: opt.Hub, Log: opt.Log, ServerName: opt.ServerName,
		Rate: opt.DeviceRate, Burst: opt.DeviceBurst, HelloTimeout: opt.HelloTimeout, Events: opt.Events, PublicURL: opt.PublicURL,
		Targets: opt.Targets}, reg)
	a.routes(reg)
	return a
}

// Close applies the delivery cursors and hellos still in memory; call it
// after the hub is closed and before the store is. Safe to call twice.
func (a *API) Close() error { return a.devices.Close() }

// Devices is the device gateway, for the release service (SetUpdates,
// ConnectedDevices, SendUpdate).
func (a *API) Devices() *devicelink.Gateway { return a.devices }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// actor is the signed-in technician behind a staff request.
type actor = identity.Actor

// Access levels of the route table (see identity.Access).
const (
	public = identity.Public
	reader = identity.Reader
	staff  = identity.Staff
	admin  = identity.Admin
)

// routeTable is every route the API serves, with who may use it: the
// sign-in routes from identity, then the API's own. routes registers it
// and the role matrix test walks it, so a route cannot be added without
// saying who may use it.
func (a *API) routeTable(reg *prometheus.Registry) []identity.Route {
	r := func(pattern string, access identity.Access, h identity.Handler) identity.Route {
		return identity.Route{Pattern: pattern, Access: access, Handler: h}
	}
	open := func(pattern string, h http.HandlerFunc) identity.Route {
		return identity.Route{Pattern: pattern, Access: public, Public: h}
	}
	return append(a.ids.Routes(),
		open("GET /healthz", a.healthz),
		open("GET /metrics", a.metricsAuth(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))),
		open("GET "+protocol.DevicePath, a.devices.ServeHTTP),
		r("GET "+protocol.ConsolePath, reader, a.consoleWS),

		r("GET /api/v1/tokens", admin, a.listTokens),
		r("POST /api/v1/tokens", admin, a.createToken),
		r("DELETE /api/v1/tokens/{id}", admin, a.revokeToken),
		open("POST "+protocol.EnrollPath, a.enroll),

		r("GET /api/v1/devices", reader, a.listDevices),
		r("GET /api/v1/devices/{id}", reader, a.getDevice),
		r("POST /api/v1/devices/{id}/snapshot", staff, a.wantSnapshot),
		r("POST /api/v1/devices/{id}/telemetry", staff, a.telemetry),
		r("POST /api/v1/devices/{id}/messages", staff, a.directMessage),
		r("POST /api/v1/devices/{id}/revoke", admin, a.revokeDevice),

		r("GET /api/v1/requests", reader, a.listRequests),
		r("GET /api/v1/requests/{id}", reader, a.getRequest),
		r("GET /api/v1/requests/{id}/screenshot", reader, a.screenshot),
		r("PATCH /api/v1/requests/{id}", staff, a.patchRequest),
		r("POST /api/v1/requests/{id}/messages", staff, a.techMessage),
		r("POST /api/v1/requests/{id}/notes", staff, a.addNote),

		r("GET /api/v1/announcements", staff, a.listAnnouncements),
		r("POST /api/v1/announcements", staff, a.announce),
		r("GET /api/v1/audit", admin, a.listAudit),

		open("GET /api/v1/auth/methods", a.authMethods),
		open("GET "+sso.StartPath, a.oidc),
		open("GET "+sso.CallbackPath, a.oidc),
		r("GET /api/v1/settings/sign-in", admin, a.signInSettings),
		r("PUT /api/v1/settings/sign-in", admin, a.putSignInSettings),

		r("GET /api/v1/checks/summary", reader, a.checksSummary),
		r("GET /api/v1/checks/policy", reader, a.getChecksPolicy),
		r("PUT /api/v1/checks/policy", admin, a.putChecksPolicy),
		r("GET /api/v1/checks/{check}/devices", reader, a.checkDevices),
		r("GET /api/v1/articles", reader, a.listArticles),
		r("POST /api/v1/articles", staff, a.createArticle),
		r("POST /api/v1/articles/preview", reader, a.previewArticle),
		r("GET /api/v1/articles/{id}", reader, a.getArticle),
		r("PATCH /api/v1/articles/{id}", staff, a.patchArticle),
		r("DELETE /api/v1/articles/{id}", staff, a.deleteArticle),
		open("GET "+protocol.ArticleSuggestPath, a.suggestArticles),
		open("GET "+protocol.ArticleOfflinePath, a.offlineArticles),
		r("GET /api/v1/replies", reader, a.listReplies),
		r("POST /api/v1/replies", staff, a.createReply),
		r("PATCH /api/v1/replies/{id}", staff, a.patchReply),
		r("DELETE /api/v1/replies/{id}", staff, a.deleteReply),
		r("POST /api/v1/announcements/{id}/resolve", staff, a.resolveAnnouncement),

		r("GET /api/v1/software", reader, a.listSoftware),
		r("GET /api/v1/software/figures", reader, a.softwareFigures),
		r("GET /api/v1/software/policy", reader, a.getSoftwarePolicy),
		r("PUT /api/v1/software/policy", admin, a.putSoftwarePolicy),
		r("GET /api/v1/software/{id}", reader, a.getSoftware),
		r("PATCH /api/v1/software/{id}", staff, a.patchSoftware),
		r("PUT /api/v1/requests/{id}/software", staff, a.linkRequestSoftware),
		open("GET "+protocol.SoftwareCataloguePath, a.softwareCatalogue),

		r("GET /api/v1/sla", reader, a.getSLA),
		r("PUT /api/v1/sla", admin, a.putSLA),
		r("GET /api/v1/settings/email", admin, a.emailSettings),
		r("PUT /api/v1/settings/email", admin, a.putEmailSettings),
		r("POST /api/v1/settings/email/test", admin, a.testEmail),
		r("GET /api/v1/profile/notifications", reader, a.notificationPrefs),
		r("PUT /api/v1/profile/notifications", reader, a.putNotificationPrefs),
		r("GET /api/v1/reports/month", reader, a.getMonthReport),
		r("GET /api/v1/reports/month.csv", reader, a.monthReportCSV),
		r("GET /api/v1/reports/month/{chart}", reader, a.monthReportChart),
		r("GET /api/v1/webhooks", admin, a.listWebhooks),
		r("POST /api/v1/webhooks", admin, a.createWebhook),
		r("PATCH /api/v1/webhooks/{id}", admin, a.patchWebhook),
		r("DELETE /api/v1/webhooks/{id}", admin, a.deleteWebhook),
		r("GET /api/v1/webhooks/{id}/deliveries", admin, a.listWebhookDeliveries),
		r("POST /api/v1/webhooks/{id}/deliveries/{delivery}/retry", admin, a.retryWebhookDelivery),
	)
}

func (a *API) routes(reg *prometheus.Registry) {
	m := a.mux
	for _, rt := range a.routeTable(reg) {
		m.HandleFunc(rt.Pattern, a.ids.HandlerFunc(rt))
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no such API endpoint; see docs/api.md.")
	})
	if a.opt.Console != nil {
		m.Handle("/", a.opt.Console)
	}
}

// Sessions is technician sign-in, for services beside the API (single
// sign-on starts sessions through it).
func (a *API) Sessions() *identity.Sessions { return a.ids }

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
// other than GET and HEAD, the X-CSRF-Token header; a viewer only reads.
// actor is the email.
func (a *API) StaffAuth(r *http.Request) (actor string, admin, ok bool) { return a.ids.StaffAuth(r) }

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.st.Ping(ctx); err != nil {
		a.log.Error("health check: store unreachable", "err", err)
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable", "version": version.Version})
		return
	}
	out := map[string]any{"status": "ok", "version": version.Version}
	// setup_pending lets the sign-in page point a newcomer to the setup
	// link while no account exists; it says nothing once one does.
	if n, err := a.st.CountTechnicians(ctx); err == nil && n == 0 {
		out["setup_pending"] = true
	}
	httpjson.Write(w, http.StatusOK, out)
}

// audit records an action; a failure is logged, never shown to the caller.
func (a *API) audit(ctx context.Context, actor, action, target, detail string) {
	if err := a.st.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		a.log.Error("audit", "action", action, "target", target, "err", err)
	}
}

const maxJSONBody = 1 << 20

func trimmed(s string) string { return strings.TrimSpace(s) }

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// decode reads a JSON body of at most maxJSONBody into v (see httpjson.Decode).
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return httpjson.Decode(w, r, v, maxJSONBody)
}
