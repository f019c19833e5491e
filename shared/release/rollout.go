package release

import (
	"crypto/sha256"
	"encoding/binary"
)

// InRollout reports whether a device is among the first percent of a
// release's rollout: SHA-256(device id, release id) mod 100 < percent.
// The hash is keyed by the release, so each release picks a different,
// stable slice of the fleet; raising the percentage only adds devices.
func InRollout(deviceID, releaseID string, percent int) bool {
	if percent <= 0 {
		return false
	}
	if percent >= 100 {
		return true
	}
	return Bucket(deviceID, releaseID) < percent
}

// Bucket returns the device's bucket 0..99 for a release.
func Bucket(deviceID, releaseID string) int {
	h := sha256.New()
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	var n [8]byte
	h.Write([]byte("deskside-rollout-v1"))
	binary.BigEndian.PutUint64(n[:], uint64(len(deviceID)))
	h.Write(n[:])
	h.Write([]byte(deviceID))
	binary.BigEndian.PutUint64(n[:], uint64(len(releaseID)))
	h.Write(n[:])
	h.Write([]byte(releaseID))
	return int(binary.BigEndian.Uint64(h.Sum(nil)[:8]) % 100)
}
