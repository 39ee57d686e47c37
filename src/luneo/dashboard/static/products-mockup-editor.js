// The mockup editor: the product photo with the print area drawn over it. Four corner handles
// (perspective) or two (a wrap region's top-left and bottom-right) are dragged with the pointer
// (mouse, pen or touch) or moved with the arrow keys (1 px, Shift: 10 px). The form's number
// fields are the source of truth: the handles write them, typing in them moves the handles.
const form = document.getElementById("mockup-form");
const configNode = document.getElementById("mockup-config");
if (form && configNode) start(JSON.parse(configNode.textContent));

function start(config) {
  const W = config.width_px;
  const H = config.height_px;
  const stage = document.getElementById("mockup-stage");
  const area = document.getElementById("mockup-area");
  const coords = document.getElementById("mockup-coords");
  const announce = document.getElementById("mockup-announce");
  const handles = [...stage.querySelectorAll(".mockup-handle")];
  const field = (name) => form.elements.namedItem(name);
  const num = (name) => {
    const v = Number(String(field(name)?.value ?? "").replace(",", "."));
    return Number.isFinite(v) ? v : 0;
  };
  const clamp = (v, hi) => Math.min(hi, Math.max(0, Math.round(v * 10) / 10));
  const mode = () => (form.querySelector('input[name="placement"]:checked')?.value === "wrap" ? "wrap" : "corners");

  // Each handle's point and how to write it back, per mode.
  function point(i) {
    if (mode() === "corners") return [num(`corner_${i}_x`), num(`corner_${i}_y`)];
    return i === 0 ? [num("left_px"), num("top_px")] : [num("right_px"), num("bottom_px")];
  }
  function setPoint(i, x, y) {
    const [fx, fy] = mode() === "corners" ? [`corner_${i}_x`, `corner_${i}_y`] : i === 0 ? ["left_px", "top_px"] : ["right_px", "bottom_px"];
    field(fx).value = String(clamp(x, W));
    field(fy).value = String(clamp(y, H));
  }
  const active = () => (mode() === "corners" ? [0, 1, 2, 3] : [0, 2]);

  function convex(pts) {
    let sign = 0;
    for (let i = 0; i < 4; i += 1) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[(i + 1) % 4];
      const [cx, cy] = pts[(i + 2) % 4];
      const cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx);
      if (Math.abs(cross) < 1e-9) return false;
      if (sign && Math.sign(cross) !== sign) return false;
      sign = Math.sign(cross);
    }
    return true;
  }

  function draw() {
    const wrap = mode() === "wrap";
    let ok = true;
    if (wrap) {
      const [l, t, r, b] = [num("left_px"), num("top_px"), num("right_px"), num("bottom_px")];
      const tc = num("top_curve_px");
      const bc = num("bottom_curve_px");
      const rx = Math.max(0.01, (r - l) / 2);
      // The front half of the rim ellipses at the top and bottom edges (seen from above the lens).
      area.setAttribute(
        "d",
        `M ${l} ${t - tc} A ${rx} ${Math.max(0.01, tc)} 0 0 0 ${r} ${t - tc} L ${r} ${b - bc} A ${rx} ${Math.max(0.01, bc)} 0 0 1 ${l} ${b - bc} Z`,
      );
      ok = r > l && b > t && l >= 0 && r <= W && t >= 0 && b <= H;
    } else {
      const pts = [0, 1, 2, 3].map(point);
      area.setAttribute("d", `M ${pts.map((p) => p.join(" ")).join(" L ")} Z`);
      ok = convex(pts) && pts.every(([x, y]) => x >= 0 && x <= W && y >= 0 && y <= H);
    }
    area.classList.toggle("is-invalid", !ok);
    document.getElementById("mockup-warning").hidden = ok;
    const lines = [];
    handles.forEach((h, i) => {
      const on = active().includes(i);
      h.hidden = !on;
      if (!on) return;
      const [x, y] = point(i);
      h.style.left = `${(x / W) * 100}%`;
      h.style.top = `${(y / H) * 100}%`;
      const text = `${h.dataset.label}: ${x}, ${y} px`;
      h.setAttribute("aria-label", text);
      lines.push(text);
    });
    coords.textContent = lines.join(" · ");
    for (const fs of form.querySelectorAll("[data-placement]")) fs.hidden = fs.dataset.placement !== mode();
  }

  // ------------------------------------------------------------ pointer (mouse, pen, touch)
  let drag = null;
  function toImage(event) {
    const box = stage.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * W, ((event.clientY - box.top) / box.height) * H];
  }
  for (const h of handles) {
    const i = Number(h.dataset.corner);
    h.addEventListener("pointerdown", (event) => {
      if (!config.can_write || (event.pointerType === "mouse" && event.button !== 0)) return;
      h.setPointerCapture(event.pointerId);
      h.focus();
      const [px, py] = toImage(event);
      const [x, y] = point(i);
      drag = { i, dx: x - px, dy: y - py, id: event.pointerId };
      h.classList.add("is-dragging");
      event.preventDefault();
    });
    h.addEventListener("pointermove", (event) => {
      if (!drag || drag.id !== event.pointerId) return;
      const [px, py] = toImage(event);
      setPoint(drag.i, px + drag.dx, py + drag.dy);
      draw();
    });
    const end = (event) => {
      if (!drag || drag.id !== event.pointerId) return;
      drag = null;
      h.classList.remove("is-dragging");
      draw();
      announce.textContent = h.getAttribute("aria-label");
    };
    h.addEventListener("pointerup", end);
    h.addEventListener("pointercancel", end);
    h.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      const m = moves[event.key];
      if (!m || !config.can_write) return;
      const step = event.shiftKey ? 10 : 1;
      const [x, y] = point(i);
      setPoint(i, x + m[0] * step, y + m[1] * step);
      event.preventDefault();
      draw();
      announce.textContent = h.getAttribute("aria-label");
    });
  }

  form.addEventListener("input", draw);
  form.addEventListener("change", draw);
  draw();
}
