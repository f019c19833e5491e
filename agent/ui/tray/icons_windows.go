//go:build windows

package tray

import (
	"encoding/binary"

	"github.com/deskside/deskside/agent/ui/icon"
)

// encodeForTray wraps the PNG in an ICO container, which the Windows tray
// needs; ICO files may hold PNG images since Windows Vista.
func encodeForTray(png []byte) []byte {
	out := make([]byte, 22, 22+len(png))
	binary.LittleEndian.PutUint16(out[2:], 1) // type: icon
	binary.LittleEndian.PutUint16(out[4:], 1) // one image
	out[6], out[7] = icon.Size, icon.Size
	binary.LittleEndian.PutUint16(out[10:], 1)  // colour planes
	binary.LittleEndian.PutUint16(out[12:], 32) // bits per pixel
	binary.LittleEndian.PutUint32(out[14:], uint32(len(png)))
	binary.LittleEndian.PutUint32(out[18:], 22)
	return append(out, png...)
}
