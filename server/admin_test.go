package main

import (
	"context"
	"testing"

	"github.com/deskside/deskside/server/internal/app"
)

// An admin made at the shell is break-glass (the way back in when password
// sign-in is off); a technician made there is not.
func TestAdminCreateIsBreakGlass(t *testing.T) {
	data := t.TempDir()
	// Admin commands work on a server's existing data, as after its first start.
	st0, err := app.OpenStore(context.Background(), app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	st0.Close()
	for _, args := range [][]string{
		{"--data", data, "--email", "root@example.com", "--name", "Root", "--password", "a long enough password"},
		{"--data", data, "--email", "tess@example.com", "--name", "Tess", "--password", "a long enough password", "--role", "technician"},
	} {
		if err := adminCreate(args); err != nil {
			t.Fatal(err)
		}
	}
	st, err := app.OpenStore(context.Background(), app.Config{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for email, want := range map[string]bool{"root@example.com": true, "tess@example.com": false} {
		tc, err := st.TechnicianByEmail(context.Background(), email)
		if err != nil || tc.BreakGlass != want {
			t.Fatalf("%s: break_glass %v (%v), want %v", email, tc.BreakGlass, err, want)
		}
	}
}
