package windows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// requests is "My requests": the list, one request's thread, a reply box,
// reopen, and a one-tap rating once resolved.
type requests struct {
	w        fyne.Window
	b        agentapi.Backend
	items    []agentapi.Request
	selected string
	current  agentapi.Request

	list     *widget.List
	empty    *widget.Label
	title    *widget.Label
	status   *widget.Label
	expect   *widget.Label // how soon IT usually answers, until it has
	handler  *widget.Label
	thread   *fyne.Container
	scroll   *container.Scroll
	reply    *submitEntry
	send     *widget.Button
	reopen   *widget.Button
	rateBox  *fyne.Container
	rateBtns []*widget.Button
	note     *widget.Label
	detail   *fyne.Container
	cancel   context.CancelFunc
}

func newRequests(w fyne.Window, b agentapi.Backend, selected string) *requests {
	r := &requests{w: w, b: b, selected: selected}
	w.SetTitle("My requests — Deskside")
	r.list = widget.NewList(func() int { return len(r.items) },
		func() fyne.CanvasObject {
			t := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			t.Truncation = fyne.TextTruncateEllipsis
			s := meta("")
			s.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(t, s)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			it := r.items[id]
			box := o.(*fyne.Container)
			t := firstLine(it.Text)
			if it.Unread {
				t = "● " + t
			}
			box.Objects[0].(*widget.Label).SetText(t)
			box.Objects[1].(*widget.Label).SetText(listLine(it))
		})
	r.list.OnSelected = func(id widget.ListItemID) { r.show(r.items[id].ID) }
	r.empty = wrapped("No requests yet. When something isn't right, \"Get help\" in the Deskside menu is one click away.")
	r.title = heading("")
	r.title.Wrapping = fyne.TextWrapWord
	r.status = widget.NewLabel("")
	r.expect = meta("")
	r.expect.Wrapping = fyne.TextWrapWord
	r.expect.Hide()
	r.handler = widget.NewLabel("")
	r.thread = container.NewVBox()
	r.scroll = container.NewVScroll(r.thread)
	r.reply = newSubmitEntry("Write a reply…", r.sendReply)
	r.reply.SetMinRowsVisible(2)
	r.send = widget.NewButton("Send reply", r.sendReply)
	r.send.Importance = widget.HighImportance
	r.reopen = widget.NewButton("Not fixed? Reopen it", r.doReopen)
	for n := 1; n <= 5; n++ {
		r.rateBtns = append(r.rateBtns, widget.NewButton(fmt.Sprint(n), func() { r.rate(n) }))
	}
	r.rateBox = container.NewHBox(widget.NewLabel("How did we do? 1 = not well, 5 = great"))
	for _, b := range r.rateBtns {
		r.rateBox.Add(b)
	}
	r.note = wrapped("")
	r.note.Hide()
	w.Canvas().AddShortcut(sendShortcut, func(fyne.Shortcut) { r.sendReply() })
	w.SetOnClosed(func() {
		if r.cancel != nil {
			r.cancel()
		}
	})
	r.load()
	r.follow()
	return r
}

// listLine is a request's second line in the list: while it waits for
// IT's first answer, how soon that usually comes (and who is on it);
// else where it stands.
func listLine(it agentapi.Request) string {
	if it.Expectation != "" {
		return it.Expectation
	}
	sub := StatusWords(it)
	if it.Assignee != nil && it.Assignee.Name != "" {
		sub += " · " + it.Assignee.Name
	}
	return sub
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func (r *requests) content() fyne.CanvasObject {
	actions := container.NewVBox(r.note,
		container.NewBorder(nil, nil, nil, r.send, r.reply),
		container.NewHBox(r.reopen, layout.NewSpacer()), r.rateBox)
	r.detail = container.NewBorder(container.NewVBox(r.title, r.status, r.expect, r.handler, widget.NewSeparator()),
		actions, nil, nil, r.scroll)
	r.detail.Hide()
	left := container.NewBorder(heading("My requests"), nil, nil, nil, container.NewStack(r.list, r.empty))
	split := container.NewHSplit(left, container.NewPadded(r.detail))
	split.Offset = 0.36
	return split
}

// load reads the list; it runs at start and on every event.
func (r *requests) load() {
	call(r.b.Requests, func(items []agentapi.Request, err error) {
		if err != nil {
			r.empty.SetText("We couldn't load your requests: " + agentapi.UserMessage(err))
			r.empty.Show()
			return
		}
		r.items = items
		r.list.Refresh()
		if len(items) == 0 {
			r.empty.Show()
		} else {
			r.empty.Hide()
		}
		id := r.selected
		if id == "" && len(items) > 0 {
			id = items[0].ID
		}
		for i, it := range items {
			if it.ID == id {
				r.list.Select(i) // calls show
				return
			}
		}
	})
}

// follow reloads on the agent's events while the window is open.
func (r *requests) follow() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		ch, err := r.b.Events(ctx)
		if err != nil {
			return
		}
		// The help desk's promises as last seen: a connection event only
		// redraws when they changed (each request's line follows them).
		promised, seen := "", false
		for ev := range ch {
			if ev.Type == agentapi.EventConnection {
				p := promises(ev.Connection)
				changed := seen && p != promised
				promised, seen = p, true
				if !changed {
					continue
				}
			}
			do(func() {
				r.load()
				if r.selected != "" {
					r.show(r.selected)
				}
			})
		}
	}()
}

