package core

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// catalogueServer answers protocol.SoftwareCataloguePath for the test
// device, as the server does (device credentials required).
func catalogueServer(t *testing.T, items []protocol.CatalogueItem) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+protocol.SoftwareCataloguePath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != protocol.DeviceAuthHeader(testDevice, testSecret) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		hits.Add(1)
		json.NewEncoder(w).Encode(protocol.SoftwareCatalogue{Items: items})
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

// The catalogue is fetched with the device's credentials when the link
// comes up, kept, filtered for this OS and cleaned of what a window must
// not show; once the server is gone, the kept copy answers.
func TestCatalogueFetchedAtConnectAndKeptOffline(t *testing.T) {
	ctx := context.Background()
	figma := protocol.CatalogueItem{TitleID: eFigma.TitleID(), Name: "Figma", How: protocol.CatalogueLink, URL: "https://www.figma.com/downloads/"}
	gimp := protocol.CatalogueItem{TitleID: eGIMP.TitleID(), Name: "GIMP", How: protocol.CataloguePackage, Package: "org.gimp.GIMP", OS: []string{runtime.GOOS}}
	other := protocol.CatalogueItem{TitleID: "sw_00000000000000aa", Name: "Elsewhere", How: protocol.CatalogueInstructions, Instructions: "Ask", OS: []string{"plan9"}}
	bad := []protocol.CatalogueItem{
		{TitleID: "sw_00000000000000bb", Name: "Sneaky", How: protocol.CatalogueLink, URL: "file:///etc/passwd"},
		{TitleID: "sw_00000000000000cc", Name: "Nameless?", How: "teleport"},
		{TitleID: "nope", Name: "No id", How: protocol.CataloguePackage, Package: "x"},
		{TitleID: "sw_00000000000000dd", Name: "", How: protocol.CataloguePackage, Package: "x"},
	}
	srv, hits := catalogueServer(t, append([]protocol.CatalogueItem{figma, gimp, other}, bad...))
	db := filepath.Join(t.TempDir(), "agent.db")
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	creds := &enroll.Credentials{Server: srv.URL, DeviceID: testDevice, Secret: testSecret}
	h := newSW(t, db, store.Options{}, func(cfg *Config) { cfg.Creds, cfg.RootCAs = creds, roots })
	h.connect("")
	(*handler)(h.Core).State(agentapi.ConnOnline, nil, time.Time{}) // the link's own "online": fetch at connect
	waitUntil(t, "the catalogue fetched at connect", func() bool { return hits.Load() >= 1 })
	waitUntil(t, "the catalogue kept", func() bool {
		items, _ := h.Catalogue(ctx)
		return len(items) == 2
	})
	items, _ := h.Catalogue(ctx)
	if items[0].Name != "Figma" || items[1].Name != "GIMP" {
		t.Fatalf("catalogue: %+v", items)
	}
	srv.Close()
	h.Close()
	h.st.Close()

	h2 := newSW(t, db, store.Options{}, func(cfg *Config) { cfg.Creds, cfg.RootCAs = creds, roots })
	if err := h2.FetchCatalogue(ctx); err == nil {
		t.Fatal("fetched from a closed server")
	}
	items, err := h2.Catalogue(ctx)
	if err != nil || len(items) != 2 || items[0].URL != figma.URL || items[1].Package != "org.gimp.GIMP" {
		t.Fatalf("offline catalogue: %+v, %v", items, err)
	}
}

func TestDecodeCatalogueBounds(t *testing.T) {
	big := `{"items":[` + strings.Repeat(`{"title_id":"sw_1","name":"x","how":"package","package":"p"},`, 1000) + `{}]}`
	if _, err := decodeCatalogue(strings.NewReader(big), 1000); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an answer over the limit: %v", err)
	}
	items, err := decodeCatalogue(strings.NewReader(big), int64(len(big)))
	if err != nil || len(items) != 1000 {
		t.Fatalf("1000 good items and an empty one: %d, %v", len(items), err)
	}
	var many bytes.Buffer
	many.WriteString(`{"items":[`)
	for i := range maxCatalogueItems + 10 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"title_id":"sw_1","name":"x","how":"package","package":"p"}`)
	}
	many.WriteString(`]}`)
	if items, err := decodeCatalogue(&many, maxCatalogueResponse); err != nil || len(items) != maxCatalogueItems {
		t.Fatalf("too many items: %d, %v", len(items), err)
	}
}

// FuzzDecodeCatalogue: whatever the server answers, decoding never panics
// and keeps only items a window may show.
func FuzzDecodeCatalogue(f *testing.F) {
	f.Add([]byte(`{"items":[{"title_id":"sw_1","name":"Figma","how":"link","url":"https://figma.com"}]}`))
	f.Add([]byte(`{"items":[{"title_id":"sw_1","name":"\xff","how":"link","url":"javascript:alert(1)"}]}`))
	f.Add([]byte(`{"items":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := decodeCatalogue(bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		for _, it := range items {
			if !catalogueItemOK(it) {
				t.Fatalf("kept an item it should not: %+v", it)
			}
			if it.How == protocol.CatalogueLink && !strings.HasPrefix(it.URL, "http") {
				t.Fatalf("kept a link that is not http(s): %q", it.URL)
			}
		}
	})
}
