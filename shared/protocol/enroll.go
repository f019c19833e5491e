package protocol

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EnrollPath is where an agent trades an enrolment token for credentials.
const EnrollPath = "/api/v1/enroll"

// DevicePath is the device WebSocket endpoint.
const DevicePath = "/ws/device"

// ConsolePath is the technician console WebSocket endpoint.
const ConsolePath = "/ws/console"

// EnrollRequest is the body of POST /api/v1/enroll.
type EnrollRequest struct {
	Token        string `json:"token"`
	Hostname     string `json:"hostname"`
	User         string `json:"user,omitempty"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	AgentVersion string `json:"agent_version"`
}

// EnrollResponse returns the device's identity. The secret is shown once;
// the server keeps only its hash.
type EnrollResponse struct {
	DeviceID     string `json:"device_id"`
	DeviceSecret string `json:"device_secret"`
	Group        string `json:"group,omitempty"`
	ServerName   string `json:"server_name,omitempty"`
}

// APIError is the JSON body of every non-2xx REST answer.
type APIError struct {
	Error string `json:"error"`   // machine-readable code
	Msg   string `json:"message"` // a sentence a person can act on
}

// Token is an enrolment token as an admin hands it out: a secret and, when
// the server uses a self-signed certificate, the SHA-256 pin of that
// certificate, so the agent's first contact is already authenticated (as
// kubeadm's discovery hash).
//
// Wire form: "dsk1_<secret>" or "dsk1_<secret>.<64 hex pin>".
type Token struct {
	Secret string
	Pin    []byte // 32 bytes or nil
}

const tokenPrefix = "dsk1_"

// String returns the token's wire form.
func (t Token) String() string {
	s := tokenPrefix + t.Secret
	if len(t.Pin) > 0 {
		s += "." + hex.EncodeToString(t.Pin)
	}
	return s
}

// ParseToken reads a token's wire form.
func ParseToken(s string) (Token, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return Token{}, errors.New("this does not look like a Deskside enrolment token (it should start with dsk1_)")
	}
	secret, pinHex, hasPin := strings.Cut(rest, ".")
	if len(secret) < 16 {
		return Token{}, errors.New("this enrolment token is too short: check it was copied whole")
	}
	for _, r := range secret {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Token{}, errors.New("this enrolment token has characters it should not have: check it was copied whole")
		}
	}
	t := Token{Secret: secret}
	if hasPin {
		pin, err := hex.DecodeString(pinHex)
		if err != nil || len(pin) != 32 {
			return Token{}, errors.New("the certificate pin in this enrolment token is damaged: check it was copied whole")
		}
		t.Pin = pin
	}
	return t, nil
}

// DeviceAuthScheme prefixes device credentials in the Authorization header.
const DeviceAuthScheme = "Deskside-Device "

// DeviceAuthHeader returns the Authorization header value for a device.
// The secret travels only here, never in a URL.
func DeviceAuthHeader(deviceID, secret string) string {
	return DeviceAuthScheme + deviceID + ":" + secret
}

// ParseDeviceAuth reads the Authorization header of a device upgrade.
func ParseDeviceAuth(h string) (deviceID, secret string, err error) {
	rest, ok := strings.CutPrefix(h, DeviceAuthScheme)
	if !ok {
		return "", "", fmt.Errorf("authorization scheme is not %q", strings.TrimSpace(DeviceAuthScheme))
	}
	id, sec, ok := strings.Cut(rest, ":")
	if !ok || id == "" || sec == "" {
		return "", "", errors.New("authorization header is not device-id:secret")
	}
	return id, sec, nil
}
