/**
 * Text width for Vega's layout when it has no canvas to measure with. Vega's own estimate (0.8 em a
 * character) is up to a third too wide for the charts' sans-serif text, which leaves legend boxes and chart
 * margins lopsided. This one sums DejaVu Sans advance widths (the widest of the charts' fonts, so text never
 * overflows when Helvetica or Arial is used instead). Pure.
 */

/** DejaVu Sans advance widths in 1/1000 em of the characters U+0020 … U+007E. */
const ASCII = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636,
  337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635,
  611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974,
  634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** DejaVu Sans advance widths (1/1000 em) of the other characters the charts use. */
const OTHER: Record<string, number> = {
  Å: 684, Ä: 684, Ö: 787, ä: 613, ö: 612, ü: 634, é: 615,
  '⁰': 401, '¹': 401, '²': 401, '³': 401, '⁴': 401, '⁵': 401, '⁶': 401, '⁷': 401, '⁸': 401, '⁹': 401, '⁻': 528,
  '₀': 401, '₁': 401, '₂': 401, '₃': 401, '₄': 401, '₅': 401, '₆': 401, '₇': 401, '₈': 401, '₉': 401,
  σ: 634, χ: 578, '±': 838, '≤': 838, '≥': 838, '×': 838, '−': 838, '–': 500, '—': 1000, '…': 1000, '·': 318,
  '°': 500, µ: 636, μ: 636, Δ: 684, '’': 318, '“': 518, '”': 518,
};

/** Width of any other character, 1/1000 em. */
const FALLBACK = 640;

/** The width in px of `text` set at `fontSize` px in DejaVu Sans (bold: 10 % wider). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? ASCII[code - 32]! : (OTHER[ch] ?? FALLBACK);
  }
  return (units / 1000) * fontSize * (bold ? 1.1 : 1);
}
