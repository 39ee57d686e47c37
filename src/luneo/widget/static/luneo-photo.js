// Photo framing for the widget's image zones (imported by luneo-widget.js). The shopper's photo is
// framed inside the zone's shape: drag (or arrow keys) to move, a zoom slider (or + / −), rotate by
// 90°. The framed crop (exactly the pixels that will print, at the photo's own resolution) is what
// is uploaded as the zone's photo, so the server preview, the spec and the production file are that
// crop. The frame shows the print resolution live and warns below the product's DPI; after the
// server checks, a resolution notice also stands above "Add to cart".

const h = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (v != null && v !== false) n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids) if (c != null) n.append(c);
  return n;
};

const css = `.ph{display:grid;gap:8px;margin-top:8px}.ph[hidden]{display:none}
.ph-frame{position:relative;width:100%;max-width:360px;border-radius:var(--luneo-radius,8px);overflow:hidden;
background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px;cursor:grab;touch-action:none;outline-offset:3px}
.ph-frame:active{cursor:grabbing}.ph-frame canvas{display:block;width:100%;height:100%}
.ph-tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.ph-tools button{min-width:44px;min-height:44px;font-size:20px;line-height:1;border-radius:var(--luneo-radius,8px);
border:1px solid var(--luneo-muted,#888);background:var(--luneo-surface,#fff);color:inherit;cursor:pointer}
.ph-tools label{display:flex;align-items:center;gap:6px;min-height:44px;flex:1 1 140px}
.ph-tools input[type=range]{flex:1;min-height:44px}
.ph-dpi{font-size:.9em}.ph-dpi.low,.dpi-notice{color:var(--luneo-error,#b00020)}
.dpi-notice{font-weight:600;margin:4px 0}.dpi-notice:empty{display:none}`;

const MAX_ZOOM = 4;
const MAX_SIDE = 4000;  // px of the uploaded crop (far above any zone's print DPI)

