// The zone editor: an SVG of the product's print area (mm units) where zones are drawn, moved and
// resized with the pointer or the keyboard, a side form for the selected zone's kind and rules, and
// a hidden field holding the whole zone list (posted on save; the preview pane re-renders from it).
const SVG = "http://www.w3.org/2000/svg";
const form = document.getElementById("zone-form");
const svg = document.getElementById("zone-canvas");
const hidden = document.getElementById("zones-json");
const config = JSON.parse(document.getElementById("zone-config").textContent);
const canWrite = form.dataset.canWrite === "true";
const W = config.width_mm;
const H = config.height_mm;
const B = config.bleed_mm || 0;
const SAFE = 3; // indicative safe margin inside the trim edge, mm
const SNAP_TOLERANCE = 2; // mm
const MIN_SIZE = 2; // mm

let zones = JSON.parse(hidden.value || "[]");
let selected = zones.length ? 0 : -1;
let drag = null;

const round = (v) => Math.round(v * 10) / 10;
const el = (name, attrs = {}) => {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
};
const snapOn = () => document.getElementById("snap-toggle").checked;

function snapAxis(start, size, limit) {
  // Snap a span [start, start+size] on one axis: to the 1 mm grid, then its edges or centre to
  // the product's edges and centre line when within the tolerance.
  if (!snapOn()) return round(start);
  let best = Math.round(start);
  let bestDist = SNAP_TOLERANCE + 1;
  for (const target of [0, limit / 2, limit]) {
    for (const offset of [0, size / 2, size]) {
      const d = Math.abs(start + offset - target);
      if (d < bestDist && d <= SNAP_TOLERANCE) {
        bestDist = d;
        best = target - offset;
      }
    }
  }
  return round(best);
}
const snapValue = (v, limit) => {
  if (!snapOn()) return round(v);
  for (const t of [0, limit / 2, limit]) if (Math.abs(v - t) <= SNAP_TOLERANCE) return t;
  return Math.round(v);
};

function mockupMatrix() {
  // The affine map from photo pixels to print-area mm given by the placed corners, as an SVG
  // transform; null without corners or when they are degenerate.
  const c = config.mockup_corners;
  if (!c || c.length !== 4 || !config.mockup_size?.[0] || !config.mockup_size?.[1]) return null;
  const [ux, uy] = [c[1][0] - c[0][0], c[1][1] - c[0][1]];
  const [vx, vy] = [c[3][0] - c[0][0], c[3][1] - c[0][1]];
  const det = ux * vy - vx * uy;
  if (Math.abs(det) < 1e-9) return null;
  // inverse of [[ux vx] [uy vy]], then scaled to W × H mm
  const a = (W * vy) / det, c2 = (-W * vx) / det;
  const b = (-H * uy) / det, d = (H * ux) / det;
  const e = -(a * c[0][0] + c2 * c[0][1]);
  const f = -(b * c[0][0] + d * c[0][1]);
  return `matrix(${a} ${b} ${c2} ${d} ${e} ${f})`;
}

function toMm(event) {
  const pt = svg.createSVGPoint();
  pt.x = event.clientX;
  pt.y = event.clientY;
  const p = pt.matrixTransform(svg.getScreenCTM().inverse());
  return { x: p.x, y: p.y };
}

function zoneErrors(zone) {
  const prefix = `zones.${zone.key}`;
  return Object.entries(config.errors || {}).filter(([k]) => k === prefix || k.startsWith(prefix + "."));
}

function sync() {
  hidden.value = JSON.stringify(zones);
  document.body.dispatchEvent(new CustomEvent("zones-changed"));
}

