//go:build !unix

package uiapp

func execve(path string, args []string) error { return runChild(path, args) }
