package servertest_test

import (
	"net/http"
	"testing"

	"github.com/deskside/deskside/server/servertest"
	"github.com/deskside/deskside/shared/protocol"
)

// TestEveryRequestChangeReachesConsoles: each way a request changes (a
// technician's reply, an internal note, status, assignee; the user's reply,
// rating and reopen) reaches another technician's open console live.
func TestEveryRequestChangeReachesConsoles(t *testing.T) {
	srv := servertest.New(t)
	tech := srv.Tech(t)
	requestChangesReach(t, srv, tech, tech.Console(t))
}

// The same across nodes: the device and the acting technician are on node
// B, the watching console on node A.
func TestEveryRequestChangeReachesConsolesAcrossNodes(t *testing.T) {
	a, b, techB := twoNodes(t)
	techA := a.Login(t, servertest.AdminEmail, servertest.AdminPassword)
	requestChangesReach(t, b, techB, techA.Console(t))
}

// requestChangesReach makes every kind of change on srv (device and REST,
// as tech) and waits for each on con.
func requestChangesReach(t *testing.T, srv *servertest.Server, tech *servertest.Tech, con *servertest.Console) {
	t.Helper()
	d := srv.Enroll(t, "ana-laptop")
	d.Connect(t, 0)
	id := d.RaiseRequest(t, "The printer jams")
	con.WaitFor(t, protocol.KindRequestCreated)

	var m protocol.Message
	if st := tech.Do(t, http.MethodPost, "/api/v1/requests/"+id+"/messages", map[string]string{"text": "Try the tray"}, &m); st != http.StatusCreated {
		t.Fatalf("reply: status %d", st)
	}
	var it protocol.ThreadItem
	if err := con.WaitFor(t, protocol.KindRequestThread).Decode(&it); err != nil || it.RequestID != id || it.Item != protocol.ThreadMessage ||
		it.ID != m.MessageID || it.Author != servertest.AdminName {
		t.Fatalf("request.thread for the reply %+v %v (reply %+v)", it, err, m)
	}

	var n struct {
		ID string `json:"id"`
	}
	if st := tech.Do(t, http.MethodPost, "/api/v1/requests/"+id+"/notes", map[string]string{"text": "Tray 2 is worn"}, &n); st != http.StatusCreated {
		t.Fatalf("note: status %d", st)
	}
	if err := con.WaitFor(t, protocol.KindRequestThread).Decode(&it); err != nil || it.RequestID != id || it.Item != protocol.ThreadNote || it.ID != n.ID {
		t.Fatalf("request.thread for the note %+v %v (note %s)", it, err, n.ID)
	}

	if st := tech.Do(t, http.MethodPatch, "/api/v1/requests/"+id, map[string]any{"status": "resolved", "assignee": "me"}, nil); st != http.StatusOK {
		t.Fatalf("patch: status %d", st)
	}
	r := waitUpdated(t, con, id, func(r protocol.RequestSummary) bool { return r.Status == protocol.StatusResolved })
	if r.Assignee == "" {
		t.Errorf("request.updated after assigning: no assignee in %+v", r)
	}

	d.Send(t, protocol.KindRequestRate, protocol.RequestRate{RequestID: id, Rating: 4, Comment: "Quick"})
	r = waitUpdated(t, con, id, func(r protocol.RequestSummary) bool { return r.Rating == 4 })
	if r.RatingComment != "Quick" {
		t.Errorf("request.updated after rating: comment %q, want Quick", r.RatingComment)
	}

	d.Send(t, protocol.KindRequestReopen, protocol.RequestReopen{RequestID: id, Text: "It jams again"})
	var um protocol.Message
	if err := con.WaitFor(t, protocol.KindDeviceMessage).Decode(&um); err != nil || um.RequestID != id || um.Text != "It jams again" || !um.FromUser {
		t.Fatalf("device.message after reopen %+v %v", um, err)
	}
	reopenWord := um
	waitUpdated(t, con, id, func(r protocol.RequestSummary) bool { return r.Status == protocol.StatusReopened })

	d.Send(t, protocol.KindRequestReply, protocol.RequestReply{RequestID: id, MessageID: "msg_" + protocol.NewID(), Text: "Still jammed"})
	if err := con.WaitFor(t, protocol.KindDeviceMessage).Decode(&um); err != nil || um.Text != "Still jammed" {
		t.Fatalf("device.message after reply %+v %v", um, err)
	}

	// What the console was told of live is what a reload shows.
	var got struct {
		Messages []protocol.Message `json:"messages"`
		Notes    []struct {
			ID string `json:"id"`
		} `json:"notes"`
	}
	tech.Do(t, http.MethodGet, "/api/v1/requests/"+id, nil, &got)
	stored := map[string]string{} // message id → text
	for _, x := range got.Messages {
		stored[x.MessageID] = x.Text
	}
	if stored[reopenWord.MessageID] != reopenWord.Text || stored[m.MessageID] != m.Text {
		t.Errorf("reload shows messages %+v; live were %+v and %+v", got.Messages, m, reopenWord)
	}
	if len(got.Notes) != 1 || got.Notes[0].ID != n.ID {
		t.Errorf("reload shows notes %+v; live was %+v", got.Notes, n)
	}
}

// waitUpdated waits for a request.updated of id that satisfies ok.
func waitUpdated(t *testing.T, con *servertest.Console, id string, ok func(protocol.RequestSummary) bool) protocol.RequestSummary {
	t.Helper()
	for {
		var r protocol.RequestSummary
		if err := con.WaitFor(t, protocol.KindRequestUpdated).Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.RequestID == id && ok(r) {
			return r
		}
	}
}
