package checks

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/deskside/deskside/shared/protocol"
)

// probeDiskSpace warns for the fixed disk with the least free space below
// either threshold (free % or free GB), naming it and the numbers.
func probeDiskSpace(ctx context.Context, env *Env, p protocol.CheckPolicy) (Finding, error) {
	mounts, err := env.Mounts(ctx)
	if err != nil {
		return Finding{}, fmt.Errorf("list disks: %w", err)
	}
	var worst *Mount
	var worstPct float64
	for i := range mounts {
		m := &mounts[i]
		if m.TotalBytes == 0 {
			continue
		}
		pct := 100 * float64(m.FreeBytes) / float64(m.TotalBytes)
		if worst == nil || pct < worstPct {
			worst, worstPct = m, pct
		}
	}
	if worst == nil {
		return Finding{}, errors.New("no fixed disk found")
	}
	freeGB := float64(worst.FreeBytes) / 1e9
	ev := map[string]string{
		"path":     worst.Path,
		"free_gb":  strconv.FormatFloat(freeGB, 'f', 1, 64),
		"free_pct": strconv.FormatFloat(worstPct, 'f', 0, 64),
		"total_gb": strconv.FormatFloat(float64(worst.TotalBytes)/1e9, 'f', 1, 64),
		"disks":    strconv.Itoa(len(mounts)),
	}
	f := Finding{State: protocol.CheckOK, Evidence: ev, Path: worst.Path}
	if worstPct < p.DiskFreePct || freeGB < p.DiskFreeGB {
		f.State, f.Fix = protocol.CheckWarn, FixClearTemp
		f.Summary = fmt.Sprintf("Your disk is almost full: %s left on %s (%s%% free).", gb(worst.FreeBytes), worst.Path, ev["free_pct"])
	} else {
		f.Summary = fmt.Sprintf("Plenty of space: %s free on %s.", gb(worst.FreeBytes), worst.Path)
	}
	return f, nil
}
