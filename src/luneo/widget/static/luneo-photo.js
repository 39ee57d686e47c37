// Photo framing for the widget's image zones (imported by luneo-widget.js). The shopper's photo is
// framed inside the zone's shape: drag (or arrow keys) to move, a zoom slider (or + / −), rotate by
// 90°. The framed crop (exactly the pixels that will print, at the photo's own resolution) is what
// is uploaded as the zone's photo, so the server preview, the spec and the production file are that
// crop. The frame shows the print resolution live: one line, an error (red) only below the
// product's DPI, corrected by the server's check; below it, a notice also stands above "Add to
// cart". When the brand enables them (`GET /widget/photo-tools`), one-click "Remove background"
// and "Smart crop" buttons run on the shopper's original photo and the result replaces it.

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
.ph-dpi{font-size:.9em}.ph-dpi.low,.dpi-notice,.ph-ai-msg{color:var(--luneo-error,#b00020)}
.dpi-notice{font-weight:600;margin:4px 0}.dpi-notice:empty,.ph-ai-msg:empty{display:none}
.ph-ai{display:flex;flex-wrap:wrap;gap:8px}.ph-ai[hidden],.ph-ai button[hidden]{display:none}
.ph-ai button{min-height:44px;padding:0 14px;border-radius:var(--luneo-radius,8px);border:1px solid var(--luneo-muted,#888);
background:var(--luneo-surface,#fff);color:inherit;cursor:pointer;font:inherit}
.ph-ai button:disabled{opacity:.6;cursor:progress}.ph[aria-busy=true] .ph-frame{opacity:.6}`;

const MAX_ZOOM = 4;
const MAX_SIDE = 4000;  // px of the uploaded crop (far above any zone's print DPI)
const DPI_CODES = ["image_dpi_low", "image_dpi_too_low"];
const TOOL_PATHS = { background_removal: "background-removal", smart_crop: "smart-crop" };
const POLL_MS = 600, POLL_TIMEOUT_MS = 90_000;

/** The one resolution line of the framing tool: an error (`low`) only below the product's DPI;
 * `serverLow`, when the server checked the uploaded crop, is its verdict. */
export function dpiLine(dpi, minDpi, serverLow) {
  const low = serverLow ?? dpi < minDpi;
  const shown = low ? Math.min(dpi, minDpi - 1) : Math.max(dpi, minDpi);
  return { key: low ? "photo_dpi_low" : "photo_dpi", low, params: { dpi: shown, min_dpi: minDpi } };
}

/** Print DPI of a `w` × `h` px crop filling a zone of `widthMm` × `heightMm`, as the server
 * computes it for a cover fit (the lesser of the two axes), rounded down. */
export function cropDpi(w, h, widthMm, heightMm) {
  return Math.floor(Math.min(w / (widthMm / 25.4), h / (heightMm / 25.4)));
}

/** The shopper tools the brand enabled (`GET /widget/photo-tools`), asked once per widget. */
function enabledTools(w) {
  w.photoToolsConfig ||= w.api("GET", "/widget/photo-tools")
    .then(res => (res.status === 200 ? res.data : { tools: [] }));
  return w.photoToolsConfig;
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

/** The framing tool of one image zone; sets `state.pick(file)` (the file input calls it). */
export function photoTools(w, zone, state, fitSelect) {
  const g = zone.geometry || {};
  const aspect = (g.width_mm || 1) / (g.height_mm || 1);
  const ed = { bmp: null, rot: 0, zoom: 1, cx: 0.5, cy: 0.5, n: 0, timer: null, name: "photo.jpg", type: "image/jpeg",
    file: null, sourceId: null, server: null, working: false };
  const canvas = h("canvas", { width: 480, height: Math.round(480 / aspect) });
  const frame = h("div", { class: "ph-frame", tabindex: "0", role: "img", "data-photo-frame": zone.key,
    "aria-label": w.t("photo_frame"), style: `aspect-ratio:${g.width_mm || 1}/${g.height_mm || 1}` }, canvas);
  const zoom = h("input", { type: "range", min: "1", max: String(MAX_ZOOM), step: "0.05", value: "1", "data-photo-zoom": "", oninput: e => { ed.zoom = Number(e.target.value); change(); } });
  const rotate = (d, label, glyph) => h("button", { type: "button", "aria-label": label, title: label, "data-photo-rotate": String(d),
    onclick: () => { ed.rot = (ed.rot + d + 4) % 4; ed.cx = 0.5; ed.cy = 0.5; change(); } }, glyph);
  const dpi = h("div", { class: "ph-dpi", "aria-live": "polite", "data-photo-dpi": "" });
  const tool = (name, label) => h("button", { type: "button", hidden: true, "data-photo-tool": name, onclick: () => runTool(name) }, label);
  const aiButtons = { background_removal: tool("background_removal", w.t("photo_remove_bg")),
    smart_crop: tool("smart_crop", w.t("photo_smart_crop")) };
  const ai = h("div", { class: "ph-ai", hidden: true, "data-photo-ai": "" }, ...Object.values(aiButtons));
  const aiMsg = h("div", { class: "ph-ai-msg", role: "alert", "data-photo-ai-error": "" });
  const box = h("div", { class: "ph", hidden: true, "data-photo-box": zone.key }, h("style", {}, css), frame,
    h("div", { class: "ph-tools" }, h("label", {}, h("span", {}, w.t("photo_zoom")), zoom),
      rotate(-1, w.t("photo_rotate_left"), "⟲"), rotate(1, w.t("photo_rotate_right"), "⟳")),
    ai, aiMsg, dpi, h("div", { class: "hint" }, w.t("photo_frame_hint")));
  box.photoDpi = v => { ed.server = v; showDpi(); };  // the server's check (see dpiNotice)

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
  // The pixels that will be uploaded (the crop, scaled down to MAX_SIDE at most).
  const outSize = c => {
    const k = Math.min(1, MAX_SIDE / Math.max(c.cw, c.ch));
    return [Math.max(1, Math.round(c.cw * k)), Math.max(1, Math.round(c.ch * k))];
  };
  // One line about resolution: the frame's live figure, or the server's verdict on the uploaded
  // crop once it has checked it (so the two can never disagree).
  const showDpi = () => {
    if (!ed.bmp) return;
    const min = w.config.product.min_image_dpi || 150;
    const [ow, oh] = outSize(crop());
    const srv = ed.server && ed.server.asset === state.asset_id ? ed.server : null;
    const line = dpiLine(srv?.dpi ?? cropDpi(ow, oh, g.width_mm || 25.4, g.height_mm || 25.4), min, srv?.low);
    const text = w.t(line.key, line.params);
    if (dpi.textContent !== text) dpi.textContent = text;
    dpi.classList.toggle("low", line.low);
  };
  const draw = () => {
    const c = crop();
    paint(canvas, c);
    showDpi();
    return c;
  };
  // Live on screen; the crop is uploaded once the shopper pauses (the cart waits for it).
  const change = () => {
    if (!ed.bmp) return;
    zoom.value = String(ed.zoom);
    ed.server = null;  // a new crop: the live figure until the server checks it
    draw();
    w.invalidate();
    clearTimeout(ed.timer);
    ed.timer = setTimeout(commit, 350);
  };
  const commit = async () => {
    const n = ++ed.n;
    const c = crop();
    const [ow, oh] = outSize(c);
    const out = h("canvas", { width: ow, height: oh });
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

  // A new photo (picked, or made by a tool) in the frame, framed afresh.
  const load = (bmp, name, type) => {
    Object.assign(ed, { bmp, rot: 0, zoom: 1, cx: 0.5, cy: 0.5, server: null, name: name || "photo.jpg",
      type: type === "image/png" || type === "image/webp" ? "image/png" : "image/jpeg" });
    if (ed.type === "image/png") ed.name = ed.name.replace(/\.\w+$/, "") + ".png";
    box.hidden = false;
    if (fitSelect) fitSelect.hidden = true;  // the framing is the fit
    change();
  };

  state.pick = async file => {
    if (!file) return;
    let bmp;
    try { bmp = await createImageBitmap(file, { imageOrientation: "from-image" }); } catch { bmp = null; }
    if (!bmp) { w.upload(zone, state, file); return; }  // not decodable here: the server says why
    Object.assign(ed, { file, sourceId: null });
    aiMsg.textContent = "";
    if (state.fileName) state.fileName.textContent = file.name;
    load(bmp, file.name, file.type);
    enabledTools(w).then(cfg => {
      const on = new Set(cfg?.tools || []);
      for (const [name, b] of Object.entries(aiButtons)) b.hidden = !on.has(name);
      ai.hidden = !on.size;
    });
  };

  // One-click tools: on the shopper's original photo (uploaded once, on the first click) or the
  // previous tool's result; metered to the brand, so the server may refuse (messages in the
  // shopper's language). The result replaces the photo in the frame.
  const setWorking = on => {
    ed.working = on;
    for (const b of Object.values(aiButtons)) b.disabled = on;
    box.setAttribute("aria-busy", on ? "true" : "false");
  };
  const fail = (res, fallback = "err.photo_tool") => { aiMsg.textContent = w.problem(res, fallback); };
  const runTool = async name => {
    if (!ed.bmp || ed.working) return;
    setWorking(true);
    aiMsg.textContent = "";
    w.status(w.t("photo_tool_busy"));
    try {
      if (!ed.sourceId) {
        const form = new FormData();
        form.append("file", ed.file);
        const up = await w.api("POST", "/widget/uploads", form);
        if (up.status !== 201) { fail(up, "err.upload_failed"); return; }
        ed.sourceId = up.data.asset_id;
      }
      const body = name === "smart_crop" ? { asset_id: ed.sourceId, product_id: w.config.product.id, zone_key: zone.key }
        : { asset_id: ed.sourceId };
      let res = await w.api("POST", `/widget/photo-tools/${TOOL_PATHS[name]}`, body);
      const until = Date.now() + POLL_TIMEOUT_MS;
      while ((res.status === 200 || res.status === 202) && ["pending", "processing"].includes(res.data?.status)) {
        if (Date.now() > until) { fail({ status: 0 }); return; }
        await sleep(POLL_MS);
        res = await w.api("GET", `/widget/photo-tools/generations/${encodeURIComponent(res.data.id)}`);
      }
      if (res.status !== 200) { fail(res); return; }
      if (res.data.status !== "succeeded" || !res.data.url) {
        fail({ status: 422, data: { code: res.data.error?.code } });
        return;
      }
      const url = res.data.url;
      const abs = new URL(url.startsWith("/") ? w.base + url : url, document.baseURI).href;
      const blob = await fetch(abs).then(r => (r.ok ? r.blob() : null)).catch(() => null);
      const bmp = blob && await createImageBitmap(blob).catch(() => null);
      if (!bmp) { fail({ status: 0 }); return; }
      ed.sourceId = res.data.asset_id;
      load(bmp, `${ed.name.replace(/\.\w+$/, "")}-${TOOL_PATHS[name]}.png`, "image/png");
      w.status(w.t("photo_tool_done"));
    } finally {
      setWorking(false);
      if (aiMsg.textContent) w.status("");
    }
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

/** After the server's check: a framed photo's resolution is said once, by its frame's line (the
 * server's figure replaces the live one, the zone's own dpi messages are dropped); above "Add to
 * cart", a notice only when a photo prints below the product's DPI (which blocks the cart).
 * Above that DPI nothing is red: a photo the product accepts is not an error (the brand's sample
 * photo never raises anything). */
export function dpiNotice(w, violations, warnings) {
  const findings = [...violations, ...warnings].filter(v => DPI_CODES.includes(v.code) && v.zone);
  for (const [key, s] of Object.entries(w.inputs || {})) {
    const box = w.root.querySelector(`[data-photo-box="${CSS.escape(key)}"]`);
    if (!box || box.hidden || !box.photoDpi) continue;
    const f = findings.find(v => v.zone === key);
    const low = f?.code === "image_dpi_too_low";
    box.photoDpi({ asset: s.asset_id, dpi: f?.params?.dpi != null ? Math.floor(f.params.dpi) : null, low });
    for (const code of DPI_CODES) {
      w.root.querySelectorAll(`[data-errors="${CSS.escape(key)}"] [data-code=${code}],[data-warnings="${CSS.escape(key)}"] [data-code=${code}]`)
        .forEach(n => n.remove());
    }
  }
  const actions = w.root.querySelector(".actions");
  if (!actions) return;
  let note = w.root.querySelector(".dpi-notice");
  if (!note) {
    note = h("div", { class: "dpi-notice", role: "alert", "data-dpi-notice": "" });
    actions.before(note);
  }
  const low = violations.filter(v => v.code === "image_dpi_too_low" && w.inputs[v.zone]?.touched);
  const text = low.map(v => w.t("dpi_block",
    { zone: w.inputs[v.zone]?.zone?.label || "", dpi: Math.round(v.params?.dpi || 0), min_dpi: v.params?.min_dpi || w.config.product.min_image_dpi || 150 }));
  const joined = text.join(" ");
  if (note.textContent !== joined) note.textContent = joined;
}
