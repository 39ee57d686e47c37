// Production queue: "select all" and a live count of the selected work orders.
const form = document.getElementById("bulk-form");
if (form) {
  const all = form.querySelector("[data-pick-all]");
  const boxes = () => [...form.querySelectorAll('input[name="ids"]')];
  const count = form.querySelector("[data-selected-count]");
  const update = () => {
    const n = boxes().filter((b) => b.checked).length;
    if (count) count.textContent = n ? `${n} ✓` : "";
    if (all) all.checked = n > 0 && n === boxes().length;
  };
  all?.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
  form.addEventListener("change", update);
  update();
}
