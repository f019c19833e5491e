package app

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/devicelink"
	"github.com/deskside/deskside/server/internal/release"
	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// NoPublisherKeyMessage is what the releases API answers (503) when the
// server was started without a publisher key.
const NoPublisherKeyMessage = "no publisher key configured: start the server with --release-public-key " +
	"(or --release-public-key-file, $DESKSIDE_RELEASE_PUBLIC_KEY); see docs/updates.md"

// wireReleases builds the agent update service over the store's database,
// mounts /api/v1/releases and hands the device link its half (offer at
// hello, update.report). Without a key the endpoints answer 503 and the
// rest of the server runs as usual; a key that does not parse is an error.
func (a *App) wireReleases(ctx context.Context) error {
	if strings.TrimSpace(a.Config.ReleasePublicKeys) == "" {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"error":"no_publisher_key","message":%q}`+"\n", NoPublisherKeyMessage)
		})
		a.API.Mount("/api/v1/releases", h)
		a.API.Mount("/api/v1/releases/", h)
		return nil
	}
	db, ok := a.Store.(interface {
		DB() *sql.DB
		Rebind(query string) string
	})
	if !ok {
		return fmt.Errorf("agent updates: the store %T has no SQL database", a.Store)
	}
	svc, err := release.New(ctx, release.Config{
		DB:            db.DB(),
		Rebind:        db.Rebind,
		Dir:           filepath.Join(a.Config.DataDir, "releases"),
		PublisherKeys: a.Config.ReleasePublicKeys,
		Device:        a.API.DeviceAuth,
		Staff:         a.API.StaffAuth, // checks X-CSRF-Token on POST and PATCH
		Connected: func() []release.Device {
			linked := a.API.Devices().ConnectedDevices()
			out := make([]release.Device, len(linked))
			for i, d := range linked {
				out[i] = release.Device{ID: d.ID, OS: d.OS, Arch: d.Arch, Version: d.Version}
			}
			return out
		},
		Send: a.API.Devices().SendUpdate,
		Audit: func(ctx context.Context, actor, action, target, detail string) {
			if err := a.Store.Audit(ctx, store.AuditEntry{At: time.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
				a.Config.Log.Error("audit", "action", action, "target", target, "err", err)
			}
		},
		Logger: a.Config.Log,
	})
	if err != nil {
		return fmt.Errorf("agent updates: %w", err)
	}
	a.Releases = svc
	a.API.Mount("/api/v1/releases", svc.Handler())
	a.API.Mount("/api/v1/releases/", svc.Handler())
	a.API.Devices().SetUpdates(updates{svc})
	return nil
}

// updates adapts the release service to what the device link needs.
type updates struct{ svc *release.Service }

func (u updates) Offer(ctx context.Context, d devicelink.LinkedDevice) (*protocol.UpdateAvailable, error) {
	return u.svc.Offer(ctx, release.Device{ID: d.ID, OS: d.OS, Arch: d.Arch, Version: d.Version})
}

func (u updates) Report(ctx context.Context, deviceID, frameID string, rep protocol.UpdateReport) (bool, error) {
	return u.svc.RecordReportOnce(ctx, deviceID, frameID, rep)
}
