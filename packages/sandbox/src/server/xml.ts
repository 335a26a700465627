const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Escapes element text (never used for attributes), leaving quotes readable as AWS does. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>]/g, (c) => xmlEscapes[c] ?? c);
}

/** `<name>escaped value</name>`, or nothing when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>children</name>` where children is already XML. */
export function wrap(name: string, children: string): string {
  return `<${name}>${children}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** AWS timestamps carry milliseconds in EC2/S3 and none in STS. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
