// Saved designs for the widget (imported by luneo-widget.js). "Save design" stores the design on
// screen (`POST /designs`) and shares it (`POST /designs/{id}/share`): the shopper gets the link of
// its human share page (`/d/{token}`) with a copy button. "My designs" lists this shopper's
// designs (`GET /designs`: a publishable key sees only its `X-Shopper-Token`'s) with Open (reloads
// the inputs, switching product if needed), Unshare and Delete. The widget also opens a design
// named by its `design` attribute or the host page's `?luneo_design=` (a design id `dsg_…` of this
// shopper, or a share token).

const h = (tag, attrs = {}, ...kids) => {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else if (v != null && v !== false) n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids) if (c != null) n.append(c);
  return n;
};

const css = `.dz{display:grid;gap:8px;margin-top:8px}.dz-link{display:flex;gap:8px;align-items:center}.dz-link[hidden]{display:none}
.dz-link input{flex:1;min-width:0;min-height:44px;padding:0 8px;border:1px solid var(--luneo-muted,#888);border-radius:var(--luneo-radius,8px);font:inherit}
.dz button{min-height:44px;min-width:44px;padding:0 12px;border-radius:var(--luneo-radius,8px);border:1px solid var(--luneo-muted,#888);
background:var(--luneo-surface,#fff);color:inherit;font:inherit;cursor:pointer}
.dz-list{list-style:none;margin:0;padding:0;display:grid;gap:8px}.dz-list[hidden]{display:none}
.dz-item{display:flex;gap:10px;align-items:center;flex-wrap:wrap;border:1px solid #ddd;border-radius:var(--luneo-radius,8px);padding:6px}
.dz-item img{width:64px;height:64px;object-fit:contain;background:#f4f4f4;border-radius:4px}
.dz-item .meta{flex:1 1 120px;display:grid;font-size:.9em}.dz-item .meta small{color:var(--luneo-muted,#666)}`;

const copy = async (input, btn, w) => {
  try { await navigator.clipboard.writeText(input.value); }
  catch { input.select(); document.execCommand?.("copy"); }
  btn.textContent = w.t("link_copied");
  setTimeout(() => (btn.textContent = w.t("copy_link")), 2000);
};

/** The Save link box and the "My designs" panel, under the form's actions. */
export function designsPanel(w) {
  const url = h("input", { type: "url", readonly: true, "aria-label": w.t("share_link"), "data-share-url": "" });
  const copyBtn = h("button", { type: "button", "data-copy-link": "", onclick: () => copy(url, copyBtn, w) }, w.t("copy_link"));
  const link = h("div", { class: "dz-link", hidden: true }, url, copyBtn);
  const list = h("ul", { class: "dz-list", hidden: true, "aria-label": w.t("my_designs"), "data-my-designs": "" });
  const toggle = h("button", { type: "button", "aria-expanded": "false", "data-my-designs-toggle": "", onclick: async () => {
    const open = list.hidden;
    toggle.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
    if (open) await refreshList(w, list);
  } }, w.t("my_designs"));
  w.designLink = { link, url };
  w.designList = list;
  return h("div", { class: "dz" }, h("style", {}, css), link, toggle, list);
}

/** Save the design on screen and show its share link. */
export async function saveDesign(w) {
  const name = `${w.config.product.name} — ${new Date().toLocaleString(w.locale)}`;
  const res = await w.api("POST", "/designs", { name, source: "widget", spec_hash: w.shown.specHash });
  if (res.status !== 201) { w.status(w.problem(res, "err.save")); return; }
  w.track("design_saved");
  const shared = await w.api("POST", `/designs/${encodeURIComponent(res.data.id)}/share`);
  const design = shared.status === 200 ? shared.data : res.data;
  w.status(w.t("saved"));
  if (design.share_url && w.designLink) {
    w.designLink.url.value = design.share_url;
    w.designLink.link.hidden = false;
  }
  if (w.designList && !w.designList.hidden) await refreshList(w, w.designList);
  w.emit("luneo:design-saved", { design_id: design.id, share_url: design.share_url || null, spec_hash: design.spec_hash });
}

