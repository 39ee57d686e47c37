// @ts-check
// Pure helpers of the thank-you / order-status extension: which lines carry a Luneo mockup.

const HTTPS_RE = /^https:\/\/[^\s"'<>]+$/;

/** @param {any} attributes [{key, value}] @param {string} key */
function attr(attributes, key) {
  for (const a of Array.isArray(attributes) ? attributes : []) {
    if (a && a.key === key && typeof a.value === "string") return a.value;
  }
  return null;
}

/**
 * The mockup of one line: {url, snapshot, details: ["Name: Emma", …]} or null when the line is not
 * personalized or its preview is not an https URL.
 * @param {any} line a cart line ({attributes: [{key, value}]})
 */
export function linePreview(line) {
  const url = attr(line?.attributes, "_luneo_preview");
  const snapshot = attr(line?.attributes, "_luneo_snapshot");
  if (!url || !snapshot || !HTTPS_RE.test(url)) return null;
  const details = (line.attributes || [])
    .filter((/** @type {any} */ a) => a && typeof a.key === "string" && !a.key.startsWith("_") && typeof a.value === "string")
    .map((/** @type {any} */ a) => `${a.key}: ${a.value}`);
  return { url, snapshot, details };
}

/**
 * Every line with a mockup, in order (one entry per line; lines without one are skipped).
 * @param {any[]} lines
 */
export function linesWithPreviews(lines) {
  /** @type {Array<{id: string, title: string, url: string, snapshot: string, details: string[]}>} */
  const out = [];
  for (const line of Array.isArray(lines) ? lines : []) {
    const p = linePreview(line);
    if (p) out.push({ id: String(line.id ?? ""), title: String(line?.merchandise?.title ?? ""), ...p });
  }
  return out;
}
