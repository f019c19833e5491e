package tray

import (
	"strconv"
	"sync"
)

// maxPendingClicks bounds what a long-running agent remembers: a
// notification nobody clicked is forgotten after this many newer ones.
const maxPendingClicks = 64

// clickTable remembers what each shown notification opens, under the token
// the platform hands back when it is clicked (Windows' launch argument).
type clickTable struct {
	mu    sync.Mutex
	next  uint64
	fns   map[string]func()
	order []string
}

// add keeps f and returns its token.
func (t *clickTable) add(f func()) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fns == nil {
		t.fns = map[string]func(){}
	}
	t.next++
	token := "deskside-notification-" + strconv.FormatUint(t.next, 10)
	t.fns[token] = f
	t.order = append(t.order, token)
	for len(t.order) > maxPendingClicks {
		delete(t.fns, t.order[0])
		t.order = t.order[1:]
	}
	return token
}

// take returns and forgets what token opens; nil when it is unknown.
func (t *clickTable) take(token string) func() {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.fns[token]
	delete(t.fns, token)
	return f
}

// clear forgets everything.
func (t *clickTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fns, t.order = nil, nil
}
