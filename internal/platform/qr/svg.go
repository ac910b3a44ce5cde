package qr

import "strconv"

// SVG renders the code as a standalone SVG element: a white background and
// one black path made of a horizontal segment per run of dark modules. The
// viewBox counts modules; width and height are moduleSize pixels per module
// (at least 1). quietZone is the light margin in modules on each side; the
// spec asks for 4. The output holds no caller text, so it is safe to inline
// as template.HTML; give it an accessible name in the surrounding markup.
func (c *Code) SVG(moduleSize, quietZone int) string {
	moduleSize = max(moduleSize, 1)
	quietZone = max(quietZone, 0)
	n := strconv.Itoa(c.Size + 2*quietZone)
	px := strconv.Itoa((c.Size + 2*quietZone) * moduleSize)

	b := make([]byte, 0, 256+c.Size*c.Size*2)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="`...)
	b = append(b, px+`" height="`+px+`" viewBox="0 0 `+n+" "+n+`" shape-rendering="crispEdges">`...)
	b = append(b, `<rect width="`+n+`" height="`+n+`" fill="#fff"/><path fill="#000" d="`...)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; {
			if !c.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for c.Dark(x+run, y) {
				run++
			}
			b = append(b, 'M')
			b = strconv.AppendInt(b, int64(x+quietZone), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y+quietZone), 10)
			b = append(b, 'h')
			b = strconv.AppendInt(b, int64(run), 10)
			b = append(b, "v1h-"...)
			b = strconv.AppendInt(b, int64(run), 10)
			b = append(b, 'z')
			x += run
		}
	}
	b = append(b, `"/></svg>`...)
	return string(b)
}
