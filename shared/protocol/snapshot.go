package protocol

import "time"

// Snapshot is everything IT can see about a device: facts IT needs to help,
// never content (no file names, command lines, browsing or keystrokes). The
// agent shows the user exactly this struct under "What IT can see".
type Snapshot struct {
	TakenAt      time.Time `json:"taken_at"`
	AgentVersion string    `json:"agent_version"`
	Host         Host      `json:"host"`
	CPU          CPU       `json:"cpu"`
	Memory       Memory    `json:"memory"`
	Disks        []Disk    `json:"disks,omitempty"`
	Network      []NetIf   `json:"network,omitempty"`
	Battery      *Battery  `json:"battery,omitempty"`
	TopCPU       []Proc    `json:"top_cpu,omitempty"`
	TopMemory    []Proc    `json:"top_memory,omitempty"`
	// Problems names each probe that failed or timed out and why, so a
	// missing field is explained rather than silently empty.
	Problems map[string]string `json:"problems,omitempty"`
}

// Host describes the machine and its operating system.
type Host struct {
	Hostname        string    `json:"hostname"`
	OS              string    `json:"os"`       // linux, windows, darwin
	Platform        string    `json:"platform"` // debian, Microsoft Windows 11 Pro, darwin
	PlatformVersion string    `json:"platform_version"`
	Kernel          string    `json:"kernel"`
	Arch            string    `json:"arch"`
	BootTime        time.Time `json:"boot_time"`
	UptimeSeconds   uint64    `json:"uptime_seconds"`
	User            string    `json:"user"`
	Model           string    `json:"model,omitempty"` // hardware model where readable
}

// CPU is the processor and its load.
type CPU struct {
	Model    string  `json:"model"`
	Cores    int     `json:"cores"`   // physical
	Threads  int     `json:"threads"` // logical
	UsagePct float64 `json:"usage_pct"`
	Load1    float64 `json:"load1,omitempty"`
	Load5    float64 `json:"load5,omitempty"`
	Load15   float64 `json:"load15,omitempty"`
}

// Memory is RAM and swap.
type Memory struct {
	TotalBytes     uint64  `json:"total_bytes"`
	UsedBytes      uint64  `json:"used_bytes"`
	UsedPct        float64 `json:"used_pct"`
	SwapTotalBytes uint64  `json:"swap_total_bytes"`
	SwapUsedBytes  uint64  `json:"swap_used_bytes"`
}

// Disk is one mounted filesystem.
type Disk struct {
	Mount      string  `json:"mount"`
	FS         string  `json:"fs"`
	TotalBytes uint64  `json:"total_bytes"`
	FreeBytes  uint64  `json:"free_bytes"`
	UsedPct    float64 `json:"used_pct"`
}

// NetIf is one network interface.
type NetIf struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs,omitempty"`
	MAC   string   `json:"mac,omitempty"`
	Up    bool     `json:"up"`
}

// Battery is present on laptops.
type Battery struct {
	Percent  float64 `json:"percent"`
	State    string  `json:"state"` // charging, discharging, full, unknown
	Charging bool    `json:"charging"`
}

// Proc is a process as IT sees it: name and usage, never its command line.
type Proc struct {
	Name     string  `json:"name"`
	PID      int32   `json:"pid"`
	CPUPct   float64 `json:"cpu_pct"`
	MemBytes uint64  `json:"mem_bytes"`
}
