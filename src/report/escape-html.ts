/** Text made safe inside HTML or SVG, in element content and in quoted attributes alike. */
export function escapeHtml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
