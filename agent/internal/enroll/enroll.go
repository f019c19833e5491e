// Package enroll trades an enrolment token for device credentials (POST
// /api/v1/enroll) and keeps those credentials in a 0600 file in the user's
// config dir. The secret is written nowhere else and logged never.
package enroll

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"time"

	"github.com/deskside/deskside/agent/internal/link"
	"github.com/deskside/deskside/shared/enrollconf"
	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/version"
)

// Errors the CLI and core turn into warm words.
var (
	ErrNotEnrolled = errors.New("this computer is not enrolled")
	ErrBadToken    = errors.New("enrolment token refused")
	ErrServerDown  = errors.New("server unreachable")
)

// CredentialsVersion is the credentials file format. History:
//
//	1: server, device_id, secret, pin, server_name, group, enrolled_at;
//	   later, optional update_keys and update_channel (older agents ignore them).
const CredentialsVersion = 1

// Credentials identify this device to its server.
type Credentials struct {
	Version    int       `json:"version"`
	Server     string    `json:"server"`
	DeviceID   string    `json:"device_id"`
	Secret     string    `json:"secret"`
	Pin        string    `json:"pin,omitempty"` // hex SHA-256 of the server certificate
	ServerName string    `json:"server_name,omitempty"`
	Group      string    `json:"group,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// UpdateKeys, when set, are the publisher's minisign public key(s)
	// (comma separated) this device trusts for self-updates instead of the
	// ones built in; set at enrolment by IT, never by the server.
	UpdateKeys string `json:"update_keys,omitempty"`
	// UpdateChannel is "stable" (default) or "beta".
	UpdateChannel string `json:"update_channel,omitempty"`
}

// PinBytes decodes the pin (nil when none).
func (c *Credentials) PinBytes() []byte {
	b, err := hex.DecodeString(c.Pin)
	if err != nil || len(b) != 32 {
		return nil
	}
	return b
}

// ConfigDir is $DESKSIDE_CONFIG_DIR, else os.UserConfigDir()/deskside.
func ConfigDir() (string, error) {
	if d := os.Getenv("DESKSIDE_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir: %w", err)
	}
	return filepath.Join(d, "deskside"), nil
}

// Load reads the credentials file; ErrNotEnrolled when it does not exist.
func Load(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read credentials %s: %w", path, err)
	}
	if c.Version != CredentialsVersion || c.DeviceID == "" || c.Secret == "" || c.Server == "" {
		return nil, fmt.Errorf("credentials %s are incomplete (version %d)", path, c.Version)
	}
	return &c, nil
}

// Save writes the credentials atomically with mode 0600 in a 0700 dir.
func Save(path string, c *Credentials) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// Options tunes Enroll; the zero value is right for the agent.
type Options struct {
	RootCAs *x509.CertPool // tests
	Pin     string         // hex; overrides the token's pin (enrolment config files may carry it)
}

// Enroll trades token for credentials at server.
func Enroll(ctx context.Context, server, token string, opt Options) (*Credentials, error) {
	srv, err := enrollconf.CheckServerURL(server)
	if err != nil {
		return nil, err
	}
	tok, err := protocol.ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	pin := tok.Pin
	if opt.Pin != "" {
		if pin, err = hex.DecodeString(opt.Pin); err != nil || len(pin) != 32 {
			return nil, errors.New("the certificate pin must be 64 hex digits")
		}
	}
	host, _ := os.Hostname()
	req := protocol.EnrollRequest{Token: tok.String(), Hostname: host, OS: runtime.GOOS, Arch: runtime.GOARCH, AgentVersion: version.Version}
	if u, err := user.Current(); err == nil {
		req.User = u.Username
	}
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, srv+protocol.EnrollPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: link.TLSConfig(pin, opt.RootCAs), Proxy: http.ProxyFromEnvironment}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(hreq)
	if err != nil {
		if errors.Is(err, link.ErrPinMismatch) {
			return nil, fmt.Errorf("enrol: %w", link.ErrPinMismatch)
		}
		return nil, fmt.Errorf("enrol: %w: %w", ErrServerDown, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		var ae protocol.APIError
		_ = json.Unmarshal(b, &ae)
		return nil, fmt.Errorf("%w: %s", ErrBadToken, ae.Msg)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("enrol: %w: server answered %s", ErrServerDown, resp.Status)
	}
	var er protocol.EnrollResponse
	if err := json.Unmarshal(b, &er); err != nil || er.DeviceID == "" || er.DeviceSecret == "" {
		return nil, fmt.Errorf("enrol: unexpected answer from the server: %.200s", b)
	}
	c := &Credentials{Version: CredentialsVersion, Server: srv, DeviceID: er.DeviceID, Secret: er.DeviceSecret,
		ServerName: er.ServerName, Group: er.Group, EnrolledAt: time.Now().UTC()}
	if len(pin) > 0 {
		c.Pin = hex.EncodeToString(pin)
	}
	return c, nil
}
