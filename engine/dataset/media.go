package dataset

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

// noiseImage returns a data URL ("data:image/png;base64,...") of a w×h
// image of random pixels, the synthetic images AIPerf sends. format is
// "png" or "jpeg".
func noiseImage(r *rand.Rand, w, h int, format string) (string, error) {
	if w <= 0 || h <= 0 {
		return "", fmt.Errorf("image size %dx%d: width and height must be > 0", w, h)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i+8 <= len(img.Pix); i += 8 {
		binary.LittleEndian.PutUint64(img.Pix[i:], r.Uint64()|0xFF000000FF000000)
	}
	for i := len(img.Pix) &^ 7; i < len(img.Pix); i++ {
		img.Pix[i] = 0xFF
	}
	var buf bytes.Buffer
	var mime string
	switch format {
	case "png":
		mime = "image/png"
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(&buf, img); err != nil {
			return "", err
		}
	case "jpeg", "jpg":
		mime = "image/jpeg"
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("image format %q: want png or jpeg", format)
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// noiseWAV returns a WAV file (16-bit PCM, mono) of white noise lasting
// seconds at rate samples per second, in the "wav,BASE64" form the chat
// endpoint turns into an input_audio part.
func noiseWAV(r *rand.Rand, seconds float64, rate int) (string, error) {
	if seconds <= 0 || rate <= 0 {
		return "", fmt.Errorf("audio: duration %vs and sample rate %d must be > 0", seconds, rate)
	}
	samples := int(seconds * float64(rate))
	if samples < 1 {
		samples = 1
	}
	data := make([]byte, 44+2*samples)
	copy(data, "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+2*samples))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(data[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(data[22:], 1)  // mono
	binary.LittleEndian.PutUint32(data[24:], uint32(rate))
	binary.LittleEndian.PutUint32(data[28:], uint32(2*rate)) // byte rate
	binary.LittleEndian.PutUint16(data[32:], 2)              // block align
	binary.LittleEndian.PutUint16(data[34:], 16)             // bits per sample
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(2*samples))
	for i := 0; i < samples; i++ {
		// Quiet noise (about -20 dBFS) rather than full scale.
		binary.LittleEndian.PutUint16(data[44+2*i:], uint16(int16(r.NormFloat64()*3000)))
	}
	return "wav," + base64.StdEncoding.EncodeToString(data), nil
}
