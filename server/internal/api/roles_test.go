package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/hub"
	"github.com/deskside/deskside/server/internal/identity"
	"github.com/deskside/deskside/server/internal/sso"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// roleMatrix is who may use each route, written out by hand: "public"
// (the route checks its own credentials), or the roles allowed. A route
// in the table without an entry here fails the test, so nobody adds a
// route without deciding who may use it.
var roleMatrix = map[string]string{
	"POST /api/v1/setup":                                     "public",
	"POST /api/v1/login":                                     "public",
	"GET /healthz":                                           "public",
	"GET /metrics":                                           "public",
	"GET " + protocol.DevicePath:                             "public",
	"POST " + protocol.EnrollPath:                            "public",
	"POST /api/v1/logout":                                    "admin technician viewer",
	"GET /api/v1/session":                                    "admin technician viewer",
	"PATCH /api/v1/me":                                       "admin technician viewer",
	"GET " + protocol.ConsolePath:                            "admin technician viewer",
	"GET /api/v1/technicians":                                "admin",
	"POST /api/v1/technicians":                               "admin",
	"PATCH /api/v1/technicians/{id}":                         "admin",
	"GET /api/v1/tokens":                                     "admin",
	"POST /api/v1/tokens":                                    "admin",
	"DELETE /api/v1/tokens/{id}":                             "admin",
	"GET /api/v1/devices":                                    "admin technician viewer",
	"GET /api/v1/devices/{id}":                               "admin technician viewer",
	"POST /api/v1/devices/{id}/snapshot":                     "admin technician",
	"POST /api/v1/devices/{id}/telemetry":                    "admin technician",
	"POST /api/v1/devices/{id}/messages":                     "admin technician",
	"POST /api/v1/devices/{id}/revoke":                       "admin",
	"GET /api/v1/requests":                                   "admin technician viewer",
	"GET /api/v1/requests/{id}":                              "admin technician viewer",
	"GET /api/v1/requests/{id}/screenshot":                   "admin technician viewer",
	"PATCH /api/v1/requests/{id}":                            "admin technician",
	"POST /api/v1/requests/{id}/messages":                    "admin technician",
	"POST /api/v1/requests/{id}/notes":                       "admin technician",
	"GET /api/v1/announcements":                              "admin technician",
	"POST /api/v1/announcements":                             "admin technician",
	"GET /api/v1/audit":                                      "admin",
	"GET /api/v1/auth/methods":                               "public",
	"GET " + sso.StartPath:                                   "public",
	"GET " + sso.CallbackPath:                                "public",
	"GET /api/v1/settings/sign-in":                           "admin",
	"PUT /api/v1/settings/sign-in":                           "admin",
	"PUT /api/v1/technicians/{id}/break-glass":               "admin",
	"GET /api/v1/checks/summary":                             "admin technician viewer",
	"GET /api/v1/checks/policy":                              "admin technician viewer",
	"PUT /api/v1/checks/policy":                              "admin",
	"GET /api/v1/checks/{check}/devices":                     "admin technician viewer",
	"GET /api/v1/articles":                                   "admin technician viewer",
	"POST /api/v1/articles":                                  "admin technician",
	"POST /api/v1/articles/preview":                          "admin technician viewer",
	"GET /api/v1/articles/{id}":                              "admin technician viewer",
	"PATCH /api/v1/articles/{id}":                            "admin technician",
	"DELETE /api/v1/articles/{id}":                           "admin technician",
	"GET " + protocol.ArticleSuggestPath:                     "public",
	"GET " + protocol.ArticleOfflinePath:                     "public",
	"GET /api/v1/replies":                                    "admin technician viewer",
	"GET /api/v1/webhooks":                                   "admin",
	"POST /api/v1/webhooks":                                  "admin",
	"PATCH /api/v1/webhooks/{id}":                            "admin",
	"DELETE /api/v1/webhooks/{id}":                           "admin",
	"GET /api/v1/webhooks/{id}/deliveries":                   "admin",
	"POST /api/v1/webhooks/{id}/deliveries/{delivery}/retry": "admin",
	"POST /api/v1/replies":                                   "admin technician",
	"PATCH /api/v1/replies/{id}":                             "admin technician",
	"DELETE /api/v1/replies/{id}":                            "admin technician",
	"POST /api/v1/announcements/{id}/resolve":                "admin technician",
	"GET /api/v1/software":                                   "admin technician viewer",
	"GET /api/v1/software/figures":                           "admin technician viewer",
	"GET /api/v1/software/policy":                            "admin technician viewer",
	"PUT /api/v1/software/policy":                            "admin",
	"GET /api/v1/sla":                                        "admin technician viewer",
	"PUT /api/v1/sla":                                        "admin",
	"GET /api/v1/software/{id}":                              "admin technician viewer",
	"PATCH /api/v1/software/{id}":                            "admin technician",
	"PUT /api/v1/requests/{id}/software":                     "admin technician",
	"GET " + protocol.SoftwareCataloguePath:                  "public",
	"GET /api/v1/settings/email":                             "admin",
	"PUT /api/v1/settings/email":                             "admin",
	"POST /api/v1/settings/email/test":                       "admin",
	"GET /api/v1/profile/notifications":                      "admin technician viewer",
	"PUT /api/v1/profile/notifications":                      "admin technician viewer",
	"GET /api/v1/reports/month":                              "admin technician viewer",
	"GET /api/v1/reports/month.csv":                          "admin technician viewer",
	"GET /api/v1/reports/month/{chart}":                      "admin technician viewer",
}

