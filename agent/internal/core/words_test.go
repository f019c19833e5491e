package core

import (
	"errors"
	"fmt"
	"testing"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
)

func TestWordsForEveryFault(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("connect: %w: detail", e) }
	cases := map[error]string{
		wrap(link.ErrPinMismatch):        MsgPinMismatch,
		wrap(link.ErrRevoked):            MsgRevoked,
		wrap(link.ErrUnauthorized):       MsgRevoked,
		wrap(enroll.ErrBadToken):         MsgBadToken,
		wrap(link.ErrGarbage):            MsgGarbage,
		wrap(link.ErrInsecure):           MsgInsecure,
		wrap(store.ErrDiskFull):          MsgDiskFull,
		wrap(enroll.ErrNotEnrolled):      MsgNotEnrolled,
		errors.New("connection refused"): MsgOffline,
		wrap(enroll.ErrServerDown):       MsgOffline,
	}
	for err, want := range cases {
		if got := Words(err); got != want {
			t.Errorf("Words(%v) = %q, want %q", err, got, want)
		}
	}
}
