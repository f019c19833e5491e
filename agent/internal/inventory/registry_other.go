//go:build !windows

package inventory

// systemRegistry is none: only Windows has a registry.
func systemRegistry() RegistryReader { return nil }
