package sla

import (
	"slices"
	"time"
)

// MinSamples is how many first responses the last 30 days must hold
// before their median is trusted; fewer, and the target alone is promised.
const MinSamples = 10

// Promise is how many working minutes to promise an employee for a first
// answer: the target, or the real median when that is longer (an honest
// promise is never rosier than the truth), or the median alone when there
// is no target. 0: nothing to promise. samples are working times to first
// response; the median is rounded up to a whole minute.
func Promise(targetMinutes int, samples []time.Duration) int {
	promise := max(targetMinutes, 0)
	if len(samples) >= MinSamples {
		s := slices.Clone(samples)
		slices.Sort(s)
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		promise = max(promise, int((med+time.Minute-1)/time.Minute))
	}
	return promise
}