function draw() {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `${-B - 2} ${-B - 2} ${W + 2 * B + 4} ${H + 2 * B + 4}`);
  if (B > 0) svg.append(el("rect", { x: -B, y: -B, width: W + 2 * B, height: H + 2 * B, class: "bleed" }));
  svg.append(el("rect", { x: 0, y: 0, width: W, height: H, class: "trim" }));
  if (config.mockup_url) {
    const placed = mockupMatrix();
    if (placed) {
      // The photo mapped so its placed print area (top-left, top-right, bottom-left corners)
      // lands on the trim box, clipped to it: the zones are drawn over what will be printed.
      const clip = el("clipPath", { id: "trim-clip" });
      clip.append(el("rect", { x: 0, y: 0, width: W, height: H }));
      svg.append(clip);
      const g = el("g", { "clip-path": "url(#trim-clip)" });
      g.append(el("image", { href: config.mockup_url, x: 0, y: 0, width: config.mockup_size[0], height: config.mockup_size[1], transform: placed, class: "mockup", "data-placed": "true" }));
      svg.append(g);
    } else {
      svg.append(el("image", { href: config.mockup_url, x: 0, y: 0, width: W, height: H, preserveAspectRatio: "none", class: "mockup" }));
    }
  }
  svg.append(el("rect", { x: SAFE, y: SAFE, width: Math.max(0, W - 2 * SAFE), height: Math.max(0, H - 2 * SAFE), class: "safe" }));
  svg.append(el("line", { x1: W / 2, y1: 0, x2: W / 2, y2: H, class: "centre" }));
  svg.append(el("line", { x1: 0, y1: H / 2, x2: W, y2: H / 2, class: "centre" }));
  const hs = Math.max(1.2, Math.min(W, H) / 40);
  zones.forEach((zone, i) => {
    const g = zone.geometry;
    const group = el("g", { class: `zone zone--${zone.kind}${i === selected ? " is-selected" : ""}${zoneErrors(zone).length ? " has-error" : ""}`, "data-index": i });
    group.append(el("rect", { x: g.x_mm, y: g.y_mm, width: g.width_mm, height: g.height_mm, class: "zone-box", "data-part": "body" }));
    if (g.safe_inset_mm) {
      const s = g.safe_inset_mm;
      group.append(el("rect", { x: g.x_mm + s, y: g.y_mm + s, width: Math.max(0, g.width_mm - 2 * s), height: Math.max(0, g.height_mm - 2 * s), class: "zone-safe" }));
    }
    const label = el("text", { x: g.x_mm + 1, y: g.y_mm + Math.min(g.height_mm - 0.5, hs * 2.2), class: "zone-label", "font-size": hs * 1.8 });
    label.textContent = zone.label || zone.key;
    group.append(label);
    if (i === selected && canWrite) {
      for (const [cx, cy, corner] of [[g.x_mm, g.y_mm, "nw"], [g.x_mm + g.width_mm, g.y_mm, "ne"], [g.x_mm + g.width_mm, g.y_mm + g.height_mm, "se"], [g.x_mm, g.y_mm + g.height_mm, "sw"]]) {
        group.append(el("rect", { x: cx - hs, y: cy - hs, width: 2 * hs, height: 2 * hs, class: "handle", "data-part": corner }));
      }
    }
    svg.append(group);
  });
  showCoords();
  drawList();
}

function showCoords() {
  const out = document.getElementById("zone-coords");
  const z = zones[selected];
  out.textContent = z
    ? `${z.label || z.key}: x ${z.geometry.x_mm} mm, y ${z.geometry.y_mm} mm, ${z.geometry.width_mm} × ${z.geometry.height_mm} mm`
    : "";
}

function drawList() {
  const list = document.getElementById("zone-list");
  list.replaceChildren(
    ...zones.map((zone, i) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button small" + (i === selected ? " primary" : "");
      b.textContent = `${zone.label || zone.key} (${zone.kind})`;
      b.setAttribute("aria-pressed", String(i === selected));
      b.addEventListener("click", () => select(i));
      li.append(b);
      if (zoneErrors(zone).length) li.classList.add("has-error");
      return li;
    }),
  );
}

function newKey() {
  let n = zones.length + 1;
  while (zones.some((z) => z.key === `zone_${n}`)) n += 1;
  return `zone_${n}`;
}

function addZone(kind, geometry) {
  const key = newKey();
  zones.push({
    key,
    label: kind === "text" ? `Text ${zones.length + 1}` : `Image ${zones.length + 1}`,
    kind,
    sort_order: zones.length,
    geometry: { shape: "rect", ...geometry },
    rules: kind === "text" ? { max_chars: 20, max_lines: 1, auto_fit: true } : {},
    default_font: null,
    default_color: null,
    role: "print",
    sample: null,
  });
  select(zones.length - 1);
  sync();
}

function select(i) {
  selected = i;
  draw();
  fillForm();
}

// ---------------------------------------------------------------- pointer

svg.addEventListener("pointerdown", (event) => {
  if (!canWrite || event.button !== 0) return;
  const p = toMm(event);
  const group = event.target.closest("g.zone");
  svg.setPointerCapture(event.pointerId);
  svg.focus();
  if (group) {
    const i = Number(group.dataset.index);
    if (i !== selected) select(i);
    const part = event.target.dataset.part || "body";
    drag = { mode: part === "body" ? "move" : "resize", corner: part, start: p, orig: { ...zones[i].geometry } };
  } else {
    drag = { mode: "draw", start: { x: snapValue(p.x, W), y: snapValue(p.y, H) }, preview: null };
  }
  event.preventDefault();
});