// promises is a connection's expectations as one string, to notice a change.
func promises(c *agentapi.Connection) string {
	if c == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range c.Expectations {
		b.WriteString(string(e.Urgency) + "\x00" + e.Text + "\x00")
	}
	return b.String()
}

// show loads one request's thread and marks it read.
func (r *requests) show(id string) {
	r.selected = id
	call(func(ctx context.Context) (agentapi.Request, error) {
		req, err := r.b.Request(ctx, id)
		if err == nil && req.Unread {
			_ = r.b.MarkRead(ctx, id) // a failed mark only keeps the dot
		}
		return req, err
	}, func(req agentapi.Request, err error) {
		if err != nil || id != r.selected {
			return
		}
		if req.Unread {
			r.clearDot(id)
		}
		r.current = req
		r.render()
	})
}

// clearDot drops the unread mark of id in the list once it has been read.
func (r *requests) clearDot(id string) {
	for i := range r.items {
		if r.items[i].ID == id {
			r.items[i].Unread = false
			r.list.RefreshItem(i)
		}
	}
}

func (r *requests) render() {
	req := r.current
	r.title.SetText(firstLine(req.Text))
	r.status.SetText(CategoryWords(req.Category) + " · " + StatusWords(req) + " · sent " + When(req.CreatedAt, time.Now()))
	r.expect.SetText(req.Expectation)
	if req.Expectation != "" {
		r.expect.Show()
	} else {
		r.expect.Hide()
	}
	r.handler.SetText(Handler(req))
	if req.Assignee != nil && req.Assignee.Greeting != "" {
		r.handler.SetText(Handler(req) + " — “" + req.Assignee.Greeting + "”")
	}
	r.thread.Objects = nil
	r.thread.Add(bubble("You", req.Text, req.CreatedAt))
	for _, m := range req.Messages {
		who := m.Author.Name
		if m.FromUser {
			who = "You"
		}
		r.thread.Add(bubble(who, m.Text, m.CreatedAt))
	}
	r.thread.Refresh()
	r.scroll.ScrollToBottom()
	resolved := req.Status == protocol.StatusResolved
	if resolved {
		r.reopen.Show()
		r.rateBox.Show()
		for i, b := range r.rateBtns {
			b.Importance = widget.MediumImportance
			if i+1 == req.Rating {
				b.Importance = widget.HighImportance
			}
			b.Refresh()
		}
	} else {
		r.reopen.Hide()
		r.rateBox.Hide()
	}
	r.detail.Show()
}

func bubble(who, text string, at time.Time) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(who+" · "+When(at, time.Now()), fyne.TextAlignLeading, fyne.TextStyle{Bold: true, Italic: true})
	return container.NewVBox(head, wrapped(text))
}

func (r *requests) sendReply() {
	text := strings.TrimSpace(r.reply.Text)
	id := r.current.ID
	if text == "" || id == "" {
		return
	}
	r.send.Disable()
	call(func(ctx context.Context) (agentapi.Message, error) { return r.b.Reply(ctx, id, text) },
		func(_ agentapi.Message, err error) {
			r.send.Enable()
			if err != nil {
				r.say("We couldn't save your reply: " + agentapi.UserMessage(err) + " What you wrote is still here.")
				return
			}
			r.reply.SetText("")
			r.say("")
			r.show(id)
		})
}

func (r *requests) doReopen() {
	id := r.current.ID
	text := strings.TrimSpace(r.reply.Text)
	call(func(ctx context.Context) (struct{}, error) { return struct{}{}, r.b.Reopen(ctx, id, text) },
		func(_ struct{}, err error) {
			if err != nil {
				r.say("We couldn't reopen it: " + agentapi.UserMessage(err))
				return
			}
			r.reply.SetText("")
			r.say("Reopened — we'll take another look.")
			r.load()
		})
}

func (r *requests) rate(n int) {
	id := r.current.ID
	call(func(ctx context.Context) (struct{}, error) { return struct{}{}, r.b.Rate(ctx, id, n, "") },
		func(_ struct{}, err error) {
			if err != nil {
				r.say("We couldn't save your rating: " + agentapi.UserMessage(err))
				return
			}
			r.current.Rating = n
			r.render()
			r.say("Thank you — that helps us get better.")
		})
}

func (r *requests) say(s string) {
	r.note.SetText(s)
	if s == "" {
		r.note.Hide()
	} else {
		r.note.Show()
	}
}
