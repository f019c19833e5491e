package devicelink

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"github.com/deskside/deskside/server/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// From the wire: what a device's frame becomes in the store. The way back
// (store → wire) is beside each store type (store.Request.ToWire).

// requestFromWire is a request.new from device d as it is stored, and its
// screenshot, which the store keeps apart. The user the snapshot names
// wins over the one of the enrolment (the desk may have changed hands).
func requestFromWire(b protocol.RequestNew, d store.Device) (store.Request, []byte, error) {
	r := store.Request{ID: b.RequestID, DeviceID: d.ID, Hostname: d.Hostname, User: d.User,
		Category: b.Category, Urgency: b.Urgency, Status: protocol.StatusNew, Text: b.Text,
		CreatedAt: sentAt(b.CreatedAt), UpdatedAt: time.Now().UTC().Truncate(time.Millisecond), ShownArticles: b.ShownArticles,
		SoftwareTitle: b.SoftwareTitle}
	if b.Snapshot != nil {
		snap, err := json.Marshal(b.Snapshot)
		if err != nil {
			return r, nil, fmt.Errorf("encode snapshot: %w", err)
		}
		r.Snapshot = snap
		r.User = cmp.Or(b.Snapshot.Host.User, r.User)
	}
	var shot []byte
	if b.Screenshot != nil {
		shot, r.ScreenshotType = b.Screenshot.Data, b.Screenshot.Type
	}
	return r, shot, nil
}

// userMessageFromWire is a request.reply from device d as it is stored.
func userMessageFromWire(b protocol.RequestReply, d store.Device) store.Message {
	return store.Message{ID: b.MessageID, RequestID: b.RequestID, DeviceID: d.ID, AuthorName: cmp.Or(d.User, d.Hostname),
		FromUser: true, Text: b.Text, CreatedAt: sentAt(b.CreatedAt)}
}

// reopenMessage is the thread entry ReopenRequest stores for the user's
// word why, as the store writes it: its id is "msg_" and the frame id, its
// author the device's user.
func reopenMessage(frameID string, b protocol.RequestReopen, d store.Device, at time.Time) store.Message {
	return store.Message{ID: "msg_" + frameID, RequestID: b.RequestID, DeviceID: d.ID, AuthorName: d.User,
		FromUser: true, Text: b.Text, CreatedAt: at}
}

// sentAt is when the user acted, as the device says, in UTC; now when the
// device did not say or its clock is more than an hour ahead.
func sentAt(t time.Time) time.Time {
	if t.IsZero() || t.After(time.Now().Add(time.Hour)) {
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	return t.UTC()
}
