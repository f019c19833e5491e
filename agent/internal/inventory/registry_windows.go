package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"golang.org/x/sys/windows/registry"
)

// systemRegistry is the real registry.
func systemRegistry() RegistryReader { return winRegistry{} }

// winRegistry reads the registry with golang.org/x/sys/windows/registry.
type winRegistry struct{}

var _ RegistryReader = winRegistry{}

func (winRegistry) open(hive RegistryHive, view RegistryView, path string) (registry.Key, error) {
	root := registry.LOCAL_MACHINE
	if hive == HKCU {
		root = registry.CURRENT_USER
	}
	access := uint32(registry.ENUMERATE_SUB_KEYS | registry.QUERY_VALUE)
	if view == View32 {
		access |= registry.WOW64_32KEY
	} else {
		access |= registry.WOW64_64KEY
	}
	k, err := registry.OpenKey(root, path, access)
	if errors.Is(err, registry.ErrNotExist) {
		return 0, fmt.Errorf("open %s\\%s: %w", hive, path, fs.ErrNotExist)
	}
	if err != nil {
		return 0, fmt.Errorf("open %s\\%s: %w", hive, path, err)
	}
	return k, nil
}

func (w winRegistry) SubKeys(hive RegistryHive, view RegistryView, path string) ([]string, error) {
	k, err := w.open(hive, view, path)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s\\%s: %w", hive, path, err)
	}
	return names, nil
}

func (w winRegistry) Values(hive RegistryHive, view RegistryView, path string) (map[string]string, error) {
	k, err := w.open(hive, view, path)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, fmt.Errorf("read %s\\%s: %w", hive, path, err)
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if s, _, err := k.GetStringValue(n); err == nil {
			out[n] = s
			continue
		}
		if i, _, err := k.GetIntegerValue(n); err == nil {
			out[n] = strconv.FormatUint(i, 10)
		}
	}
	return out, nil
}
