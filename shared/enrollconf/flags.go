package enrollconf

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// Flags are the enrolment settings as command-line flags, shared by the
// installer's build command and deskside-setup so both read and check them
// the same way.
type Flags struct{ Server, Token, Pin, UpdateKey *string }

// AddFlags defines --server, --token, --pin and --update-key on fs, with
// defaults from DESKSIDE_SERVER, DESKSIDE_TOKEN, DESKSIDE_PIN and
// DESKSIDE_UPDATE_KEY.
func AddFlags(fs *flag.FlagSet) Flags {
	return Flags{
		Server:    fs.String("server", os.Getenv("DESKSIDE_SERVER"), "server URL written into the enrolment config, https://… (env DESKSIDE_SERVER)"),
		Token:     fs.String("token", os.Getenv("DESKSIDE_TOKEN"), "enrolment token dsk1_… (env DESKSIDE_TOKEN)"),
		Pin:       fs.String("pin", os.Getenv("DESKSIDE_PIN"), "SHA-256 pin of a self-signed server certificate, 64 hex (env DESKSIDE_PIN)"),
		UpdateKey: fs.String("update-key", os.Getenv("DESKSIDE_UPDATE_KEY"), "publisher public key(s) for self-updates, RWQ… comma separated, kept by each agent at enrolment (env DESKSIDE_UPDATE_KEY)"),
	}
}

// Optional returns nil when no setting was given at all; otherwise the
// checked config, which then needs the token too.
func (f Flags) Optional() (*Config, error) {
	if *f.Server == "" && *f.Token == "" && *f.Pin == "" && *f.UpdateKey == "" {
		return nil, nil
	}
	if *f.Token == "" {
		return nil, errors.New("--server, --pin or --update-key given without --token: they go into the enrolment config, which needs the enrolment token too")
	}
	return f.Required()
}

// Required checks settings that must include a server and a token.
func (f Flags) Required() (*Config, error) {
	c, err := New(*f.Server, *f.Token, *f.Pin)
	if err != nil {
		return nil, err
	}
	if err := c.SetUpdateKey(*f.UpdateKey); err != nil {
		return nil, fmt.Errorf("--update-key: %w", err)
	}
	return &c, nil
}
