/** A small RGBA raster with antialiased thick polylines, rectangles and bitmap text. */
import { PNG } from "pngjs";
import { CELL_W, glyph, textWidth } from "./font.js";

export type RGB = readonly [number, number, number];

export function parseColor(c: string | RGB): RGB {
  if (typeof c !== "string") return c;
  const hex = c.replace(/^#/, "");
  const full = hex.length === 3 ? [...hex].map((h) => h + h).join("") : hex;
  const n = Number.parseInt(full, 16);
  if (full.length !== 6 || Number.isNaN(n)) throw new Error(`bad colour ${c}`);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: string | RGB = "#ffffff",
  ) {
    if (!(width > 0 && height > 0)) throw new Error("raster size must be positive");
    this.data = new Uint8Array(width * height * 4);
    const [r, g, b] = parseColor(background);
    for (let i = 0; i < this.data.length; i += 4) {
      this.data[i] = r;
      this.data[i + 1] = g;
      this.data[i + 2] = b;
      this.data[i + 3] = 255;
    }
  }

  /** Blend `color` over pixel (x, y) with coverage `alpha` in [0, 1]. */
  blend(x: number, y: number, color: RGB, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const i = (y * this.width + x) * 4;
    const a = Math.min(1, alpha);
    const d = this.data;
    d[i] = Math.round(d[i] + (color[0] - d[i]) * a);
    d[i + 1] = Math.round(d[i + 1] + (color[1] - d[i + 1]) * a);
    d[i + 2] = Math.round(d[i + 2] + (color[2] - d[i + 2]) * a);
  }

  fillRect(x: number, y: number, w: number, h: number, color: string | RGB, alpha = 1): void {
    const c = parseColor(color);
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, c, alpha);
  }

  strokeRect(x: number, y: number, w: number, h: number, color: string | RGB): void {
    this.fillRect(x, y, w, 1, color);
    this.fillRect(x, y + h - 1, w, 1, color);
    this.fillRect(x, y, 1, h, color);
    this.fillRect(x + w - 1, y, 1, h, color);
  }

  /** Crisp 1-px horizontal line, optionally dashed (dash = on/off length). */
  hline(x0: number, x1: number, y: number, color: string | RGB, dash = 0): void {
    const c = parseColor(color);
    const yy = Math.round(y);
    for (let x = Math.round(Math.min(x0, x1)); x <= Math.round(Math.max(x0, x1)); x++) {
      if (dash > 0 && Math.floor((x - x0) / dash) % 2 === 1) continue;
      this.blend(x, yy, c);
    }
  }

  /** Crisp 1-px vertical line, optionally dashed. */
  vline(x: number, y0: number, y1: number, color: string | RGB, dash = 0): void {
    const c = parseColor(color);
    const xx = Math.round(x);
    for (let y = Math.round(Math.min(y0, y1)); y <= Math.round(Math.max(y0, y1)); y++) {
      if (dash > 0 && Math.floor((y - y0) / dash) % 2 === 1) continue;
      this.blend(xx, y, c);
    }
  }

  /**
   * Antialiased polyline of `width` px. Coverage is accumulated as a per-pixel maximum over all
   * segments, then composited once, so joints are not darkened by overlapping segments. Points
   * with non-finite coordinates break the line. `clip` limits drawing to a rectangle.
   */
  polyline(
    points: readonly (readonly [number, number])[],
    color: string | RGB,
    width = 2,
    clip?: { x: number; y: number; w: number; h: number },
  ): void {
    const c = parseColor(color);
    const half = width / 2;
    const cx0 = Math.max(0, Math.floor(clip?.x ?? 0));
    const cy0 = Math.max(0, Math.floor(clip?.y ?? 0));
    const cx1 = Math.min(this.width - 1, Math.ceil((clip ? clip.x + clip.w : this.width) - 1));
    const cy1 = Math.min(this.height - 1, Math.ceil((clip ? clip.y + clip.h : this.height) - 1));
    const cover = new Map<number, number>();
    const seg = (ax: number, ay: number, bx: number, by: number) => {
      const minX = Math.max(cx0, Math.floor(Math.min(ax, bx) - half - 1));
      const maxX = Math.min(cx1, Math.ceil(Math.max(ax, bx) + half + 1));
      const minY = Math.max(cy0, Math.floor(Math.min(ay, by) - half - 1));
      const maxY = Math.min(cy1, Math.ceil(Math.max(ay, by) + half + 1));
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      for (let y = minY; y <= maxY; y++) {
        for (let x = minX; x <= maxX; x++) {
          const px = x + 0.5 - ax;
          const py = y + 0.5 - ay;
          let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = px - t * dx;
          const ey = py - t * dy;
          const dist = Math.sqrt(ex * ex + ey * ey);
          const a = half + 0.5 - dist;
          if (a <= 0) continue;
          const k = y * this.width + x;
          const prev = cover.get(k) ?? 0;
          if (a > prev) cover.set(k, Math.min(1, a));
        }
      }
    };
    let prev: readonly [number, number] | null = null;
    for (const p of points) {
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
        prev = null;
        continue;
      }
      if (prev) seg(prev[0], prev[1], p[0], p[1]);
      else seg(p[0], p[1], p[0], p[1]); // lone point shows as a dot
      prev = p;
    }
    for (const [k, a] of cover) this.blend(k % this.width, Math.floor(k / this.width), c, a);
  }

  /** Filled antialiased disc. */
  dot(x: number, y: number, r: number, color: string | RGB): void {
    const c = parseColor(color);
    for (let yy = Math.floor(y - r - 1); yy <= Math.ceil(y + r + 1); yy++) {
      for (let xx = Math.floor(x - r - 1); xx <= Math.ceil(x + r + 1); xx++) {
        const d = Math.hypot(xx + 0.5 - x, yy + 0.5 - y);
        this.blend(xx, yy, c, r + 0.5 - d);
      }
    }
  }

  /**
   * Draw `text` with its top-left corner at (x, y) (top of the cap height). `rotate` = -90 draws
   * bottom-to-top (for a left y-axis label), 90 top-to-bottom; (x, y) is then the glyph run's
   * top-left after rotation.
   */
  text(x: number, y: number, text: string, color: string | RGB, scale = 1, rotate: 0 | 90 | -90 = 0): void {
    const c = parseColor(color);
    const len = textWidth(text, scale);
    let cursor = 0;
    for (const ch of text) {
      const g = glyph(ch);
      for (let row = 0; row < g.length; row++) {
        for (let col = 0; col < g[row].length; col++) {
          if (!g[row][col]) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const u = cursor + col * scale + sx; // along the text
              const v = row * scale + sy; // down the glyph
              let px: number;
              let py: number;
              if (rotate === 0) {
                px = x + u;
                py = y + v;
              } else if (rotate === -90) {
                px = x + v;
                py = y + len - 1 - u;
              } else {
                px = x + (9 * scale - 1) - v;
                py = y + u;
              }
              this.blend(Math.round(px), Math.round(py), c);
            }
          }
        }
      }
      cursor += CELL_W * scale;
    }
  }

  /** Encode as PNG (8-bit RGBA). */
  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png);
  }
}
