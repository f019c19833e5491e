// Package icon draws Deskside's mark — a speech bubble, "we're listening" —
// in the looks the tray needs (online, offline, unread), or puts those looks
// on a company's own icon. Pure Go, no display.
package icon

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sync"
)

// State is what the tray icon tells at a glance.
type State int

// The four looks of the icon.
const (
	Offline       State = iota // grey: offline, connecting or setting up
	Online                     // coloured: connected
	OfflineUnread              // grey with a red dot
	OnlineUnread               // coloured with a red dot
)

// Size is the icon's width and height in pixels.
const Size = 64

var (
	brandBlue = color.NRGBA{0x25, 0x63, 0xeb, 0xff}
	greyBody  = color.NRGBA{0x8a, 0x8f, 0x98, 0xff}
	badgeRed  = color.NRGBA{0xe5, 0x48, 0x4d, 0xff}
	white     = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// Icons draws the tray icon for each state once and keeps the PNG bytes.
type Icons struct {
	base  image.Image // the company's icon, or nil for Deskside's
	mu    sync.Mutex
	cache map[State][]byte
}

// NewIcons returns icons drawn over the company's PNG icon when it decodes,
// over Deskside's own otherwise.
func NewIcons(brandPNG []byte) *Icons {
	ic := &Icons{cache: map[State][]byte{}}
	if len(brandPNG) > 0 {
		if img, err := png.Decode(bytes.NewReader(brandPNG)); err == nil {
			ic.base = img
		}
	}
	return ic
}

// PNG returns the icon for st as PNG bytes.
func (ic *Icons) PNG(st State) []byte {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if b, ok := ic.cache[st]; ok {
		return b
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, ic.Image(st)) // encoding an in-memory RGBA cannot fail
	b := buf.Bytes()
	ic.cache[st] = b
	return b
}

// Image draws the icon for st.
func (ic *Icons) Image(st State) *image.NRGBA {
	online := st == Online || st == OnlineUnread
	unread := st == OfflineUnread || st == OnlineUnread
	img := image.NewNRGBA(image.Rect(0, 0, Size, Size))
	if ic.base != nil {
		draw.Draw(img, img.Bounds(), scaled(ic.base, Size), image.Point{}, draw.Src)
		if !online {
			greyOut(img)
		}
	} else {
		body := brandBlue
		if !online {
			body = greyBody
		}
		drawBubble(img, body)
	}
	if unread {
		paint(img, func(x, y float64) (color.NRGBA, bool) {
			d := math.Hypot(x-50, y-14)
			switch {
			case d <= 10:
				return badgeRed, true
			case d <= 13:
				return white, true
			}
			return color.NRGBA{}, false
		})
	}
	return img
}

// drawBubble draws Deskside's mark: a speech bubble with three dots, "we're
// listening".
func drawBubble(img *image.NRGBA, body color.NRGBA) {
	paint(img, func(x, y float64) (color.NRGBA, bool) {
		if inRoundRect(x, y, 4, 8, 60, 46, 12) || inTail(x, y) {
			for _, cx := range []float64{19, 32, 45} {
				if math.Hypot(x-cx, y-27) <= 4.5 {
					return white, true
				}
			}
			return body, true
		}
		return color.NRGBA{}, false
	})
}

func inRoundRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return math.Hypot(x-cx, y-cy) <= r
}

// inTail is the bubble's tail: a triangle under its left half.
func inTail(x, y float64) bool {
	if y < 44 || y > 58 {
		return false
	}
	t := (y - 44) / 14 // 0 at the bubble, 1 at the tip
	return x >= 14-2*t && x <= 30-16*t
}

// paint sets each pixel where f says so, with 4×4 supersampling for smooth edges.
func paint(img *image.NRGBA, f func(x, y float64) (color.NRGBA, bool)) {
	const n = 4
	for py := 0; py < Size; py++ {
		for px := 0; px < Size; px++ {
			var r, g, b, hits float64
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					c, ok := f(float64(px)+(float64(sx)+0.5)/n, float64(py)+(float64(sy)+0.5)/n)
					if ok {
						r += float64(c.R)
						g += float64(c.G)
						b += float64(c.B)
						hits++
					}
				}
			}
			if hits == 0 {
				continue
			}
			a := hits / (n * n)
			src := color.NRGBA{uint8(r / hits), uint8(g / hits), uint8(b / hits), uint8(a * 255)}
			img.Set(px, py, over(img.NRGBAAt(px, py), src))
		}
	}
}

// over composes src over dst (straight alpha).
func over(dst, src color.NRGBA) color.NRGBA {
	sa, da := float64(src.A)/255, float64(dst.A)/255
	oa := sa + da*(1-sa)
	if oa == 0 {
		return color.NRGBA{}
	}
	mix := func(s, d uint8) uint8 { return uint8((float64(s)*sa + float64(d)*da*(1-sa)) / oa) }
	return color.NRGBA{mix(src.R, dst.R), mix(src.G, dst.G), mix(src.B, dst.B), uint8(oa * 255)}
}

func greyOut(img *image.NRGBA) {
	for i := 0; i+3 < len(img.Pix); i += 4 {
		l := uint8(0.3*float64(img.Pix[i]) + 0.59*float64(img.Pix[i+1]) + 0.11*float64(img.Pix[i+2]))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = l, l, l
		img.Pix[i+3] = uint8(float64(img.Pix[i+3]) * 0.7)
	}
}

// scaled returns src resized to size×size by nearest neighbour (tray icons
// are small and company icons are usually made for it).
func scaled(src image.Image, size int) image.Image {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			dst.Set(x, y, src.At(b.Min.X+x*b.Dx()/size, b.Min.Y+y*b.Dy()/size))
		}
	}
	return dst
}
