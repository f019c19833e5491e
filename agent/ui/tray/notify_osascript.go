package tray

import "strings"

// osascriptScript shows a notification in the macOS notification centre
// from texts given as arguments: they never become AppleScript source, so
// quotes, backslashes or line breaks in a message cannot end the string or
// run anything. Constant on purpose, one -e per line.
var osascriptScript = []string{
	"on run argv",
	"display notification (item 4 of argv) with title (item 2 of argv) subtitle (item 3 of argv)",
	"end run",
}

// osascriptArgs are the arguments of osascript for n: the title line is who
// speaks (app), the subtitle what happened, then the message. The first
// argument is a fixed word: osascript stops reading options at it, so a
// text that starts with "-" stays a text.
func osascriptArgs(app string, n Notification) []string {
	var args []string
	for _, line := range osascriptScript {
		args = append(args, "-e", line)
	}
	return append(args, "deskside", oneLine(app), oneLine(n.Title), strings.TrimSpace(printable(n.Body)))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(printable(s)), " ")
}
