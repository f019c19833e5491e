package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/deskside/deskside/server/internal/httpjson"
	srel "github.com/deskside/deskside/shared/release"
)

// Handler serves /api/v1/releases…; mount it with
//
//	mux.Handle("/api/v1/releases", svc.Handler())
//	mux.Handle("/api/v1/releases/", svc.Handler())
//
// Routes (see docs/updates.md):
//
//	GET   /api/v1/releases                      staff: releases, versions in use, progress
//	POST  /api/v1/releases                      admin: multipart manifest, signature, binary
//	GET   /api/v1/releases/offer?os&arch&channel&version   device: 200 update.available body or 204
//	GET   /api/v1/releases/{id}                 staff: one release and its failed reports
//	PATCH /api/v1/releases/{id}                 admin: {"percent":n,"paused":bool}
//	GET   /api/v1/releases/{id}/manifest        device or staff
//	GET   /api/v1/releases/{id}/signature       device or staff
//	GET   /api/v1/releases/{id}/binary          device or staff
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/releases", s.staff(false, s.handleList))
	mux.HandleFunc("POST /api/v1/releases", s.staff(true, s.handleUpload))
	mux.HandleFunc("GET /api/v1/releases/offer", s.handleOffer)
	mux.HandleFunc("GET /api/v1/releases/{id}", s.staff(false, s.handleGet))
	mux.HandleFunc("PATCH /api/v1/releases/{id}", s.staff(true, s.handlePatch))
	mux.HandleFunc("GET /api/v1/releases/{id}/{file}", s.handleFile)
	return mux
}

type staffHandler func(w http.ResponseWriter, r *http.Request, actor string)

// staff wraps h with the technician check; admin routes need the admin role.
func (s *Service) staff(admin bool, h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Staff == nil {
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Sign in to manage releases.")
			return
		}
		actor, isAdmin, ok := s.cfg.Staff(r)
		if !ok {
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Sign in to manage releases.")
			return
		}
		if admin && !isAdmin {
			httpjson.Error(w, http.StatusForbidden, "forbidden", "Only an admin can publish or roll out releases.")
			return
		}
		h(w, r, actor)
	}
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request, _ string) {
	rels, err := s.List(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	versions, err := s.Versions(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	if rels == nil {
		rels = []Release{}
	}
	if versions == nil {
		versions = []VersionCount{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"releases": rels, "versions": versions})
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request, _ string) {
	rel, err := s.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no such release.")
		return
	}
	if err != nil {
		s.internal(w, err)
		return
	}
	failures, err := s.Reports(r.Context(), rel.ID, true, 100)
	if err != nil {
		s.internal(w, err)
		return
	}
	if failures == nil {
		failures = []Report{}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"release": rel, "failures": failures})
}

