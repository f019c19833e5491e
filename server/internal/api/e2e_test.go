package api_test

import (
	"net/http"
	"testing"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// The whole path: enrol → hello → request with snapshot → the console sees
// it live → the technician replies over REST → the device receives it.
func TestEndToEnd(t *testing.T) {
	s := servertest.New(t)
	tech := s.Tech(t)
	con := tech.Console(t)

	dev := s.Enroll(t, "ana-laptop")
	dev.Connect(t, 0)
	if p := con.WaitFor(t, protocol.KindPresence); p.Type != protocol.KindPresence {
		t.Fatal("no presence")
	}
	reqID := dev.RaiseRequest(t, "The Wi-Fi drops every ten minutes")

	var created protocol.RequestSummary
	if err := con.WaitFor(t, protocol.KindRequestCreated).Decode(&created); err != nil {
		t.Fatal(err)
	}
	if created.RequestID != reqID || created.Hostname != "ana-laptop" || created.Status != protocol.StatusNew {
		t.Fatalf("console saw %+v", created)
	}

	var detail struct {
		Request  protocol.RequestSummary
		Snapshot *protocol.Snapshot
	}
	if st := tech.Do(t, "GET", "/api/v1/requests/"+reqID, nil, &detail); st != http.StatusOK {
		t.Fatalf("get request: %d", st)
	}
	if detail.Snapshot == nil || detail.Snapshot.Host.Hostname != "ana-laptop" {
		t.Fatalf("snapshot not stored with the request: %+v", detail.Snapshot)
	}

	var sent protocol.Message
	if st := tech.Do(t, "POST", "/api/v1/requests/"+reqID+"/messages", map[string]string{"text": "On it — try restarting the router?"}, &sent); st != http.StatusCreated {
		t.Fatalf("reply: %d", st)
	}
	env := dev.WaitFor(t, protocol.KindMessage)
	var got protocol.Message
	if err := env.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Text != "On it — try restarting the router?" || got.Author.Name != "Rob" || got.RequestID != reqID || env.Seq == 0 {
		t.Fatalf("device got %+v seq %d", got, env.Seq)
	}

	// Picking the request up tells the user in plain words.
	if st := tech.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"assignee": "me"}, nil); st != http.StatusOK {
		t.Fatalf("assign: %d", st)
	}
	var rs protocol.RequestStatus
	if err := dev.WaitFor(t, protocol.KindRequestStatus).Decode(&rs); err != nil {
		t.Fatal(err)
	}
	if rs.Text != "Rob picked up your request" || rs.Status != protocol.StatusInProgress {
		t.Fatalf("status frame %+v", rs)
	}
	if st := tech.Do(t, "PATCH", "/api/v1/requests/"+reqID, map[string]string{"status": "resolved"}, nil); st != http.StatusOK {
		t.Fatalf("resolve: %d", st)
	}
	if err := dev.WaitFor(t, protocol.KindRequestStatus).Decode(&rs); err != nil {
		t.Fatal(err)
	}
	if rs.Text != "Rob marked this as solved — if it's not, just reply." {
		t.Fatalf("resolved text %q", rs.Text)
	}

	// The user writes back; the console sees it.
	dev.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: reqID, MessageID: protocol.NewID(), Text: "Thanks!"})
	var dm protocol.Message
	if err := con.WaitFor(t, protocol.KindDeviceMessage).Decode(&dm); err != nil {
		t.Fatal(err)
	}
	if dm.Text != "Thanks!" || dm.DeviceID != dev.ID || !dm.FromUser {
		t.Fatalf("console got %+v", dm)
	}
}