svg.addEventListener("pointermove", (event) => {
  if (!drag) return;
  const p = toMm(event);
  if (drag.mode === "draw") {
    const x2 = snapValue(p.x, W);
    const y2 = snapValue(p.y, H);
    const g = { x_mm: Math.min(drag.start.x, x2), y_mm: Math.min(drag.start.y, y2), width_mm: Math.abs(x2 - drag.start.x), height_mm: Math.abs(y2 - drag.start.y) };
    drag.preview?.remove();
    drag.preview = el("rect", { x: g.x_mm, y: g.y_mm, width: g.width_mm, height: g.height_mm, class: "zone-draft" });
    drag.geometry = g;
    svg.append(drag.preview);
    return;
  }
  const z = zones[selected];
  const o = drag.orig;
  const dx = p.x - drag.start.x;
  const dy = p.y - drag.start.y;
  if (drag.mode === "move") {
    z.geometry = { ...z.geometry, x_mm: snapAxis(o.x_mm + dx, o.width_mm, W), y_mm: snapAxis(o.y_mm + dy, o.height_mm, H) };
  } else {
    let x1 = o.x_mm, y1 = o.y_mm, x2 = o.x_mm + o.width_mm, y2 = o.y_mm + o.height_mm;
    if (drag.corner.includes("w")) x1 = snapValue(o.x_mm + dx, W);
    if (drag.corner.includes("e")) x2 = snapValue(x2 + dx, W);
    if (drag.corner.includes("n")) y1 = snapValue(o.y_mm + dy, H);
    if (drag.corner.includes("s")) y2 = snapValue(y2 + dy, H);
    z.geometry = { ...z.geometry, x_mm: round(Math.min(x1, x2)), y_mm: round(Math.min(y1, y2)), width_mm: round(Math.max(MIN_SIZE / 2, Math.abs(x2 - x1))), height_mm: round(Math.max(MIN_SIZE / 2, Math.abs(y2 - y1))) };
  }
  draw();
});

function endDrag() {
  if (!drag) return;
  const d = drag;
  drag = null;
  if (d.mode === "draw") {
    d.preview?.remove();
    if (d.geometry && d.geometry.width_mm >= MIN_SIZE && d.geometry.height_mm >= MIN_SIZE) addZone("text", d.geometry);
    return;
  }
  fillForm();
  sync();
}
svg.addEventListener("pointerup", endDrag);
svg.addEventListener("pointercancel", endDrag);

// ---------------------------------------------------------------- keyboard

svg.addEventListener("keydown", (event) => {
  const z = zones[selected];
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  if (!z || !canWrite) return;
  if (event.key === "Delete" || event.key === "Backspace") {
    removeSelected();
    event.preventDefault();
    return;
  }
  const m = moves[event.key];
  if (!m) return;
  const step = event.shiftKey ? 10 : 1;
  const g = { ...z.geometry };
  if (event.altKey) {
    g.width_mm = round(Math.max(1, g.width_mm + m[0] * step));
    g.height_mm = round(Math.max(1, g.height_mm + m[1] * step));
  } else {
    g.x_mm = round(g.x_mm + m[0] * step);
    g.y_mm = round(g.y_mm + m[1] * step);
  }
  z.geometry = g;
  event.preventDefault();
  draw();
  fillForm();
  sync();
});

// ---------------------------------------------------------------- side form

const props = document.getElementById("zone-props");
const q = (sel) => props.querySelector(sel);

function checks(container, items, chosen, name) {
  container.replaceChildren(
    ...items.map((item, i) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = item.id;
      box.dataset.list = name;
      box.checked = chosen.includes(item.id);
      label.append(box, " ");
      if (item.swatch) {
        const s = document.createElement("span");
        s.className = "swatch-dot";
        s.style.background = item.id;
        s.setAttribute("aria-hidden", "true");
        label.append(s, " ");
      }
      label.append(item.name);
      label.htmlFor = box.id = `${name}-${i}`;
      return label;
    }),
  );
}

