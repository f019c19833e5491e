package agentapitest

import (
	"context"
	"fmt"
	"time"

	"github.com/deskside/deskside/agent/agentapi"
	"github.com/deskside/deskside/shared/protocol"
)

// softwareState is what the software calls know (see SetSoftware and
// friends).
type softwareState struct {
	inv       agentapi.SoftwareInventory
	prompt    *agentapi.SoftwarePrompt
	notes     []agentapi.SoftwareNote
	catalogue []protocol.CatalogueItem
	answers   []string // "titleID answer"
	apps      []agentapi.AppRequest
	composing bool
}

// SetSoftware sets the inventory Software returns.
func (f *Fake) SetSoftware(inv agentapi.SoftwareInventory) {
	f.mu.Lock()
	f.sw.inv = inv
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventSoftware})
}

// SetCatalogue sets the catalogue.
func (f *Fake) SetCatalogue(items []protocol.CatalogueItem) {
	f.mu.Lock()
	f.sw.catalogue = append([]protocol.CatalogueItem(nil), items...)
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventSoftware})
}

// AskSoftware makes p the pending prompt and tells subscribers, as the
// agent does when the throttle allows.
func (f *Fake) AskSoftware(p agentapi.SoftwarePrompt) {
	f.mu.Lock()
	f.sw.prompt = &p
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventSoftwarePrompt, Prompt: &p})
}

// SendSoftwareNote adds IT's note and tells subscribers.
func (f *Fake) SendSoftwareNote(n agentapi.SoftwareNote) {
	f.mu.Lock()
	f.sw.notes = append([]agentapi.SoftwareNote{n}, f.sw.notes...)
	f.mu.Unlock()
	f.Emit(agentapi.Event{Type: agentapi.EventSoftwareNote, Note: &n})
}

// SoftwareAnswers returns the answers given so far ("titleID answer").
func (f *Fake) SoftwareAnswers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sw.answers...)
}

// AppRequests returns the apps requested so far.
func (f *Fake) AppRequests() []agentapi.AppRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agentapi.AppRequest(nil), f.sw.apps...)
}

// IsComposing reports what Composing last said.
func (f *Fake) IsComposing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sw.composing
}

// Software implements agentapi.Backend.
func (f *Fake) Software(context.Context) (agentapi.SoftwareInventory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.sw.inv
	inv.Entries = append([]protocol.SoftwareEntry{}, inv.Entries...)
	return inv, nil
}

// SoftwarePrompt implements agentapi.Backend: the pending prompt, unless
// the person is composing a request.
func (f *Fake) SoftwarePrompt(context.Context) (*agentapi.SoftwarePrompt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sw.prompt == nil || f.sw.composing {
		return nil, nil
	}
	p := *f.sw.prompt
	return &p, nil
}

// AnswerSoftware implements agentapi.Backend: it records the answer, clears
// the prompt and, for work, raises a software request.
func (f *Fake) AnswerSoftware(ctx context.Context, titleID string, answer protocol.SoftwareAnswerKind) (agentapi.SoftwareAnswerResult, error) {
	f.mu.Lock()
	if f.err != nil {
		err := f.err
		f.mu.Unlock()
		return agentapi.SoftwareAnswerResult{}, err
	}
	if f.sw.prompt == nil || f.sw.prompt.TitleID != titleID {
		f.mu.Unlock()
		return agentapi.SoftwareAnswerResult{}, agentapi.NewError(agentapi.CodeNotFound, "That question has already been answered.", nil)
	}
	name := f.sw.prompt.Name
	f.sw.answers = append(f.sw.answers, fmt.Sprintf("%s %s", titleID, answer))
	f.sw.prompt = nil
	f.mu.Unlock()
	switch answer {
	case protocol.AnswerForWork:
		r, err := f.RaiseRequest(ctx, agentapi.NewRequest{Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan,
			Text: "I use " + name + " for my work.", SoftwareTitle: titleID})
		if err != nil {
			return agentapi.SoftwareAnswerResult{}, err
		}
		return agentapi.SoftwareAnswerResult{Request: &r, Text: "Thanks for telling us — IT will have a look."}, nil
	case protocol.AnswerPersonal:
		return agentapi.SoftwareAnswerResult{Text: "Thanks — we won't ask about " + name + " again."}, nil
	}
	return agentapi.SoftwareAnswerResult{Text: "Okay — we won't ask about " + name + " again."}, nil
}

