package update

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/deskside/deskside/shared/protocol"
)

// resume looks at the state file at startup. On a new version it opens the
// health window; on a restored old version it reports the failure.
func (u *Updater) resume(ctx context.Context) error {
	st, err := u.loadState()
	if err != nil || st.Phase == phaseNone {
		return err
	}
	switch {
	case st.Phase == phaseRolledBack && u.cfg.Version == st.From:
		if u.report(ctx, protocol.UpdateReport{FromVersion: st.From, ToVersion: st.To, RolledBack: true, Detail: st.Detail}) {
			st.clear()
			return u.saveState(st)
		}
		return nil // try again at the next start
	case (st.Phase == phaseApplied || st.Phase == phaseApplying) && u.cfg.Version == st.To:
		st.Phase = phaseApplied
		st.Starts++
		if st.Starts > u.cfg.MaxStarts {
			return u.rollback(ctx, st, fmt.Sprintf("%s started %d times without reporting healthy", st.To, st.Starts-1))
		}
		st.Deadline = time.Now().Add(u.cfg.Window)
		if err := u.saveState(st); err != nil {
			return err
		}
		go u.watchHealth(ctx, st.Deadline)
		return nil
	}
	// The swap never happened (we still run the old version) or the state
	// is from another install: forget it.
	u.log.Info("forget stale update state", "phase", st.Phase, "from", st.From, "to", st.To, "running", u.cfg.Version)
	st.clear()
	return u.saveState(st)
}

// watchHealth commits the update when Healthy is called before the deadline
// and rolls it back otherwise.
func (u *Updater) watchHealth(ctx context.Context, deadline time.Time) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return // the next start counts another attempt
	case <-u.healthy:
		if err := u.commit(ctx); err != nil {
			u.log.Error("commit update", "err", err)
		}
	case <-t.C:
		st, err := u.loadState()
		if err != nil || st.Phase != phaseApplied {
			return
		}
		err = u.rollback(ctx, st, fmt.Sprintf("%s did not report healthy within %s", st.To, u.cfg.Window))
		if err != nil {
			u.log.Error("roll back update", "err", err)
		}
	}
}

// commit ends the probation: report, tell the user, forget the old binary.
func (u *Updater) commit(ctx context.Context) error {
	st, err := u.loadState()
	if err != nil || st.Phase != phaseApplied {
		return err
	}
	r := protocol.UpdateReport{FromVersion: st.From, ToVersion: st.To, OK: true}
	from, to := st.From, st.To
	st.Installed = st.Created
	st.clear()
	if err := u.saveState(st); err != nil {
		return err
	}
	u.report(ctx, r)
	u.log.Info("update healthy", "from", from, "to", to)
	u.cfg.Notify(UpdatedMessage(to))
	return nil
}

// rollback restores the old binary (checked against the hash recorded
// before the swap), records the failure and restarts into the old version,
// which reports it.
func (u *Updater) rollback(ctx context.Context, st state, why string) error {
	u.log.Warn("rolling back update", "from", st.From, "to", st.To, "why", why)
	sum, err := sumFile(st.OldPath)
	if err != nil {
		return fmt.Errorf("roll back to %s: %w", st.From, err)
	}
	if hex.EncodeToString(sum) != st.OldSHA256 {
		return fmt.Errorf("roll back to %s: %s changed since the update; not restoring it", st.From, st.OldPath)
	}
	if err := restoreBinary(st.Exe, st.OldPath, sum); err != nil {
		return fmt.Errorf("roll back to %s: %w", st.From, err)
	}
	st.Phase, st.Detail = phaseRolledBack, why
	if !st.failed(st.To) {
		st.Failed = append(st.Failed, st.To)
	}
	if err := u.saveState(st); err != nil {
		return err
	}
	if err := u.waitIdle(ctx); err != nil {
		return nil
	}
	if err := u.cfg.Restart(st.Exe, u.cfg.Args); err != nil {
		return fmt.Errorf("roll back to %s: restart: %w", st.From, err)
	}
	return nil
}

// restoreBinary puts the old binary back in place through the same careful
// swap as an update, keeping nothing of the failed one.
func restoreBinary(exe, old string, sum []byte) error {
	tmp := old + ".restore"
	b, err := os.ReadFile(old)
	if err != nil {
		return err
	}
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		return err
	}
	defer os.Remove(tmp)
	return replaceBinary(exe, tmp, sum, "")
}
