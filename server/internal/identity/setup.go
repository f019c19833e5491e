package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"os"

	"github.com/deskside/deskside/server/internal/auth"
	"github.com/deskside/deskside/server/internal/httpjson"
)

// HashHex is how the setup token's hash is stored.
func HashHex(s string) string { return hex.EncodeToString(auth.Hash(s)) }

// setup creates the first admin with the one-time token. The token is
// taken (a compare-and-swap delete) before anything else is done, so of
// parallel requests with one token exactly one gets on; if creating the
// account then fails, the token is put back for another try.
func (s *Sessions) setup(w http.ResponseWriter, r *http.Request) {
	var in newTech
	if !decode(w, r, &in) {
		return
	}
	if in.Role != "" && in.Role != RoleAdmin {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", "The first account is always an admin.")
		return
	}
	if err := checkTech(in.Email, in.Name, RoleAdmin); err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	tokHash := HashHex(in.SetupToken)
	won, err := s.st.TakeMeta(r.Context(), MetaSetupTokenHash, tokHash)
	if err != nil {
		httpjson.Internal(s.log, w, r, err)
		return
	}
	if in.SetupToken == "" || !won {
		httpjson.Error(w, http.StatusUnauthorized, "bad_setup_token", "This setup link has been used already or is not right. Ask whoever runs the server, or use `deskside-server admin create`.")
		return
	}
	putBack := func() {
		// A fresh context: the request's may be what failed.
		if err := s.st.SetMeta(context.WithoutCancel(r.Context()), MetaSetupTokenHash, tokHash); err != nil {
			s.log.Error("setup: put the setup token back", "err", err)
		}
	}
	t, err := NewTechnician(in.Email, in.Name, in.Password, RoleAdmin)
	if err != nil {
		putBack()
		httpjson.Error(w, http.StatusBadRequest, "bad_body", capitalise(err.Error())+".")
		return
	}
	t.BreakGlass = true // the way in when single sign-on is broken
	if err := s.st.CreateTechnician(r.Context(), t); err != nil {
		putBack()
		httpjson.StoreError(s.log, w, r, err, "technician")
		return
	}
	if f := s.opt.SetupTokenFile; f != "" {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("setup: remove the used setup token file", "file", f, "err", err)
		}
	}
	s.audit(r.Context(), t.Email, "setup", t.ID, "first admin created")
	if _, err := s.Start(r.Context(), w, r, t, "setup"); err != nil {
		httpjson.Internal(s.log, w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, viewTech(t))
}
