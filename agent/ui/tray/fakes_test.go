package tray

import (
	"sync"
)

type fakeItem struct {
	mu      sync.Mutex
	title   string
	tip     string
	hidden  bool
	enabled bool
	clicks  chan struct{}
}

func (i *fakeItem) SetTitle(s string)   { i.mu.Lock(); i.title = s; i.mu.Unlock() }
func (i *fakeItem) SetTooltip(s string) { i.mu.Lock(); i.tip = s; i.mu.Unlock() }
func (i *fakeItem) Enable()             { i.mu.Lock(); i.enabled = true; i.mu.Unlock() }
func (i *fakeItem) Disable()            { i.mu.Lock(); i.enabled = false; i.mu.Unlock() }
func (i *fakeItem) Show()               { i.mu.Lock(); i.hidden = false; i.mu.Unlock() }
func (i *fakeItem) Hide()               { i.mu.Lock(); i.hidden = true; i.mu.Unlock() }
func (i *fakeItem) Clicked() <-chan struct{} {
	return i.clicks
}
func (i *fakeItem) Title() string { i.mu.Lock(); defer i.mu.Unlock(); return i.title }
func (i *fakeItem) Hidden() bool  { i.mu.Lock(); defer i.mu.Unlock(); return i.hidden }

type fakeFactory struct {
	mu       sync.Mutex
	items    []*fakeItem
	icons    [][]byte
	tooltip  string
	sepCount int
}

func (f *fakeFactory) AddItem(title, tip string) Item {
	it := &fakeItem{title: title, tip: tip, enabled: true, clicks: make(chan struct{})}
	f.mu.Lock()
	f.items = append(f.items, it)
	f.mu.Unlock()
	return it
}
func (f *fakeFactory) AddSeparator()       { f.mu.Lock(); f.sepCount++; f.mu.Unlock() }
func (f *fakeFactory) SetIcon(b []byte)    { f.mu.Lock(); f.icons = append(f.icons, b); f.mu.Unlock() }
func (f *fakeFactory) SetTooltip(s string) { f.mu.Lock(); f.tooltip = s; f.mu.Unlock() }
func (f *fakeFactory) Tooltip() string     { f.mu.Lock(); defer f.mu.Unlock(); return f.tooltip }
func (f *fakeFactory) IconCount() int      { f.mu.Lock(); defer f.mu.Unlock(); return len(f.icons) }

type fakeLauncher struct {
	mu     sync.Mutex
	opened []string
	urls   []string
	ch     chan string
}

func newFakeLauncher() *fakeLauncher { return &fakeLauncher{ch: make(chan string, 16)} }

func (l *fakeLauncher) Open(view string, args ...string) error {
	s := view
	for _, a := range args {
		s += " " + a
	}
	l.mu.Lock()
	l.opened = append(l.opened, s)
	l.mu.Unlock()
	l.ch <- s
	return nil
}

func (l *fakeLauncher) OpenURL(u string) error {
	l.mu.Lock()
	l.urls = append(l.urls, u)
	l.mu.Unlock()
	l.ch <- "url " + u
	return nil
}

type fakeNotifier struct{ ch chan Notification }

func (n *fakeNotifier) Notify(x Notification) error { n.ch <- x; return nil }
func (n *fakeNotifier) Close() error                { return nil }
