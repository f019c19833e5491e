// Package enrollconf defines the enrolment config file: the server URL and
// enrolment token an installer leaves on a machine so that the agent enrols
// silently at its first run. The installer writes it; the agent reads it.
// It is the contract between installer and agent, so it lives in shared/ and
// imports only the standard library, shared/protocol and shared/release,
// so the agent never imports packaging code.
//
// The file is JSON:
//
//	{
//	  "version": 1,
//	  "server": "https://help.example.com",
//	  "token": "dsk1_<secret>[.<64 hex pin>]",
//	  "pin": "<64 hex>",
//	  "update_key": "RWQ…"
//	}
//
// "pin" (optional) is the hex SHA-256 of the server's TLS certificate (DER),
// for servers with a self-signed certificate. It is filled from the token
// when the token carries one; when both are present they agree.
//
// "update_key" (optional) is the publisher's minisign public key, or several
// separated by commas, that the device trusts for self-updates instead of
// the one built into the agent: the agent keeps it with its credentials at
// enrolment, as `deskside-agent enrol --update-key` does.
//
// The agent looks for it, first found wins (see Candidates):
//  1. $DESKSIDE_ENROLL_FILE, when set (and then only there);
//  2. the user's file: os.UserConfigDir()/deskside/enroll.json
//     (~/.config/deskside/enroll.json on Linux, %AppData%\deskside\enroll.json
//     on Windows, ~/Library/Application Support/deskside/enroll.json on macOS);
//  3. the machine's file: /etc/deskside/enroll.json on Linux,
//     %ProgramData%\Deskside\enroll.json on Windows,
//     /Library/Application Support/Deskside/enroll.json on macOS.
package enrollconf

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/deskside/deskside/shared/protocol"
	"github.com/deskside/deskside/shared/release"
)

// CurrentVersion is the format version written by this package. History:
//
//	1 (2025): version, server, token, pin.
//	1 (2025, later): optional update_key. Still version 1: older agents
//	  ignore the field (and keep their built-in key), so no bump is needed.
const CurrentVersion = 1

// EnvFile names the environment variable that overrides the file's location.
const EnvFile = "DESKSIDE_ENROLL_FILE"

// FileName is the base name of the file in every location.
const FileName = "enroll.json"

// ErrNotFound is returned by Find when no enrolment config exists.
var ErrNotFound = errors.New("no enrolment config found")

// Config is the content of an enrolment config file.
type Config struct {
	Version int    `json:"version"`
	Server  string `json:"server"`
	Token   string `json:"token"`
	Pin     string `json:"pin,omitempty"`
	// UpdateKey is optional: publisher public key(s) for self-updates, RWQ…
	// (comma separated). Set it with SetUpdateKey.
	UpdateKey string `json:"update_key,omitempty"`
}

