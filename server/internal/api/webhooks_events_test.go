package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/deskside/deskside/server/internal/store/softwaretest"
	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// What people do on their desks reaches webhooks: software reported for
// work, a heads-up item fixed, help asked for one.
func TestDeviceEventsReachWebhooks(t *testing.T) {
	srv := servertest.New(t)
	admin := srv.Tech(t)
	st := storeOf(t, srv)
	type got struct {
		Type string `json:"type"`
		Data struct {
			Software *struct{ Name, DeviceID string } `json:"software"`
			HeadsUp  *struct {
				Check    string `json:"check"`
				DeviceID string `json:"device_id"`
			} `json:"heads_up"`
		} `json:"data"`
	}
	arrived := make(chan got, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var g got
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &g); err != nil {
			t.Errorf("payload %s: %v", b, err)
		}
		arrived <- g
	}))
	defer rcv.Close()
	if st := admin.Do(t, "POST", "/api/v1/webhooks", map[string]any{"url": rcv.URL, "allow_private": true,
		"events": []string{"software.reported", "heads_up.fixed", "heads_up.asked"}}, nil); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	dev := srv.Enroll(t, "ana-laptop")
	dev.ConnectWith(t, protocol.Hello{AgentVersion: "1.1.0", OS: "linux", Arch: "amd64", Revision: protocol.Revision,
		Capabilities: []string{protocol.CapTelemetry, protocol.CapChecks, protocol.CapSoftware}})
	ids, err := softwaretest.Seed(t.Context(), st, softwaretest.Title{Name: "Figma", Publisher: "Figma, Inc.",
		Source: protocol.SourceRegistryUser, Devices: []string{dev.ID}, FirstSeen: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitFrameAck(t, dev, dev.Send(t, protocol.KindSoftwareAnswer, protocol.SoftwareAnswer{TitleID: ids[0], Answer: protocol.AnswerForWork, At: time.Now().UTC()}))
	waitFrameAck(t, dev, dev.Send(t, protocol.KindCheckReport, protocol.CheckReport{Check: protocol.CheckDiskSpace, State: protocol.CheckFixed,
		Summary: "Space freed", ObservedAt: time.Now().UTC()}))
	waitFrameAck(t, dev, dev.Send(t, protocol.KindCheckReport, protocol.CheckReport{Check: protocol.CheckOSUpdates, State: protocol.CheckAskedIT,
		Summary: "Updates waiting", ObservedAt: time.Now().UTC()}))
	seen := map[string]got{}
	for len(seen) < 3 {
		select {
		case g := <-arrived:
			seen[g.Type] = g
		case <-time.After(20 * time.Second):
			t.Fatalf("events that arrived: %v", seen)
		}
	}
	if s := seen["software.reported"].Data.Software; s == nil || s.Name != "Figma" {
		t.Errorf("software.reported carries %+v", s)
	}
	if h := seen["heads_up.fixed"].Data.HeadsUp; h == nil || h.Check != "disk_space" || h.DeviceID != dev.ID {
		t.Errorf("heads_up.fixed carries %+v", h)
	}
	if h := seen["heads_up.asked"].Data.HeadsUp; h == nil || h.Check != "os_updates" {
		t.Errorf("heads_up.asked carries %+v", h)
	}
}
