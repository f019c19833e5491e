package tray

import (
	"encoding/xml"
	"strings"
)

// toastXML is the Windows toast for n: the XML the Windows Runtime reads
// (https://learn.microsoft.com/windows/apps/design/shell/tiles-and-notifications/adaptive-interactive-toasts).
// We write it ourselves rather than through go-toast's template, which puts
// the texts in CDATA sections that a "]]>" in a message would end. launch
// comes back to us when the toast is clicked; attribution, when not empty,
// is the small grey line under the texts (the company's name). It is plain
// Go so the escaping is tested on every OS.
func toastXML(n Notification, launch, attribution string) string {
	var b strings.Builder
	b.WriteString(`<toast activationType="foreground" launch="`)
	escapeXML(&b, launch)
	b.WriteString(`"><visual><binding template="ToastGeneric">`)
	for _, t := range []string{n.Title, n.Body} {
		if t = strings.TrimSpace(printable(t)); t != "" {
			b.WriteString("<text>")
			escapeXML(&b, t)
			b.WriteString("</text>")
		}
	}
	if a := strings.TrimSpace(printable(attribution)); a != "" {
		b.WriteString(`<text placement="attribution">`)
		escapeXML(&b, a)
		b.WriteString("</text>")
	}
	b.WriteString(`</binding></visual><audio src="ms-winsoundevent:Notification.Default"/></toast>`)
	return b.String()
}

func escapeXML(b *strings.Builder, s string) {
	// EscapeText also escapes quotes and line breaks, so the same call is
	// right for attribute values and for text.
	_ = xml.EscapeText(b, []byte(s))
}
