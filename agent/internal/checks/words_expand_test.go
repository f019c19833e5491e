package checks

import "testing"

// IT writes its words with the placeholders the console offers
// (docs/heads-up.md); the agent fills them from what the probe measured.
func TestExpandFillsTheConsolePlaceholders(t *testing.T) {
	for _, c := range []struct {
		text string
		ev   map[string]string
		want string
	}{
		{"Only {free_gb} GB ({free_pct} %) left on {mount}.", map[string]string{"free_gb": "3.1", "free_pct": "4", "path": "/home"}, "Only 3.1 GB (4 %) left on /home."},
		{"Up for {days} days.", map[string]string{"uptime_days": "23"}, "Up for 23 days."},
		{"Your password expires in {days} days, on {date}.", map[string]string{"days_left": "3", "expires": "2026-12-06"}, "Your password expires in 3 days, on 2026-12-06."},
		{"{count} updates are waiting.", map[string]string{"updates": "7"}, "7 updates are waiting."},
		{"Battery at {health_pct} %{nothing}.", map[string]string{"health_pct": "55"}, "Battery at 55 %."},
	} {
		if got := expand(c.text, c.ev); got != c.want {
			t.Errorf("expand(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
