// Resident portal.  Every form works without this file; it adds the small conveniences.
document.addEventListener("DOMContentLoaded", () => {
  // A suggested category sets the category picker.
  document.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-zx-pick-category]");
    if (!pick) return;
    const select = document.getElementById(pick.dataset.zxTarget || "zx-category");
    if (!select) return;
    select.value = pick.dataset.zxPickCategory;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    select.focus();
  });
  // A second tap on "submit" while the first is on its way sends nothing more (the
  // idempotency key makes a resend harmless anyway).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.zxSent) { event.preventDefault(); return; }
    form.dataset.zxSent = "1";
  });
});
