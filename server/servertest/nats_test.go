package servertest_test

import (
	"net/http"
	"testing"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// twoNodes starts node A and node B on one PostgreSQL database and one NATS
// namespace, and signs the admin in on node B.
func twoNodes(t *testing.T) (a, b *servertest.Server, techB *servertest.Tech) {
	t.Helper()
	a = servertest.New(t, servertest.WithPostgres(""), servertest.WithNATS(""))
	a.Tech(t) // the admin, through node A's setup token
	b = servertest.New(t, servertest.WithPostgres(a.DatabaseURL()), servertest.WithNATS(a.Cluster()))
	return a, b, b.Login(t, servertest.AdminEmail, servertest.AdminPassword)
}

// Live routing between nodes: what a device on node A does shows on a
// console on node B at once, and what a technician does on node B reaches
// the device on node A without it reconnecting.
func TestTwoNodesRouteLiveThroughNATS(t *testing.T) {
	a, b, techB := twoNodes(t)
	conB := techB.Console(t)

	d := a.Enroll(t, "bo-desktop")
	d.Connect(t, 0)
	waitPresence(t, conB, d.ID, true)

	id := d.RaiseRequest(t, "VPN will not connect")
	var created protocol.RequestSummary
	if err := conB.WaitFor(t, protocol.KindRequestCreated).Decode(&created); err != nil || created.RequestID != id {
		t.Fatalf("console on B: request.created %+v %v", created, err)
	}

	if st := techB.Do(t, http.MethodPost, "/api/v1/requests/"+id+"/messages", map[string]string{"text": "Try now"}, nil); st != http.StatusCreated {
		t.Fatalf("reply on node B: status %d", st)
	}
	var m protocol.Message
	env := d.WaitFor(t, protocol.KindMessage)
	if err := env.Decode(&m); err != nil || m.Text != "Try now" || env.Seq == 0 {
		t.Fatalf("device on A, live: %+v (seq %d) %v", m, env.Seq, err)
	}

	// The user answers on A; the thread moves on B's console.
	d.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: id, MessageID: "msg_" + protocol.NewID(), Text: "Works, thanks"})
	var reply protocol.Message
	if err := conB.WaitFor(t, protocol.KindDeviceMessage).Decode(&reply); err != nil || reply.Text != "Works, thanks" {
		t.Fatalf("console on B: device.message %+v %v", reply, err)
	}

	// An unstored control frame asked for on B reaches the link on A.
	if st := techB.Do(t, http.MethodPost, "/api/v1/devices/"+d.ID+"/snapshot", nil, nil); st != http.StatusAccepted {
		t.Fatalf("snapshot.want via B: status %d", st)
	}
	d.WaitFor(t, protocol.KindSnapshotWant)

	// An announcement posted on B reaches the devices on both nodes.
	e := b.Enroll(t, "cy-laptop")
	e.Connect(t, 0)
	var out struct {
		Recipients int `json:"recipients"`
	}
	if st := techB.Do(t, http.MethodPost, "/api/v1/announcements", map[string]any{"title": "Wi-Fi", "text": "Back at noon"}, &out); st != http.StatusCreated || out.Recipients != 2 {
		t.Fatalf("announce on B: %d %+v", st, out)
	}
	for _, dev := range []*servertest.Device{d, e} {
		var an protocol.Announcement
		if err := dev.WaitFor(t, protocol.KindAnnouncement).Decode(&an); err != nil || an.Title != "Wi-Fi" {
			t.Fatalf("%s: announcement %+v %v", dev.Hostname, an, err)
		}
	}

	// The device on A goes away; B's console hears it.
	d.Close()
	waitPresence(t, conB, d.ID, false)
}

// A device revoked on node B is disconnected at once from node A.
func TestRevokeOnOtherNodeKicks(t *testing.T) {
	a, _, techB := twoNodes(t)
	d := a.Enroll(t, "old-pc")
	d.Connect(t, 0)
	if st := techB.Do(t, http.MethodPost, "/api/v1/devices/"+d.ID+"/revoke", nil, nil); st != http.StatusNoContent {
		t.Fatalf("revoke on B: status %d", st)
	}
	for {
		if _, _, err := d.Conn.ReadMessage(); err != nil {
			return // closed (a read deadline would fail the test through Next)
		}
	}
}

// waitPresence waits for the device's presence, alone or in a batch.
func waitPresence(t *testing.T, con *servertest.Console, deviceID string, online bool) {
	t.Helper()
	for {
		env := con.Next(t)
		var ps []protocol.Presence
		switch env.Type {
		case protocol.KindPresence:
			var p protocol.Presence
			_ = env.Decode(&p)
			ps = append(ps, p)
		case protocol.KindPresenceBatch:
			var b protocol.PresenceBatch
			_ = env.Decode(&b)
			ps = b.Devices
		}
		for _, p := range ps {
			if p.DeviceID == deviceID && p.Online == online {
				return
			}
		}
	}
}
