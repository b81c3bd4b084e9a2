package assets

import (
	"bytes"
	"image/png"
	"testing"
)

// The icon must stay a square PNG large enough for every platform's
// packaging (Fyne scales it down, never up).
func TestIconIsSquarePNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(Icon))
	if err != nil {
		t.Fatalf("decode icon: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() || b.Dx() < 256 {
		t.Errorf("icon is %d×%d, want a square of at least 256 px", b.Dx(), b.Dy())
	}
}
