//go:build windows || darwin

package checks

import "time"

// slowKey is the key of a slow query of the network (Windows Update,
// softwareupdate): asked again at most every six hours.
func slowKey(now time.Time) string { return now.UTC().Truncate(6 * time.Hour).Format(time.RFC3339) }