// New checks an admin's input and returns a normalised Config. The messages
// of its errors are meant to be shown to that admin as they are.
func New(server, token, pin string) (Config, error) {
	c := Config{Version: CurrentVersion, Server: strings.TrimSpace(server), Token: strings.TrimSpace(token), Pin: pin}
	if err := c.normalise(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) normalise() error {
	if c.Version != CurrentVersion {
		return fmt.Errorf("enrolment config version %d is not supported (this build reads version %d)", c.Version, CurrentVersion)
	}
	if c.Token == "" {
		return errors.New("an enrolment token is required (dsk1_…): create one in the console or with the server CLI")
	}
	if c.Server == "" {
		return errors.New("a server URL is required with an enrolment token (e.g. --server https://help.example.com)")
	}
	srv, err := CheckServerURL(c.Server)
	if err != nil {
		return err
	}
	c.Server = srv
	tok, err := protocol.ParseToken(c.Token)
	if err != nil {
		return fmt.Errorf("enrolment token: %w", err)
	}
	c.Token = tok.String()
	pin, err := normalisePin(c.Pin)
	if err != nil {
		return err
	}
	if len(tok.Pin) > 0 {
		fromTok := hex.EncodeToString(tok.Pin)
		if pin != "" && pin != fromTok {
			return errors.New("the certificate pin given does not match the pin inside the enrolment token: use one or the other")
		}
		pin = fromTok
	}
	c.Pin = pin
	key, err := normaliseUpdateKey(c.UpdateKey)
	if err != nil {
		return err
	}
	c.UpdateKey = key
	return nil
}

// SetUpdateKey checks key (RWQ…, several separated by commas; empty for
// none) and stores it in c in its canonical form.
func (c *Config) SetUpdateKey(key string) error {
	k, err := normaliseUpdateKey(key)
	if err != nil {
		return err
	}
	c.UpdateKey = k
	return nil
}

// normaliseUpdateKey returns the keys comma separated, or an error an admin
// can act on.
func normaliseUpdateKey(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	keys, err := release.ParsePublicKeys(s)
	if err != nil || len(keys) == 0 {
		if err == nil {
			err = errors.New("no key")
		}
		return "", fmt.Errorf("the update key must be a minisign public key (RWQ…, several separated by commas): %w", err)
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return strings.Join(out, ","), nil
}

func normalisePin(p string) (string, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	p = strings.TrimPrefix(p, "sha256:")
	p = strings.ReplaceAll(p, ":", "")
	if p == "" {
		return "", nil
	}
	b, err := hex.DecodeString(p)
	if err != nil || len(b) != 32 {
		return "", errors.New("the certificate pin must be the SHA-256 of the server certificate: 64 hex digits")
	}
	return p, nil
}

// ErrBadServerURL matches (errors.Is) every error of CheckServerURL: the
// address itself is wrong, which no retry or network fixes.
var ErrBadServerURL = errors.New("bad server URL")

// badURL is a CheckServerURL error: its own sentence, and ErrBadServerURL.
type badURL string

func (e badURL) Error() string        { return string(e) }
func (e badURL) Is(target error) bool { return target == ErrBadServerURL }

// CheckServerURL accepts https URLs, and http only for a loopback host (a
// server on the same machine, for tests). It returns the URL without a
// trailing slash.
func CheckServerURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", badURL(fmt.Sprintf("server URL %q is not a URL like https://help.example.com", s))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", badURL(fmt.Sprintf("server URL %q must not carry a user, query or fragment", s))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", badURL(fmt.Sprintf("server URL %q uses http: devices must reach the server over https (http is allowed only for localhost)", s))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String(), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Marshal returns the file's bytes: indented JSON ending in a newline.
func (c Config) Marshal() []byte {
	b, _ := json.MarshalIndent(c, "", "  ") // cannot fail: strings and an int
	return append(b, '\n')
}

// Parse reads and checks a file's bytes.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("enrolment config is not valid JSON: %w", err)
	}
	if err := c.normalise(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Load reads and checks the file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read enrolment config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Write stores c at path atomically (a temporary file renamed into place),
// creating the parent directory (0755) when needed.
func Write(path string, c Config, mode fs.FileMode) error {
	if err := c.normalise(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write enrolment config: %w", err)
	}
	f, err := os.CreateTemp(dir, ".enroll-*.json")
	if err != nil {
		return fmt.Errorf("write enrolment config: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(c.Marshal()); err != nil {
		f.Close()
		return fmt.Errorf("write enrolment config: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write enrolment config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write enrolment config: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write enrolment config: %w", err)
	}
	return nil
}

// SystemPath is the machine-wide file for goos ("linux", "windows",
// "darwin"), written by packages installed by an administrator.
func SystemPath(goos string) string {
	switch goos {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return pd + `\Deskside\` + FileName
	case "darwin":
		return "/Library/Application Support/Deskside/" + FileName
	default:
		return "/etc/deskside/" + FileName
	}
}

// UserPath is the current user's file, written by a per-user install.
func UserPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user's config dir: %w", err)
	}
	return filepath.Join(dir, "deskside", FileName), nil
}

// Candidates lists where the agent looks, in order, on goos.
func Candidates(goos string) []string {
	if p := os.Getenv(EnvFile); p != "" {
		return []string{p}
	}
	var out []string
	if p, err := UserPath(); err == nil {
		out = append(out, p)
	}
	return append(out, SystemPath(goos))
}

// Find loads the first enrolment config among Candidates(goos). It returns
// ErrNotFound when none exists, and the error of the first file that exists
// but cannot be read or is invalid (an admin should hear about a broken file
// rather than have it silently skipped).
func Find(goos string) (Config, string, error) {
	for _, p := range Candidates(goos) {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		c, err := Load(p)
		return c, p, err
	}
	return Config{}, "", ErrNotFound
}
