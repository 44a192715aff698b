// A small, real PDF for the precompiled-letter tests: one A4 page with an address in the
// envelope window and a line of body text, built byte by byte so that the cross-reference
// table's offsets are exact. Nothing is drawn outside the printable area.

const A4 = { width: 595.28, height: 841.89 };
const mm = (n) => (n * 72) / 25.4;

/** Escapes a string for a PDF literal string. */
function pdfString(s) {
  return `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * Returns a one-page A4 PDF as a Buffer. lines are the address lines printed in the address
 * window (about 25 mm from the left, 50 mm from the top); body is printed below.
 */
export function letterPDF(lines, body) {
  const text = [];
  text.push('BT', '/F1 11 Tf', `${mm(25).toFixed(2)} ${(A4.height - mm(50)).toFixed(2)} Td`, '14 TL');
  for (const line of lines) text.push(`${pdfString(line)} Tj`, 'T*');
  text.push('ET');
  text.push('BT', '/F1 11 Tf', `${mm(25).toFixed(2)} ${(A4.height - mm(110)).toFixed(2)} Td`, `${pdfString(body)} Tj`, 'ET');
  const stream = text.join('\n');

  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${A4.width} ${A4.height}] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
  ];

  // The binary comment on the second line tells tools the file holds 8-bit data.
  let out = '%PDF-1.4\n%\xE2\xE3\xCF\xD3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
