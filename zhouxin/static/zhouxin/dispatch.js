// 接诉即办 work pages.  Every form works without this file; it adds the small conveniences.
document.addEventListener("DOMContentLoaded", () => {
  // A suggested or searched category sets the category picker.
  document.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-zx-pick-category]");
    if (!pick) return;
    const select = document.getElementById(pick.dataset.zxTarget || "zx-category");
    if (!select) return;
    select.value = pick.dataset.zxPickCategory;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const picker = select.closest("[data-zx-catpick]");
    if (picker) {
      const results = picker.querySelector(".zx-cat-results");
      if (results) results.replaceChildren();
      const search = picker.querySelector('input[type="search"]');
      if (search) search.value = "";
    }
    select.focus();
  });

  // "Select the whole page" in a queue.
  document.addEventListener("change", (event) => {
    const all = event.target.closest("[data-zx-check-all]");
    if (!all) return;
    const form = all.closest("form");
    if (!form) return;
    form.querySelectorAll('input[type="checkbox"][name="numbers"]').forEach((box) => { box.checked = all.checked; });
  });

  // A second click on "submit" while the first is on its way sends nothing more
  // (the server would answer with the same request anyway: the form carries a one-time key).
  document.addEventListener("submit", (event) => {
    const button = event.target.querySelector("[data-zx-submit-once]");
    if (!button) return;
    if (button.dataset.zxSent) { event.preventDefault(); return; }
    button.dataset.zxSent = "1";
    button.setAttribute("aria-disabled", "true");
  });
});