/** The framing tool of one image zone; sets `state.pick(file)` (the file input calls it). */
export function photoTools(w, zone, state, fitSelect) {
  const g = zone.geometry || {};
  const aspect = (g.width_mm || 1) / (g.height_mm || 1);
  const widthIn = (g.width_mm || 25.4) / 25.4;
  const ed = { bmp: null, rot: 0, zoom: 1, cx: 0.5, cy: 0.5, n: 0, timer: null, name: "photo.jpg", type: "image/jpeg" };
  const canvas = h("canvas", { width: 480, height: Math.round(480 / aspect) });
  const frame = h("div", { class: "ph-frame", tabindex: "0", role: "img", "data-photo-frame": zone.key,
    "aria-label": w.t("photo_frame"), style: `aspect-ratio:${g.width_mm || 1}/${g.height_mm || 1}` }, canvas);
  const zoom = h("input", { type: "range", min: "1", max: String(MAX_ZOOM), step: "0.05", value: "1", "data-photo-zoom": "", oninput: e => { ed.zoom = Number(e.target.value); change(); } });
  const rotate = (d, label, glyph) => h("button", { type: "button", "aria-label": label, title: label, "data-photo-rotate": String(d),
    onclick: () => { ed.rot = (ed.rot + d + 4) % 4; ed.cx = 0.5; ed.cy = 0.5; change(); } }, glyph);
  const dpi = h("div", { class: "ph-dpi", "aria-live": "polite", "data-photo-dpi": "" });
  const box = h("div", { class: "ph", hidden: true }, h("style", {}, css), frame,
    h("div", { class: "ph-tools" }, h("label", {}, h("span", {}, w.t("photo_zoom")), zoom),
      rotate(-1, w.t("photo_rotate_left"), "⟲"), rotate(1, w.t("photo_rotate_right"), "⟳")),
    dpi, h("div", { class: "hint" }, w.t("photo_frame_hint")));

  // The crop, in the rotated photo's pixels: the zone's shape, as large as fits, divided by zoom.
  const crop = () => {
    const rw = ed.rot % 2 ? ed.bmp.height : ed.bmp.width, rh = ed.rot % 2 ? ed.bmp.width : ed.bmp.height;
    let cw = rw, ch = rw / aspect;
    if (ch > rh) { ch = rh; cw = rh * aspect; }
    cw /= ed.zoom; ch /= ed.zoom;
    ed.cx = Math.min(Math.max(ed.cx, cw / 2 / rw), 1 - cw / 2 / rw);
    ed.cy = Math.min(Math.max(ed.cy, ch / 2 / rh), 1 - ch / 2 / rh);
    return { rw, rh, cw, ch };
  };
  const paint = (cv, c) => {
    const ctx = cv.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cv.width, cv.height);
    const s = cv.width / c.cw;
    ctx.setTransform(s, 0, 0, s, cv.width / 2 - ed.cx * c.rw * s, cv.height / 2 - ed.cy * c.rh * s);
    ctx.translate(c.rw / 2, c.rh / 2);
    ctx.rotate((ed.rot * Math.PI) / 2);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(ed.bmp, -ed.bmp.width / 2, -ed.bmp.height / 2);
  };
  const draw = () => {
    const c = crop();
    paint(canvas, c);
    const at = Math.round(c.cw / widthIn), min = w.config.product.min_image_dpi || 150;
    dpi.textContent = w.t(at < min ? "photo_dpi_low" : "photo_dpi", { dpi: at, min_dpi: min });
    dpi.classList.toggle("low", at < min);
    return c;
  };
  // Live on screen; the crop is uploaded once the shopper pauses (the cart waits for it).
  const change = () => {
    if (!ed.bmp) return;
    zoom.value = String(ed.zoom);
    draw();
    w.invalidate();
    clearTimeout(ed.timer);
    ed.timer = setTimeout(commit, 350);
  };
  const commit = async () => {
    const n = ++ed.n;
    const c = crop();
    const k = Math.min(1, MAX_SIDE / Math.max(c.cw, c.ch));
    const out = h("canvas", { width: Math.max(1, Math.round(c.cw * k)), height: Math.max(1, Math.round(c.ch * k)) });
    paint(out, c);
    const blob = await new Promise(r => out.toBlob(r, ed.type, 0.92));
    if (n !== ed.n || !blob) return;
    const form = new FormData();
    form.append("file", new File([blob], ed.name, { type: ed.type }));
    w.busy++;
    w.invalidate();
    w.status(w.t("uploading"));
    const res = await w.api("POST", "/widget/uploads", form).finally(() => w.busy--);
    if (n !== ed.n) { w.updateReady(); return; }  // the shopper moved the photo again meanwhile
    if (res.status !== 201) {
      w.showErrors([{ zone: zone.key, message: w.problem(res, "err.upload_failed") }], []);
      w.status("");
      w.updateReady();
      return;
    }
    state.asset_id = res.data.asset_id;
    state.fit = "cover";
    state.touched = true;
    w.schedule(0);
  };

  state.pick = async file => {
    if (!file) return;
    let bmp;
    try { bmp = await createImageBitmap(file, { imageOrientation: "from-image" }); } catch { bmp = null; }
    if (!bmp) { w.upload(zone, state, file); return; }  // not decodable here: the server says why
    Object.assign(ed, { bmp, rot: 0, zoom: 1, cx: 0.5, cy: 0.5, name: file.name || "photo.jpg",
      type: file.type === "image/png" || file.type === "image/webp" ? "image/png" : "image/jpeg" });
    if (ed.type === "image/png") ed.name = ed.name.replace(/\.\w+$/, "") + ".png";
    box.hidden = false;
    if (fitSelect) fitSelect.hidden = true;  // the framing is the fit
    if (state.fileName) state.fileName.textContent = file.name;
    change();
  };

  // Drag to move; arrow keys move by 5 % of the frame, + / − zoom, R rotates.
  let drag = null;
  frame.addEventListener("pointerdown", e => { if (!ed.bmp) return; drag = { x: e.clientX, y: e.clientY }; frame.setPointerCapture(e.pointerId); });
  frame.addEventListener("pointermove", e => {
    if (!drag) return;
    const c = crop(), k = c.cw / frame.clientWidth;
    ed.cx -= ((e.clientX - drag.x) * k) / c.rw;
    ed.cy -= ((e.clientY - drag.y) * k) / c.rh;
    drag = { x: e.clientX, y: e.clientY };
    change();
  });
  const end = () => { drag = null; };
  frame.addEventListener("pointerup", end);
  frame.addEventListener("pointercancel", end);
  frame.addEventListener("wheel", e => { if (!ed.bmp) return; e.preventDefault(); ed.zoom = Math.min(MAX_ZOOM, Math.max(1, ed.zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1))); change(); }, { passive: false });
  frame.addEventListener("keydown", e => {
    if (!ed.bmp) return;
    const c = crop(), step = 0.05;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[e.key]) { ed.cx += (moves[e.key][0] * step * c.cw) / c.rw; ed.cy += (moves[e.key][1] * step * c.ch) / c.rh; }
    else if (e.key === "+" || e.key === "=") ed.zoom = Math.min(MAX_ZOOM, ed.zoom + 0.25);
    else if (e.key === "-") ed.zoom = Math.max(1, ed.zoom - 0.25);
    else if (e.key === "r" || e.key === "R") ed.rot = (ed.rot + 1) % 4;
    else return;
    e.preventDefault();
    change();
  });
  return box;
}

/** A notice above "Add to cart" when the shopper's photo will print below (or near) the product's
 * DPI (the brand's sample photo never raises it). */
export function dpiNotice(w, violations, warnings) {
  const actions = w.root.querySelector(".actions");
  if (!actions) return;
  let note = w.root.querySelector(".dpi-notice");
  if (!note) {
    note = h("div", { class: "dpi-notice", role: "alert", "data-dpi-notice": "" });
    actions.before(note);
  }
  const low = [...violations, ...warnings]
    .filter(v => (v.code === "image_dpi_too_low" || v.code === "image_dpi_low") && w.inputs[v.zone]?.touched);
  const text = low.map(v => w.t(v.code === "image_dpi_too_low" ? "dpi_block" : "dpi_warn",
    { zone: w.inputs[v.zone]?.zone?.label || "", dpi: Math.round(v.params?.dpi || 0), min_dpi: v.params?.min_dpi || w.config.product.min_image_dpi || 150 }));
  const joined = text.join(" ");
  if (note.textContent !== joined) note.textContent = joined;
}