async function refreshList(w, list) {
  const res = await w.api("GET", "/designs?limit=20");
  list.replaceChildren();
  if (res.status !== 200) { list.append(h("li", {}, w.problem(res, "err.generic"))); return; }
  if (!res.data.data.length) { list.append(h("li", {}, w.t("no_designs"))); return; }
  const date = new Intl.DateTimeFormat(w.locale, { dateStyle: "medium", timeStyle: "short" });
  for (const d of res.data.data) {
    const act = (key, fn) => h("button", { type: "button", "data-action": key, onclick: fn }, w.t(`design_${key}`));
    const item = h("li", { class: "dz-item", "data-design-id": d.id },
      d.share_url ? h("img", { src: `${d.share_url}/image.png`, alt: "", loading: "lazy" }) : null,
      h("div", { class: "meta" }, h("span", {}, d.name), h("small", {}, date.format(new Date(d.created_at)))),
      act("open", () => openDesign(w, { product_id: d.product_id, inputs: d.inputs })),
      d.share_url ? act("unshare", async () => { await w.api("DELETE", `/designs/${encodeURIComponent(d.id)}/share`); refreshList(w, list); }) : null,
      act("delete", async () => { await w.api("DELETE", `/designs/${encodeURIComponent(d.id)}`); refreshList(w, list); }));
    list.append(item);
  }
}

/** Reopen a design: its product (switched to when another one is shown), then its inputs. */
export function openDesign(w, design) {
  w.pendingDesign = design;
  if (design.product_id !== w.config?.product.id) { w.setAttribute("product", design.product_id); return; }
  applyDesign(w);
  w.schedule(0);
}

/** After the form is drawn: the design to open (pending, or named by the page), if any. */
export async function pendingDesign(w) {
  if (!w.pendingDesign && !w.designAsked) {
    w.designAsked = true;
    const ref = w.getAttribute("design") || new URLSearchParams(location.search).get("luneo_design");
    if (ref) {
      const own = /^dsg_/.test(ref);
      const res = await w.api("GET", own ? `/designs/${encodeURIComponent(ref)}` : `/shared/designs/${encodeURIComponent(ref)}`);
      if (res.status === 200) {
        const d = res.data;
        w.pendingDesign = { product_id: d.product_id, inputs: own ? d.inputs : d.spec?.inputs || {} };
        if (d.product_id !== w.config.product.id) { w.setAttribute("product", d.product_id); return; }
      } else w.status(w.t("err.design_open"));
    }
  }
  if (w.pendingDesign?.product_id === w.config.product.id) applyDesign(w);
}

function check(w, name, value) {
  const input = value == null ? null : w.root.querySelector(`input[name="${CSS.escape(name)}"][value="${CSS.escape(String(value))}"]`);
  if (input) input.checked = true;
  return !!input;
}

function applyDesign(w) {
  const { inputs } = w.pendingDesign;
  w.pendingDesign = null;
  for (const [key, inp] of Object.entries(inputs || {})) {
    const s = w.inputs[key];
    if (!s || s.kind !== inp.kind) continue;
    s.touched = true;
    if (inp.kind === "text") {
      s.text = inp.text;
      if (s.input) s.input.value = inp.text;
      w.count(s);
      if (check(w, `font-${key}`, inp.font)) s.font = inp.font;
      if (check(w, `color-${key}`, inp.color)) s.color = inp.color;
    } else if (inp.kind === "image") {
      s.asset_id = inp.asset_id;
      s.fit = inp.fit || "cover";
      if (s.fileName) s.fileName.textContent = w.t("photo_added");
    } else if (inp.kind === "colour") {
      s.color = inp.color;
      check(w, `color-${key}`, inp.color);
    }
  }
}
