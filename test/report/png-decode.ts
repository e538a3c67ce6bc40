/** A minimal PNG reader for the tests: IHDR, and 8-bit RGB/RGBA non-interlaced pixels (what resvg writes). */
import { inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngImage {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  /** RGBA, 4 bytes a pixel. */
  rgba: Uint8Array;
}

function chunks(png: Uint8Array): Array<{ type: string; data: Uint8Array }> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Array<{ type: string; data: Uint8Array }> = [];
  let offset = 8;
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    out.push({ type, data: png.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
  }
  return out;
}

/** Width, height, bit depth and colour type from IHDR. */
export function pngHeader(png: Uint8Array): { width: number; height: number; bitDepth: number; colorType: number } {
  const ihdr = chunks(png)[0]!;
  if (ihdr.type !== 'IHDR') throw new Error('first chunk is not IHDR');
  const view = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, ihdr.data.byteLength);
  return { width: view.getUint32(0), height: view.getUint32(4), bitDepth: ihdr.data[8]!, colorType: ihdr.data[9]! };
}

/** Decodes the pixels (8-bit RGB or RGBA, no interlace). */
export function decodePng(png: Uint8Array): PngImage {
  const header = pngHeader(png);
  const channels = header.colorType === 6 ? 4 : header.colorType === 2 ? 3 : 0;
  if (header.bitDepth !== 8 || channels === 0) throw new Error(`unsupported PNG: depth ${header.bitDepth}, colour type ${header.colorType}`);
  const idat = chunks(png).filter((c) => c.type === 'IDAT');
  const raw = inflateSync(Buffer.concat(idat.map((c) => c.data)));
  const stride = header.width * channels;
  const pixels = new Uint8Array(header.height * stride);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  const rgba = new Uint8Array(header.width * header.height * 4);
  for (let i = 0; i < header.width * header.height; i++) {
    for (let k = 0; k < 3; k++) rgba[4 * i + k] = pixels[channels * i + k]!;
    rgba[4 * i + 3] = channels === 4 ? pixels[channels * i + 3]! : 255;
  }
  return { ...header, rgba };
}

/** How many pixels of a region differ from opaque white. */
export function inkedPixels(image: PngImage, region?: { x0: number; y0: number; x1: number; y1: number }): number {
  const { x0 = 0, y0 = 0, x1 = image.width, y1 = image.height } = region ?? {};
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = 4 * (y * image.width + x);
      if (image.rgba[i]! < 250 || image.rgba[i + 1]! < 250 || image.rgba[i + 2]! < 250 || image.rgba[i + 3]! < 255) n++;
    }
  }
  return n;
}