function fillForm() {
  const z = zones[selected];
  document.getElementById("zone-none").hidden = Boolean(z);
  props.hidden = !z;
  if (!z) return;
  const r = z.rules || {};
  q("#z-key").value = z.key;
  q("#z-label").value = z.label || "";
  q("#z-kind").value = z.kind;
  for (const input of props.querySelectorAll("[data-geom]")) input.value = z.geometry[input.dataset.geom];
  for (const input of props.querySelectorAll("[data-rule]")) {
    const v = r[input.dataset.rule];
    if (input.type === "checkbox") input.checked = input.dataset.rule === "auto_fit" ? v !== false : Boolean(v);
    else if (input.dataset.rule === "blocked_words") input.value = (v || []).join("\n");
    else input.value = v ?? "";
  }
  q("#z-sample").value = z.sample?.text || "";
  checks(document.getElementById("z-fonts"), config.fonts, r.allowed_fonts || [], "allowed_fonts");
  checks(document.getElementById("z-colors"), config.palette.map((c) => ({ id: c, name: c, swatch: true })), r.allowed_colors || [], "allowed_colors");
  const fontSelect = q("#z-default-font");
  fontSelect.replaceChildren(new Option("—", ""), ...config.fonts.map((f) => new Option(f.name, f.id)));
  fontSelect.value = z.default_font || "";
  for (const node of props.querySelectorAll("[data-text-only]")) node.hidden = z.kind !== "text";
  const errors = Object.fromEntries(zoneErrors(z).map(([k, m]) => [k.slice(`zones.${z.key}.`.length), m]));
  for (const p of props.querySelectorAll("[data-error-for]")) {
    const key = p.dataset.errorFor;
    const found = Object.entries(errors).find(([k]) => k === key || k.startsWith(key + "."));
    p.textContent = found ? found[1] : "";
    const input = p.parentElement.querySelector("input, select, textarea");
    if (input) {
      if (found) {
        input.setAttribute("aria-invalid", "true");
        p.id ||= `${input.id || key}-error`;
        input.setAttribute("aria-describedby", p.id);
      } else input.removeAttribute("aria-invalid");
    }
  }
}

function readForm() {
  const z = zones[selected];
  if (!z) return;
  z.key = q("#z-key").value.trim();
  z.label = q("#z-label").value;
  z.kind = q("#z-kind").value;
  const g = { ...z.geometry };
  for (const input of props.querySelectorAll("[data-geom]")) {
    if (input.value !== "") g[input.dataset.geom] = Number(input.value);
  }
  z.geometry = g;
  const rules = {};
  for (const input of props.querySelectorAll("[data-rule]")) {
    const name = input.dataset.rule;
    if (input.type === "checkbox") rules[name] = input.checked;
    else if (name === "blocked_words") rules[name] = input.value.split("\n").map((w) => w.trim()).filter(Boolean);
    else if (name === "allowed_chars" || name === "thin_stroke") { if (input.value) rules[name] = input.value; }
    else if (input.value !== "") rules[name] = Number(input.value);
  }
  rules.allowed_fonts = [...props.querySelectorAll('[data-list="allowed_fonts"]:checked')].map((b) => b.value);
  rules.allowed_colors = [...props.querySelectorAll('[data-list="allowed_colors"]:checked')].map((b) => b.value);
  if (z.kind !== "text") {
    for (const k of ["max_chars", "max_lines", "min_font_pt", "max_font_pt", "allowed_chars", "blocked_words", "price_per_char_cents", "thin_stroke"]) delete rules[k];
  }
  z.rules = rules;
  z.default_font = q("#z-default-font").value || null;
  const sample = q("#z-sample").value.trim();
  z.sample = sample && z.kind === "text" ? { text: sample } : null;
  for (const node of props.querySelectorAll("[data-text-only]")) node.hidden = z.kind !== "text";
  draw();
  sync();
}
props.addEventListener("input", readForm);
props.addEventListener("change", readForm);

function removeSelected() {
  if (selected < 0) return;
  zones.splice(selected, 1);
  selected = zones.length ? Math.min(selected, zones.length - 1) : -1;
  draw();
  fillForm();
  sync();
}

form.addEventListener("click", (event) => {
  const action = event.target.closest("[data-action]")?.dataset.action;
  if (!action) return;
  if (action === "delete") removeSelected();
  if (action === "add-text" || action === "add-image") {
    const w = Math.max(MIN_SIZE, Math.round(W / 2));
    const h = Math.max(MIN_SIZE, Math.round(H / 4));
    addZone(action === "add-text" ? "text" : "image", { x_mm: Math.round((W - w) / 2), y_mm: Math.round((H - h) / 2), width_mm: w, height_mm: h });
  }
});
form.addEventListener("submit", () => {
  hidden.value = JSON.stringify(zones);
});

draw();
fillForm();
