package core

import (
	"errors"

	"github.com/deskside/deskside/agent/agentapi"

	"github.com/deskside/deskside/agent/internal/enroll"
	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/agent/internal/store"
)

// The sentences the user reads. Warm, plain, no jargon; each says what
// happened to their words and what, if anything, to do.
const (
	MsgOffline     = "You're offline — anything you send is saved and goes out when we're back."
	MsgConnecting  = "Connecting to IT…"
	MsgOnline      = "Connected to IT."
	MsgPinMismatch = "We couldn't confirm this is your company's server, so we didn't connect. Please tell IT."
	MsgRevoked     = "This computer is no longer connected to IT's help desk. Please ask IT to set it up again — anything you write is kept here."
	MsgBadToken    = "That enrolment code didn't work — it may have expired. Ask IT for a fresh one."
	MsgGarbage     = "We're having trouble understanding IT's server. We'll keep trying — anything you send is saved."
	MsgDiskFull    = "Your disk is full, so we couldn't save this. Free some space and try again — your text is still here."
	MsgNotEnrolled = "This computer isn't set up with IT's help desk yet. Ask IT for an enrolment code."
	MsgEnrolling   = "Setting up this computer with IT's help desk…"
	MsgInsecure    = "The help desk address isn't secure (it must start with https://), so we didn't connect. Please tell IT."
)

// Words returns the sentence for a link or enrolment error.
func Words(err error) string {
	switch {
	case err == nil:
		return MsgOnline
	case errors.Is(err, link.ErrPinMismatch):
		return MsgPinMismatch
	case errors.Is(err, link.ErrRevoked), errors.Is(err, link.ErrUnauthorized):
		return MsgRevoked
	case errors.Is(err, enroll.ErrBadToken):
		return MsgBadToken
	case errors.Is(err, link.ErrInsecure):
		return MsgInsecure
	case errors.Is(err, link.ErrGarbage):
		return MsgGarbage
	case errors.Is(err, enroll.ErrNotEnrolled):
		return MsgNotEnrolled
	case errors.Is(err, store.ErrDiskFull):
		return MsgDiskFull
	}
	return MsgOffline
}

func userErr(code agentapi.Code, msg string, err error) error {
	return agentapi.NewError(code, msg, err)
}

// storeErr turns a store failure into what the user should hear.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDiskFull):
		return userErr(agentapi.CodeDiskFull, MsgDiskFull, err)
	case errors.Is(err, store.ErrNotFound):
		return userErr(agentapi.CodeNotFound, "We couldn't find that request on this computer.", err)
	}
	return err
}