// TestRoleMatrix walks every route of the route table with every role
// (and signed out) and checks each is let through or refused as the
// matrix says.
func TestRoleMatrix(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := hub.New(hub.Config{}, slog.New(slog.DiscardHandler))
	t.Cleanup(h.Close)
	reg := prometheus.NewRegistry()
	a := New(Options{Store: st, Hub: h, Log: slog.New(slog.DiscardHandler)}, reg)
	t.Cleanup(func() { a.Close() })

	techs := map[string]store.Technician{}
	for _, role := range identity.Roles {
		tc, err := identity.NewTechnician(role+"@example.com", role, "a long enough password", role)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateTechnician(ctx, tc); err != nil {
			t.Fatal(err)
		}
		techs[role] = tc
	}
	// A fresh session per request: sign-out and role routes end them.
	signIn := func(r *http.Request, role string) {
		secret, csrf := auth.RandomToken(32), auth.RandomToken(32)
		if err := st.CreateSession(ctx, auth.Hash(secret), store.Session{TechnicianID: techs[role].ID, CSRF: csrf,
			ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r.AddCookie(&http.Cookie{Name: identity.SessionCookie, Value: secret})
		r.Header.Set("X-CSRF-Token", csrf)
	}

	table := a.routeTable(prometheus.NewRegistry())
	seen := map[string]bool{}
	for _, rt := range table {
		seen[rt.Pattern] = true
		want, ok := roleMatrix[rt.Pattern]
		if !ok {
			t.Errorf("route %q has no entry in the role matrix", rt.Pattern)
			continue
		}
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = strings.NewReplacer("{id}", "nope", "{file}", "nope").Replace(path)
		for _, role := range append([]string{""}, identity.Roles...) {
			r := httptest.NewRequest(method, path, strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json")
			if role != "" {
				signIn(r, role)
			}
			w := httptest.NewRecorder()
			a.ServeHTTP(w, r)
			var e protocol.APIError
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			who := role
			if who == "" {
				who = "signed out"
			}
			switch {
			case want == "public":
				if e.Error == "signed_out" || e.Error == "forbidden" {
					t.Errorf("%s as %s: %d %s, want a public route", rt.Pattern, who, w.Code, e.Error)
				}
			case role == "":
				if w.Code != http.StatusUnauthorized || e.Error != "signed_out" {
					t.Errorf("%s signed out: %d %s, want 401 signed_out", rt.Pattern, w.Code, e.Error)
				}
			case strings.Contains(" "+want+" ", " "+role+" "):
				if w.Code == http.StatusUnauthorized || e.Error == "forbidden" || e.Error == "csrf" {
					t.Errorf("%s as %s: %d %s, want it allowed", rt.Pattern, who, w.Code, e.Error)
				}
			default:
				if w.Code != http.StatusForbidden || e.Error != "forbidden" {
					t.Errorf("%s as %s: %d %s, want 403 forbidden", rt.Pattern, who, w.Code, e.Error)
				}
			}
		}
	}
	for p := range roleMatrix {
		if !seen[p] {
			t.Errorf("the role matrix lists %q, which is not a route", p)
		}
	}
}
