package localapi_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/agent/agentapi/agentapitest"
	"github.com/deskside/deskside/agent/internal/localapi"
	"github.com/deskside/deskside/agent/internal/store"
	"github.com/deskside/deskside/shared/protocol"
)

// The last promise IT made (kept by an earlier run; this agent is
// offline) reaches a window over the socket: in Status and on a request.
func TestExpectationsOverTheSocket(t *testing.T) {
	c, _ := serveWith(t, store.Options{}, func(st *store.Store) {
		kept := `[{"urgency":"blocking","first_response_minutes":30,"working":true},{"urgency":"when_you_can","first_response_minutes":960,"working":true}]`
		if err := st.SetMeta(context.Background(), "expectations", kept); err != nil {
			t.Fatal(err)
		}
	})
	ctx := context.Background()
	s, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := agentapi.ExpectationFor(s.Expectations, protocol.UrgencyBlocking); got != "Usually answered within 30 minutes." {
		t.Fatalf("blocking: %q (status %+v)", got, s)
	}
	if got := agentapi.ExpectationFor(s.Expectations, protocol.UrgencyWhenYouCan); got != "Usually answered within 2 working days." {
		t.Fatalf("when you can: %q", got)
	}
	r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Urgency: protocol.UrgencyBlocking, Text: "I can't log in"})
	if err != nil || r.Expectation != "Usually answered within 30 minutes." {
		t.Fatalf("raise: %+v, %v", r, err)
	}
	rs, err := c.Requests(ctx)
	if err != nil || len(rs) != 1 || rs[0].Expectation != r.Expectation {
		t.Fatalf("requests: %+v, %v", rs, err)
	}
}

// The Fake offers the same, over the socket too: worded promises in
// Status, and on a request until IT's first message.
func TestFakeExpectations(t *testing.T) {
	dir, err := os.MkdirTemp("", "lapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := agentapitest.NewFake()
	f.SetExpectations([]agentapi.Expectation{{Urgency: protocol.UrgencyWhenYouCan, Text: "Usually answered within 2 working hours."}})
	l, err := localapi.Listen(filepath.Join(dir, "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = localapi.Serve(ctx, l, f, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	c := localapi.NewClient(filepath.Join(dir, "agent.sock"))

	s, err := c.Status(ctx)
	if err != nil || agentapi.ExpectationFor(s.Expectations, protocol.UrgencyWhenYouCan) != "Usually answered within 2 working hours." {
		t.Fatalf("status: %+v, %v", s, err)
	}
	r, err := c.RaiseRequest(ctx, agentapi.NewRequest{Urgency: protocol.UrgencyWhenYouCan, Text: "New mouse please"})
	if err != nil || r.Expectation != "Usually answered within 2 working hours." {
		t.Fatalf("raised on the fake: %+v, %v", r, err)
	}
	f.AddMessage(agentapi.Message{RequestID: r.ID, Text: "On its way"})
	if got, _ := c.Request(ctx, r.ID); got.Expectation != "" || !got.Answered {
		t.Fatalf("after IT's answer: %+v", got)
	}
}
