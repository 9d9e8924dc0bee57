// Import job page: size the progress bar from its data attribute (the CSP forbids style="").
(() => {
  const sizeBars = (root) => {
    root.querySelectorAll(".progress-bar[data-zx-percent]").forEach((bar) => {
      const percent = Math.max(0, Math.min(100, Number(bar.dataset.zxPercent) || 0));
      bar.style.width = `${percent}%`;
    });
  };
  document.addEventListener("DOMContentLoaded", () => sizeBars(document));
  document.addEventListener("htmx:afterSwap", (event) => sizeBars(event.detail.target || document));
})();
