// Widget & integrations: copy buttons (the new key, the embed snippet) and the dismissable
// "new key" panel (the key is in that page only: dismissing it removes it from the page).
const live = (button) => button.closest("section")?.querySelector("[data-copy-status]");

document.addEventListener("click", async (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.querySelector(copy.dataset.copy);
    const status = live(copy);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      if (status) status.textContent = copy.dataset.copied || "Copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (status) status.textContent = copy.dataset.selected || "Selected: press Ctrl+C to copy.";
    }
    return;
  }
  const dismiss = event.target.closest("[data-dismiss-panel]");
  if (dismiss) {
    const panel = dismiss.closest("[data-panel]");
    panel?.remove();
    document.getElementById("h-keys")?.focus?.();
  }
});
