//go:build !windows

package tray

// encodeForTray returns the bytes the platform's tray takes: PNG as it is.
func encodeForTray(png []byte) []byte { return png }
