// Command fakeagent stands in for the agent in update tests: `version`
// prints the version set with -ldflags "-X main.version=…".
package main

import "os"

var version = "0.0.0"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		os.Stdout.WriteString("deskside-agent " + version + "\n")
		return
	}
	os.Stdout.WriteString("running " + version + "\n")
}
