package core

import (
	"context"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// Software amnesty: being built in wave 4; until then each call says so.

func errSoftwareNotYet() error {
	return agentapi.NewError(agentapi.CodeInternal, "Software isn't available in this version of the agent yet.", nil)
}

// Software implements agentapi.Backend.
func (c *Core) Software(context.Context) (agentapi.SoftwareInventory, error) {
	return agentapi.SoftwareInventory{}, errSoftwareNotYet()
}

// SoftwarePrompt implements agentapi.Backend.
func (c *Core) SoftwarePrompt(context.Context) (*agentapi.SoftwarePrompt, error) { return nil, nil }

// AnswerSoftware implements agentapi.Backend.
func (c *Core) AnswerSoftware(context.Context, string, protocol.SoftwareAnswerKind) (agentapi.SoftwareAnswerResult, error) {
	return agentapi.SoftwareAnswerResult{}, errSoftwareNotYet()
}

// SoftwareNotes implements agentapi.Backend.
func (c *Core) SoftwareNotes(context.Context) ([]agentapi.SoftwareNote, error) { return nil, nil }

// Catalogue implements agentapi.Backend.
func (c *Core) Catalogue(context.Context) ([]protocol.CatalogueItem, error) { return nil, nil }

// RequestApp implements agentapi.Backend.
func (c *Core) RequestApp(context.Context, agentapi.AppRequest) (agentapi.Request, error) {
	return agentapi.Request{}, errSoftwareNotYet()
}

// Composing implements agentapi.Backend.
func (c *Core) Composing(context.Context, bool) error { return nil }
