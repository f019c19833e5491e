package events

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// TestWireForm pins the payload receivers parse: the Standard Webhooks
// shape, with the request under data.
func TestWireForm(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	ev := Event{ID: "evt_1", Type: RequestCreated, At: t0, Data: Data{
		Request: &protocol.RequestSummary{RequestID: "req_1", DeviceID: "dev_1", Hostname: "ana-laptop", Category: protocol.CategoryProblem,
			Urgency: protocol.UrgencyBlocking, Status: protocol.StatusNew, Text: "Wi-Fi drops", CreatedAt: t0, UpdatedAt: t0},
		URL: "https://help.example.com/#/requests/req_1"}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"request.created","timestamp":"2026-12-03T09:00:00Z","data":{"request":{"request_id":"req_1","device_id":"dev_1",` +
		`"hostname":"ana-laptop","category":"problem","urgency":"blocking","status":"new","text":"Wi-Fi drops",` +
		`"created_at":"2026-12-03T09:00:00Z","updated_at":"2026-12-03T09:00:00Z"},"url":"https://help.example.com/#/requests/req_1"}}`
	if string(b) != want {
		t.Fatalf("wire form\n got %s\nwant %s", b, want)
	}
}

func TestTypesValid(t *testing.T) {
	for _, x := range Types {
		if !x.Valid() || !strings.Contains(string(x), ".") {
			t.Errorf("%q should be a valid dotted type", x)
		}
	}
	if Type("request.deleted").Valid() {
		t.Error("an unknown type passed as valid")
	}
}

func TestNewAndMulti(t *testing.T) {
	a, b := New(RequestRated, Data{}), New(RequestRated, Data{})
	if a.ID == b.ID || !strings.HasPrefix(a.ID, "evt_") || a.At.IsZero() {
		t.Fatalf("New gave ids %q and %q at %v", a.ID, b.ID, a.At)
	}
	var got []Type
	m := Multi{Func(func(_ context.Context, ev Event) { got = append(got, ev.Type) }), nil, Discard,
		Func(func(_ context.Context, ev Event) { got = append(got, ev.Type+"!") })}
	m.Publish(context.Background(), a)
	if len(got) != 2 || got[0] != RequestRated || got[1] != RequestRated+"!" {
		t.Fatalf("Multi delivered %v", got)
	}
}
