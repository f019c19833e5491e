package core

import "github.com/deskside/deskside/agent/internal/localapi"

var _ localapi.Backend = (*Core)(nil)
