// Command deskside-release is the publisher's offline tool: it makes the
// release signing key pair, signs an agent binary into a manifest and a
// minisign signature, and verifies them. The secret key never leaves the
// machine this runs on; the server only ever sees the public key.
//
//	deskside-release keygen [--dir .] [--name deskside-release] [--no-password]
//	deskside-release sign --key K --binary B --version V --os O --arch A [--channel stable|beta] [--rollback] [--out M]
//	deskside-release verify --pub P --manifest M [--signature S] [--binary B]
//
// The secret key is encrypted with a password by default (minisign's own
// format: scrypt + BLAKE2b, so the `minisign` tool reads it too). The password
// comes from DESKSIDE_RELEASE_PASSWORD or, when that is unset, a prompt on the
// terminal. --no-password writes an unencrypted key for keys kept on an
// offline, encrypted medium or an HSM-backed vault.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"aead.dev/minisign"
	"golang.org/x/term"

	"github.com/deskside/deskside/shared/release"
)

// passwordEnv names the environment variable that holds the key password.
const passwordEnv = "DESKSIDE_RELEASE_PASSWORD"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "deskside-release:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: deskside-release keygen|sign|verify [flags] (-h for help)")
	}
	switch args[0] {
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "sign":
		return sign(args[1:], stdout, stderr)
	case "verify":
		return verify(args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q: use keygen, sign or verify", args[0])
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("deskside-release "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func keygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	dir := fs.String("dir", ".", "directory for the key files")
	name := fs.String("name", "deskside-release", "file name stem: NAME.key (secret) and NAME.pub (public)")
	noPassword := fs.Bool("no-password", false, "write the secret key unencrypted (keep it on an encrypted offline medium)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secretPath := filepath.Join(*dir, *name+".key")
	publicPath := filepath.Join(*dir, *name+".pub")
	for _, p := range []string{secretPath, publicPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("keygen: %s exists; refusing to overwrite a key", p)
		}
	}
	pub, priv, err := minisign.GenerateKey(nil)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	var secret []byte
	if *noPassword {
		secret, err = priv.MarshalText()
	} else {
		var pw string
		if pw, err = password(stderr, true); err == nil {
			fmt.Fprintln(stderr, "Deriving a key from the password (scrypt, about 1 GiB of memory)…")
			secret, err = minisign.EncryptKey(pw, priv)
		}
	}
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	public, _ := pub.MarshalText()
	if err := writeNew(secretPath, append(secret, '\n'), 0o600); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if err := writeNew(publicPath, append(public, '\n'), 0o644); err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintf(stdout, "secret key: %s (keep it offline)\npublic key: %s\n%s\n", secretPath, publicPath, pub.String())
	return nil
}

func sign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sign", stderr)
	keyPath := fs.String("key", "", "secret key file (from keygen)")
	binPath := fs.String("binary", "", "the agent binary to release")
	ver := fs.String("version", "", "the binary's version, e.g. 1.4.0")
	goos := fs.String("os", "", "GOOS the binary is built for")
	goarch := fs.String("arch", "", "GOARCH the binary is built for")
	channel := fs.String("channel", string(release.ChannelStable), "stable or beta")
	rollback := fs.Bool("rollback", false, "publish as a rollback: devices on a newer version may go back to this one")
	out := fs.String("out", "", "manifest path (default BINARY.manifest.json); the signature is written next to it with .minisig")
	noCheck := fs.Bool("no-check", false, "do not run `BINARY version` even when the platform matches this machine")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyPath == "" || *binPath == "" || *ver == "" || *goos == "" || *goarch == "" {
		return errors.New("sign: --key, --binary, --version, --os and --arch are required")
	}
	key, err := loadSecretKey(*keyPath, stderr)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if !*noCheck && *goos == runtime.GOOS && *goarch == runtime.GOARCH {
		if err := checkVersion(*binPath, *ver); err != nil {
			return fmt.Errorf("sign: %w (use --no-check to skip)", err)
		}
	}
	f, err := os.Open(*binPath)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	defer f.Close()
	m, err := release.NewManifest(f, *ver, *goos, *goarch, release.Channel(*channel), *rollback, time.Now())
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	manifest, sig, err := release.Sign(key, m)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if *out == "" {
		*out = *binPath + ".manifest.json"
	}
	if err := os.WriteFile(*out, manifest, 0o644); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if err := os.WriteFile(*out+".minisig", sig, 0o644); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintf(stdout, "signed %s %s %s (%d bytes, sha256 %s)\nmanifest:  %s\nsignature: %s\n",
		m.Version, m.Platform(), m.Channel, m.Size, m.SHA256, *out, *out+".minisig")
	return nil
}

func verify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	pubPath := fs.String("pub", "", "public key file, or the key itself (RWQ…)")
	manPath := fs.String("manifest", "", "manifest file")
	sigPath := fs.String("signature", "", "signature file (default MANIFEST.minisig)")
	binPath := fs.String("binary", "", "also check this binary's size and SHA-256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pubPath == "" || *manPath == "" {
		return errors.New("verify: --pub and --manifest are required")
	}
	if *sigPath == "" {
		*sigPath = *manPath + ".minisig"
	}
	pubText := *pubPath
	if b, err := os.ReadFile(*pubPath); err == nil {
		pubText = string(b)
	}
	keys, err := release.ParsePublicKeys(pubText)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	manifest, err := os.ReadFile(*manPath)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	sig, err := os.ReadFile(*sigPath)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	m, err := release.Verify(keys, manifest, sig)
	if err != nil {
		return err
	}
	if *binPath != "" {
		if err := checkBinaryFile(m, *binPath); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	fmt.Fprintf(stdout, "OK: %s %s %s rollback=%t size=%d sha256=%s created=%s\n",
		m.Version, m.Platform(), m.Channel, m.Rollback, m.Size, m.SHA256, m.Created.Format(time.RFC3339))
	return nil
}

func checkBinaryFile(m *release.Manifest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	got, err := release.NewManifest(f, m.Version, m.OS, m.Arch, m.Channel, m.Rollback, m.Created)
	if err != nil {
		return err
	}
	return m.CheckBinary(got.Size, got.SumBytes())
}

// checkVersion runs `bin version` and wants ver in its output, so the
// publisher cannot sign 1.4.0 over a binary that says it is 1.3.0.
func checkVersion(bin, ver string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		return fmt.Errorf("run %s version: %w", bin, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.TrimPrefix(f, "v") == ver {
			return nil
		}
	}
	return fmt.Errorf("%s version printed %q, not %s", bin, strings.TrimSpace(string(out)), ver)
}

func loadSecretKey(path string, stderr io.Writer) (minisign.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return minisign.PrivateKey{}, err
	}
	if !minisign.IsEncrypted(b) {
		var k minisign.PrivateKey
		if err := k.UnmarshalText(b); err != nil {
			return minisign.PrivateKey{}, fmt.Errorf("read %s: %w", path, err)
		}
		return k, nil
	}
	pw, err := password(stderr, false)
	if err != nil {
		return minisign.PrivateKey{}, err
	}
	k, err := minisign.DecryptKey(pw, b)
	if err != nil {
		return minisign.PrivateKey{}, fmt.Errorf("decrypt %s (wrong password?): %w", path, err)
	}
	return k, nil
}

func password(stderr io.Writer, confirm bool) (string, error) {
	if pw, ok := os.LookupEnv(passwordEnv); ok {
		if pw == "" {
			return "", fmt.Errorf("%s is empty", passwordEnv)
		}
		return pw, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("no terminal to ask for the key password: set %s or use --no-password", passwordEnv)
	}
	fmt.Fprint(stderr, "Key password: ")
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if len(a) == 0 {
		return "", errors.New("empty password: use --no-password to mean it")
	}
	if confirm {
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
	}
	return string(a), nil
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