func (s *Service) handlePatch(w http.ResponseWriter, r *http.Request, actor string) {
	var body struct {
		Percent *int  `json:"percent"`
		Paused  *bool `json:"paused"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.Percent == nil && body.Paused == nil) {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", `Send {"percent": 0-100} and/or {"paused": true|false}.`)
		return
	}
	rel, err := s.SetRollout(r.Context(), r.PathValue("id"), body.Percent, body.Paused, actor)
	switch {
	case errors.Is(err, ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no such release.")
	case err != nil && strings.Contains(err.Error(), "outside 0..100"):
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "The percentage must be between 0 and 100.")
	case err != nil:
		s.internal(w, err)
	default:
		httpjson.Write(w, http.StatusOK, rel)
	}
}

// handleUpload reads a multipart body whose parts come in this order:
// manifest, signature, binary. Manifest and signature are checked before a
// byte of the binary is stored.
func (s *Service) handleUpload(w http.ResponseWriter, r *http.Request, actor string) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBinary+srel.MaxManifestBytes+srel.MaxSignatureBytes+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "Upload a multipart form with the parts manifest, signature and binary, in that order.")
		return
	}
	manifest, err := readPart(mr, "manifest", srel.MaxManifestBytes)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	sig, err := readPart(mr, "signature", srel.MaxSignatureBytes)
	if err != nil {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if _, err := srel.Verify(s.keys, manifest, sig); err != nil {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_signature",
			"The manifest is not signed by the publisher key this server trusts: "+err.Error())
		return
	}
	bin, err := mr.NextPart()
	if err != nil || bin.FormName() != "binary" {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "The third part must be the binary.")
		return
	}
	rel, err := s.Upload(r.Context(), manifest, sig, bin, actor)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, ErrExists):
		httpjson.Error(w, http.StatusConflict, "exists", err.Error())
	case errors.As(err, &tooBig):
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large", "The upload is over the size limit.")
	case err != nil && (strings.Contains(err.Error(), "manifest says") || strings.Contains(err.Error(), "limit")):
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_binary", err.Error())
	case err != nil:
		s.internal(w, err)
	default:
		httpjson.Write(w, http.StatusCreated, rel) // at 0 %: nothing is offered yet
	}
}

func readPart(mr *multipart.Reader, name string, limit int64) ([]byte, error) {
	p, err := mr.NextPart()
	if err != nil || p.FormName() != name {
		return nil, fmt.Errorf("expected the part %q next (order: manifest, signature, binary)", name)
	}
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", name, limit)
	}
	return b, nil
}

func (s *Service) device(r *http.Request) (string, bool) {
	if s.cfg.Device == nil {
		return "", false
	}
	return s.cfg.Device(r)
}

func (s *Service) handleOffer(w http.ResponseWriter, r *http.Request) {
	id, ok := s.device(r)
	if !ok {
		httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Device credentials are required.")
		return
	}
	q := r.URL.Query()
	d := Device{ID: id, OS: q.Get("os"), Arch: q.Get("arch"), Channel: srel.Channel(q.Get("channel")), Version: q.Get("version")}
	if d.OS == "" || d.Arch == "" || d.Version == "" || len(d.OS)+len(d.Arch)+len(d.Version) > 100 {
		httpjson.Error(w, http.StatusBadRequest, "bad_request", "os, arch and version are required.")
		return
	}
	offer, err := s.Offer(r.Context(), d)
	if err != nil {
		s.internal(w, err)
		return
	}
	if offer == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	httpjson.Write(w, http.StatusOK, offer)
}

func (s *Service) handleFile(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.device(r); !ok {
		if s.cfg.Staff == nil {
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Device or technician credentials are required.")
			return
		}
		if _, _, ok := s.cfg.Staff(r); !ok {
			httpjson.Error(w, http.StatusUnauthorized, "unauthorized", "Device or technician credentials are required.")
			return
		}
	}
	id, file := r.PathValue("id"), r.PathValue("file")
	var manifest, sig string
	var created int64
	err := s.db.QueryRowContext(r.Context(), `SELECT manifest, signature, uploaded_at FROM releases WHERE id = ?`, id).
		Scan(&manifest, &sig, &created)
	if err != nil {
		httpjson.Error(w, http.StatusNotFound, "not_found", "There is no such release.")
		return
	}
	mod := time.UnixMilli(created)
	switch file {
	case "manifest":
		w.Header().Set("Content-Type", "application/json")
		http.ServeContent(w, r, "manifest.json", mod, strings.NewReader(manifest))
	case "signature":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(w, r, "manifest.json.minisig", mod, strings.NewReader(sig))
	case "binary":
		f, err := os.Open(s.blobPath(id))
		if err != nil {
			s.internal(w, err)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="deskside-agent-`+id+`"`)
		http.ServeContent(w, r, "", mod, f)
	default:
		httpjson.Error(w, http.StatusNotFound, "not_found", "Files are manifest, signature and binary.")
	}
}

func (s *Service) internal(w http.ResponseWriter, err error) {
	s.log.Error("release API", "err", err)
	httpjson.Error(w, http.StatusInternalServerError, "internal", "Something went wrong on the server; it has been logged.")
}
