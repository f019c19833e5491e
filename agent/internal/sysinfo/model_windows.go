package sysinfo

import (
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"
)

func hardwareModel() (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `HARDWARE\DESCRIPTION\System\BIOS`, registry.QUERY_VALUE)
	if err != nil {
		return "", fmt.Errorf("open BIOS key: %w", err)
	}
	defer k.Close()
	vendor, _, _ := k.GetStringValue("SystemManufacturer")
	product, _, err := k.GetStringValue("SystemProductName")
	if err != nil {
		return "", fmt.Errorf("read product name: %w", err)
	}
	if vendor != "" && !strings.HasPrefix(product, vendor) {
		return vendor + " " + product, nil
	}
	return product, nil
}