// SoftwareNotes implements agentapi.Backend.
func (f *Fake) SoftwareNotes(context.Context) ([]agentapi.SoftwareNote, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agentapi.SoftwareNote{}, f.sw.notes...), nil
}

// Catalogue implements agentapi.Backend.
func (f *Fake) Catalogue(context.Context) ([]protocol.CatalogueItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]protocol.CatalogueItem{}, f.sw.catalogue...), nil
}

// RequestApp implements agentapi.Backend: it records the app and raises a
// software request for it.
func (f *Fake) RequestApp(ctx context.Context, a agentapi.AppRequest) (agentapi.Request, error) {
	if a.Name == "" {
		return agentapi.Request{}, agentapi.NewError(agentapi.CodeBadRequest, "Which app do you need? Type its name.", nil)
	}
	f.mu.Lock()
	f.sw.apps = append(f.sw.apps, a)
	f.mu.Unlock()
	text := "Could I have " + a.Name + "?"
	if a.Text != "" {
		text += "\n\n" + a.Text
	}
	return f.RaiseRequest(ctx, agentapi.NewRequest{Category: protocol.CategorySoftware, Urgency: protocol.UrgencyWhenYouCan,
		Text: text, SoftwareTitle: a.TitleID})
}

// Composing implements agentapi.Backend.
func (f *Fake) Composing(_ context.Context, on bool) error {
	f.mu.Lock()
	f.sw.composing = on
	f.mu.Unlock()
	return nil
}

// SampleSoftware is a small inventory for demos and screenshots.
func SampleSoftware() agentapi.SoftwareInventory {
	entries, _ := protocol.NormalizeSoftware([]protocol.SoftwareEntry{
		{Name: "firefox-esr", Version: "115.9.1esr-1", Publisher: "Debian Mozilla Maintainers", Source: protocol.SourceDpkg},
		{Name: "libreoffice-writer", Version: "4:7.4.7-1", Publisher: "Debian LibreOffice Maintainers", Source: protocol.SourceDpkg},
		{Name: "GIMP", Version: "2.10.38", Source: protocol.SourceFlatpak, AppID: "org.gimp.GIMP"},
		{Name: "Figma", Version: "124.1.2", Publisher: "Figma, Inc.", Source: protocol.SourceAppImage, PerUser: true},
		{Name: "Obsidian", Version: "1.5.12", Source: protocol.SourceDesktop, PerUser: true},
	})
	return agentapi.SoftwareInventory{Entries: entries, Hash: protocol.SoftwareHash(entries), InSync: true, CollectedAt: time.Now()}
}

// SampleCatalogue is a few realistic catalogue items, one of each way of
// getting an app, for demos and screenshots.
func SampleCatalogue() []protocol.CatalogueItem {
	return []protocol.CatalogueItem{
		{TitleID: "t_slack", Name: "Slack", Publisher: "Slack Technologies",
			Description: "Team chat. Sign in with your work email; your channels are waiting.",
			How:         protocol.CatalogueLink, URL: "https://slack.com/downloads"},
		{TitleID: "t_zoom", Name: "Zoom", Publisher: "Zoom Video Communications",
			Description: "Video calls with customers and partners outside the company.",
			How:         protocol.CataloguePackage, Package: "zoom"},
		{TitleID: "t_penpot", Name: "Penpot", Publisher: "Kaleidos",
			Description: "Open-source design and prototyping — our supported choice for design work.",
			How:         protocol.CatalogueLink, URL: "https://design.penpot.app"},
		{TitleID: "t_7zip", Name: "7-Zip", Publisher: "Igor Pavlov",
			Description: "Opens .zip, .7z and .rar files.",
			How:         protocol.CatalogueInstructions,
			Instructions: "1. Open **Software Center** from the app menu.\n" +
				"2. Search for *7-Zip* and press **Install**.\n" +
				"3. Right-click any archive and pick *Extract here*."},
	}
}
