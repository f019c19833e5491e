package core_test

import (
	"context"
	"net/http"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/core"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// installed is what a test says is installed on the desk.
type installed struct {
	mu      sync.Mutex
	entries []protocol.SoftwareEntry
}

func (i *installed) set(es ...protocol.SoftwareEntry) { i.mu.Lock(); i.entries = es; i.mu.Unlock() }

func (i *installed) collect(context.Context) (core.SoftwareReport, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return core.SoftwareReport{Entries: append([]protocol.SoftwareEntry(nil), i.entries...)}, nil
}

func startSoftwareAgent(t *testing.T, db string, creds *enroll.Credentials, inst *installed) *agent {
	t.Helper()
	return startAgentWith(t, db, creds, store.Options{}, func(cfg *core.Config) {
		cfg.Software = &core.SoftwareConfig{Collect: inst.collect, StartJitter: -1}
	})
}

// waitInSync waits until the server acknowledged the list with hash.
func waitInSync(t *testing.T, a *agent, hash string) agentapi.SoftwareInventory {
	t.Helper()
	var inv agentapi.SoftwareInventory
	eventually(t, "the server to acknowledge "+hash, func() bool {
		inv, _ = a.Software(context.Background())
		return inv.InSync && inv.Hash == hash
	})
	return inv
}

// serverSoftwareHash is the hash the server holds for the agent's device,
// as its welcome says it to a stand-in speaking with the device's
// credentials (the agent must be stopped: one link per device).
func serverSoftwareHash(t *testing.T, srv *servertest.Server, creds *enroll.Credentials) string {
	t.Helper()
	d := srv.Enroll(t, "stand-in")
	d.ID, d.Secret = creds.DeviceID, creds.Secret
	w := d.ConnectWith(t, protocol.Hello{AgentVersion: "1.0.0-test", OS: "linux", Arch: "amd64", Revision: protocol.Revision,
		Capabilities: []string{protocol.CapSoftware}})
	d.Close()
	return w.SoftwareHash
}

func hashOf(es ...protocol.SoftwareEntry) string {
	n, _ := protocol.NormalizeSoftware(es)
	return protocol.SoftwareHash(n)
}

// With the real server: the first list goes whole and is acknowledged; a
// change (one added, one removed, one new version) goes as changes and
// leaves the server holding exactly the agent's list; a restart keeps the
// acked base; an agent whose base the server does not hold (restored from
// an old copy) sends the whole list again and they agree once more.
func TestE2ESoftwareInventoryFullChangesResync(t *testing.T) {
	ctx := context.Background()
	srv := servertest.New(t)
	creds := enrolled(t, srv)
	db := filepath.Join(t.TempDir(), "agent.db")
	ff := protocol.SoftwareEntry{Name: "firefox-esr", Version: "115.9", Source: protocol.SourceDpkg}
	curl := protocol.SoftwareEntry{Name: "curl", Version: "7.88.1", Source: protocol.SourceDpkg}
	writer := protocol.SoftwareEntry{Name: "libreoffice-writer", Version: "7.4.7", Source: protocol.SourceDpkg}
	figma := protocol.SoftwareEntry{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: protocol.SourceAppImage, PerUser: true}
	inst := &installed{}
	inst.set(ff, curl, writer, figma)

	a := startSoftwareAgent(t, db, creds, inst)
	first := waitInSync(t, a, hashOf(ff, curl, writer, figma))
	want, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{ff, curl, writer, figma})
	if !reflect.DeepEqual(first.Entries, want) {
		t.Fatalf("the acknowledged list: %+v", first.Entries)
	}

	ff2 := ff
	ff2.Version = "128.5"
	gimp := protocol.SoftwareEntry{Name: "GIMP", Version: "2.10.38", Source: protocol.SourceFlatpak, AppID: "org.gimp.GIMP"}
	inst.set(ff2, writer, figma, gimp)
	if err := a.CollectSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	second := waitInSync(t, a, hashOf(ff2, writer, figma, gimp))
	a.stop()
	if got := serverSoftwareHash(t, srv, creds); got != second.Hash {
		t.Fatalf("the server holds %s, the agent %s", got, second.Hash)
	}

	// The agent's acked base is one the server never held (a restored
	// backup): a change list would not apply, so the whole list goes.
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{curl})
	if err := st.SaveSoftwareAcked(ctx, store.SoftwareSet{Entries: old, Hash: protocol.SoftwareHash(old)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	inst.set(ff2, writer, gimp) // and Figma went
	b := startSoftwareAgent(t, db, creds, inst)
	third := waitInSync(t, b, hashOf(ff2, writer, gimp))
	b.stop()
	if got := serverSoftwareHash(t, srv, creds); got != third.Hash {
		t.Fatalf("after the resync the server holds %s, the agent %s", got, third.Hash)
	}
}

// "Request an app" reaches IT as a software request.
func TestE2ERequestApp(t *testing.T) {
	srv := servertest.New(t)
	inst := &installed{}
	a := startSoftwareAgent(t, filepath.Join(t.TempDir(), "agent.db"), enrolled(t, srv), inst)
	a.waitFor(t, "online", isState(agentapi.ConnOnline))
	r, err := a.RequestApp(context.Background(), agentapi.AppRequest{Name: "Blender", Text: "For the 3D mock-ups."})
	if err != nil {
		t.Fatal(err)
	}
	tech := srv.Tech(t)
	var got struct {
		Request protocol.RequestSummary `json:"request"`
	}
	eventually(t, "the request at the server", func() bool {
		return tech.Do(t, http.MethodGet, "/api/v1/requests/"+r.ID, nil, &got) == http.StatusOK
	})
	if got.Request.Category != protocol.CategorySoftware || got.Request.Text != "Could I have Blender?\n\nFor the 3D mock-ups." {
		t.Fatalf("at the server: %+v", got.Request)
	}
}
