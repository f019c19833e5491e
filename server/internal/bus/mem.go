package bus

import (
	"context"
	"sync"
)

// Mem is an in-process bus: the nodes it joins live in one process. With
// one node (the default server) every call is a map lookup and nothing
// leaves the node; with several it lets tests run a cluster without NATS.
// Handlers are called synchronously, in publish order.
type Mem struct {
	mu    sync.RWMutex
	nodes []*memNode
	watch map[string]map[*memNode]int // device → watching nodes → nesting
}

// NewMem starts an empty in-process bus; Node joins it.
func NewMem() *Mem { return &Mem{watch: map[string]map[*memNode]int{}} }

// Node joins a new node to m.
func (m *Mem) Node() Bus {
	n := &memNode{m: m}
	m.mu.Lock()
	m.nodes = append(m.nodes, n)
	m.mu.Unlock()
	return n
}

type memNode struct {
	m      *Mem
	h      Handler // set once by Handle, before use
	closed bool    // under m.mu
}

func (n *memNode) Handle(h Handler) error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	n.h = h
	return nil
}

func (n *memNode) Watch(deviceID string) (func(), error) {
	m := n.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if n.closed {
		return func() {}, ErrClosed
	}
	w := m.watch[deviceID]
	if w == nil {
		w = map[*memNode]int{}
		m.watch[deviceID] = w
	}
	w[n]++
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if w[n]--; w[n] <= 0 {
				delete(w, n)
			}
			if len(m.watch[deviceID]) == 0 {
				delete(m.watch, deviceID)
			}
		})
	}, nil
}

// holders returns the handlers of the nodes watching deviceID.
func (n *memNode) holders(deviceID string) []Handler {
	n.m.mu.RLock()
	defer n.m.mu.RUnlock()
	var hs []Handler
	for o := range n.m.watch[deviceID] {
		if !o.closed && o.h != nil {
			hs = append(hs, o.h)
		}
	}
	return hs
}

// others returns the handlers of every other open node.
func (n *memNode) others() []Handler {
	n.m.mu.RLock()
	defer n.m.mu.RUnlock()
	var hs []Handler
	for _, o := range n.m.nodes {
		if o != n && !o.closed && o.h != nil {
			hs = append(hs, o.h)
		}
	}
	return hs
}

func (n *memNode) Notify(deviceID string, m Device) error {
	for _, h := range n.holders(deviceID) {
		h.Device(deviceID, m)
	}
	return nil
}

func (n *memNode) Ask(_ context.Context, deviceID string, m Device) (bool, error) {
	taken := false
	for _, h := range n.holders(deviceID) {
		taken = h.Device(deviceID, m) || taken
	}
	return taken, nil
}

func (n *memNode) Console(frame []byte) error {
	for _, h := range n.others() {
		h.Console(frame)
	}
	return nil
}

func (n *memNode) Fanout(f Fanout) error {
	for _, h := range n.others() {
		h.Fanout(f)
	}
	return nil
}

func (n *memNode) Close() error {
	n.m.mu.Lock()
	defer n.m.mu.Unlock()
	n.closed = true
	for id, w := range n.m.watch {
		if delete(w, n); len(w) == 0 {
			delete(n.m.watch, id)
		}
	}
	return nil
}
