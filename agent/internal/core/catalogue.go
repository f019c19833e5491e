package core

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/shared/protocol"
)

// The self-service catalogue: the approved apps IT offers, fetched with
// the device's credentials at each connect and every few hours, and kept
// in the store so the Software window works offline.

const (
	maxCatalogueResponse = 8 << 20
	maxCatalogueItems    = 2000
	catalogueWait        = time.Minute
)

// deviceGet GETs path (with query) from the server as this device, with
// the link's trust; a status other than 200 is an error.
func (c *Core) deviceGet(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	c.mu.Lock()
	creds := c.creds
	c.mu.Unlock()
	if creds == nil {
		return nil, enroll.ErrNotEnrolled
	}
	u, err := url.Parse(strings.TrimRight(creds.Server, "/") + path)
	if err != nil {
		return nil, fmt.Errorf("url of %s: %w", path, err)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", protocol.DeviceAuthHeader(creds.DeviceID, creds.Secret))
	req.Header.Set("Accept", "application/json")
	resp, err := c.articles.client(creds, c.cfg.RootCAs).Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("get %s: %s", path, resp.Status)
	}
	return resp, nil
}

// refreshCatalogue fetches the catalogue when online and the server
// offers it; unless force, only when the kept one is older than
// CatalogueEvery.
func (c *Core) refreshCatalogue(ctx context.Context, force bool) {
	c.sw.mu.Lock()
	ok, last := c.sw.serverOK, c.sw.catFetched
	c.sw.mu.Unlock()
	if !ok || !c.online() || !force && time.Since(last) < c.sw.cfg.CatalogueEvery {
		return
	}
	if err := c.FetchCatalogue(ctx); err != nil {
		c.log.Info("software catalogue not fetched; keeping the copy", "err", err)
	}
}

// FetchCatalogue fetches the catalogue and keeps it for offline use.
func (c *Core) FetchCatalogue(ctx context.Context) error {
	c.sw.catMu.Lock()
	defer c.sw.catMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, catalogueWait)
	defer cancel()
	resp, err := c.deviceGet(ctx, protocol.SoftwareCataloguePath, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	items, err := decodeCatalogue(resp.Body, maxCatalogueResponse)
	if err != nil {
		return fmt.Errorf("get %s: %w", protocol.SoftwareCataloguePath, err)
	}
	now := time.Now()
	if err := c.st.SaveSoftwareCatalogue(ctx, items, now); err != nil {
		return err
	}
	c.sw.mu.Lock()
	c.sw.catFetched = now
	c.sw.mu.Unlock()
	c.log.Info("software catalogue fetched", "items", len(items))
	c.publish(agentapi.Event{Type: agentapi.EventSoftware})
	return nil
}

// decodeCatalogue reads the server's catalogue, refusing more than limit
// bytes, and keeps the items a window can show safely: a title id, a
// name, a known way to get it, a web link only over http(s), texts within
// the protocol's limits; at most maxCatalogueItems.
func decodeCatalogue(r io.Reader, limit int64) ([]protocol.CatalogueItem, error) {
	var cat protocol.SoftwareCatalogue
	lr := &io.LimitedReader{R: r, N: limit + 1}
	if err := json.NewDecoder(lr).Decode(&cat); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("answer larger than %d bytes", limit)
		}
		return nil, err
	}
	out := make([]protocol.CatalogueItem, 0, min(len(cat.Items), maxCatalogueItems))
	for _, it := range cat.Items {
		if len(out) == maxCatalogueItems {
			break
		}
		if catalogueItemOK(it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func catalogueItemOK(it protocol.CatalogueItem) bool {
	if !strings.HasPrefix(it.TitleID, "sw_") || len(it.TitleID) > 64 || strings.TrimSpace(it.Name) == "" {
		return false
	}
	for _, f := range []struct {
		v   string
		max int
	}{{it.Name, protocol.MaxSoftwareNameRunes}, {it.Publisher, protocol.MaxSoftwareNameRunes}, {it.Package, protocol.MaxSoftwareNameRunes},
		{it.Description, protocol.MaxTextRunes}, {it.Instructions, protocol.MaxTextRunes}, {it.URL, 2048}} {
		if protocol.CheckText("field", f.v, false) != nil || len([]rune(f.v)) > f.max {
			return false
		}
	}
	switch it.How {
	case protocol.CatalogueLink:
		u, err := url.Parse(it.URL)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	case protocol.CataloguePackage:
		return strings.TrimSpace(it.Package) != ""
	case protocol.CatalogueInstructions:
		return strings.TrimSpace(it.Instructions) != ""
	}
	return false
}

// Catalogue implements agentapi.Backend: the kept catalogue, the items for
// this computer's OS.
func (c *Core) Catalogue(ctx context.Context) ([]protocol.CatalogueItem, error) {
	items, _, err := c.st.SoftwareCatalogue(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	out := []protocol.CatalogueItem{}
	for _, it := range items {
		if len(it.OS) == 0 || slices.Contains(it.OS, runtime.GOOS) {
			out = append(out, it)
		}
	}
	return out, nil
}
