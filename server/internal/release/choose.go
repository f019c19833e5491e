package release

import (
	"github.com/deskside/deskside/shared/version"

	srel "github.com/deskside/deskside/shared/release"
)

// choose picks the release device d should run, or nil.
//
// A release is a candidate when it matches the device's platform, its
// channel is one the device follows, it is not paused, and the device falls
// in its rollout percentage. Among candidates:
//   - the newest rollback release (by upload) cancels every ordinary release
//     uploaded before it: those are what it rolls back;
//   - the highest ordinary release newer than the device's version wins;
//   - otherwise the rollback release, if the device is not on its version.
//
// Never a downgrade except through a rollback release.
func choose(d Device, rels []Release) *Release {
	var cands []Release
	var rb *Release
	for _, r := range rels {
		if r.OS != d.OS || r.Arch != d.Arch || !d.Channel.Accepts(r.Channel) || r.Paused ||
			!srel.InRollout(d.ID, r.ID, r.Percent) {
			continue
		}
		cands = append(cands, r)
		if r.Rollback && (rb == nil || r.Uploaded.After(rb.Uploaded)) {
			rb = &r
		}
	}
	var best *Release
	for i := range cands {
		r := cands[i]
		if r.Rollback || !version.Newer(r.Version, d.Version) {
			continue
		}
		if rb != nil && !r.Uploaded.After(rb.Uploaded) {
			continue
		}
		if best == nil || version.Newer(r.Version, best.Version) {
			best = &r
		}
	}
	if best != nil {
		return best
	}
	if rb != nil && !sameVersion(rb.Version, d.Version) {
		return rb
	}
	return nil
}

func sameVersion(a, b string) bool {
	va, err1 := version.Parse(a)
	vb, err2 := version.Parse(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return version.Compare(va, vb) == 0
}
