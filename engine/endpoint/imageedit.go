package endpoint

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/loadstar/loadstar/engine/ordered"
	"github.com/loadstar/loadstar/engine/plugin"
)

// ImageEdit is the OpenAI Image Edit endpoint (/v1/images/edits, SGLang's
// and FLUX.2's image-to-image serving): each request uploads the turn's
// first image and its first text as the prompt, as multipart/form-data
// fields prompt, model, response_format=b64_json, n=1 and image (the file),
// or url when the image is an http(s) URL (SGLang). The extras and the
// turn's extra body become more fields; prompt, image, url and mask are the
// endpoint's own and cannot be set that way. Answers are read as image
// generation's (data[] of b64_json or url).
type ImageEdit struct{ base }

// imageEditBoundary separates the form's parts. It is fixed so that a
// request's body depends only on the request (inputs.json, goldens);
// FormatPayload checks that no field or image holds it.
const imageEditBoundary = "loadstar-form-7d3f0b91c4e2a58b6f19e0d4"

// imageEditReserved are the fields the endpoint manages.
var imageEditReserved = []string{"prompt", "image", "url", "mask"}

func newImageEdit(s *Settings, _ plugin.Args) (any, error) {
	if err := s.requireModel(); err != nil {
		return nil, err
	}
	for _, k := range imageEditReserved {
		if _, ok := s.Extra.Get(k); ok {
			return nil, fmt.Errorf("extra: %q is the image_edit endpoint's own field (from the turn's text and image)", k)
		}
	}
	e := &ImageEdit{base{s}}
	s.ContentType = "multipart/form-data; boundary=" + imageEditBoundary
	return e, nil
}

// FormatPayload builds the multipart body.
func (e *ImageEdit) FormatPayload(req *Request) ([]byte, error) {
	if len(req.Turns) == 0 {
		return nil, errNoTurns
	}
	t := req.Last()
	prompt := t.FirstText()
	if prompt == "" {
		return nil, errors.New("image_edit needs a text prompt in the turn")
	}
	var image string
	for _, g := range t.Images {
		if len(g.Contents) > 0 {
			image = g.Contents[0]
			break
		}
	}
	if image == "" {
		return nil, errors.New("image_edit needs a reference image in the turn (dataset images, e.g. dataset.synthetic(images=1, ...))")
	}
	// The form fields: the endpoint's, then the extras and the turn's
	// extra body, which may replace model, response_format and n (not the
	// upload's own fields).
	fields := ordered.New(8)
	fields.Set("prompt", prompt)
	fields.Set("model", e.s.Model(req))
	fields.Set("response_format", "b64_json")
	fields.Set("n", 1)
	for _, extra := range []*ordered.Map{e.s.Extra, t.ExtraBody} {
		if extra == nil {
			continue
		}
		for _, k := range extra.Keys() {
			if !contains(imageEditReserved, k) {
				v, _ := extra.Get(k)
				fields.Set(k, v)
			}
		}
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(imageEditBoundary); err != nil {
		return nil, err
	}
	for _, k := range fields.Keys() {
		v, _ := fields.Get(k)
		if err := w.WriteField(k, formValue(v)); err != nil {
			return nil, err
		}
	}
	lower := strings.ToLower(image)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		if err := w.WriteField("url", image); err != nil {
			return nil, err
		}
	} else {
		data, mime, err := decodeImage(image)
		if err != nil {
			return nil, err
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="image"; filename="image.%s"`, imageExt(mime)))
		h.Set("Content-Type", mime)
		part, err := w.CreatePart(h)
		if err != nil {
			return nil, err
		}
		if _, err := part.Write(data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if bytes.Count(buf.Bytes(), []byte(imageEditBoundary)) != fields.Len()+2 {
		return nil, errors.New("image_edit: a field or the image holds the form's boundary")
	}
	return buf.Bytes(), nil
}

// NewParser reads image answers as image_generation does.
func (e *ImageEdit) NewParser() Parser { return imageParser{} }

// decodeImage reads a data URL or bare base64 image: its bytes and MIME
// type (from the data URL, else from the bytes' magic numbers).
func decodeImage(s string) ([]byte, string, error) {
	b64, mime := s, ""
	if strings.HasPrefix(s, "data:") {
		header, rest, ok := strings.Cut(s, ",")
		if !ok {
			return nil, "", errors.New("image: malformed data URL (no comma)")
		}
		b64 = rest
		if t, _, _ := strings.Cut(strings.TrimPrefix(header, "data:"), ";"); strings.HasPrefix(t, "image/") {
			mime = t
		}
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", fmt.Errorf("image: not base64 image data: %v", err)
	}
	if mime == "" {
		for _, m := range []struct{ magic, mime string }{
			{"\x89PNG\r\n\x1a\n", "image/png"}, {"\xff\xd8\xff", "image/jpeg"}, {"GIF8", "image/gif"},
			{"RIFF", "image/webp"}, {"BM", "image/bmp"},
		} {
			if bytes.HasPrefix(data, []byte(m.magic)) {
				mime = m.mime
				break
			}
		}
	}
	if mime == "" {
		return nil, "", errors.New("image: not a PNG, JPEG, GIF, WebP or BMP image")
	}
	return data, mime, nil
}

func imageExt(mime string) string {
	ext := strings.TrimPrefix(mime, "image/")
	ext, _, _ = strings.Cut(ext, "+")
	if ext == "jpeg" {
		return "jpg"
	}
	return ext
}

// formValue renders a field value: strings as they are, other values as JSON.
func formValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := jsonValue(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
