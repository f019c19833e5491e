package windows

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/kbinani/screenshot"

	"github.com/deskside/deskside/shared/protocol"
)

// captureScreen takes a picture of the main display (X11, Windows, macOS;
// not Wayland, where the agent says so and the user writes instead).
func captureScreen() (image.Image, error) {
	if screenshot.NumActiveDisplays() < 1 {
		return nil, fmt.Errorf("no display to capture")
	}
	img, err := screenshot.CaptureDisplay(0)
	if err != nil {
		return nil, fmt.Errorf("capture the screen: %w", err)
	}
	return img, nil
}

// encodeScreenshot returns PNG bytes, or JPEG when PNG is over the
// protocol's limit, halving the size until it fits.
func encodeScreenshot(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode screenshot: %w", err)
	}
	for range 4 {
		if buf.Len() <= protocol.MaxScreenshotBytes {
			return buf.Bytes(), nil
		}
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
			return nil, fmt.Errorf("encode screenshot: %w", err)
		}
		if buf.Len() <= protocol.MaxScreenshotBytes {
			return buf.Bytes(), nil
		}
		img = halveSize(img)
	}
	return nil, fmt.Errorf("the screenshot is too large to send")
}

func halveSize(src image.Image) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := 0; y < b.Dy()/2; y++ {
		for x := 0; x < b.Dx()/2; x++ {
			dst.Set(x, y, src.At(b.Min.X+2*x, b.Min.Y+2*y))
		}
	}
	return dst
}

func screenshotExt(data []byte) string {
	if bytes.HasPrefix(data, []byte("\x89PNG")) {
		return ".png"
	}
	return ".jpg"
}
